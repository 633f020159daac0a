"""The wire view on live runs: the packets of python-stdlib's and C's runs captured on lo and set
beside their calls. Three handshake segments before accept() returns, data segments carrying
the echoed bytes, the first FIN from the side that closed first, an RST from a server that
closes with unread data; a capture that changes nothing traced; pcapng files that tcpdump
reads, each packet named by its call."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from harness.compare.analyze import analyze

from harness.compare.results import RunResult
from harness.wire.correlate import Call

from e2ehelp import ECHO_CLIENT, ECHO_SERVER, PYTHON, REPO, SampleTree

MESSAGE = "hello, sockets"


def verify(sample: str, traces: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "harness", "verify", sample, "--scenario", "tcp",
                           "--traces", str(traces), "--samples", str(REPO), *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def run_of(traces: Path, folder: str) -> RunResult:
    analysis = analyze(traces)
    return next(r for sc in analysis.scenarios for r in sc.runs if r.folder == folder)


def call(run: RunResult, role: str, name: str) -> Call:
    assert run.wire is not None
    return next(c for c in run.wire.calls if c.role == role and
                c.label.split(" = ")[-1].startswith(f"{name}("))


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> dict[str, RunResult]:
    """The tcp runs of the reference and of C (when a compiler is here), captured."""
    traces = tmp_path_factory.mktemp("wire")
    samples = ["c"] if shutil.which("cc") else []
    r = verify(samples[0] if samples else "python-stdlib", traces)
    assert r.returncode in (0, 1), r.stderr
    runs = {"python-stdlib": run_of(traces, "tcp/python-stdlib--python-stdlib")}
    if samples:
        runs["c"] = run_of(traces, "tcp/c--c")
    for run in runs.values():
        if run.wire is None and "CAP_NET_RAW" in (run.wire_note or ""):
            pytest.skip("no capture rights here: " + (run.wire_note or ""))
    return runs


@pytest.mark.parametrize("sample", ["python-stdlib", "c"])
def test_three_handshake_segments_before_accept_returns(live, sample: str) -> None:
    if sample not in live:
        pytest.skip("no C compiler")
    run = live[sample]
    first = run.wire.packets[:3]
    assert [(w.sender, w.packet.flags) for w in first] == [
        ("client", ("SYN",)), ("server", ("SYN", "ACK")), ("client", ("ACK",))]
    accept = call(run, "server", "accept")
    assert all(w.packet.ts_ns < accept.ts_ns for w in first)
    assert first[0].call.label.startswith("connect(") and first[2].call.label.startswith(
        "connect(")
    assert [s for w in first for s in w.states][-1] == ("server", "ESTABLISHED")


@pytest.mark.parametrize("sample", ["python-stdlib", "c"])
def test_data_segments_carry_the_echoed_bytes(live, sample: str) -> None:
    if sample not in live:
        pytest.skip("no C compiler")
    run = live[sample]
    for sender in ("client", "server"):
        data = [w for w in run.wire.packets if w.sender == sender and w.packet.length]
        assert b"".join(w.packet.payload[:w.packet.length] for w in data) == MESSAGE.encode()
        assert all(w.call is not None and w.call.label.startswith("send(") for w in data)


def closing_order(tmp_path: Path, late: str) -> RunResult:
    """A pair where one side waits 0.3 s before its close: the other closes first."""
    samples = SampleTree(tmp_path / "samples")
    for role in ("server", "client"):
        shutil.copytree(REPO / f"{role}s" / "python-stdlib",
                        samples.root / f"{role}s" / "python-stdlib")
    wait = "__import__('time').sleep(0.3)"
    samples.add("server", "late-close", ECHO_SERVER.replace(
        "c.sendall(c.recv(4096))", f"c.sendall(c.recv(4096)); {wait}"))
    samples.add("client", "late-close", ECHO_CLIENT.replace(
        "data = s.recv(4096)", f"data = s.recv(4096); {wait}"))
    pair = f"{late}-waits"
    traces = tmp_path / pair
    server, client = ("late-close", "python-stdlib") if late == "server" else \
        ("python-stdlib", "late-close")
    r = subprocess.run([PYTHON, "-m", "harness", "compare", "--samples", str(samples.root),
                        "--scenario", "tcp", "--traces", str(traces), "--cross"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 1), r.stderr
    return run_of(traces, f"tcp/{server}--{client}")


@pytest.mark.parametrize("late, first", [("client", "server"), ("server", "client")])
def test_the_first_fin_is_from_the_side_that_closed_first(live, tmp_path: Path, late: str,
                                                          first: str) -> None:
    run = closing_order(tmp_path, late)
    fins = [w for w in run.wire.packets if w.packet.has("FIN")]
    assert fins[0].sender == first and fins[0].call.label.startswith("close(")
    assert run.wire.sides[first].closes_first == "FIN"
    assert run.wire.sides[first].last_state == "TIME_WAIT"
    assert run.wire.sides[late].last_state == "CLOSED"
    # the closes, as traced, in the same order
    assert call(run, first, "close").ts_ns < call(run, late, "close").ts_ns


def test_a_server_closing_with_unread_data_resets(live, tmp_path: Path) -> None:
    traces = tmp_path / "rst"
    r = subprocess.run([PYTHON, "-m", "harness", "verify", "closes-unread", "--samples", ".",
                        "--samples", "tests/samples", "--traces", str(traces)], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr  # its client's recv fails: ECONNRESET
    run = run_of(traces, "tcp/closes-unread--python-stdlib")
    resets = [w for w in run.wire.packets if w.packet.has("RST")]
    assert resets and resets[0].sender == "server" and resets[0].call.label == "close(conn)"
    assert not any(w.packet.has("FIN") for w in run.wire.packets)
    assert run.wire.sides["server"].ends_with == "RST"
    assert "ends with (wire): RST (reference: FIN)" in r.stdout
    assert "a reset instead of a FIN" in r.stdout  # its note


def test_capturing_changes_nothing_traced(live, tmp_path: Path) -> None:
    without = tmp_path / "without"
    r = verify("python-stdlib", without, "--no-wire")
    assert r.returncode == 0, r.stderr
    plain = run_of(without, "tcp/python-stdlib--python-stdlib")
    assert plain.wire is None and plain.wire_note == "not captured (--no-wire)"
    captured = live["python-stdlib"]
    for role in ("server", "client"):
        assert [s.label for s in plain.side(role).steps] == \
            [s.label for s in captured.side(role).steps]


def pcapng_packets(path: Path) -> list[tuple[bytes, str]]:
    """(frame, comment) of each Enhanced Packet Block."""
    data = path.read_bytes()
    out, at = [], 0
    while at < len(data):
        kind, length = struct.unpack_from("=II", data, at)
        if kind == 6:
            captured = struct.unpack_from("=I", data, at + 20)[0]
            frame = data[at + 28:at + 28 + captured]
            opt = at + 28 + captured + (-captured % 4)
            comment = ""
            while opt < at + length - 4:
                code, size = struct.unpack_from("=HH", data, opt)
                if code == 1:
                    comment = data[opt + 4:opt + 4 + size].decode()
                if code == 0:
                    break
                opt += 4 + size + (-size % 4)
            out.append((frame, comment))
        at += length
    return out


def test_each_run_has_a_pcapng_naming_each_packets_call(live, tmp_path: Path) -> None:
    traces = tmp_path / "pcap"
    assert verify("python-stdlib", traces).returncode == 0
    run = run_of(traces, "tcp/python-stdlib--python-stdlib")
    path = traces / "tcp/python-stdlib--python-stdlib/wire.pcapng"
    packets = pcapng_packets(path)
    assert len(packets) == len(run.wire.packets)
    assert packets[0][1] == "client: connect(sock, 127.0.0.1:PORT); client SYN_SENT"
    assert any(c.startswith("server: send(conn)") for _, c in packets)
    if shutil.which("tcpdump"):
        r = subprocess.run(["tcpdump", "-nn", "-r", str(path)], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert len(r.stdout.splitlines()) == len(packets)
        assert "Flags [S]" in r.stdout.splitlines()[0]
