"""Each stage from files on disk: `harness normalize RUN_DIR` writes steps.json, the analysis
goes to analysis.json and back unchanged, `harness render` gives what compare printed and wrote,
and a broken file is one line naming the file and the field."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
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



# -- compare reads the normalize stage's steps.json while it stands for its run ----------------

def _copy(name: str, tmp_path: Path) -> Path:
    to = tmp_path / name
    shutil.copytree(SETS / name, to)
    return to


def _no_normalizing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make normalizing a trace fail the test; returns the runs normalized anyway (none)."""
    import harness.compare.run_steps as run_steps

    made: list[str] = []

    def refuse(store, folder, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(folder)
        raise AssertionError(f"{folder} normalized again")
    monkeypatch.setattr(run_steps, "normalize_run", refuse)
    return made


def test_compare_writes_each_runs_steps_and_reads_them_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    traces = _copy("recorded-wire", tmp_path)
    truth = analyze(SETS / "recorded-wire")
    first = analyze(traces, steps_files=True)
    runs = sorted(p.parent.name for p in traces.glob("*/*/steps.json"))
    assert len(runs) == 7
    _no_normalizing(monkeypatch)
    again = analyze(traces, steps_files=True)
    assert again == first
    assert render(again, "markdown") == render(truth, "markdown")


def test_steps_no_longer_standing_for_their_run_are_made_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trace changed, a run.yaml changed, another normalizer, another level, a broken or
    linked steps.json: each run's steps are made from its traces again (and written), and
    the analysis is the one the traces give."""
    import os

    from harness.compare import run_steps

    traces = _copy("recorded-wire", tmp_path)
    truth = analyze(traces, steps_files=True)
    run = traces / "tcp" / "c--c"
    steps = run / "steps.json"
    good = steps.read_bytes()

    def made_again(change, restore: bool = True) -> bool:  # type: ignore[no-untyped-def]
        if restore:
            steps.write_bytes(good)
        change()
        calls: list[str] = []
        real = run_steps.normalize_run

        def counting(store, folder, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls.append(folder)
            return real(store, folder, *args, **kwargs)
        monkeypatch.setattr(run_steps, "normalize_run", counting)
        try:
            assert analyze(traces, steps_files=True) == truth
        finally:
            monkeypatch.setattr(run_steps, "normalize_run", real)
        return calls == ["tcp/c--c"]

    stat = (run / "server.jsonl").stat()
    assert made_again(lambda: os.utime(run / "server.jsonl",
                                       ns=(stat.st_atime_ns, stat.st_mtime_ns + 1)))
    assert made_again(lambda: os.utime(run / "run.yaml", ns=(1, 1)))
    assert made_again(lambda: steps.write_bytes(good.replace(b'"normalizer": "',
                                                             b'"normalizer": "0', 1)))
    assert made_again(lambda: steps.write_bytes(good.replace(b'"level": "canonical"',
                                                             b'"level": "raw"', 1)))
    assert made_again(lambda: steps.write_bytes(good[:len(good) // 2]))
    assert made_again(lambda: steps.write_bytes(b"[]"))
    (tmp_path / "elsewhere.json").write_bytes(good)

    def linked() -> None:
        steps.unlink()
        steps.symlink_to(tmp_path / "elsewhere.json")
    assert made_again(linked)
    assert not steps.is_symlink()  # replaced, not written through
    assert made_again(lambda: None, restore=False) is False  # and now it stands again


def test_a_folder_that_cannot_be_written_is_read_all_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """(The tests run as root, whom a folder's mode does not stop: the write fails here as it
    does for a user in a read-only folder.)"""
    import errno

    from harness.compare import run_steps

    def refused(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(run_steps, "save", refused)
    traces = _copy("recorded-wire", tmp_path)
    truth = analyze(SETS / "recorded-wire")
    assert analyze(traces, steps_files=True) == replace(truth, traces_dir=str(traces))
    assert not list(traces.glob("*/*/steps.json"))


def test_the_steps_harness_normalize_writes_are_what_compare_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    traces = _copy("recorded-wire", tmp_path)
    truth = analyze(SETS / "recorded-wire")
    for run in sorted(traces.glob("*/*/run.yaml")):
        assert cli.main(["normalize", str(run.parent)]) == 0
    capsys.readouterr()
    _no_normalizing(monkeypatch)
    assert analyze(traces, steps_files=True) == replace(truth, traces_dir=str(traces))


def test_a_link_planted_as_analysis_json_is_replaced_not_written_through(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    traces = _copy("recorded-wire", tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (traces / "analysis.json").symlink_to(victim)
    (traces / "tcp" / "c--c" / "steps.json").symlink_to(victim)
    assert cli.main(["compare", "--from", str(traces), "--width", "0"]) == 1
    capsys.readouterr()
    assert victim.read_text() == "keep me\n"
    assert not (traces / "analysis.json").is_symlink()
    assert not (traces / "tcp" / "c--c" / "steps.json").is_symlink()
    assert analysis_file.load(traces / "analysis.json").reference == "python-stdlib"


# -- harness normalize TRACE: a trace file alone (what `harness trace -o` writes) -------------

def test_a_trace_file_normalizes_with_its_run_read_from_its_calls(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = SETS / "recorded-wire" / "tcp" / "c--c"
    folder, _ = __import__("harness.stages", fromlist=["normalize_run"]).normalize_run(run)
    out = tmp_path / "server.steps.json"
    assert cli.main(["normalize", str(run / "server.jsonl"), "-o", str(out)]) == 0
    printed, err = capsys.readouterr()
    assert "trace file: a server; its listening socket is bound to 127.0.0.1:" in err
    assert "scenario tcp" in err
    assert "server (server), 8 steps at the canonical level:" in printed
    doc = steps_file.load(out)
    assert doc.sides["client"] is None and doc.source is None
    mine, theirs = doc.sides["server"], folder.sides["server"]
    assert mine is not None and theirs is not None
    assert [s.label for s in mine.steps] == [s.label for s in theirs.steps]
    assert doc.times["server"] == folder.times["server"]
    # without -o nothing is written; --role says which side it is
    before = sorted(tmp_path.iterdir())
    assert cli.main(["normalize", str(run / "client.jsonl"), "--role", "client"]) == 0
    printed, err = capsys.readouterr()
    assert "a client (--role)" in err and "client (client), " in printed
    assert sorted(tmp_path.iterdir()) == before


@pytest.mark.parametrize("argv, message", [
    (["tcp/c--c", "--port", "9"], "--port: for a trace file; a run folder's run is its "
                                  "run.yaml"),
    (["tcp/nope"], "tcp/nope: no such file or folder"),
    (["tcp/c--c/server.jsonl", "--scenario", "tcp7"], "--scenario tcp7: no such scenario"),
])
def test_normalize_refuses_in_one_line(argv: list[str], message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    where = SETS / "recorded-wire"
    argv = [str(where / argv[0]), *argv[1:]]
    assert cli.main(["normalize", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
