"""Capturing one run's packets: an AF_PACKET socket bound to the loopback interface, with a
classic BPF filter that keeps the TCP or UDP packets to or from the run's port (IPv4 and
IPv6; a UDP datagram to a broadcast address has the port all the same), or for a scenario
without a port (icmp-echo) the ICMP packets to or from the run's host; kernel timestamps
(SO_TIMESTAMPNS) and a receive buffer large enough to hold a run's packets until the run is
over: nothing reads the socket while the tracer runs, so capturing
never changes what is traced. Loopback shows each packet twice, as it leaves and as it
arrives; the outgoing copy is dropped.

The filter keeps the first SNAPLEN bytes of each frame (its return value: the kernel cuts the
frame there before queueing it), so what recvmsg returns, and what MSG_TRUNC would report, is
the cut frame. The frame's whole length is the kernel's (PACKET_AUXDATA's tp_len, the length before
the filter cut it), else the IP header's (IPv4 total length, IPv6 payload length + 40).

Needs CAP_NET_RAW (root): without it `open_capture` says why, and the run is traced all the
same.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass

from harness.tracer.kernel_seccomp import (BPF_JEQ_K, BPF_JSET_K, BPF_LD_B_ABS, BPF_LD_H_ABS,
                                           BPF_LD_H_IND, BPF_LD_W_ABS, BPF_LDX_MSH, BPF_RET_K,
                                           sock_fprog)

ETH_P_ALL = 0x0003
SO_ATTACH_FILTER = 26
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_AUXDATA = 8  # struct tpacket_auxdata with each frame: tp_len, its length before the cut
PACKET_OUTGOING = 4
SNAPLEN = 256  # bytes of each frame kept: every header, and the start of the payload
RCVBUF = 16 << 20  # a run's packets wait here until it ends (tcp-session: some 100)
# room for both control messages: the timestamp (struct timespec) and tpacket_auxdata
ANCILLARY = socket.CMSG_SPACE(16) + socket.CMSG_SPACE(20)

# classic BPF opcodes, as the seccomp filter's (harness/tracer/kernel_seccomp.py)
LD_H_ABS, LD_B_ABS, LD_H_IND = BPF_LD_H_ABS, BPF_LD_B_ABS, BPF_LD_H_IND
LD_W_ABS = BPF_LD_W_ABS
IPPROTO_ICMP = 1
LDX_MSH, JEQ, JSET, RET = BPF_LDX_MSH, BPF_JEQ_K, BPF_JSET_K, BPF_RET_K


def _filter(port: int, protocols: tuple[int, ...]) -> bytes:
    """The BPF program: Ethernet framing (lo), IPv4 (not a fragment) or IPv6 without
    extension headers, one of protocols, the port as source or destination."""
    code: list[tuple[str, int, str | int, str | int, int]] = []  # (label, opcode, jt, jf, k)

    def emit(label: str, opcode: int, k: int, jt: str | int = 0, jf: str | int = 0) -> None:
        code.append((label, opcode, jt, jf, k))

    emit("", LD_H_ABS, 12)
    emit("", JEQ, 0x0800, jt="v4", jf=0)
    emit("", JEQ, 0x86DD, jt="v6", jf="drop")
    # IPv4: protocol at 23, fragment offset at 20, ports after the IP header
    emit("v4", LD_B_ABS, 23)
    for i, proto in enumerate(protocols):
        emit("", JEQ, proto, jt="v4ok", jf=0 if i < len(protocols) - 1 else "drop")
    emit("v4ok", LD_H_ABS, 20)
    emit("", JSET, 0x1FFF, jt="drop", jf=0)
    emit("", LDX_MSH, 14)
    emit("", LD_H_IND, 14)
    emit("", JEQ, port, jt="keep", jf=0)
    emit("", LD_H_IND, 16)
    emit("", JEQ, port, jt="keep", jf="drop")
    # IPv6: next header at 20, ports at 54 and 56
    emit("v6", LD_B_ABS, 20)
    for i, proto in enumerate(protocols):
        emit("", JEQ, proto, jt="v6ok", jf=0 if i < len(protocols) - 1 else "drop")
    emit("v6ok", LD_H_ABS, 54)
    emit("", JEQ, port, jt="keep", jf=0)
    emit("", LD_H_ABS, 56)
    emit("", JEQ, port, jt="keep", jf="drop")
    emit("keep", RET, SNAPLEN)
    emit("drop", RET, 0)
    labels = {label: i for i, (label, *_rest) in enumerate(code) if label}

    def offset(at: int, target: str | int) -> int:
        return target if isinstance(target, int) else labels[target] - at - 1

    out = b""
    for i, (_, opcode, jt, jf, k) in enumerate(code):
        out += struct.pack("=HBBI", opcode, offset(i, jt), offset(i, jf), k)
    return out


def _icmp_filter(host: str) -> bytes:
    """The BPF program of a scenario without a port: Ethernet framing (lo), IPv4, ICMP, the
    host as source or destination. The run's own packets are told from others (a ping
    elsewhere on the machine) by their identifier, when the view is made."""
    address = struct.unpack("!I", socket.inet_aton(host))[0]
    code = [(LD_H_ABS, 0, 0, 12),
            (JEQ, 0, 7, 0x0800),  # IPv4, else drop
            (LD_B_ABS, 0, 0, 23),
            (JEQ, 0, 5, IPPROTO_ICMP),  # ICMP, else drop
            (LD_W_ABS, 0, 0, 26),
            (JEQ, 2, 0, address),  # from the host: keep
            (LD_W_ABS, 0, 0, 30),
            (JEQ, 0, 1, address),  # to the host: keep, else drop
            (RET, 0, 0, SNAPLEN),
            (RET, 0, 0, 0)]
    return b"".join(struct.pack("=HBBI", op, jt, jf, k) for op, jt, jf, k in code)


@dataclass
class Frame:
    """One captured frame, as it arrived."""

    ts_ns: int  # CLOCK_MONOTONIC nanoseconds (the kernel's time, on the tracer's clock)
    data: bytes  # the first SNAPLEN bytes
    length: int  # its whole length (as it was on the wire, not the bytes kept)


class Capture:
    """An open capture: read with `frames()` once the run is over."""

    def __init__(self, sock: socket.socket, port: int):
        self.sock = sock
        self.port = port
        self.offset_ns = _realtime_to_monotonic()

    def frames(self) -> tuple[list[Frame], int]:
        """Every frame captured so far, and how many the kernel dropped (a full buffer)."""
        self.sock.setblocking(False)
        frames = []
        while True:
            try:
                data, ancillary, _flags, addr = self.sock.recvmsg(SNAPLEN, ANCILLARY)
            except (BlockingIOError, InterruptedError):
                break
            if addr[2] == PACKET_OUTGOING:  # loopback's first copy of the packet
                continue
            ts = original = None
            for level, kind, value in ancillary:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("=qq", value[:16])
                    ts = sec * 1_000_000_000 + nsec - self.offset_ns
                elif level == SOL_PACKET and kind == PACKET_AUXDATA and len(value) >= 8:
                    original = struct.unpack_from("=I", value, 4)[0]  # tp_len
            length = max(len(data), original or whole_length(data))
            frames.append(Frame(ts_ns=ts if ts is not None else time.monotonic_ns(),
                                data=data, length=length))
        stats = self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        _received, dropped = struct.unpack("=II", stats)
        return frames, dropped

    def close(self) -> None:
        self.sock.close()


def whole_length(data: bytes) -> int:
    """A frame's whole length as its IP header gives it (the cut frame's own length when the
    header does not say: another protocol, or an IPv4 total length of 0, a GSO packet's)."""
    if len(data) >= 18 and data[12:14] == b"\x08\x00":
        total = struct.unpack_from("!H", data, 16)[0]
        return max(len(data), 14 + total) if total else len(data)
    if len(data) >= 20 and data[12:14] == b"\x86\xdd":
        return max(len(data), 14 + 40 + struct.unpack_from("!H", data, 18)[0])
    return len(data)


