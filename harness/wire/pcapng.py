"""A run's packets as a pcapng file that Wireshark and tcpdump open: one section, the loopback
interface (Ethernet framing, nanosecond timestamps), one Enhanced Packet Block per packet whose
comment names the call it comes from and the TCP states it leads to. A block holds the bytes
captured (the frame's first snaplen bytes, the interface's snaplen) and the frame's whole
length as its original length, as tcpdump's `-s` writes them: Wireshark shows a long segment
as cut short by the capture, not as a malformed one. Frame N of the file is packet N of the
run's view: the number the timeline and the Mermaid diagram give it."""

from __future__ import annotations

import struct
from pathlib import Path

from harness.wire.correlate import WirePacket, WireView

LINKTYPE_ETHERNET = 1
OPT_ENDOFOPT, OPT_COMMENT = 0, 1
SHB_USERAPPL = 4
IF_NAME, IF_TSRESOL = 2, 9
MAX_COMMENT = 4096  # bytes of a packet's comment (an option's length is 16 bits)


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("=HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("=II", kind, length) + body + struct.pack("=I", length)


def comment(w: WirePacket) -> str:
    """`client: connect(sock, 127.0.0.1:PORT); client SYN_SENT`."""
    parts = [f"{w.sender}: {w.call.label}" if w.call else
             f"{w.sender}'s kernel" + (f", acknowledging {w.acks.role}'s {w.acks.label}"
                                       if w.acks else "")]
    if w.states:
        parts.append(", ".join(f"{role} {state}" for role, state in w.states))
    return "; ".join(parts)


def pcapng_bytes(view: WireView, snaplen: int = 256) -> bytes:
    shb = struct.pack("=IHHq", 0x1A2B3C4D, 1, 0, -1) + \
        _option(SHB_USERAPPL, b"sockettrace-harness") + _option(OPT_ENDOFOPT, b"")
    idb = struct.pack("=HHI", LINKTYPE_ETHERNET, 0, snaplen) + _option(IF_NAME, b"lo") + \
        _option(IF_TSRESOL, b"\x09") + _option(OPT_ENDOFOPT, b"")
    out = [_block(0x0A0D0D0A, shb), _block(1, idb)]
    for w in view.packets:
        p = w.packet
        ts = p.ts_ns + view.realtime_offset_ns
        data = p.frame
        body = struct.pack("=IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(data),
                           p.frame_length or len(data))
        body += data + b"\0" * (-len(data) % 4)
        note = comment(w)[:MAX_COMMENT // 4].encode()  # (UTF-8: 4 bytes a character at most)
        body += _option(OPT_COMMENT, note) + _option(OPT_ENDOFOPT, b"")
        out.append(_block(6, body))
    return b"".join(out)


def write_pcapng(path: Path, view: WireView) -> None:
    """Atomically (a reader never opens half a file), never through a link."""
    from harness.formats.tracefile import write_chunks_atomic

    write_chunks_atomic(path, [pcapng_bytes(view)], fsync=False, follow=False, binary=True)


__all__ = ["comment", "pcapng_bytes", "write_pcapng"]
