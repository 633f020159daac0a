"""Fixtures for the end-to-end tests: sample folders made on the fly, and a check after every
test that no process it started is left."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from e2ehelp import REPO, VENV, SampleTree, children


@pytest.fixture(scope="session")
def matrix(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Every scenario of the samples present plus the negative controls, run once, as a user
    runs it: `make compare` (the one full matrix of the tests). Its returncode is the
    harness's exit status, from the status line make's target asks for."""
    traces = tmp_path_factory.mktemp("traces")
    made = subprocess.run(["make", "-s", f"VENV={VENV}", "compare",
                           f"ARGS=--samples . --samples tests/samples --traces {traces} "
                           "--width 0"], cwd=REPO, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=900)
    status = int(made.stdout.rsplit("harness compare: exit status ", 1)[1].split()[0])
    assert made.returncode == (0 if status == 0 else 2), made.stderr  # make says 2 for any
    return traces, subprocess.CompletedProcess(made.args, status, made.stdout, made.stderr)


@pytest.fixture(autouse=True)
def nothing_left_behind():
    yield
    left = children()
    for pid in left:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    assert not left, f"processes left behind: {left}"


@pytest.fixture
def samples(tmp_path: Path) -> SampleTree:
    return SampleTree(tmp_path / "samples")
