"""Decoding socket syscall arguments from raw register values and tracee memory.

Each decoder takes the six raw arguments and the raw result of one finished call and returns the
argument mapping documented in docs/trace-format.md. Constant names come from xlat.yaml.
`Decoder` is the entry point: it binds each traced syscall to the decoder its row of
harness/tables/syscalls.yaml names (`decode`), and reads what a call overwrites at its entry.
The decoders themselves are in the sibling modules, by family: decode_sock (addresses, the
socket API), decode_msg (data transfers), decode_desc (other calls on a descriptor),
decode_poll (readiness); decode_mem holds the memory readers they share.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from harness.tracer.decode_desc import AT_FDCWD, DescDecoder
from harness.tracer.decode_mem import U32
from harness.tracer.decode_msg import MAX_MMSG, MMSGHDR, NAMELEN_AT
from harness.tracer.decode_poll import PollDecoder
from harness.common.errors import HarnessError
from harness.tracer.tables import SYSCALLS_FILE, SyscallSet, Table, Tables

# methods of Decoder that decode no call's arguments (a `decode` naming one is refused)
NOT_DECODERS = frozenset(("errno_name", "read_entry", "addrlen_entry", "select_entry",
                          "socketpair_fds", "epoll_ready", "sockaddr"))


class DecoderError(HarnessError):
    """The syscall table names a decoder there is not."""


# the calls whose address length the kernel overwrites (value-result): the caller's length is
# read at their entry (Decoder.addrlen_entry) and handed to their decoder as `entry`
ADDRLEN_ENTRY_CALLS = frozenset(("accept", "accept4", "getsockname", "getpeername", "recvfrom",
                                 "recvmsg", "recvmmsg"))

_U64 = struct.Struct("=Q")


class Decoder(DescDecoder, PollDecoder):
    """Turns (syscall name, raw args, raw result) into named, symbolic arguments."""

    def __init__(self, tables: Tables, data_bytes: int, syscalls: SyscallSet | None = None):
        self.t = tables
        self.data_bytes = data_bytes
        self.families = tables["families"]
        self.msg_flags = tables["msg_flags"]
        self.no_flags = Table({})  # flag arguments with no names yet (copy_file_range)
        if syscalls is None:
            from harness.tracer.tables import load_syscalls

            syscalls = load_syscalls()
        self.fd_args = syscalls.fd_args
        # the argument after a dirfd (an argument that AT_FDCWD lets through the filter) is
        # the path relative to it
        self.dirfds = {name: tuple(i for i, value in conds if value == AT_FDCWD)
                       for name, conds in syscalls.pass_when.items()}
        # each traced call's decoder, as syscalls.yaml names it (`decode`, else `desc` for a
        # desc call, else the call's own name)
        self.decoders: dict[str, Callable[..., dict[str, Any]]] = {}
        for name, method in syscalls.decoders.items():
            if method == "desc":
                self.decoders[name] = functools.partial(self.desc, name=name)
                continue
            bound = getattr(self, method, None) if not method.startswith("_") else None
            if not callable(bound) or method in NOT_DECODERS:
                raise DecoderError(f"{SYSCALLS_FILE}: syscalls.{name}.decode: no decoder "
                                   f"{method!r} (tracer/decode*.py)")
            self.decoders[name] = bound

    def errno_name(self, result: int) -> str | None:
        """The errno name of a failed call's raw result (-11: EAGAIN), its number when the
        tables lack it; None for a result that is no error."""
        if -4096 < result < 0:
            return self.t.errno_names.get(-result, str(-result))
        return None

    # -- what a call overwrites, read at its entry -------------------------------------------

    def read_entry(self, mem: Any, a: tuple[int, ...], name: str) -> dict[str, Any]:
        """What must be read at a call's entry (`entry` in harness/tables/syscalls.yaml) because the
        call overwrites it: select's fd sets, the room a caller gives an address."""
        if name in ADDRLEN_ENTRY_CALLS:
            return self.addrlen_entry(mem, a, name)
        return self.select_entry(mem, a, name)

    def addrlen_entry(self, mem: Any, a: tuple[int, ...], name: str) -> dict[str, Any]:
        """At the entry of a call that overwrites its address length (ADDRLEN_ENTRY_CALLS):
        the length the caller gave, which its decoder needs as `entry` to read the address
        within the caller's buffer. {} when the call asked for no address.
          accept, accept4, getsockname, getpeername: {"addrlen_in": *addrlen}
          recvfrom: {"addrlen_in": *addrlen} (args 4 and 5)
          recvmsg: {"namelen_in": msg_namelen} (when msg_name is set)
          recvmmsg: {"namelens_in": [msg_namelen or None (no msg_name), ...]}, the first
                    MAX_MMSG entries"""
        if name in ("accept", "accept4", "getsockname", "getpeername", "recvfrom"):
            ptr, lenptr = (a[4], a[5]) if name == "recvfrom" else (a[1], a[2])
            if not ptr or not lenptr:
                return {}
            length = mem.u32(lenptr)
            return {} if length is None else {"addrlen_in": length}
        if name == "recvmsg":
            raw = mem.read(a[1], NAMELEN_AT + 4)
            if raw is None or len(raw) != NAMELEN_AT + 4 or not _U64.unpack_from(raw)[0]:
                return {}
            return {"namelen_in": U32.unpack_from(raw, NAMELEN_AT)[0]}
        if name == "recvmmsg":
            n = min(a[2] & 0xFFFFFFFF, MAX_MMSG)
            raw = mem.read(a[1], n * MMSGHDR.size) if n else None
            if not raw:
                return {}
            return {"namelens_in": [namelen if ptr else None for ptr, namelen, *_ in
                                    MMSGHDR.iter_unpack(raw[: len(raw) - len(raw) %
                                                            MMSGHDR.size])]}
        return {}
