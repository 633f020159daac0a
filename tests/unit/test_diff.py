"""`harness diff A B` on recorded traces (tests/golden/sets/recorded-matrix): what it says
agrees with what `compare` says of the same runs; a bad side is refused in one line (exit 2);
`compare --from` on a folder of trace files points at `harness diff` and writes nothing."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from harness import cli
from harness.compare.analyze import analyze
from harness.diff_sides import side_specs

RECORDED = Path(__file__).resolve().parents[1] / "golden" / "sets" / "recorded-matrix"
REF = "python-stdlib"


def diff(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_folder(scenario: str, pair: str) -> str:
    return str(RECORDED / scenario / pair)


@pytest.fixture(scope="module")
def grid() -> dict[tuple[str, str, str], str]:
    """(sample, role, scenario) -> compare's grid status, for the recorded matrix."""
    analysis = analyze(RECORDED)
    return {(row.sample, row.role, sc): str(cell.status) for row in analysis.grid.rows
            for sc, cell in zip(analysis.grid.scenarios, row.cells)}


def own_pairs() -> list[tuple[str, str]]:
    return [(sc.name, p.name.split("--")[0]) for sc in sorted(RECORDED.iterdir()) if sc.is_dir()
            for p in sorted(sc.iterdir()) if p.is_dir() and p.name.split("--")[0] ==
            p.name.split("--")[1] and p.name.split("--")[0] != REF]


@pytest.mark.parametrize("scenario,sample", own_pairs())
def test_run_folders_agree_with_compare(capsys, grid, scenario, sample):
    """The reference's run folder against a sample's: exit 0 exactly where compare's grid
    says identical for both roles; the same for the server's and client's trace files alone."""
    ref, other = run_folder(scenario, f"{REF}--{REF}"), run_folder(scenario, f"{sample}--{sample}")
    extra = ["--scenario", scenario] if scenario == "tcp-session" else []
    code, out, _ = diff(capsys, ref, other, "--format", "json")
    doc = json.loads(out)
    same = all(grid[(sample, role, scenario)] == "identical" for role in ("server", "client"))
    assert code == (0 if same else 1), out
    assert doc["exit_code"] == code and doc["diff"]["same"] is same
    assert doc["diff"]["roles"] == ["server", "client"]
    for role in ("server", "client"):
        code, out, _ = diff(capsys, f"{ref}/{role}.jsonl", f"{other}/{role}.jsonl",
                            "--format", "json", *extra)
        doc = json.loads(out)
        assert doc["diff"]["roles"] == [role]
        assert code == (0 if grid[(sample, role, scenario)] == "identical" else 1), \
            (role, doc["diff"])


def test_c_server_against_python_stdlib(capsys):
    """c's server and python-stdlib's in tcp: identical, as compare says; the tables are
    compare's (a textbook column, the attributes)."""
    code, out, _ = diff(capsys, run_folder("tcp", "c--c") + "/server.jsonl",
                        run_folder("tcp", f"{REF}--{REF}") + "/server.jsonl", "--width", "0")
    assert code == 0
    assert "tcp: servers" in out and "textbook" in out and "tcp: server attributes" in out
    assert "listen backlog" in out and "4096" in out and "128" in out
    assert "a server; its listening socket is bound to 127.0.0.1:37617" in out
    assert out.rstrip().splitlines()[-1].startswith("same: ")


def test_differs_with_the_note(capsys):
    code, out, _ = diff(capsys, run_folder("tcp", "c--c") + "/server.jsonl",
                        run_folder("tcp", "python-socketserver--python-socketserver")
                        + "/server.jsonl")
    assert code == 1
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("differ: server ") and "step 7" in last and "shutdown" in last
    assert "why it differs:" in out and "shutdown(2)" in out  # the note, as verify gives it
    code, md, _ = diff(capsys, run_folder("tcp", "c--c"),
                       run_folder("tcp", "python-socketserver--python-socketserver"),
                       "--format", "markdown")
    assert code == 1
    assert md.startswith("# Two traces compared") and "Why, for servers (tcp):" in md
    assert "| python-socketserver" in md


