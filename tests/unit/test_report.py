"""build_report over trace sets written to tmp_path; exit codes; broken files; explain."""

from __future__ import annotations

from harness.render import words  # noqa: E402

from pathlib import Path

import fixtures_traces as ft
import pytest
import yaml

from harness.common.errors import HarnessError
from harness.compare.analyze import analyze as build_report
from harness.compare.analyze import exit_code
from harness.render.explain import explain
from harness.formats.store import StoreError as ReportError


def identical_set(root: Path) -> Path:
    return ft.write_trace_set(root, [ft.pair_run("python-stdlib", 40301),
                                     ft.pair_run("c", 40302),
                                     ft.pair_run("python-asyncio", 40303)])


def verdicts(report) -> dict[tuple[str, str, str], str]:
    return {(r.run, r.role, r.sample): words.verdict_summary(r.verdict) for r in report.results()}


def test_all_identical_exits_zero(tmp_path: Path) -> None:
    report = build_report(identical_set(tmp_path))
    assert exit_code(report) == 0
    assert report.reference == "python-stdlib" and report.level == "canonical"
    [scenario] = report.scenarios
    assert [t.role for t in scenario.tables] == ["server", "client"]
    server = scenario.tables[0]
    assert [s.sample for s in server.samples] == ["python-stdlib", "c", "python-asyncio"]
    assert server.rows[3].label == "conn = accept(listener)"
    assert tuple(words.cell(c) for c in server.rows[3].cells) == (
        "accept4(SOCK_CLOEXEC)", "accept", "accept4(SOCK_CLOEXEC)")


def test_negative_controls(tmp_path: Path) -> None:
    report = build_report(ft.negative_controls(tmp_path))
    v = verdicts(report)
    assert v[("tcp/echo-twice--python-stdlib", "server", "echo-twice")] == \
        "differs at step 7 (extra send(conn))"
    assert v[("tcp/close-before-echo--python-stdlib", "server", "close-before-echo")] == \
        "differs at step 6 (missing send(conn))"
    assert v[("tcp/python-stdlib--connect-twice", "client", "connect-twice")].startswith(
        "differs at step 3 (missing send(sock)")
    assert exit_code(report) == 1


def test_failed_run_is_shown_not_dropped(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_tcp(tmp_path))
    java = [r for r in report.results() if r.sample == "java"]
    assert {r.role: r.verdict.status for r in java} == {"server": "identical",
                                                        "client": "no trace"}
    assert all(r.run_failed and not r.matches for r in java)
    client_table = report.scenarios[0].tables[1]
    assert "java" in [s.sample for s in client_table.samples]
    assert "client.yaml missing (run timeout: client did not exit within 10 s)" in \
        words.verdict_summary(java[1].verdict)
    assert [s.name for s in report.skipped] == ["php", "php"]
    assert exit_code(report) == 1


def test_without_index_the_run_folders_are_found(tmp_path: Path) -> None:
    ft.write_trace_set(tmp_path, [ft.pair_run("c", 40401), ft.pair_run("python-stdlib", 40402)],
                       with_index=False)
    report = build_report(tmp_path)
    assert report.reference == "python-stdlib"
    assert [r.folder for r in report.scenarios[0].runs] == ["tcp/c--c",
                                                            "tcp/python-stdlib--python-stdlib"]
    # the reference comes first in the tables whatever the run order
    assert report.scenarios[0].tables[0].samples[0].sample == "python-stdlib"
    assert exit_code(report) == 0


def test_other_reference(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_tcp(tmp_path), reference="node")
    v = verdicts(report)
    assert v[("tcp/node--node", "server", "node")] == "reference"
    assert v[("tcp/c--c", "server", "c")] == ("differs at step 7 (missing shutdown(conn, "
                                              "SHUT_WR); missing recv(conn) → EOF)")


def test_reference_that_did_not_run(tmp_path: Path) -> None:
    ft.write_trace_set(tmp_path, [ft.pair_run("c", 40501), ft.pair_run("node", 40502)])
    report = build_report(tmp_path)
    table = report.scenarios[0].tables[0]
    assert table.base == "c" and not table.reference_has_trace
    assert "no trace of the reference server python-stdlib" in words.table_note(table)
    assert {r.verdict.status for r in report.results()} == {"no reference"}
    assert table.rows  # rows still follow the first sample
    assert exit_code(report) == 1


