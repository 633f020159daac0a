"""The udp-broadcast and icmp-echo scenarios, without running anything: how they are written
(a client host apart from the run's, a server that is the kernel), the capture filter of a run
without a port (ICMP to or from the host, run by a small classic-BPF interpreter), ICMP frames
decoded, the wire view of a ping (the client's request, the kernel's reply, another program's
ping left out), and the echo's raw socket found by the host alone."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from harness.normalize.sockets import address_matches
from harness.normalize.steps import Step
from harness.tables.scenario import KERNEL, ScenarioError, load_scenarios, parse_run
from harness.tracer import kernel_seccomp
from harness.wire.capture import SNAPLEN, _icmp_filter
from harness.wire.correlate import correlate
from harness.wire.packets import Packet, decode, icmp_text
from harness.wire.wirefile import Wire

WHERE = "scenarios.yaml"


# -- the scenarios as written ------------------------------------------------------------------

def test_the_two_scenarios_are_in_the_scenarios_file() -> None:
    scenarios = load_scenarios()
    bcast, icmp = scenarios["udp-broadcast"], scenarios["icmp-echo"]
    assert (bcast.host, bcast.client_host, bcast.port, bcast.ready) == \
        ("127.0.0.1", "127.255.255.255", "udp", "bind")
    assert not bcast.kernel_served
    assert icmp.kernel_served and icmp.server == KERNEL
    assert (icmp.host, icmp.port, icmp.ready, icmp.path) == ("127.0.0.1", None, "", False)
    # the scenarios that were there are unchanged, in their order
    assert list(scenarios)[:5] == ["tcp", "tcp-session", "udp", "unix", "tcp6"]


def test_the_client_alone_gets_the_broadcast_address_as_its_host() -> None:
    bcast = load_scenarios()["udp-broadcast"]
    values = bcast.placeholders("127.0.0.1", 4000, "hi", None)
    assert values["host"] == "127.0.0.1"  # the server's
    assert {**values, **bcast.client_placeholders()}["host"] == "127.255.255.255"
    assert load_scenarios()["udp"].client_placeholders() == {}


def test_the_textbooks_of_the_two_scenarios() -> None:
    from harness.normalize.rules import default_rules

    books = default_rules().textbooks
    assert books.get("icmp-echo", "server") is None  # the kernel has no textbook
    client = books.get("icmp-echo", "client")
    assert [s.label for s in client.steps(None, "127.0.0.1")] == [
        "sock = socket(SOCK_RAW)", "send(sock)", "recv(sock)", "recv(sock)", "close(sock)"]
    server = books.get("udp-broadcast", "server")
    assert "bind(sock, 127.0.0.1:PORT)" in [s.label for s in
                                            server.steps(None, "127.0.0.1:PORT")]


@pytest.mark.parametrize("spec, field", [
    ({"host": "127.0.0.1", "server": "kernel", "port": "udp"}, "needs a host and no port"),
    ({"host": "127.0.0.1", "server": "kernel", "ready": "bind"}, ".ready"),
    ({"server": "kernel", "path": True}, "needs a host and no port"),
    ({"host": "127.0.0.1", "server": "nobody"}, ".server: expected one of program, kernel"),
    ({"path": True, "ready": "listen", "client_host": "127.255.255.255"}, ".client_host"),
    ({"host": "127.0.0.1", "ready": "bind", "port": "udp", "client_host": 7}, ".client_host"),
])
def test_a_scenario_that_cannot_be_run_is_refused_naming_its_field(spec, field) -> None:
    with pytest.raises(ScenarioError) as e:
        parse_run("s", spec, WHERE)
    assert field in str(e.value) and "scenario 's'" in str(e.value)


def test_a_scenario_without_a_server_needs_no_ready_call() -> None:
    s = parse_run("ping", {"host": "127.0.0.1", "server": "kernel"}, WHERE)
    assert s.kernel_served and s.ready == ""
    with pytest.raises(ScenarioError, match="ready"):
        parse_run("udp2", {"host": "127.0.0.1", "port": "udp"}, WHERE)


# -- the capture filter of a run without a port ------------------------------------------------

def run_filter(program: bytes, frame: bytes) -> int:
    """What the kernel keeps of a frame: the filter's return value (0: dropped)."""
    insns = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    a, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == kernel_seccomp.BPF_LD_W_ABS:
            a = struct.unpack_from("!I", frame, k)[0]
        elif code == kernel_seccomp.BPF_LD_H_ABS:
            a = struct.unpack_from("!H", frame, k)[0]
        elif code == kernel_seccomp.BPF_LD_B_ABS:
            a = frame[k]
        elif code == kernel_seccomp.BPF_JEQ_K:
            pc += 1 + (jt if a == k else jf)
            continue
        elif code == kernel_seccomp.BPF_RET_K:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")
        pc += 1


