"""Decoding socket syscall arguments from raw register values and tracee memory.

Each decoder takes the six raw arguments and the raw result of one finished call and returns the
argument mapping documented in docs/trace-format.md. Constant names come from xlat.yaml.
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Callable
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from harness.tracer.tables import SyscallSet, Table, Tables

MAX_ADDR = 128  # sizeof(struct sockaddr_storage)
MAX_PATH = 256  # bytes of a path argument kept
AT_FDCWD = -100
MAX_IOV = 64  # iovecs read per call for data capture
MAX_POLL = 1024  # pollfd / epoll_event entries read per call
MAX_MMSG = 64  # mmsghdr entries read per sendmmsg / recvmmsg
# the calls whose address length the kernel overwrites (value-result): the caller's length is
# read at their entry (Decoder.addrlen_entry) and handed to their decoder as `entry`
ADDRLEN_ENTRY_CALLS = frozenset(("accept", "accept4", "getsockname", "getpeername", "recvfrom",
                                 "recvmsg", "recvmmsg"))

_U16 = struct.Struct("=H")
_U32 = struct.Struct("=I")
_I32 = struct.Struct("=i")
_U64 = struct.Struct("=Q")
_NBO16 = struct.Struct("!H")
_NBO32 = struct.Struct("!I")
_CMSGHDR = struct.Struct("=Qii")  # cmsg_len, cmsg_level, cmsg_type
MAX_CONTROL = 4096  # bytes of a control buffer read for SCM_RIGHTS
_MSGHDR = struct.Struct("=QI4xQQQQi4x")  # name, namelen, iov, iovlen, control, controllen, flags
_MMSGHDR = struct.Struct("=QI4xQQQQi4xI4x")  # a msghdr, then msg_len (64 bytes in all)
_NAMELEN_AT = 8  # offset of msg_namelen in a msghdr (and an mmsghdr)
_IOVEC = struct.Struct("=QQ")
_POLLFD = struct.Struct("=ihh")
_EPOLL_EVENT = struct.Struct("=IQ")  # packed on x86_64: 12 bytes
_TIMESPEC = struct.Struct("=qq")
_I64 = struct.Struct("=q")

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


def _room(entry: dict[str, Any] | None) -> int | None:
    """The address length the caller gave, from what was read at the call's entry."""
    return entry.get("addrlen_in") if entry else None


class Snapshot:
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

    def u32(self, addr: int) -> int | None:
        data = self.read(addr, 4)
        return _U32.unpack(data)[0] if data and len(data) == 4 else None

    def i32(self, addr: int) -> int | None:
        data = self.read(addr, 4)
        return _I32.unpack(data)[0] if data and len(data) == 4 else None


class Memory:
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

    def u32(self, addr: int) -> int | None:
        data = self.read(addr, 4)
        return _U32.unpack(data)[0] if data and len(data) == 4 else None

    def i32(self, addr: int) -> int | None:
        data = self.read(addr, 4)
        return _I32.unpack(data)[0] if data and len(data) == 4 else None


