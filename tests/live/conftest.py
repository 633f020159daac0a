"""Fixtures for the live tracer tests: C programs built once per session, a scratch folder,
and a check after every test that nothing it started is still around."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from livehelp import PROGRAMS, leftover_tracees


@pytest.fixture(scope="session")
def cbin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Path of each compiled C test program, by name (tests/live/programs/NAME.c)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which(cc):
        pytest.skip("no C compiler (cc) on PATH: the C test programs cannot be built")
    out = tmp_path_factory.mktemp("programs")
    built: dict[str, str] = {}
    for src in sorted(PROGRAMS.glob("*.c")):
        exe = out / src.stem
        r = subprocess.run([cc, "-O1", "-Wall", "-pthread", "-o", str(exe), str(src)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.fail(f"{cc} could not build {src.name}:\n{r.stderr}")
        built[src.stem] = str(exe)
    return built


@pytest.fixture(autouse=True)
def nothing_left_behind():
    """After each test: no child of this process, no task traced by it."""
    yield
    left = leftover_tracees()
    for pid in left:  # do not let one failure leak into the next test
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    assert not left, f"processes left behind by the test: {left}"


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder for the files a program makes (sockets, markers), short enough for
    sun_path."""
    return tmp_path