def ipv4(src: str, dst: str, proto: int, payload: bytes) -> bytes:
    """A loopback frame: an Ethernet header of zeros, IPv4, payload."""
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return b"\0" * 12 + b"\x08\x00" + header + payload


def icmp(kind: int, ident: int, seq: int, data: bytes) -> bytes:
    return struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data


def test_the_icmp_filter_keeps_icmp_to_or_from_the_host_only() -> None:
    prog = _icmp_filter("127.0.0.1")
    request = ipv4("127.0.0.1", "127.0.0.1", 1, icmp(8, 77, 1, b"hi"))
    assert run_filter(prog, request) == SNAPLEN
    assert run_filter(prog, ipv4("127.0.0.2", "127.0.0.1", 1, icmp(0, 1, 1, b""))) == SNAPLEN
    assert run_filter(prog, ipv4("127.0.0.1", "127.0.0.3", 1, icmp(0, 1, 1, b""))) == SNAPLEN
    assert run_filter(prog, ipv4("10.0.0.1", "10.0.0.2", 1, icmp(8, 1, 1, b""))) == 0
    assert run_filter(prog, ipv4("127.0.0.1", "127.0.0.1", 17, b"\0" * 8)) == 0  # UDP
    ipv6 = b"\0" * 12 + b"\x86\xdd" + b"\0" * 40
    assert run_filter(prog, ipv6) == 0


def test_an_icmp_capture_needs_an_ipv4_host() -> None:
    from harness.wire.capture import open_capture

    assert "IPv4" in open_capture(0, "icmp", host="::1")  # type: ignore[operator]


# -- ICMP frames -----------------------------------------------------------------------------

def test_an_echo_request_and_its_reply_decode() -> None:
    p = decode(5, ipv4("127.0.0.1", "127.0.0.1", 1, icmp(8, 4242, 1, b"hello, sockets")))
    assert (p.proto, p.icmp_type, p.ident, p.icmp_seq, p.length) == ("icmp", 8, 4242, 1, 14)
    assert p.src == ("127.0.0.1", 0) and p.payload == b"hello, sockets"
    assert icmp_text(p) == "echo request id 4242 seq 1"
    reply = decode(6, ipv4("127.0.0.1", "127.0.0.1", 1, icmp(0, 4242, 1, b"")))
    assert icmp_text(reply) == "echo reply id 4242 seq 1" and reply.length == 0
    other = decode(7, ipv4("127.0.0.1", "127.0.0.1", 1, struct.pack("!BBHI", 3, 3, 0, 0)))
    assert icmp_text(other) == "destination unreachable (code 3)"


def test_a_datagram_to_the_broadcast_address_says_so() -> None:
    frame = ipv4("127.0.0.1", "127.255.255.255", 17,
                 struct.pack("!HHHH", 40000, 4000, 10, 0) + b"hi")
    p = decode(1, frame)
    assert p.proto == "udp" and p.dst == ("127.255.255.255", 4000) and p.broadcast
    back = decode(2, ipv4("127.0.0.1", "127.0.0.1", 17,
                          struct.pack("!HHHH", 4000, 40000, 10, 0) + b"hi"))
    assert not back.broadcast


