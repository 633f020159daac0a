"""wire.jsonl: the frames one run's capture kept, beside its two traces (docs/trace-format.md).

    {"type":"header","wire_version":1,"interface":"lo","port":40123,"protocol":"tcp",
     "snaplen":256,"realtime_offset_ns":...}
    {"ts_ns":1973886339894,"length":74,"frame":"0000...0800 4500..."}     (hex, one per frame)
    {"type":"footer","frames":12,"dropped":0}

`ts_ns` is on the traces' clock (CLOCK_MONOTONIC); `frame` is the first `snaplen` bytes as
captured, `length` the frame's whole length. Frames are kept raw and decoded when read, so a
better decoder reads old captures better. Written whole or not at all (a temporary file and a
rename); read with every field checked, as trace files are.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

from harness.common.errors import HarnessError
from harness.wire.capture import SNAPLEN, Frame
from harness.wire.packets import NotAPacket, Packet, decode

WIRE_VERSION = 1
MAX_WIRE_BYTES = 16 << 20  # a run's capture is some kilobytes
MAX_FRAME_LENGTH = (1 << 32) - 1  # a frame's whole length: what pcapng's field holds


class WireFileError(HarnessError):
    """A wire file that cannot be read: names the file, the line and the field."""


@dataclass(frozen=True)
class Wire:
    """A run's capture, decoded."""

    port: int  # the run's port
    protocol: str  # tcp | udp
    packets: tuple[Packet, ...]  # in the order they arrived
    dropped: int  # frames the kernel could not keep (a full buffer): the view is partial
    undecoded: int = 0  # frames the decoder does not read
    realtime_offset_ns: int = 0  # CLOCK_REALTIME - CLOCK_MONOTONIC when it was captured


def write_wire(path: Path, port: int, protocol: str, frames: list[Frame], dropped: int,
               realtime_offset_ns: int = 0) -> None:
    from harness.formats.tracefile import write_atomic

    lines = [json.dumps({"type": "header", "wire_version": WIRE_VERSION, "interface": "lo",
                         "port": port, "protocol": protocol, "snaplen": SNAPLEN,
                         "realtime_offset_ns": realtime_offset_ns})]
    lines += [json.dumps({"ts_ns": f.ts_ns, "length": f.length, "frame": f.data.hex()})
              for f in frames]
    lines.append(json.dumps({"type": "footer", "frames": len(frames), "dropped": dropped}))
    write_atomic(path, "\n".join(lines) + "\n", follow=False)


def read_wire(path: Path) -> Wire:
    from harness.common.safefile import BoundedFile
    from harness.common.validate import ValidationError, check_value

    path = Path(path)
    docs = []
    with BoundedFile(path, MAX_WIRE_BYTES, WireFileError, "a wire file may be") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line))
            except (ValueError, RecursionError):
                raise WireFileError(f"{path}: line {n}: not JSON") from None
    if not docs or not isinstance(docs[0], dict) or docs[0].get("type") != "header":
        raise WireFileError(f"{path}: line 1: not a wire header")
    header = docs[0]
    if header.get("wire_version") != WIRE_VERSION:
        raise WireFileError(f"{path}: wire_version is {header.get('wire_version')!r:.20}, "
                            f"this harness reads {WIRE_VERSION}")
    try:
        check_value(header.get("port"), int, f"{path}: line 1", "port")
        check_value(header.get("protocol"), str, f"{path}: line 1", "protocol")
        footer = docs[-1] if len(docs) > 1 and isinstance(docs[-1], dict) and \
            docs[-1].get("type") == "footer" else {"dropped": 0}
        check_value(footer.get("dropped", 0), int, f"{path}: footer", "dropped")
        check_value(header.get("realtime_offset_ns", 0), int, f"{path}: line 1",
                    "realtime_offset_ns")
        offset = header.get("realtime_offset_ns", 0)
        if not -(1 << 63) <= offset < 1 << 63:
            raise WireFileError(f"{path}: line 1: field 'realtime_offset_ns' is {offset}, "
                                f"not a clock offset")
        packets, undecoded = [], 0
        for n, doc in enumerate(docs[1:], 2):
            if isinstance(doc, dict) and doc.get("type") == "footer":
                break
            where = f"{path}: line {n}"
            if not isinstance(doc, dict):
                raise WireFileError(f"{where}: not a JSON object")
            check_value(doc.get("ts_ns"), int, where, "ts_ns")
            check_value(doc.get("length"), int, where, "length")
            check_value(doc.get("frame"), str, where, "frame")
            try:
                frame = bytes.fromhex(doc["frame"])
            except ValueError:
                raise WireFileError(f"{where}: field 'frame' is not hex") from None
            # what pcapng's 32-bit lengths and 64-bit times can hold
            if not len(frame) <= doc["length"] <= MAX_FRAME_LENGTH:
                raise WireFileError(f"{where}: field 'length' is {doc['length']}, not a "
                                    f"frame's length (from {len(frame)}, the bytes kept, to "
                                    f"{MAX_FRAME_LENGTH})")
            if not 0 <= doc["ts_ns"] < 1 << 63 or not 0 <= doc["ts_ns"] + offset < 1 << 64:
                raise WireFileError(f"{where}: field 'ts_ns' is {doc['ts_ns']}, not a time "
                                    f"of the capture")
            try:
                packets.append(decode(doc["ts_ns"], frame, doc["length"]))
            except (NotAPacket, IndexError, ValueError, struct.error):
                undecoded += 1
    except ValidationError as e:
        raise WireFileError(str(e)) from None
    return Wire(port=header["port"], protocol=header["protocol"], packets=tuple(packets),
                dropped=footer.get("dropped", 0), undecoded=undecoded,
                realtime_offset_ns=offset)


__all__ = ["Wire", "WireFileError", "read_wire", "write_wire"]
