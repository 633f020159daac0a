"""build_report over trace sets written to tmp_path; exit codes; broken files; explain."""

from __future__ import annotations

from pathlib import Path

import fixtures_traces as ft
import pytest
import yaml

from harness.report import ReportError, build_report, exit_code, explain


def identical_set(root: Path) -> Path:
    return ft.write_trace_set(root, [ft.pair_run("python-stdlib", 40301),
                                     ft.pair_run("c", 40302),
                                     ft.pair_run("python-asyncio", 40303)])


def verdicts(report) -> dict[tuple[str, str, str], str]:
    return {(r.run, r.role, r.sample): r.verdict.summary for r in report.results()}


def test_all_identical_exits_zero(tmp_path: Path) -> None:
    report = build_report(identical_set(tmp_path))
    assert exit_code(report) == 0
    assert report.reference == "python-stdlib" and report.level == "canonical"
    [scenario] = report.scenarios
    assert [t.role for t in scenario.tables] == ["server", "client"]
    server = scenario.tables[0]
    assert [s.sample for s in server.samples] == ["python-stdlib", "c", "python-asyncio"]
    assert server.rows[3].label == "conn = accept(listener)"
    assert server.rows[3].cells == ("accept4(SOCK_CLOEXEC)", "accept", "accept4(SOCK_CLOEXEC)")


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
        java[1].verdict.summary
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
    assert table.base == "c" and "no trace of the reference server python-stdlib" in table.note
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
    with pytest.raises(ReportError, match=r"run\.yaml: field 'port' must be of type int"):
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
    with pytest.raises(ReportError, match=r"tcp/c--c/server\.yaml: missing or malformed field "
                                          r"'tracer'"):
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
    with pytest.raises(ValueError, match="no sample named 'cobol'.*python-stdlib, c"):
        explain(report, "cobol")
