"""The runner on real processes: a good pair, then every way a run can go wrong."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.formats import tracefile
from harness.run.matrix import plan, run_all
from harness.formats.model import RunRecord
from harness.run.options import RunOptions
from harness.run.runner import run_pair
from harness.tables.scenario import load_scenarios
from harness.run.manifest import ManifestError, discover

from e2ehelp import ECHO_CLIENT, ECHO_SERVER, REPO, SampleTree

GOOD_SERVER, GOOD_CLIENT = ECHO_SERVER, ECHO_CLIENT


def run(samples: SampleTree, server: str, client: str, tmp: Path, **options) -> RunRecord:
    found = discover(samples.root, REPO)
    return run_pair(found["server"][server], found["client"][client],
                    load_scenarios()["tcp"], tmp / "run", {}, RunOptions(**options))


def test_a_good_pair_writes_both_traces_and_its_record(samples, tmp_path):
    record = run(samples, "python-stdlib", "python-stdlib", tmp_path, message="ping \\x00?")
    assert record.outcome == "ok", record
    assert record.client_stdout == "ping \\x00?"
    saved = RunRecord.from_dict(__import__("yaml").safe_load((tmp_path / "run/run.yaml")
                                                             .read_text()))
    assert saved == record
    server = tracefile.load(tmp_path / "run/server.jsonl")
    client = tracefile.load(tmp_path / "run/client.jsonl")
    # the client started only after the server's listen: its first socket call comes later
    listen = next(e for e in server.events if e.syscall == "listen")
    first = next(e for e in client.events if e.kind == "syscall")
    assert listen.ts_ns < first.ts_ns
    assert listen.sock.local == {"family": "AF_INET", "address": "127.0.0.1",
                                 "port": record.port}
    assert [e.syscall for e in client.events if e.kind == "syscall"] == [
        "socket", "connect", "sendto", "recvfrom", "close"]
    assert not list((tmp_path / "run").glob(".*tmp"))


def test_a_server_that_crashes_is_reported_with_its_stderr(samples, tmp_path):
    samples.add("server", "crash", "import sys\nsys.stderr.write('no luck here\\n')\n"
                "raise SystemExit(3)\n")
    record = run(samples, "crash", "python-stdlib", tmp_path)
    assert record.outcome == "server-failed"
    assert "status 3 before listening" in record.detail
    assert "no luck here" in record.server_stderr
    assert record.client_trace is None


def test_a_client_that_hangs_is_killed_at_the_timeout(samples, tmp_path):
    samples.add("client", "hang", GOOD_CLIENT.replace(
        "s.sendall", "__import__('time').sleep(60); s.sendall"))
    start = time.monotonic()
    record = run(samples, "python-stdlib", "hang", tmp_path, timeout=1.5)
    assert time.monotonic() - start < 8
    assert record.outcome == "timeout"
    assert "client did not finish within 1.5 s" in record.detail
    client = tracefile.load(tmp_path / "run/client.jsonl")
    assert client.processes[0].exit_signal == "SIGKILL"
    # the server, blocked in recv, was killed too; its unfinished call is recorded
    server = tracefile.load(tmp_path / "run/server.jsonl")
    assert server.events[-2].syscall == "recvfrom" and server.events[-2].result is None


def test_a_wrong_echo_is_a_failed_run(samples, tmp_path):
    samples.add("client", "shout", GOOD_CLIENT.replace(".decode())", ".decode().upper())"))
    record = run(samples, "python-stdlib", "shout", tmp_path, message="hello")
    assert record.outcome == "echo-mismatch"
    assert record.detail == "client printed 'HELLO', expected 'hello'"


def test_a_program_that_does_not_exist_is_a_clear_error(samples, tmp_path):
    samples.add("server", "ghost", "", manifest=(
        "name: ghost\nrole: server\nlanguage: none\nrun: [no-such-program-here, '{port}']\n"
        "scenarios: [tcp]\n"))
    record = run(samples, "ghost", "python-stdlib", tmp_path)
    assert record.outcome == "error"
    assert "no-such-program-here: command not found" in record.detail


def test_a_missing_toolchain_skips_the_sample_with_its_hint(samples, tmp_path):
    samples.add("server", "exotic", GOOD_SERVER, manifest=(
        "name: exotic\nrole: server\nlanguage: Exotic\n"
        "requires: [{command: exoticc, hint: apt-get install exotic}]\n"
        "run: [exoticc, '{port}']\nscenarios: [tcp]\n"))
    p = plan([samples.root], scenarios=None, reference="python-stdlib", cross=False,
             only=None, build_cache=tmp_path / "build", log=print)
    assert [(s.name, s.reason, s.hint) for s in p.skipped] == [
        ("exotic", "exoticc not found on PATH", "apt-get install exotic")]
    assert p.pairs == []


@pytest.mark.parametrize("manifest, message", [
    ("name: broken\nrole: server\nlanguage: x\nscenarios: [tcp]\n", "field 'run' is missing"),
    ("name: other\nrole: server\nlanguage: x\nrun: [a]\nscenarios: [tcp]\n",
     "field 'name' is 'other', the folder is 'broken'"),
    ("name: broken\nrole: server\nlanguage: x\nrun: ['{prot}']\nscenarios: [tcp]\n",
     "unknown placeholder {prot}"),
    ("name: broken\nrole: server\nlanguage: x\nrun: [a]\nscenarios: [tcp, carrier-pigeon]\n",
     "unknown scenario 'carrier-pigeon'"),
    ("name: broken\nrole: server\nlanguage: x\nrun: a b c\nscenarios: [tcp]\n",
     "field 'run' must be a non-empty list"),
    ("{{{", "not valid YAML"),
])
def test_a_broken_manifest_names_the_file_and_the_field(samples, tmp_path, manifest,
                                                        message):
    folder = samples.add("server", "broken", "", manifest=manifest)
    with pytest.raises(ManifestError) as e:
        plan([samples.root], scenarios=None, reference="python-stdlib", cross=False,
             only=None, build_cache=tmp_path / "build", log=print)
    assert str(folder / "manifest.yaml") in str(e.value)
    assert message in str(e.value)


def test_verify_of_one_sample_loads_only_it_and_the_reference(samples, tmp_path):
    """A half-written sample elsewhere (no manifest yet) stops `compare`, naming its folder,
    but not `verify` of another sample, which plans only that sample and the reference."""
    samples.add("server", "good", GOOD_SERVER)
    (samples.root / "clients" / "half-made").mkdir(parents=True)
    with pytest.raises(ManifestError, match="half-made"):
        plan([samples.root, REPO], scenarios=["tcp"], reference="python-stdlib", cross=False,
             only=None, build_cache=tmp_path / "build", log=print)
    p = plan([samples.root, REPO], scenarios=["tcp"], reference="python-stdlib", cross=False,
             only="good", build_cache=tmp_path / "build", log=print)
    assert sorted((x.server.name, x.client.name) for x in p.pairs) == [
        ("good", "python-stdlib"), ("python-stdlib", "python-stdlib")]
    with pytest.raises(LookupError, match="no sample named 'nope'.*half-made"):
        plan([samples.root, REPO], scenarios=["tcp"], reference="python-stdlib", cross=False,
             only="nope", build_cache=tmp_path / "build", log=print)


def test_each_run_is_written_as_soon_as_it_ends(samples, tmp_path):
    """A matrix writes the index after each run: what ran is on disk even if a later run
    never finishes."""
    p = plan([REPO], scenarios=["tcp"], reference="python-stdlib", cross=False,
             only="python-socketserver", build_cache=tmp_path / "build", log=print)
    assert sorted(x.folder for x in p.pairs) == [
        "tcp/python-socketserver--python-socketserver", "tcp/python-stdlib--python-stdlib"]
    written = []
    run_all(p, tmp_path / "traces", RunOptions(), "python-stdlib",
            log=lambda line: written.append(sorted(
                (tmp_path / "traces").glob("tcp/*/run.yaml"))))
    assert [len(w) for w in written] == [1, 2]


# -- pairing: a partner that lacks a scenario, and every pair with --cross -----------------------

TWO_SCENARIOS_SERVER = """
    import socket, sys
    scenario, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if scenario == "udp":
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((host, port))
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
    else:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, port))
            s.listen()
            c, _ = s.accept()
            with c:
                c.sendall(c.recv(4096))