# -- the wire view of a ping -----------------------------------------------------------------

def step(seq: int, name: str, syscall: str, result: int | None = None) -> Step:
    return Step(seqs=(seq,), pid=1, tid=1, syscall=syscall, name=name, args={}, result=result,
                fd="sock")


def test_a_ping_is_the_clients_request_and_the_kernels_reply() -> None:
    def packet(ts: int, kind: int, ident: int) -> Packet:
        return decode(ts, ipv4("127.0.0.1", "127.0.0.1", 1, icmp(kind, ident, 1, b"hi")))

    wire = Wire(port=0, protocol="icmp", dropped=0,
                packets=(packet(100, 8, 7), packet(110, 0, 7),
                         packet(120, 0, 9)))  # 9: another program's ping, answered
    steps = {"client": [step(1, "socket", "socket"), step(2, "send", "sendto", 10),
                        step(3, "recv", "recvfrom", 30), step(4, "close", "close")]}
    times = {"client": {1: 50, 2: 105, 3: 130, 4: 140}}
    view = correlate(wire, steps, times)
    assert [(w.sender, w.packet.icmp_type) for w in view.packets] == \
        [("client", 8), ("server", 0)]
    request, reply = view.packets
    assert request.call is not None and request.call.label.startswith("send(")
    assert reply.call is not None and reply.call.label == "kernel, for the echo request"
    assert view.sides["client"].data_segments == 1 and view.sides["server"].segments == 1
    assert view.connected  # no connection to make


def test_the_wire_view_words_of_icmp_and_broadcast_packets() -> None:
    from harness.render.wire import packet_what
    from harness.wire.correlate import WirePacket

    req = decode(1, ipv4("127.0.0.1", "127.0.0.1", 1, icmp(8, 5, 1, b"hello")))
    assert packet_what(WirePacket(packet=req, sender="client", call=None)) == \
        "echo request id 5 seq 1, 5 bytes"
    dgram = decode(2, ipv4("127.0.0.1", "127.255.255.255", 17,
                           struct.pack("!HHHH", 40000, 4000, 13, 0) + b"hello"))
    assert packet_what(WirePacket(packet=dgram, sender="client", call=None)) == \
        "datagram 5 bytes to 127.255.255.255 (broadcast)"


# -- the echo's sockets of a run without a port ------------------------------------------------

def test_a_raw_socket_sending_to_the_host_is_the_echos() -> None:
    to_host = {"family": "AF_INET", "address": "127.0.0.1", "port": 0}
    assert address_matches(to_host, "127.0.0.1", 0)
    # ping's probe: a UDP socket connected to the host's port 1025 is not the echo's
    assert not address_matches({**to_host, "port": 1025}, "127.0.0.1", 0)
    assert not address_matches({**to_host, "address": "0.0.0.0"}, "127.0.0.1", 0, bound=True)
    assert not address_matches({**to_host, "address": "10.1.1.1"}, "127.0.0.1", 0)


def test_the_kernels_side_matches_and_shows_as_the_kernel(tmp_path: Path) -> None:
    """A run the kernel served: its server side has no trace, and its verdict is `kernel`,
    which counts as matching (compare exits 0 for it)."""
    from harness.compare.analyze import kernel_side
    from harness.compare.align import Status, Verdict
    from harness.formats.model import RunRecord

    record = RunRecord(scenario="icmp-echo", server=KERNEL, client="c", host="127.0.0.1",
                       port=0, message="m", outcome="ok", server_trace=None,
                       client_trace="client.jsonl")
    assert kernel_side(record, "server") and not kernel_side(record, "client")
    assert Verdict(status=Status.KERNEL).matches
