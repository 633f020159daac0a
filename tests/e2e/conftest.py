"""Fixtures for the end-to-end tests: sample folders made on the fly, and a check after every
test that no process it started is left."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from e2ehelp import REPO, PYTHON, SampleTree, children


@pytest.fixture(scope="session")
def matrix(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """Every scenario of the samples present plus the negative controls, run once."""
    traces = tmp_path_factory.mktemp("traces")
    r = subprocess.run([PYTHON, "-m", "harness", "compare", "--samples", ".", "--samples",
                        "tests/samples", "--traces", str(traces), "--width", "0"], cwd=REPO,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    return traces, r


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
