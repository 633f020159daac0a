"""What the golden tests of the three stages share: the trace sets, each set's analysis (made
once per session), and the check of an output against its file under expected/.

Trace sets are of two sorts:
- built: made by a function of tests/unit/fixtures_traces.py (TRACE_SETS) into a temporary
  folder, from Trace objects built in Python;
- recorded: a folder tests/golden/sets/<name>/ laid out as the runner writes traces/
  (index.yaml, <scenario>/<server>--<client>/run.yaml, its traces and packets).

To accept new output: `UPDATE_GOLDEN=1 python -m pytest tests/golden`, then review the diff of
tests/golden/expected/ before committing it (see README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness.compare.analyze import analyze
from harness.compare.results import Analysis

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
RECORDED = HERE / "sets"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

try:
    import fixtures_traces
except ImportError:  # run on its own: the builders live beside the unit tests
    sys.path.insert(0, str(HERE.parent / "unit"))
    import fixtures_traces


def trace_sets() -> list[str]:
    built = list(fixtures_traces.TRACE_SETS)
    recorded = sorted(d.name for d in RECORDED.iterdir() if d.is_dir()) \
        if RECORDED.is_dir() else []
    clash = set(built) & set(recorded)
    assert not clash, f"recorded trace sets named like built ones: {sorted(clash)}"
    return built + recorded


_folders: dict[str, Path] = {}
_analyses: dict[str, Analysis] = {}


def set_folder(name: str, tmp: pytest.TempPathFactory) -> Path:
    """The set's traces folder: a recorded set's own, a built set's written once."""
    if name not in _folders:
        if name in fixtures_traces.TRACE_SETS:
            _folders[name] = fixtures_traces.TRACE_SETS[name](tmp.mktemp("sets") / name)
        else:
            _folders[name] = RECORDED / name
    return _folders[name]


def analysis_of(name: str, tmp: pytest.TempPathFactory) -> Analysis:
    if name not in _analyses:
        _analyses[name] = analyze(set_folder(name, tmp))
    return _analyses[name]


def check(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} does not exist: run `UPDATE_GOLDEN=1 python -m pytest tests/golden` "
                    f"and review it")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (f"{path} differs from the output; if the change is intended, "
                                f"refresh with UPDATE_GOLDEN=1 and review the diff")


def no_stale(folder: Path, pattern: str, wanted: set[str]) -> None:
    """Files under `folder` matching `pattern` that no output is checked against any more
    (deleted when refreshing)."""
    found = {str(p.relative_to(folder)) for p in folder.glob(pattern)} if folder.is_dir() \
        else set()
    stale = sorted(found - wanted)
    if UPDATE:
        for rel in stale:
            (folder / rel).unlink()
        return
    assert not stale, f"stale golden files in {folder}: {stale}"