def test_cross_runs_show_each_sample_with_its_own_pair(tmp_path: Path) -> None:
    runs = []
    for server in ("python-stdlib", "c"):
        for client in ("python-stdlib", "c"):
            port = 40600 + len(runs)
            runs.append(ft.PlannedRun(ft.run_record(server, client, port),
                                      ft.SERVERS[server](port), ft.CLIENTS[client](port)))
    report = build_report(ft.write_trace_set(tmp_path, runs))
    server_table = report.scenarios[0].tables[0]
    assert [(s.sample, s.run) for s in server_table.samples] == [
        ("python-stdlib", "tcp/python-stdlib--python-stdlib"), ("c", "tcp/c--c")]
    assert len(report.scenarios[0].runs) == 4
    assert exit_code(report) == 0


def test_missing_run_yaml_is_a_failed_run(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    (root / "tcp/c--c/run.yaml").unlink()
    report = build_report(root)
    run = next(r for r in report.scenarios[0].runs if r.folder == "tcp/c--c")
    assert run.record.outcome == "error" and "run.yaml missing" in (run.record.detail or "")
    assert run.server.verdict.status == "no trace"
    assert exit_code(report) == 1


def test_socket_level_comparison(tmp_path: Path) -> None:
    report = build_report(identical_set(tmp_path), level="socket")
    v = verdicts(report)
    assert v[("tcp/c--c", "server", "c")].startswith("differs")  # accept is not accept4 here
    with pytest.raises(ValueError, match="unknown level"):
        build_report(tmp_path, level="semantic")


# -- broken files name the file and the field -------------------------------------------------

def edit_yaml(path: Path, fn) -> None:
    doc = yaml.safe_load(path.read_text())
    fn(doc)
    path.write_text(yaml.safe_dump(doc))


def test_run_yaml_missing_field(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    edit_yaml(root / "tcp/c--c/run.yaml", lambda d: d.pop("port"))
    with pytest.raises(ReportError, match=r"tcp/c--c/run\.yaml: missing field 'port'"):
        build_report(root)


def test_run_yaml_wrong_type(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    edit_yaml(root / "tcp/c--c/run.yaml", lambda d: d.update(port="forty"))
    with pytest.raises(ReportError, match=r"run\.yaml: field 'port' must be an integer, got 'forty'"):
        build_report(root)


def test_index_missing_field(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    edit_yaml(root / "index.yaml", lambda d: d.pop("runs"))
    with pytest.raises(ReportError, match=r"index\.yaml: missing field 'runs'"):
        build_report(root)


def test_index_not_yaml(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    (root / "index.yaml").write_text("runs: [unclosed\n")
    with pytest.raises(ReportError, match=r"index\.yaml: not valid YAML"):
        build_report(root)


def test_broken_trace_file(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    edit_yaml(root / "tcp/c--c/server.yaml", lambda d: d.pop("tracer"))
    with pytest.raises(HarnessError, match=r"tcp/c--c/server\.yaml: missing field 'tracer'"):
        build_report(root)


def test_no_such_folder(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such folder"):
        build_report(tmp_path / "nothing")


def test_empty_folder_exits_one(tmp_path: Path) -> None:
    report = build_report(tmp_path)
    assert report.scenarios == () and exit_code(report) == 1


# -- explain -----------------------------------------------------------------------------------

def test_explain_a_differing_sample(tmp_path: Path) -> None:
    report = build_report(ft.negative_controls(tmp_path))
    text = explain(report, "echo-twice")
    assert text.startswith("echo-twice (server), scenario tcp, run tcp/echo-twice--python-stdlib:"
                           " differs at step 7 (extra send(conn))")
    assert "python-stdlib (reference)" in text
    [row] = [line for line in text.splitlines() if line.rstrip().endswith("extra")]
    assert row.split()[:4] == ["7", "—", "send(conn)", "sendto"]


def test_explain_a_failed_run_shows_stderr(tmp_path: Path) -> None:
    report = build_report(ft.negative_controls(tmp_path))
    text = explain(report, "connect-twice")
    assert "run client-failed: client exited with 1" in text
    assert "second connection failed: [Errno 111] Connection refused" in text


def test_explain_lists_other_runs_and_attributes(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_tcp(tmp_path))
    text = explain(report, "node")
    assert "listen backlog: 511 (reference: 128)" in text
    assert "node (client)" in text


def test_explain_unknown_sample(tmp_path: Path) -> None:
    report = build_report(identical_set(tmp_path))
    with pytest.raises(HarnessError, match="no sample named 'cobol'.*python-stdlib, c"):
        explain(report, "cobol")


# -- the verdict grid ----------------------------------------------------------------------------

def grid_of(report) -> dict[tuple[str, str], dict[str, str]]:
    return {(row.sample, row.role): dict(zip(report.grid.scenarios, (words.grid_cell(c) for c in row.cells)))
            for row in report.grid.rows}


def test_grid_rows_samples_columns_scenarios(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_scenarios(tmp_path))
    assert report.grid.scenarios == ("tcp", "tcp-session", "udp", "unix", "tcp6")
    grid = grid_of(report)
    assert list(grid)[:2] == [("python-stdlib", "server"), ("python-stdlib", "client")]
    assert set(grid[("python-stdlib", "server")].values()) == {"reference"}
    assert grid[("c", "server")] == {"tcp": "identical", "tcp-session": "identical",
                                     "udp": "identical", "unix": "n/a",
                                     "tcp6": "identical"}  # bind([::]:PORT): every interface
    assert grid[("c", "client")]["udp"] == "differs (step 2)"  # connect + send
    assert grid[("batch", "client")] == {"tcp": "n/a", "tcp-session": "differs (step 4)",
                                         "udp": "n/a", "unix": "n/a", "tcp6": "n/a"}
    assert grid[("no-wait", "client")]["udp"] == "failed (echo-mismatch); differs (step 3)"
    assert grid[("no-listen", "server")]["unix"] == "failed (server-failed); differs (step 3)"
    assert grid[("php", "server")] == {"tcp": "skipped", "tcp-session": "n/a", "udp": "n/a",
                                       "unix": "n/a", "tcp6": "n/a"}
    cell = next(r for r in report.grid.rows if r.sample == "batch").cells[1]
    assert (cell.status, cell.first_step, cell.run) == ("differs", 4,
                                                        "tcp-session/python-stdlib--batch")
    # n/a and skipped cells are no failures: only the differing and failed samples count
    assert exit_code(report) == 1


def test_grid_not_run_and_unknown_implements(tmp_path: Path) -> None:
    implements = {"server": {"python-stdlib": ["tcp", "udp"], "c": ["tcp", "udp"]},
                  "client": {"python-stdlib": ["tcp", "udp"], "c": ["tcp"]}}
    runs = [ft.pair_run("python-stdlib", 40801), ft.pair_run("c", 40802),
            ft.PlannedRun(ft.run_record("python-stdlib", "python-stdlib", 40803,
                                        scenario="udp"),
                          ft.python_stdlib_server_udp(40803), ft.python_stdlib_client_udp(40803))]
    report = build_report(ft.write_trace_set(tmp_path / "a", runs, implements=implements))
    grid = grid_of(report)
    assert grid[("c", "server")] == {"tcp": "identical", "udp": "not run"}
    assert grid[("c", "client")] == {"tcp": "identical", "udp": "n/a"}
    # an index without `implements`: a sample without a run is n/a, a skipped one skipped
    old = build_report(ft.handbuilt_tcp(tmp_path / "b"))
    assert grid_of(old)[("php", "client")] == {"tcp": "skipped"}
    assert grid_of(old)[("java", "server")] == {"tcp": "failed (timeout)"}


def test_index_implements_is_checked(tmp_path: Path) -> None:
    root = identical_set(tmp_path)
    edit_yaml(root / "index.yaml", lambda d: d.update(implements={"server": {"c": "tcp"}}))
    with pytest.raises(ReportError, match=r"index\.yaml: field 'implements\.server\.c' must be "
                                          r"a list of texts, got 'tcp'"):
        build_report(root)
    edit_yaml(root / "index.yaml", lambda d: d.update(implements={"proxy": {}}))
    with pytest.raises(ReportError, match=r"field 'implements': unknown role 'proxy'"):
        build_report(root)


def test_matrix_index_round_trip_with_implements() -> None:
    from harness.formats.model import MatrixIndex

    index = MatrixIndex(reference="r", scenarios=["tcp"], runs=[],
                        implements={"server": {"c": ["tcp", "udp"]}})
    assert MatrixIndex.from_dict(index.to_dict()) == index
    assert MatrixIndex.from_dict({"reference": "r", "scenarios": [], "runs": []}).implements == {}


# -- the textbook beside the reference -----------------------------------------------------------

def test_textbook_column_and_the_reference_against_it(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_scenarios(tmp_path))
    for sc in report.scenarios:
        for table in sc.tables:
            assert table.textbook and table.textbook_verdict is not None
            assert table.textbook_verdict.status == "identical", (sc.name, table.role)
            assert all(words.cell(r.textbook) != "—" for r in table.rows  # type: ignore[arg-type]
                       if r.step is not None)
    session = next(sc for sc in report.scenarios if sc.name == "tcp-session")
    server = session.tables[0]
    assert [words.cell(r.textbook) for r in server.rows][4:6] == [  # type: ignore[arg-type]
        "recv(message 1 of 3)", "send(message 1 of 3)"]
    assert "once per message (3 in this run: 14, 1000, 100000 bytes)" in \
        words.loops(server.textbook_loops)
    assert "interleaved" in session.note
    udp = next(sc for sc in report.scenarios if sc.name == "udp")
    connect_row = next(r for r in udp.tables[1].rows if r.label.startswith("connect"))
    assert (connect_row.step, words.cell(connect_row.textbook)) == (None, "—")  # type: ignore


def test_a_reference_that_departs_from_the_textbook(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_tcp(tmp_path), reference="node")
    server = report.scenarios[0].tables[0]
    assert words.verdict_summary(server.textbook_verdict) == (  # type: ignore[arg-type]
        "differs at step 7 (extra shutdown(conn, SHUT_WR); extra recv(conn) → EOF)")
    rows = {r.label: words.cell(r.textbook) for r in server.rows}  # type: ignore[arg-type]
    assert rows["shutdown(conn, SHUT_WR)"] == "—" and rows["close(conn)"] == "close"


def test_no_textbook_below_the_canonical_level(tmp_path: Path) -> None:
    report = build_report(identical_set(tmp_path), level="socket")
    assert all(not t.textbook and t.textbook_verdict is None
               for sc in report.scenarios for t in sc.tables)


def test_run_text_shows_the_socket_path_as_path(tmp_path: Path) -> None:
    report = build_report(ft.handbuilt_scenarios(tmp_path))
    run = next(r for sc in report.scenarios for r in sc.runs
               if r.folder == "unix/no-listen--python-stdlib")
    assert run.record.server_stderr == "echoed over a socketpair; PATH left unused\n"
    assert run.record.path == ft.UNIX_PATH  # the record itself keeps it: normalizing needs it
    text = explain(report, "no-listen")
    assert "PATH left unused" in text and ft.RUN_DIR not in text


def test_a_trace_cut_off_by_a_crash_is_shown_as_incomplete(tmp_path: Path) -> None:
    """The harness died while it wrote a server's trace: only server.yaml.partial is there,
    a JSON Lines stream without its footer. The report reads it as far as it goes and says it
    is incomplete; that sample does not match, whatever its steps."""
    from harness.formats import tracefile

    root = identical_set(tmp_path)
    folder = root / "tcp/c--c"
    stream = tracefile.dumps(tracefile.load(folder / "server.yaml"), "jsonl").splitlines()
    (folder / "server.yaml").unlink()
    (folder / "server.yaml.partial").write_text("\n".join(stream[:-1]) + "\n")  # no footer
    report = build_report(root)
    c = next(r for r in report.results() if r.sample == "c" and r.role == "server")
    assert c.incomplete and c.verdict.status == "identical" and not c.matches
    assert c.trace_file == "tcp/c--c/server.yaml.partial"
    row = next(r for r in report.grid.rows if r.sample == "c" and r.role == "server")
    assert words.grid_cell(row.cells[0]) == "failed (trace incomplete)"
    assert exit_code(report) == 1