"""


def test_a_server_whose_own_client_lacks_a_scenario_runs_with_the_reference_client(
        samples, tmp_path):
    from harness.compare.analyze import analyze
    from harness.compare.results import GridStatus

    samples.add("server", "half", TWO_SCENARIOS_SERVER, manifest=(
        'name: half\nrole: server\nlanguage: Python\n'
        'run: ["{python}", "prog.py", "{scenario}", "{host}", "{port}"]\n'
        'scenarios: [tcp, udp]\n'))
    samples.add("client", "half", GOOD_CLIENT)  # tcp only
    p = plan([samples.root, REPO], scenarios=["tcp", "udp"], reference="python-stdlib",
             cross=False, only="half", build_cache=tmp_path / "build", log=lambda line: None)
    assert sorted(pair.folder for pair in p.pairs) == [
        "tcp/half--half", "tcp/python-stdlib--python-stdlib", "udp/half--python-stdlib",
        "udp/python-stdlib--python-stdlib"]
    records = run_all(p, tmp_path / "traces", RunOptions(), "python-stdlib",
                      log=lambda line: None)
    assert all(r.outcome == "ok" for r in records), records
    grid = analyze(tmp_path / "traces").grid
    rows = {(row.sample, row.role): row for row in grid.rows}
    cells = dict(zip(grid.scenarios, rows[("half", "server")].cells))
    assert cells["udp"].run == "udp/half--python-stdlib"
    assert cells["udp"].status == GridStatus.IDENTICAL, cells
    assert dict(zip(grid.scenarios, rows[("half", "client")].cells))["udp"].status \
        == GridStatus.NOT_IMPLEMENTED


def test_cross_shows_every_pair_in_the_grid(samples, tmp_path):
    from harness.compare.analyze import analyze

    for name in ("a", "b"):
        samples.add("server", name, GOOD_SERVER)
        samples.add("client", name, GOOD_CLIENT)
    p = plan([samples.root], scenarios=["tcp"], reference="a", cross=True, only=None,
             build_cache=tmp_path / "build", log=lambda line: None)
    assert sorted(pair.folder for pair in p.pairs) == ["tcp/a--a", "tcp/a--b", "tcp/b--a",
                                                       "tcp/b--b"]
    records = run_all(p, tmp_path / "traces", RunOptions(), "a", log=lambda line: None)
    assert all(r.outcome == "ok" for r in records), records
    grid = analyze(tmp_path / "traces").grid
    assert [(row.sample, row.role, row.partner, row.cells[0].run) for row in grid.rows] == [
        ("a", "server", None, "tcp/a--a"), ("a", "client", None, "tcp/a--a"),
        ("b", "server", None, "tcp/b--b"), ("b with a", "server", "a", "tcp/b--a"),
        ("b", "client", None, "tcp/b--b"), ("b with a", "client", "a", "tcp/a--b")]
    # each side of every pair has its verdict against the reference: the same programs,
    # identical
    assert {str(row.cells[0].status) for row in grid.rows[2:]} == {"identical"}
