"""Each stage from files on disk: `harness normalize RUN_DIR` writes steps.json, the analysis
goes to analysis.json and back unchanged, `harness render` gives what compare printed and wrote,
and a broken file is one line naming the file and the field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import cli
from harness.compare import analysis_file
from harness.compare.analyze import analyze
from harness.normalize import steps_file
from harness.render import render

SETS = Path(__file__).resolve().parents[1] / "golden" / "sets"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    to = tmp_path_factory.mktemp("sets") / "recorded-matrix"
    shutil.copytree(SETS / "recorded-matrix", to)
    return to


@pytest.mark.parametrize("name", ["recorded-matrix", "recorded-wire", "recorded-habits"])
def test_an_analysis_comes_back_from_its_file_unchanged(name: str, tmp_path: Path) -> None:
    analysis = analyze(SETS / name)
    analysis_file.save(analysis, tmp_path / "analysis.json")
    again = analysis_file.load(tmp_path / "analysis.json")
    assert again == analysis
    for fmt in ("markdown", "json", "terminal"):
        assert render(again, fmt) == render(analysis, fmt)


def test_render_prints_and_writes_what_compare_would(matrix: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    analysis = analyze(matrix)
    analysis_file.save(analysis, matrix / "analysis.json")
    out = tmp_path / "report.md"
    assert cli.main(["render", str(matrix), "--format", "markdown", "-o", str(out)]) == 0
    assert out.read_text() == render(analysis, "markdown") + "\n" * (
        not render(analysis, "markdown").endswith("\n"))
    assert cli.main(["render", str(matrix / "analysis.json"), "--width", "0"]) == 0
    printed = capsys.readouterr().out
    assert "verdict" in printed.lower() and "report.md" in printed


def test_normalize_writes_the_steps_of_both_sides(matrix: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    run = matrix / "tcp" / "c--c"
    assert cli.main(["normalize", str(run)]) == 0
    printed = capsys.readouterr().out
    assert "server (c), 8 steps at the canonical level:" in printed
    assert "conn = accept(listener)" in printed
    doc = steps_file.load(run / "steps.json")
    assert doc.run == "tcp/c--c" and doc.level == "canonical"
    # the same steps compare normalizes
    analysis = analyze(matrix)
    mine = next(r for sc in analysis.scenarios for r in sc.runs if r.folder == "tcp/c--c")
    assert doc.sides["server"] == mine.server.normalized
    assert doc.sides["client"] == mine.client.normalized
    assert cli.main(["normalize", str(run), "--level", "raw", "-o", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["level"] == "raw"


def test_broken_files_are_one_line_naming_file_and_field(
        matrix: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    analysis_file.save(analyze(matrix), tmp_path / "a.json")
    good = json.loads((tmp_path / "a.json").read_text())
    cases = {
        "not-json.json": "{",
        "wrong-type.json": json.dumps({**good, "analysis": {**good["analysis"],
                                                            "reference": 7}}),
        "a-trace.json": json.dumps({"format": "harness-trace", "version": 4}),
        "old.json": json.dumps({**good, "version": 99}),
    }
    expected = {
        "not-json.json": "not JSON",
        "wrong-type.json": "Expected `str`, got `int` - at `$.analysis.reference`",
        "a-trace.json": "format 'harness-trace', not 'harness-analysis'",
        "old.json": "analysis version 99; this harness reads version 1",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert cli.main(["render", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err and expected[name] in err, err
        assert "Traceback" not in err
    assert cli.main(["normalize", str(matrix / "tcp")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("harness normalize: ") and "no run.yaml: not a run folder" in err
    assert cli.main(["render", str(tmp_path / "missing.json")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("harness render: ") and "missing.json" in err and err.count("\n") == 1

