"""The tutorials' other sockets, run for real: `udp-broadcast` (SO_BROADCAST, a datagram to
127.255.255.255 received by a server bound to 0.0.0.0, answered to the client's own address)
and `icmp-echo` (ping: an ICMP echo request over a raw socket, answered by the kernel, no
server program; `ping -c 1` as a third-party client). Each with its wire view; and the
negative: a broadcast client that never sets SO_BROADCAST gets EACCES and fails."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.compare.analyze import analyze

from harness.compare.results import Analysis, RunResult
from harness.compare.align import Status
from harness.render.explain import explain

from e2ehelp import PYTHON, REPO

MESSAGE = "hello, sockets"
PING_HINT = "apt-get install iputils-ping"
ROOT = os.geteuid() == 0


def harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "harness", *args], cwd=REPO, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Analysis, subprocess.CompletedProcess]:
    """Both scenarios, every sample of them here and the negative control, run once."""
    traces = tmp_path_factory.mktemp("bcast-icmp")
    r = harness("compare", "--scenario", "udp-broadcast", "--scenario", "icmp-echo",
                "--samples", ".", "--samples", "tests/samples", "--traces", str(traces),
                "--width", "0")
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return analyze(traces), r


def run_of(analysis: Analysis, folder: str) -> RunResult:
    found = [r for sc in analysis.scenarios for r in sc.runs if r.folder == folder]
    if not found:
        pytest.skip(f"{folder} did not run here")
    return found[0]


def wire_or_skip(run: RunResult):
    if run.wire is None:
        pytest.skip(f"no wire view: {run.wire_note}")
    return run.wire


def labels(run: RunResult, role: str) -> list[str]:
    return [s.label for s in run.side(role).steps]


def dialects(run: RunResult, role: str) -> list[str]:
    return [s.dialect for s in run.side(role).steps]


# -- udp-broadcast ---------------------------------------------------------------------------

@pytest.mark.parametrize("sample", ["python-stdlib", "c", "go"])
def test_a_broadcast_reaches_the_server_bound_to_every_interface(runs, sample) -> None:
    analysis, _ = runs
    if sample != "python-stdlib" and shutil.which("cc" if sample == "c" else sample) is None:
        pytest.skip(f"no {sample} toolchain here")
    run = run_of(analysis, f"udp-broadcast/{sample}--{sample}")
    assert run.record.ok, run.record.detail
    assert run.record.client_stdout == MESSAGE
    # the server's bind of 0.0.0.0 is the run's bind step; its dialect names the address
    assert "bind(sock, 127.0.0.1:PORT)" in labels(run, "server")
    assert "bind(0.0.0.0:PORT)" in dialects(run, "server")
    # the client's send names the broadcast address; the answer comes from 127.0.0.1
    assert "sendto(127.255.255.255:PORT)" in dialects(run, "client")
    options = run.client.normalized.attributes  # type: ignore[union-attr]
    assert "SO_BROADCAST" in str(options)
    if sample != "go":  # Go's ListenPacket(":0") binds the client's socket first
        assert run.client.verdict.status in (Status.REFERENCE, Status.IDENTICAL)
    assert run.server.verdict.status in (Status.REFERENCE, Status.IDENTICAL)


def test_the_broadcast_on_the_wire(runs) -> None:
    analysis, _ = runs
    run = run_of(analysis, "udp-broadcast/python-stdlib--python-stdlib")
    view = wire_or_skip(run)
    assert view.protocol == "udp"
    out, back = view.packets
    assert out.sender == "client" and out.packet.dst == ("127.255.255.255", run.record.port)
    assert out.packet.broadcast and out.packet.payload == MESSAGE.encode()
    assert out.call is not None and out.call.label == "send(sock)"
    # the answer goes to the client's own address, from the server's port
    assert back.sender == "server" and back.packet.src[1] == run.record.port
    assert back.packet.dst[0] == "127.0.0.1" and not back.packet.broadcast
    assert back.call is not None and back.call.role == "server"


def test_a_client_without_so_broadcast_gets_eacces_and_fails(runs) -> None:
    analysis, _ = runs
    run = run_of(analysis, "udp-broadcast/python-stdlib--no-broadcast")
    assert not run.record.ok
    assert run.record.client_exit == 1
    assert "Permission denied" in run.record.client_stderr
    send = next(s for s in run.client.steps if s.name == "send")
    assert send.outcome == "EACCES" and send.label == "send(sock) → EACCES"
    text = explain(analysis, "no-broadcast")
    assert "a send to a broadcast address refused (EACCES)" in text
    if run.wire is not None:  # nothing left the client
        assert not [w for w in run.wire.packets if w.sender == "client"]


# -- icmp-echo -------------------------------------------------------------------------------

needs_raw = pytest.mark.skipif(not ROOT, reason="a raw ICMP socket needs CAP_NET_RAW (root)")


@needs_raw
@pytest.mark.parametrize("sample", ["python-stdlib", "c", "go"])
def test_the_kernel_answers_a_raw_socket_echo_request(runs, sample) -> None:
    analysis, _ = runs
    if sample != "python-stdlib" and shutil.which("cc" if sample == "c" else sample) is None:
        pytest.skip(f"no {sample} toolchain here")
    run = run_of(analysis, f"icmp-echo/kernel--{sample}")
    assert run.record.ok, run.record.detail
    assert run.record.client_stdout == MESSAGE
    # no server program: no server trace, and the kernel's side is not a failure
    assert run.record.server_trace is None and run.record.server_exit is None
    assert run.server.verdict.status == Status.KERNEL and run.server.matches
    steps = labels(run, "client")
    assert steps[0] == "sock = socket(SOCK_RAW)"
    assert "send(sock)" in steps and steps[-1] == "close(sock)"
    assert "sendto(127.0.0.1:0)" in dialects(run, "client")
    if sample != "go":  # Go's ListenPacket binds its raw socket to 0.0.0.0 first
        assert run.client.verdict.status in (Status.REFERENCE, Status.IDENTICAL)


@needs_raw
def test_the_kernel_is_the_server_row_of_the_grid(runs) -> None:
    analysis, r = runs
    row = next(row for row in analysis.grid.rows if row.sample == "kernel")
    assert row.role == "server"
    cells = dict(zip(analysis.grid.scenarios, row.cells))
    assert str(cells["icmp-echo"].status) == "kernel"
    assert str(cells["udp-broadcast"].status) == "n/a"
    # no server table in the scenario: the client table alone, with its textbook
    icmp = next(sc for sc in analysis.scenarios if sc.name == "icmp-echo")
    assert [t.role for t in icmp.tables] == ["client"]
    assert icmp.tables[0].textbook_verdict is not None
    assert icmp.tables[0].textbook_verdict.matches  # two receives: the request, the reply
    assert "kernel" in r.stdout


@needs_raw
def test_the_ping_on_the_wire(runs) -> None:
    analysis, _ = runs
    run = run_of(analysis, "icmp-echo/kernel--python-stdlib")
    view = wire_or_skip(run)
    assert view.protocol == "icmp"
    request, reply = view.packets
    assert (request.sender, request.packet.icmp_type) == ("client", 8)
    assert (reply.sender, reply.packet.icmp_type) == ("server", 0)
    assert (request.packet.ident, request.packet.icmp_seq) == \
        (reply.packet.ident, reply.packet.icmp_seq)
    assert request.packet.payload == reply.packet.payload == MESSAGE.encode()
    assert request.call is not None and request.call.label == "send(sock)"
    assert reply.call is not None and reply.call.label == "kernel, for the echo request"
    pcap = Path(analysis.traces_dir) / run.folder / "wire.pcapng"
    assert pcap.exists() and pcap.stat().st_size > 0


@needs_raw
def test_ping_itself_is_a_client(runs) -> None:
    analysis, r = runs
    if shutil.which("ping") is None:
        assert "skip  client ping: ping not found on PATH" in r.stderr
        assert PING_HINT in r.stderr
        pytest.skip(f"ping is not installed here (install: {PING_HINT})")
    run = run_of(analysis, "icmp-echo/kernel--ping")
    assert run.record.ok, run.record.detail  # its manifest says `expect: any`
    assert run.record.expect == "any"
    assert labels(run, "client")[:2] == ["sock = socket(SOCK_RAW)", "send(sock)"]
    # ICMP_FILTER: its raw socket never reads the request it sent, one receive fewer
    assert labels(run, "client").count("recv(sock)") == 1
    assert "a raw ICMP socket reads every ICMP message" in explain(analysis, "ping")
    view = run.wire
    if view is not None:
        assert [w.packet.icmp_type for w in view.packets] == [8, 0]


@needs_raw
def test_verify_of_an_icmp_client_runs_it_against_the_kernel(tmp_path) -> None:
    r = harness("verify", "c" if shutil.which("cc") else "python-stdlib", "--scenario",
                "icmp-echo", "--traces", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    runs = sorted(p.parent.name for p in tmp_path.glob("icmp-echo/*/run.yaml"))
    assert all(name.startswith("kernel--") for name in runs) and runs
    assert not list(tmp_path.glob("icmp-echo/*/server.jsonl"))


@needs_raw
def test_the_json_report_gives_each_icmp_message_its_fields(runs) -> None:
    import json

    analysis, _ = runs
    r = harness("compare", "--from", analysis.traces_dir, "--format", "json")
    doc = json.loads(r.stdout)
    icmp = next(sc for sc in doc["scenarios"] if sc["name"] == "icmp-echo")
    run = next(x for x in icmp["runs"] if x["folder"] == "icmp-echo/kernel--python-stdlib")
    if run["wire"] is None:
        pytest.skip("no wire view here")
    assert run["wire"]["protocol"] == "icmp"
    request, reply = run["wire"]["packets"]
    assert (request["icmp"]["type"], reply["icmp"]["type"]) == (8, 0)
    assert request["icmp"]["id"] == reply["icmp"]["id"] and request["icmp"]["seq"] == 1
    udp = next(sc for sc in doc["scenarios"] if sc["name"] == "udp-broadcast")
    assert all(p["icmp"] is None for x in udp["runs"] if x["wire"]
               for p in x["wire"]["packets"])