def _realtime_to_monotonic() -> int:
    """CLOCK_REALTIME minus CLOCK_MONOTONIC, from the closest of a few readings."""
    best = None
    for _ in range(5):
        a = time.monotonic_ns()
        r = time.clock_gettime_ns(time.CLOCK_REALTIME)
        b = time.monotonic_ns()
        if best is None or b - a < best[0]:
            best = (b - a, r - (a + b) // 2)
    assert best is not None
    return best[1]


def open_capture(port: int, kind: str, host: str = "") -> Capture | str:
    """A capture of the run's packets on lo, or why there can be none. kind: tcp, udp, or
    icmp (the ICMP packets to or from host: a scenario without a port)."""
    protocols = (17,) if kind == "udp" else (6,)
    if kind == "icmp":
        try:
            socket.inet_aton(host)
        except OSError:
            return f"unavailable: ICMP is captured for an IPv4 host, not {host!r}"
    try:
        # protocol 0: it receives nothing until bound, after its filter is in place
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    except PermissionError:
        return "unavailable: capturing packets (AF_PACKET) needs CAP_NET_RAW (root)"
    except OSError as e:
        return f"unavailable: no packet socket here ({e.strerror})"
    try:
        program = _icmp_filter(host) if kind == "icmp" else _filter(port, protocols)
        fprog, _program = sock_fprog(program)
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        sock.bind(("lo", ETH_P_ALL))
    except OSError as e:
        sock.close()
        return f"unavailable: cannot capture on lo ({e.strerror})"
    return Capture(sock, port)


__all__ = ["Capture", "Frame", "open_capture", "whole_length"]
