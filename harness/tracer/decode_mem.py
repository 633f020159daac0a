"""The raw material every syscall decoder works from: register values read as signed integers,
tracee bytes as text (`escape`), tracee memory read live (`Memory`, through /proc/PID/mem) or
from a copy taken while the call was stopped (`Snapshot`), and `DecoderBase`, the state that
each family of decoders (decode_sock, decode_msg, decode_desc, decode_poll) reads and that
decode.Decoder sets up.
"""

from __future__ import annotations

import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.tracer.tables import Table, Tables

U32 = struct.Struct("=I")
I32 = struct.Struct("=i")

_ESCAPES = [chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in range(256)]
_ESCAPES[0x5C] = "\\\\"
_ESCAPES[0x0A] = "\\n"
_ESCAPES[0x0D] = "\\r"
_ESCAPES[0x09] = "\\t"


def escape(data: bytes) -> str:
    """Bytes as text: printable ASCII kept, everything else as a Python-style escape."""
    try:
        text = data.decode("ascii")
        if text.isprintable() and "\\" not in text:
            return text
    except UnicodeDecodeError:
        pass
    return "".join([_ESCAPES[b] for b in data])


def signed(value: int) -> int:
    """A 64-bit register value as a signed integer."""
    return value - (1 << 64) if value & (1 << 63) else value


def signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & (1 << 31) else value


class _Words:
    """The 32-bit reads of a memory that can read bytes (Snapshot, Memory)."""

    __slots__ = ()

    def read(self, addr: int, size: int) -> bytes | None:
        raise NotImplementedError

    def u32(self, addr: int) -> int | None:
        data = self.read(addr, 4)
        return U32.unpack(data)[0] if data and len(data) == 4 else None

    def i32(self, addr: int) -> int | None:
        data = self.read(addr, 4)
        return I32.unpack(data)[0] if data and len(data) == 4 else None


class Snapshot(_Words):
    """Tracee memory copied while the call was stopped at: (address, bytes) regions, served
    to a decoder later, after the tracee has moved on."""

    __slots__ = ("regions",)

    def __init__(self, regions: list[tuple[int, bytes]]):
        self.regions = regions

    def read(self, addr: int, size: int) -> bytes | None:
        if not addr or size <= 0:
            return None
        for base, data in self.regions:
            if base <= addr < base + len(data):
                return data[addr - base: addr - base + size]
        return None


class Memory(_Words):
    """Reads a tracee's memory through /proc/PID/mem (one pread per read)."""

    __slots__ = ("fd", "pid")

    def __init__(self, pid: int):
        self.pid = pid
        self.fd: int | None = None
        self.reopen()

    def reopen(self) -> None:
        """After exec the address space is new: the old file reads nothing."""
        self.close()
        try:
            self.fd = os.open(f"/proc/{self.pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            self.fd = None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def read(self, addr: int, size: int) -> bytes | None:
        if not addr or size <= 0 or self.fd is None:
            return None
        try:
            return os.pread(self.fd, size, addr)
        except OSError:
            return None


class DecoderBase:
    """What the decoders of every family read, set by decode.Decoder.__init__ (declared here
    so that each family's methods are typed against it)."""

    t: Tables
    data_bytes: int  # bytes of a transfer's data kept
    families: Table
    msg_flags: Table
    no_flags: Table  # flag arguments with no names yet (copy_file_range)
    fd_args: dict[str, tuple[int, ...]]  # syscall -> indexes of its fd arguments
    dirfds: dict[str, tuple[int, ...]]  # syscall -> indexes of its dirfd arguments