class Decoder:
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
        self.decoders: dict[str, Callable[..., dict[str, Any]]] = {
            "socket": self.socket, "socketpair": self.socketpair,
            "bind": self.fd_addr, "connect": self.fd_addr,
            "listen": self.listen, "accept": self.accept, "accept4": self.accept4,
            "shutdown": self.shutdown,
            "getsockname": self.fd_addr_out, "getpeername": self.fd_addr_out,
            "setsockopt": self.setsockopt, "getsockopt": self.getsockopt,
            "sendto": self.sendto, "recvfrom": self.recvfrom,
            "sendmsg": self.sendmsg, "recvmsg": self.recvmsg,
            "sendmmsg": self.sendmmsg, "recvmmsg": self.recvmmsg,
            "read": self.rw, "write": self.rw, "pread64": self.prw, "pwrite64": self.prw,
            "readv": self.rwv, "writev": self.rwv, "sendfile": self.sendfile,
            "splice": self.splice, "copy_file_range": self.copy_file_range,
            "vmsplice": self.vmsplice, "tee": self.tee,
            "preadv": self.prwv, "pwritev": self.prwv, "preadv2": self.prwv2,
            "pwritev2": self.prwv2, "lseek": self.lseek, "mmap": self.mmap,
            "newfstatat": self.at_flags_3, "statx": self.at_flags_2,
            "close": self.close, "close_range": self.close_range,
            "dup": self.dup, "dup2": self.dup2, "dup3": self.dup3,
            "fcntl": self.fcntl, "ioctl": self.ioctl,
            "poll": self.poll, "ppoll": self.ppoll,
            "select": self.select, "pselect6": self.pselect6,
            "epoll_create": self.epoll_create, "epoll_create1": self.epoll_create,
            "epoll_ctl": self.epoll_ctl,
            "epoll_wait": self.epoll_wait, "epoll_pwait": self.epoll_wait,
            "epoll_pwait2": self.epoll_pwait2, "pidfd_getfd": self.pidfd_getfd,
        }
        for name, cls in syscalls.classes.items():  # the other desc calls: their fds
            if cls == "desc" and name not in self.decoders:
                self.decoders[name] = functools.partial(self.desc, name=name)

    # -- shared pieces -------------------------------------------------------------------

    def errno_name(self, result: int) -> str | None:
        if -4096 < result < 0:
            return self.t.errno_names.get(-result, str(-result))
        return None

    def sockaddr(self, raw: bytes | None, truncated: bool = False) -> dict[str, Any] | None:
        """Decode a struct sockaddr of the length given (AF_INET, AF_INET6, AF_UNIX).
        `truncated`: raw is the head of a longer address (the caller's buffer was too short
        for what the kernel had): see sockaddr_head."""
        if raw is None or len(raw) < 2:
            return None
        import socket as pysocket  # here, not at import: it costs milliseconds

        fam = _U16.unpack_from(raw)[0]
        name = self.families.name(fam)
        if truncated:
            return self.sockaddr_head(raw, fam, name)
        if fam == 2 and len(raw) >= 8:
            return {"family": name, "address": pysocket.inet_ntop(pysocket.AF_INET, raw[4:8]),
                    "port": _NBO16.unpack_from(raw, 2)[0]}
        if fam == 10 and len(raw) >= 24:
            addr = pysocket.inet_ntop(pysocket.AF_INET6, raw[8:24])
            d: dict[str, Any] = {"family": name, "address": addr,
                                 "port": _NBO16.unpack_from(raw, 2)[0],
                                 "flowinfo": _NBO32.unpack_from(raw, 4)[0],
                                 "scope_id": _U32.unpack_from(raw, 24)[0] if len(raw) >= 28 else 0}
            if raw[8:20] == b"\0" * 10 + b"\xff\xff":
                d["v4mapped"] = pysocket.inet_ntop(pysocket.AF_INET, raw[20:24])
            return d
        if fam == 1:
            path = raw[2:]
            if not path:
                return {"family": name}
            if path[0] == 0:
                return {"family": name, "abstract": escape(path[1:])}
            return {"family": name, "path": escape(path.split(b"\0", 1)[0])}
        return {"family": name}

    @staticmethod
    def sockaddr_head(raw: bytes, fam: int, name: str | int) -> dict[str, Any]:
        """The first bytes of an address the caller's buffer cut short: the family, and each
        field whose bytes are all there (the port from 4 bytes; the IPv4 address from 8; the
        IPv6 flowinfo from 8, its address from 24, its scope_id from 28), `truncated: true`.
        Never a partial address: a unix path cut short is left out. (strace judges the same
        way, more coarsely: below sizeof(sockaddr_in) or 24 bytes of a sockaddr_in6 it prints
        the family and the raw sa_data bytes, `{sa_family=AF_INET6, sa_data="..."}, [16 =>
        28]`.)"""
        import socket as pysocket

        d: dict[str, Any] = {"family": name}
        n = len(raw)
        if fam == 2:
            if n >= 8:
                d["address"] = pysocket.inet_ntop(pysocket.AF_INET, raw[4:8])
            if n >= 4:
                d["port"] = _NBO16.unpack_from(raw, 2)[0]
        elif fam == 10:
            if n >= 24:
                d["address"] = pysocket.inet_ntop(pysocket.AF_INET6, raw[8:24])
            if n >= 4:
                d["port"] = _NBO16.unpack_from(raw, 2)[0]
            if n >= 8:
                d["flowinfo"] = _NBO32.unpack_from(raw, 4)[0]
            if n >= 28:
                d["scope_id"] = _U32.unpack_from(raw, 24)[0]
            if n >= 24 and raw[8:20] == b"\0" * 10 + b"\xff\xff":
                d["v4mapped"] = pysocket.inet_ntop(pysocket.AF_INET, raw[20:24])
        d["truncated"] = True
        return d

    def addr_in(self, mem: Any, ptr: int, length: int) -> dict[str, Any] | None:
        """A sockaddr passed in (pointer and length by value)."""
        if not ptr:
            return None
        return self.sockaddr(mem.read(ptr, min(length, MAX_ADDR)))

    def addr_out(self, mem: Any, ptr: int, lenptr: int,
                 room: int | None = None) -> dict[str, Any] | None:
        """A sockaddr filled in by the kernel (pointer and pointer to its length, which the
        kernel overwrote with the address's full length). `room`: the length the caller
        gave (read at the call's entry), or None: trust the reported length."""
        if not ptr or not lenptr:
            return None
        length = mem.u32(lenptr)
        if length is None:
            return None
        return self.addr_within(mem, ptr, length, room)

    def addr_within(self, mem: Any, ptr: int, reported: int,
                    room: int | None) -> dict[str, Any] | None:
        """The address the kernel copied out: min(room, reported) bytes (the kernel copies
        no more than the caller's buffer holds, and reports the full length), marked
        `truncated` when the buffer was shorter than the address. With no room known, the
        reported length (at most a sockaddr_storage)."""
        if not ptr:
            return None
        if room is None or reported <= room:
            return self.sockaddr(mem.read(ptr, min(reported, MAX_ADDR)))
        return self.sockaddr(mem.read(ptr, min(room, MAX_ADDR)), truncated=True)

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
            raw = mem.read(a[1], _NAMELEN_AT + 4)
            if raw is None or len(raw) != _NAMELEN_AT + 4 or not _U64.unpack_from(raw)[0]:
                return {}
            return {"namelen_in": _U32.unpack_from(raw, _NAMELEN_AT)[0]}
        if name == "recvmmsg":
            n = min(a[2] & 0xFFFFFFFF, MAX_MMSG)
            raw = mem.read(a[1], n * _MMSGHDR.size) if n else None
            if not raw:
                return {}
            return {"namelens_in": [namelen if ptr else None for ptr, namelen, *_ in
                                    _MMSGHDR.iter_unpack(raw[: len(raw) - len(raw) %
                                                              _MMSGHDR.size])]}
        return {}

    def data(self, args: dict[str, Any], mem: Any, ptr: int, result: int,
             size: int | None = None) -> None:
        """Keep the first data_bytes of a buffer the call transferred `result` bytes of
        (never more than the buffer's `size`: with MSG_TRUNC a datagram's full length is
        returned although only `size` bytes were stored)."""
        if result < 0:
            return
        args["data_len"] = result
        if self.data_bytes <= 0 or result == 0:
            return
        want = min(result, self.data_bytes) if size is None else min(result, self.data_bytes, size)
        raw = mem.read(ptr, want) if want > 0 else b""
        if raw is None:
            return
        args["data"] = escape(raw)
        if len(raw) < result:
            args["data_truncated"] = True

    def iov_data(self, args: dict[str, Any], mem: Any, iov: int, iovcnt: int,
                 result: int) -> None:
        """`size`: the room the iovecs give (what a receive asked for, what a send offered);
        `data_len` and the first bytes of `data` when the call moved some."""
        raw = mem.read(iov, _IOVEC.size * min(iovcnt, MAX_IOV)) if iov and iovcnt else None
        vecs = list(_IOVEC.iter_unpack(raw[: len(raw) - len(raw) % _IOVEC.size])) if raw else []
        if vecs or not iovcnt:
            args["size"] = sum(length for _, length in vecs)
        if result < 0:
            return
        args["data_len"] = result
        if self.data_bytes <= 0 or result == 0 or not vecs:
            return
        want = min(result, self.data_bytes)
        chunks = []
        got = 0
        for base, length in vecs:
            if got >= want:
                break
            if length == 0:
                continue
            part = mem.read(base, min(length, want - got))
            if part is None:
                break
            chunks.append(part)
            got += len(part)
        args["data"] = escape(b"".join(chunks))
        if got < result:
            args["data_truncated"] = True

    def timeout_ts(self, mem: Any, ptr: int) -> float | None:
        """A struct timespec as milliseconds; None for a null pointer (infinite)."""
        if not ptr:
            return None
        raw = mem.read(ptr, _TIMESPEC.size)
        if raw is None or len(raw) != _TIMESPEC.size:
            return None
        sec, nsec = _TIMESPEC.unpack(raw)
        return sec * 1000 + nsec / 1e6

    # -- decoders: (mem, a, result) -> args -----------------------------------------------

    def socket(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        fam = a[0] & 0xFFFFFFFF
        typ = a[1] & 0xFFFFFFFF
        proto = signed32(a[2])
        protocol: str | int = proto
        if fam in (2, 10):
            protocol = self.t["ip_protocols"].name(proto)
        return {"domain": self.families.name(fam),
                "type": self.t["socket_types"].name(typ & 0xF),
                "type_flags": self.t["socket_type_flags"].flags(typ & ~0xF),
                "protocol": protocol}

    def socketpair(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.socket(mem, a, res)

    def socketpair_fds(self, mem: Any, a: tuple[int, ...]) -> tuple[int, int] | None:
        raw = mem.read(a[3], 8)
        if raw is None or len(raw) != 8:
            return None
        return struct.unpack("=ii", raw)

    def fd_addr(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[0]), "addr": self.addr_in(mem, a[1], a[2] & 0xFFFFFFFF)}

    def fd_addr_out(self, mem: Any, a: tuple[int, ...], res: int,
                    entry: dict[str, Any] | None = None) -> dict[str, Any]:
        addr = self.addr_out(mem, a[1], a[2], _room(entry)) if res == 0 else None
        return {"fd": signed32(a[0]), "addr": addr}

    def listen(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[0]), "backlog": signed32(a[1])}

    def accept(self, mem: Any, a: tuple[int, ...], res: int,
               entry: dict[str, Any] | None = None) -> dict[str, Any]:
        addr = self.addr_out(mem, a[1], a[2], _room(entry)) if res >= 0 else None
        return {"fd": signed32(a[0]), "addr": addr}

    def accept4(self, mem: Any, a: tuple[int, ...], res: int,
                entry: dict[str, Any] | None = None) -> dict[str, Any]:
        args = self.accept(mem, a, res, entry)
        args["flags"] = self.t["socket_type_flags"].flags(a[3] & 0xFFFFFFFF)
        return args

    def shutdown(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[0]), "how": self.t["shutdown_how"].name(signed32(a[1]))}

    def sockopt(self, mem: Any, a: tuple[int, ...], res: int, getting: bool) -> dict[str, Any]:
        level = self.t["socket_levels"].name(signed32(a[1]))
        opts = self.t.options.get(level) if isinstance(level, str) else None
        optname_raw = signed32(a[2])
        optname = opts.name(optname_raw) if opts else optname_raw
        if getting:
            optlen = mem.u32(a[4]) if a[4] else None
        else:
            optlen = a[4] & 0xFFFFFFFF
        value: Any = None
        if res == 0 and optlen is not None and a[3]:
            raw = mem.read(a[3], min(optlen, 256))
            if raw is not None:
                value = self.option_value(optname, raw)
        return {"fd": signed32(a[0]), "level": level, "optname": optname, "value": value,
                "optlen": optlen}

    def option_value(self, optname: Any, raw: bytes) -> Any:
        if len(raw) == 4:
            return _I32.unpack(raw)[0]
        if optname == "SO_LINGER" and len(raw) == 8:
            onoff, linger = struct.unpack("=ii", raw)
            return {"onoff": onoff, "linger": linger}
        if optname in ("SO_RCVTIMEO_OLD", "SO_SNDTIMEO_OLD") and len(raw) == 16:
            sec, usec = struct.unpack("=qq", raw)
            return {"sec": sec, "usec": usec}
        return escape(raw.rstrip(b"\0") if optname == "TCP_CONGESTION" else raw)

    def setsockopt(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.sockopt(mem, a, res, getting=False)

    def getsockopt(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.sockopt(mem, a, res, getting=True)

    def sendto(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args: dict[str, Any] = {"fd": signed32(a[0]), "size": a[2],
                                "flags": self.msg_flags.flags(a[3] & 0xFFFFFFFF)}
        if a[4]:
            args["addr"] = self.addr_in(mem, a[4], a[5] & 0xFFFFFFFF)
        self.data(args, mem, a[1], res)
        return args

    def recvfrom(self, mem: Any, a: tuple[int, ...], res: int,
                 entry: dict[str, Any] | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"fd": signed32(a[0]), "size": a[2],
                                "flags": self.msg_flags.flags(a[3] & 0xFFFFFFFF)}
        if a[4] and res >= 0:
            args["addr"] = self.addr_out(mem, a[4], a[5], _room(entry))
        self.data(args, mem, a[1], res, size=a[2])
        return args

    def sendmsg(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.msg(mem, a, res)

    def recvmsg(self, mem: Any, a: tuple[int, ...], res: int,
                entry: dict[str, Any] | None = None) -> dict[str, Any]:
        room = entry.get("namelen_in") if entry else None
        return self.msg(mem, a, res, receiving=True, room=room)

    def msg(self, mem: Any, a: tuple[int, ...], res: int, receiving: bool = False,
            room: int | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"fd": signed32(a[0]),
                                "flags": self.msg_flags.flags(a[2] & 0xFFFFFFFF)}
        raw = mem.read(a[1], _MSGHDR.size)
        if raw is None or len(raw) != _MSGHDR.size:
            return args
        name, namelen, iov, iovlen, control, controllen, _flags = _MSGHDR.unpack(raw)
        if name and (res >= 0 or not receiving):  # a failed receive wrote no address
            # a send's msg_namelen is the caller's; a receive's the kernel's (the full
            # length), to read within the caller's (`room`, from the call's entry)
            args["addr"] = self.addr_within(mem, name, namelen, room if receiving else None)
        args["iovcnt"] = iovlen
        args["controllen"] = controllen
        if control and controllen and (res >= 0 or not receiving):
            rights = self.scm_rights(mem, control, controllen)
            if rights:
                args["rights"] = rights
        self.iov_data(args, mem, iov, iovlen, res)
        return args

    def scm_rights(self, mem: Any, control: int, controllen: int) -> list[int]:
        """The fds an SCM_RIGHTS message carries (sendmsg: the fds sent; recvmsg: the new fds
        the receiver got), from the control buffer's cmsghdrs (at most MAX_CONTROL bytes)."""
        raw = mem.read(control, min(controllen, MAX_CONTROL))
        fds: list[int] = []
        pos = 0
        while raw is not None and pos + _CMSGHDR.size <= len(raw):
            length, level, kind = _CMSGHDR.unpack_from(raw, pos)
            if length < _CMSGHDR.size:
                break
            if level == 1 and kind == 1:  # SOL_SOCKET, SCM_RIGHTS
                end = min(pos + length, len(raw))
                fds += [_I32.unpack_from(raw, i)[0]
                        for i in range(pos + _CMSGHDR.size, end - 3, 4)]
            pos += (length + 7) & ~7  # CMSG_ALIGN
        return fds

    def sendmmsg(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.mmsg(mem, a, res)

    def recvmmsg(self, mem: Any, a: tuple[int, ...], res: int,
                 entry: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.mmsg(mem, a, res, receiving=True,
                         rooms=entry.get("namelens_in") if entry else None)

    def mmsg(self, mem: Any, a: tuple[int, ...], res: int, receiving: bool = False,
             rooms: list[int | None] | None = None) -> dict[str, Any]:
        """sendmmsg / recvmmsg: `msgs`, one per message the call transferred (its result;
        none when it failed), the first MAX_MMSG of them (`msgs_truncated: true` past that).
        Each: `addr` (msg_name, when given), `size` (the room its iovecs give), `data`,
        `data_len` (msg_len, which the kernel wrote), `flags` (msg_flags, receives only),
        `controllen`."""
        vlen = a[2] & 0xFFFFFFFF
        args: dict[str, Any] = {"fd": signed32(a[0]), "vlen": vlen,
                                "flags": self.msg_flags.flags(a[3] & 0xFFFFFFFF)}
        msgs: list[dict[str, Any]] = []
        args["msgs"] = msgs
        count = min(res, vlen) if res > 0 else 0
        if count > MAX_MMSG:
            args["msgs_truncated"] = True
            count = MAX_MMSG
        raw = mem.read(a[1], count * _MMSGHDR.size) if count else None
        if not raw:
            return args
        hdrs = _MMSGHDR.iter_unpack(raw[: len(raw) - len(raw) % _MMSGHDR.size])
        for i, (name, namelen, iov, iovlen, _ctl, controllen, flags, msg_len) in enumerate(hdrs):
            m: dict[str, Any] = {}
            if name:
                room = rooms[i] if receiving and rooms is not None and i < len(rooms) else None
                m["addr"] = self.addr_within(mem, name, namelen, room)
            self.iov_data(m, mem, iov, iovlen, msg_len)
            if receiving:
                m["flags"] = self.msg_flags.flags(flags & 0xFFFFFFFF)
            m["controllen"] = controllen
            msgs.append(m)
        return args

    def rw(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args: dict[str, Any] = {"fd": signed32(a[0]), "size": a[2]}
        self.data(args, mem, a[1], res)
        return args

    def prw(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args = self.rw(mem, a, res)
        args["offset"] = signed(a[3])
        return args

    def rwv(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args: dict[str, Any] = {"fd": signed32(a[0]), "iovcnt": a[2]}
        self.iov_data(args, mem, a[1], a[2], res)
        return args

    def prwv(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args = self.rwv(mem, a, res)
        args["offset"] = signed(a[3])
        return args

    def prwv2(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args = self.prwv(mem, a, res)
        args["flags"] = self.t["rwf_flags"].flags(a[5] & 0xFFFFFFFF)
        return args

    # -- other calls on a descriptor (class desc) ------------------------------------------

    def path(self, mem: Any, ptr: int) -> str | None:
        """A NUL-terminated path argument (its first MAX_PATH bytes)."""
        raw = mem.read(ptr, MAX_PATH) if ptr else None
        return None if raw is None else escape(raw.split(b"\0", 1)[0])

    def desc(self, mem: Any, a: tuple[int, ...], res: int, name: str = "") -> dict[str, Any]:
        """Any call on a descriptor: its fd arguments (fd, fd2), the path after a dirfd."""
        args: dict[str, Any] = {}
        for k, i in enumerate(self.fd_args.get(name, (0,))):
            args["fd" if k == 0 else f"fd{k + 1}"] = signed32(a[i])
            if i in self.dirfds.get(name, ()):
                args["path" if k == 0 else f"path{k + 1}"] = self.path(mem, a[i + 1])
        return args

    def lseek(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[0]), "offset": signed(a[1]),
                "whence": self.t["seek_whence"].name(signed32(a[2]))}

    def mmap(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[4]), "length": a[1], "offset": a[5]}

    def at_flags_3(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """newfstatat(dirfd, path, buf, flags): fstat when the path is empty (AT_EMPTY_PATH)."""
        return {"fd": signed32(a[0]), "path": self.path(mem, a[1]),
                "flags": self.t["at_flags"].flags(a[3] & 0xFFFFFFFF)}

    def at_flags_2(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """statx(dirfd, path, flags, mask, buf)."""
        return {"fd": signed32(a[0]), "path": self.path(mem, a[1]),
                "flags": self.t["at_flags"].flags(a[2] & 0xFFFFFFFF)}

    def sendfile(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """sendfile(out_fd, in_fd, off_t *offset, count): `offset` is where the read of in_fd
        started, when one was given (the kernel advanced *offset by what it moved, so it is
        read at exit and the result taken off); `data_len` what was moved."""
        args: dict[str, Any] = {"out_fd": signed32(a[0]), "in_fd": signed32(a[1]),
                                "count": a[3]}
        if a[2]:
            raw = mem.read(a[2], 8)
            if raw is not None and len(raw) == 8:
                args["offset"] = _I64.unpack(raw)[0] - max(res, 0)
        if res >= 0:
            args["data_len"] = res
        return args

    def copy_file_range(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """copy_file_range(fd_in, off_in*, fd_out, off_out*, len, flags); as for splice, only
        whether an offset was given is kept."""
        args: dict[str, Any] = {"fd_in": signed32(a[0]), "fd_out": signed32(a[2]), "len": a[4],
                                "flags": self.no_flags.flags(a[5] & 0xFFFFFFFF),
                                **({"off_in": True} if a[1] else {}),
                                **({"off_out": True} if a[3] else {})}
        if res >= 0:
            args["data_len"] = res
        return args

    def vmsplice(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """vmsplice(fd, iov, nr_segs, flags): the fd is a pipe's; its iovecs as writev's."""
        args: dict[str, Any] = {"fd": signed32(a[0]), "iovcnt": a[2],
                                "flags": self.t["splice_flags"].flags(a[3] & 0xFFFFFFFF)}
        self.iov_data(args, mem, a[1], a[2], res)
        return args

    def tee(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """tee(fd_in, fd_out, len, flags): two pipes."""
        return {"fd_in": signed32(a[0]), "fd_out": signed32(a[1]), "len": a[2],
                "flags": self.t["splice_flags"].flags(a[3] & 0xFFFFFFFF)}

    def splice(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        # The offsets are NULL for pipes and sockets (the only ends a socket can meet here);
        # only whether one was given is kept.
        return {"fd_in": signed32(a[0]), "fd_out": signed32(a[2]), "len": a[4],
                "flags": self.t["splice_flags"].flags(a[5] & 0xFFFFFFFF),
                **({"off_in": True} if a[1] else {}), **({"off_out": True} if a[3] else {})}

    def pidfd_getfd(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        """pidfd_getfd(pidfd, targetfd, flags): the result is a new fd of the caller for the
        file another process holds as targetfd (a number in that process)."""
        return {"pidfd": signed32(a[0]), "targetfd": signed32(a[1]), "flags": a[2] & 0xFFFFFFFF}

    def close(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[0])}

    def close_range(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"first": a[0] & 0xFFFFFFFF, "last": a[1] & 0xFFFFFFFF,
                "flags": self.t["close_range_flags"].flags(a[2] & 0xFFFFFFFF)}

    def dup(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"oldfd": signed32(a[0])}

    def dup2(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"oldfd": signed32(a[0]), "newfd": signed32(a[1])}

    def dup3(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"oldfd": signed32(a[0]), "newfd": signed32(a[1]),
                "flags": self.t["dup3_flags"].flags(a[2] & 0xFFFFFFFF)}

    def fcntl(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        cmd = self.t["fcntl_commands"].name(signed32(a[1]))
        arg: Any = signed(a[2])
        if cmd == "F_SETFL":
            arg = self.file_flags(a[2])
        elif cmd == "F_SETFD":
            arg = self.t["fd_flags"].flags(a[2] & 0xFFFFFFFF)
        elif cmd in ("F_GETFL", "F_GETFD"):
            arg = None
        args: dict[str, Any] = {"fd": signed32(a[0]), "cmd": cmd, "arg": arg}
        if cmd == "F_GETFL" and res >= 0:
            args["result_flags"] = self.file_flags(res)
        elif cmd == "F_GETFD" and res >= 0:
            args["result_flags"] = self.t["fd_flags"].flags(res)
        return args

    def file_flags(self, value: int) -> list[str]:
        value &= 0xFFFFFFFF
        access = self.t["open_access_modes"].name(value & 3)
        return [str(access)] + self.t["open_flags"].flags(value & ~3)

    def ioctl(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        req_raw = a[1] & 0xFFFFFFFF
        arg: Any = a[2]
        if req_raw in self.t.ioctl_int_arg:
            arg = mem.i32(a[2])
        return {"fd": signed32(a[0]), "request": self.t["ioctl_requests"].name(req_raw),
                "arg": arg}

    def poll(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        timeout = signed32(a[2])
        return self.pollfds(mem, a, None if timeout < 0 else timeout)

    def ppoll(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.pollfds(mem, a, self.timeout_ts(mem, a[2]))

    def pollfds(self, mem: Any, a: tuple[int, ...], timeout: Any) -> dict[str, Any]:
        n = min(a[1], MAX_POLL)
        raw = mem.read(a[0], n * _POLLFD.size) or b""
        events = self.t["poll_events"]
        fds = [{"fd": fd, "events": events.flags(ev & 0xFFFF), "revents": events.flags(rev & 0xFFFF)}
               for fd, ev, rev in _POLLFD.iter_unpack(raw[: len(raw) - len(raw) % _POLLFD.size])]
        return {"fds": fds, "timeout_ms": timeout}

    def poll_fds(self, mem: Any, a: tuple[int, ...]) -> list[int]:
        raw = mem.read(a[0], min(a[1], MAX_POLL) * _POLLFD.size) or b""
        return [fd for fd, _e, _r in _POLLFD.iter_unpack(raw[: len(raw) - len(raw) % _POLLFD.size])]

    def fd_set(self, mem: Any, ptr: int, nfds: int) -> list[int] | None:
        if not ptr:
            return None
        nbytes = ((nfds + 63) // 64) * 8
        raw = mem.read(ptr, min(nbytes, 128))
        if raw is None:
            return None
        value = int.from_bytes(raw, "little")
        return [fd for fd in range(min(nfds, len(raw) * 8)) if value >> fd & 1]

    def read_entry(self, mem: Any, a: tuple[int, ...], name: str) -> dict[str, Any]:
        """What must be read at a call's entry (`entry` in harness/tables/syscalls.yaml) because the
        call overwrites it: select's fd sets, the room a caller gives an address."""
        if name in ADDRLEN_ENTRY_CALLS:
            return self.addrlen_entry(mem, a, name)
        return self.select_entry(mem, a, name)

    def select_entry(self, mem: Any, a: tuple[int, ...], name: str = "select") -> dict[str, Any]:
        """What select and pselect6 overwrite: the fd sets watched and the timeout asked for
        (the kernel writes the time left back)."""
        nfds = signed32(a[0])
        return {"nfds": nfds, "readfds": self.fd_set(mem, a[1], nfds),
                "writefds": self.fd_set(mem, a[2], nfds),
                "exceptfds": self.fd_set(mem, a[3], nfds),
                "timeout_ms": self.select_timeout(mem, a[4], 1e6 if name == "pselect6" else 1e3)}

    def select_timeout(self, mem: Any, ptr: int, frac_per_ms: float) -> float | None:
        if not ptr:
            return None
        raw = mem.read(ptr, 16)
        if raw is None or len(raw) != 16:
            return None
        sec, frac = _TIMESPEC.unpack(raw)
        # select takes a timeval (microseconds), pselect6 a timespec (nanoseconds)
        return sec * 1000 + frac / frac_per_ms

    def select(self, mem: Any, a: tuple[int, ...], res: int,
               frac_per_ms: float = 1e3) -> dict[str, Any]:
        nfds = signed32(a[0])
        ready: list[int] = []
        if res > 0:
            for ptr in a[1:4]:
                ready.extend(self.fd_set(mem, ptr, nfds) or ())
        return {"ready": sorted(set(ready)),
                "timeout_ms": self.select_timeout(mem, a[4], frac_per_ms)}

    def pselect6(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return self.select(mem, a, res, frac_per_ms=1e6)

    def epoll_create(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"flags": self.t["epoll_create_flags"].flags(a[0] & 0xFFFFFFFF)}

    def epoll_ctl(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        args: dict[str, Any] = {"epfd": signed32(a[0]),
                                "op": self.t["epoll_ops"].name(signed32(a[1])),
                                "fd": signed32(a[2]), "events": None}
        raw = mem.read(a[3], _EPOLL_EVENT.size) if args["op"] != "EPOLL_CTL_DEL" else None
        if raw is not None and len(raw) == _EPOLL_EVENT.size:
            ev, data = _EPOLL_EVENT.unpack(raw)
            args["events"] = self.t["epoll_events"].flags(ev)
            args["user_data"] = data
        return args

    def epoll_wait(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        timeout = signed32(a[3])
        return {"epfd": signed32(a[0]), "maxevents": signed32(a[2]),
                "timeout_ms": None if timeout < 0 else timeout}

    def epoll_pwait2(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"epfd": signed32(a[0]), "maxevents": signed32(a[2]),
                "timeout_ms": self.timeout_ts(mem, a[3])}

    def epoll_ready(self, mem: Any, a: tuple[int, ...], res: int) -> list[tuple[int, int]]:
        """(events, data) of each ready entry."""
        if res <= 0:
            return []
        raw = mem.read(a[1], min(res, MAX_POLL) * _EPOLL_EVENT.size) or b""
        return list(_EPOLL_EVENT.iter_unpack(raw[: len(raw) - len(raw) % _EPOLL_EVENT.size]))

