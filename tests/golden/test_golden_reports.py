"""Golden files of rendered reports, over every trace set.

Trace sets are of two sorts:
- built: made by a function of tests/unit/fixtures_traces.py (TRACE_SETS) into a temporary
  folder, from Trace objects built in Python;
- recorded: a folder tests/golden/sets/<name>/ laid out as the runner writes traces/
  (index.yaml, <scenario>/<server>--<client>/run.yaml, server.yaml, client.yaml).

For each set the summary (what compare prints), terminal (--full), Markdown and JSON renderings, and `explain` of every sample that is
not identical, must equal the files in tests/golden/expected/<name>/. To accept new output:

    UPDATE_GOLDEN=1 python -m pytest tests/golden

then review the diff of tests/golden/expected/ before committing it (see README.md).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness.render import render
from harness.compare.results import Analysis
from harness.compare.analyze import analyze as build_report
from harness.render.explain import explain

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "expected"
RECORDED = HERE / "sets"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
OUTPUTS = {"summary": "summary.txt", "terminal": "terminal.txt", "markdown": "report.md",
           "json": "report.json"}

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


_reports: dict[str, Analysis] = {}


def report_for(name: str, tmp_root: Path) -> Analysis:
    if name not in _reports:
        if name in fixtures_traces.TRACE_SETS:
            folder = fixtures_traces.TRACE_SETS[name](tmp_root / name)
        else:
            folder = RECORDED / name
        _reports[name] = build_report(folder)
    return _reports[name]


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


@pytest.mark.parametrize("fmt", list(OUTPUTS))
@pytest.mark.parametrize("name", trace_sets())
def test_rendered_report(name: str, fmt: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    report = report_for(name, tmp_path_factory.getbasetemp())
    check(EXPECTED / name / OUTPUTS[fmt], render(report, fmt))


@pytest.mark.parametrize("name", trace_sets())
def test_explanations(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    report = report_for(name, tmp_path_factory.getbasetemp())
    differing = list(dict.fromkeys(r.sample for r in report.results() if not r.matches))
    for sample in differing:
        check(EXPECTED / name / f"explain-{sample}.txt", explain(report, sample))
    if not UPDATE:
        # an explanation file for a sample that no longer differs is stale
        stale = {p.name for p in (EXPECTED / name).glob("explain-*.txt")} - {
            f"explain-{s}.txt" for s in differing}
        assert not stale, f"stale golden files in {EXPECTED / name}: {sorted(stale)}"


@pytest.mark.parametrize("name", trace_sets())
def test_wire_timelines(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """`--wire`'s timeline of every run that has a wire view (the recorded ones do)."""
    from harness.render.wire import timeline

    report = report_for(name, tmp_path_factory.mktemp("sets"))
    lines = [line for sc in report.scenarios for run in sc.runs if run.wire is not None
             for line in (*timeline(run), "")]
    if not lines:
        pytest.skip("no run of this set has a wire view")
    check(EXPECTED / name / "wire.txt", "\n".join(lines))
