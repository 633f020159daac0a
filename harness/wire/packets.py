"""Frames as the loopback interface gives them (an Ethernet header of zeros) decoded into TCP
segments, UDP datagrams (to a broadcast address too: the address is kept as it was sent) and
ICMP messages: addresses, ports, TCP flags, sequence and acknowledgement numbers, window,
payload length and its first bytes; an ICMP message's type, code, identifier and sequence
number. A small struct decoder: IPv4 and IPv6 (no extension headers, which loopback traffic
does not carry), TCP with options, UDP, ICMP (IPv4)."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

ETH_HEADER = 14
# ICMP types shown by name (RFC 792); the others by number
ICMP_TYPES = {0: "echo reply", 3: "destination unreachable", 5: "redirect", 8: "echo request",
              11: "time exceeded", 12: "parameter problem"}
ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST = 0, 8
TCP_FLAGS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10),
             ("URG", 0x20), ("ECE", 0x40), ("CWR", 0x80))


class NotAPacket(ValueError):
    """A frame this decoder does not read (too short, another protocol)."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One TCP segment, UDP datagram or ICMP message."""

    ts_ns: int  # CLOCK_MONOTONIC nanoseconds when it arrived
    proto: str  # tcp | udp | icmp
    src: tuple[str, int]  # address, port (ICMP: 0)
    dst: tuple[str, int]
    length: int  # payload bytes (the whole payload, not only what was captured)
    payload: bytes = b""  # its first bytes, as captured
    flags: tuple[str, ...] = ()  # TCP: SYN, ACK, FIN, RST, PSH, ...
    seq: int = 0  # TCP: absolute sequence number
    ack: int = 0  # TCP: absolute acknowledgement number
    window: int = 0  # TCP: the advertised window (unscaled)
    frame: bytes = b""  # the frame as captured: its first snaplen bytes (for pcapng)
    frame_length: int = 0  # the frame's whole length, as it was on the wire (pcapng's
    # original length); more than len(frame) when the capture cut it
    icmp_type: int | None = None  # ICMP: 8 echo request, 0 echo reply, ...
    icmp_code: int = 0  # ICMP
    ident: int = 0  # ICMP echo: the identifier (a raw socket's program chose it; an ICMP
    # datagram socket's kernel gave its socket's)
    icmp_seq: int = 0  # ICMP echo: the sequence number

    @property
    def broadcast(self) -> bool:
        """Sent to an IPv4 broadcast address (the limited 255.255.255.255, or a subnet's
        whose host part is all ones: loopback's 127.255.255.255)."""
        return self.proto != "tcp" and (self.dst[0] == "255.255.255.255"
                                        or self.dst[0] == "127.255.255.255")

    def has(self, flag: str) -> bool:
        return flag in self.flags


def decode(ts_ns: int, frame: bytes, length: int | None = None) -> Packet:
    """One frame (captured bytes; `length` its whole length when it was cut). A `length` no
    more than the bytes captured is taken from the IP header when that says more: a capture
    that recorded the cut length (wire.jsonl files written before the harness read the
    kernel's) reads with the frame's whole length all the same."""
    length = len(frame) if length is None else length
    if len(frame) < ETH_HEADER + 20:
        raise NotAPacket("frame too short")
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    at = ETH_HEADER
    if ethertype == 0x0800:
        ihl = (frame[at] & 0x0F) * 4
        total = struct.unpack_from("!H", frame, at + 2)[0]
        whole = ETH_HEADER + total
        if total == 0:  # a GSO packet's (BIG TCP): the frame's length says it
            total = whole = length - ETH_HEADER
        proto = frame[at + 9]
        src = str(ipaddress.IPv4Address(frame[at + 12:at + 16]))
        dst = str(ipaddress.IPv4Address(frame[at + 16:at + 20]))
        ip_payload = total - ihl
        at += ihl
    elif ethertype == 0x86DD:
        if len(frame) < ETH_HEADER + 40:
            raise NotAPacket("frame too short")
        ip_payload = struct.unpack_from("!H", frame, at + 4)[0]
        proto = frame[at + 6]
        src = str(ipaddress.IPv6Address(frame[at + 8:at + 24]))
        dst = str(ipaddress.IPv6Address(frame[at + 24:at + 40]))
        whole = ETH_HEADER + 40 + ip_payload
        at += 40
    else:
        raise NotAPacket(f"ethertype {ethertype:#06x}")
    if length <= len(frame):
        length = max(length, whole)
    if proto == 6:
        if len(frame) < at + 20:
            raise NotAPacket("TCP header cut")
        sport, dport, seq, ack, off_flags, window = struct.unpack_from("!HHIIHH", frame, at)
        header = (off_flags >> 12) * 4
        flags = tuple(name for name, bit in TCP_FLAGS if off_flags & bit)
        start = at + header
        return Packet(ts_ns=ts_ns, proto="tcp", src=(src, sport), dst=(dst, dport),
                      length=ip_payload - header, payload=frame[start:start + 64],
                      flags=flags, seq=seq, ack=ack, window=window, frame=frame,
                      frame_length=length)
    if proto == 17:
        sport, dport, ulen = struct.unpack_from("!HHH", frame, at)
        return Packet(ts_ns=ts_ns, proto="udp", src=(src, sport), dst=(dst, dport),
                      length=ulen - 8, payload=frame[at + 8:at + 8 + 64], frame=frame,
                      frame_length=length)
    if proto == 1 and ethertype == 0x0800:
        if len(frame) < at + 8:
            raise NotAPacket("ICMP header cut")
        kind, code, _sum, ident, seq = struct.unpack_from("!BBHHH", frame, at)
        return Packet(ts_ns=ts_ns, proto="icmp", src=(src, 0), dst=(dst, 0),
                      length=ip_payload - 8, payload=frame[at + 8:at + 8 + 64], frame=frame,
                      frame_length=length, icmp_type=kind, icmp_code=code, ident=ident,
                      icmp_seq=seq)
    raise NotAPacket(f"IP protocol {proto}")


def flags_text(p: Packet) -> str:
    """`SYN`, `SYN-ACK`, `PSH-ACK`, `FIN-ACK`, `RST`, `ACK` (the order tutorials write)."""
    order = ("SYN", "FIN", "RST", "PSH", "URG", "ACK")
    return "-".join(f for f in order if p.has(f)) or "none"


def icmp_text(p: Packet) -> str:
    """`echo request id 4242 seq 1`, `echo reply id 4242 seq 1`, `destination unreachable
    (code 3)`."""
    name = ICMP_TYPES.get(p.icmp_type or 0, f"ICMP type {p.icmp_type}") \
        if p.icmp_type is not None else "ICMP"
    if p.icmp_type in (ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST):
        return f"{name} id {p.ident} seq {p.icmp_seq}"
    return f"{name} (code {p.icmp_code})" if p.icmp_code else name


__all__ = ["NotAPacket", "Packet", "decode", "flags_text", "icmp_text"]