def test_the_same_file_twice(capsys):
    f = run_folder("udp", "php--php") + "/client.jsonl"
    code, out, _ = diff(capsys, f, f, "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["diff"]["same"] and [s["name"] for s in doc["diff"]["sides"]] == \
        ["A:php", "B:php"]
    assert doc["diff"]["sides"][0]["how"].startswith("trace file: a client; it ")
    code, _, _ = diff(capsys, run_folder("unix", "c--c"), run_folder("unix", "c--c"))
    assert code == 0


def test_a_run_folder_against_a_lone_trace(capsys):
    """A lone trace is compared with the run's side of its role only."""
    code, out, _ = diff(capsys, run_folder("tcp", f"{REF}--{REF}"),
                        run_folder("tcp", "php--php") + "/client.jsonl", "--format", "json")
    assert code == 0
    assert json.loads(out)["diff"]["roles"] == ["client"]


def test_two_roles_that_differ(capsys):
    """A client's trace against a server's: compared as A's role, said on stderr; --role."""
    c = run_folder("tcp", "c--c")
    code, out, err = diff(capsys, f"{c}/client.jsonl", f"{c}/server.jsonl")
    assert code == 1
    assert "B looks like a server, A like a client: compared as clients" in err
    code, out, err = diff(capsys, f"{c}/client.jsonl", f"{c}/server.jsonl", "--role", "server",
                          "--format", "json")
    assert json.loads(out)["diff"]["roles"] == ["server"]


def test_facts_from_options(capsys):
    """--port names the address when the trace's own is not wanted: a port nothing used
    leaves no echo socket, every step missing."""
    c = run_folder("tcp", "c--c")
    code, out, _ = diff(capsys, f"{c}/server.jsonl", f"{c}/server.jsonl", "--port", "9",
                        "--role", "server", "--format", "json")
    doc = json.loads(out)
    assert doc["diff"]["sides"][0]["port"] == 9 and "(--port)" in doc["diff"]["sides"][0]["how"]
    code, _, err = diff(capsys, f"{c}/server.jsonl", f"{c}/server.jsonl", "--scenario", "nope")
    assert code == 2 and "--scenario nope: no such scenario" in err


@pytest.mark.parametrize("bad,says", [
    ("nothere.jsonl", "nothere.jsonl: no such file or folder"),
    ("README", "not a valid trace file"),
    ("FOLDER", "not a run folder"),
    ("TRACES", "a traces folder, not a run"),
])
def test_a_bad_side_is_one_line(capsys, tmp_path, bad, says):
    path = {"README": str(Path(cli.__file__).parents[1] / "README.md"),
            "FOLDER": str(tmp_path), "TRACES": str(RECORDED)}.get(bad, str(tmp_path / bad))
    code, out, err = diff(capsys, path, run_folder("tcp", "c--c"))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and says in err and err.startswith("harness diff: ")


def test_two_sides_wanted(capsys):
    code, _, err = diff(capsys, run_folder("tcp", "c--c"))
    assert code == 2 and "two sides to compare, got 1" in err
    code, _, err = diff(capsys, run_folder("tcp", "c--c"), run_folder("tcp", "c--c"),
                        "--client", "prog {port}")
    assert code == 2 and "--client is run against the sides that are commands" in err


def test_side_order():
    def specs(*tokens: str) -> list[tuple[str, str]]:
        cut = tokens.index("--") if "--" in tokens else len(tokens)
        args = cli._diff_parser().parse_args(list(tokens[:cut]))
        args.command = list(tokens[cut + 1:])
        return [(s.label, s.source) for s in side_specs(args, list(tokens[:cut]))]

    assert specs("a", "b") == [("A", "a"), ("B", "b")]
    assert specs("--run", "x 1", "b") == [("A", "x 1"), ("B", "b")]
    assert specs("a", "--port", "5", "--run", "x 'y z'") == [("A", "a"), ("B", "x 'y z'")]
    assert specs("a", "--", "prog", "--flag") == [("A", "a"), ("B", "prog --flag")]
    assert specs("--run=p", "--", "q") == [("A", "p"), ("B", "q")]
    assert specs("--width", "80", "a", "b") == [("A", "a"), ("B", "b")]
    assert specs("--client", "c {port}", "a", "--run", "s {port}") == \
        [("A", "a"), ("B", "s '{port}'")]
    args = argparse.Namespace(sides=["a"], run=["b"], command=[])
    assert [s.source for s in side_specs(args)] == ["a", "b"]


def test_compare_from_a_folder_of_trace_files(capsys, tmp_path):
    """Two trace files in a folder: compare --from says, in one line, to use harness diff,
    exits 2 and writes nothing there."""
    for role, name in (("server", "a.jsonl"), ("client", "b.jsonl")):
        shutil.copy(RECORDED / "tcp" / "c--c" / f"{role}.jsonl", tmp_path / name)
    code = cli.main(["compare", "--from", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert "harness diff A B" in err and f"harness diff {tmp_path}/a.jsonl {tmp_path}/b.jsonl" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli.main(["compare", "--from", str(empty)]) == 2
    assert list(empty.iterdir()) == []
