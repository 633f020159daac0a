"""Fixtures for the end-to-end tests: sample folders made on the fly, and a check after every
test that no process it started is left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2ehelp import SampleTree, children


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
