"""The render stage's goldens, on two small analyses read back from analysis.json as `harness
render` reads it: handbuilt-scenarios (five scenarios, n/a cells, a unix path under a made-up
temporary folder that must never show) and recorded-wire (real runs with their packets). The
summary (what compare prints), terminal (--full), Markdown and JSON renderings, `explain` of
every sample that differs, and the wire timelines must equal the files in
expected/<set>/. A change of the reports' words rewrites these files only."""

from __future__ import annotations

import pytest

from goldens import EXPECTED, analysis_of, check, no_stale
from harness.compare import analysis_file
from harness.compare.results import Analysis
from harness.render import render
from harness.render.explain import explain
from harness.render.wire import timeline

RENDER_SETS = ("handbuilt-scenarios", "recorded-wire")
OUTPUTS = {"summary": "summary.txt", "terminal": "terminal.txt", "markdown": "report.md",
           "json": "report.json"}
_read: dict[str, Analysis] = {}


def read_back(name: str, tmp: pytest.TempPathFactory) -> Analysis:
    """The set's analysis as the render stage gets it: through analysis.json."""
    if name not in _read:
        path = tmp.mktemp("analysis") / "analysis.json"
        analysis_file.save(analysis_of(name, tmp), path)
        _read[name] = analysis_file.load(path)
    return _read[name]


@pytest.mark.parametrize("fmt", list(OUTPUTS))
@pytest.mark.parametrize("name", RENDER_SETS)
def test_rendered_report(name: str, fmt: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    check(EXPECTED / name / OUTPUTS[fmt], render(read_back(name, tmp_path_factory), fmt))


@pytest.mark.parametrize("name", RENDER_SETS)
def test_explanations(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    report = read_back(name, tmp_path_factory)
    differing = list(dict.fromkeys(r.sample for r in report.results() if not r.matches))
    assert differing, f"{name}: no sample differs: nothing to explain"
    for sample in differing:
        check(EXPECTED / name / f"explain-{sample}.txt", explain(report, sample))
    no_stale(EXPECTED / name, "explain-*.txt", {f"explain-{s}.txt" for s in differing})


def test_wire_timelines(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`--wire`'s timeline of every run of the recorded set."""
    report = read_back("recorded-wire", tmp_path_factory)
    lines = [line for sc in report.scenarios for run in sc.runs if run.wire is not None
             for line in (*timeline(run), "")]
    assert lines, "no run of recorded-wire has a wire view"
    check(EXPECTED / "recorded-wire" / "wire.txt", "\n".join(lines))


def test_only_the_render_sets_hold_renderings() -> None:
    """A rendering golden of another set would never be checked."""
    renders = {p.parent.name for pattern in (*OUTPUTS.values(), "explain-*.txt", "wire.txt")
               for p in EXPECTED.glob(f"*/{pattern}")}
    assert renders <= set(RENDER_SETS), sorted(renders - set(RENDER_SETS))
