"""Decoders of the calls that move data through a socket: read, write and their positioned and
vectored forms, sendto and recvfrom, sendmsg and recvmsg (msghdr, iovecs, the fds an
SCM_RIGHTS control message carries), sendmmsg and recvmmsg; and the shared pieces that keep
the first bytes of a buffer or of an iovec array.
"""

from __future__ import annotations

import struct
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from harness.tracer.decode_mem import I32, escape, signed, signed32
from harness.tracer.decode_sock import SockDecoder, entry_room

MAX_IOV = 64  # iovecs read per call for data capture
MAX_MMSG = 64  # mmsghdr entries read per sendmmsg / recvmmsg
MAX_CONTROL = 4096  # bytes of a control buffer read for SCM_RIGHTS
_CMSGHDR = struct.Struct("=Qii")  # cmsg_len, cmsg_level, cmsg_type
_MSGHDR = struct.Struct("=QI4xQQQQi4x")  # name, namelen, iov, iovlen, control, controllen, flags
MMSGHDR = struct.Struct("=QI4xQQQQi4xI4x")  # a msghdr, then msg_len (64 bytes in all)
NAMELEN_AT = 8  # offset of msg_namelen in a msghdr (and an mmsghdr)
_IOVEC = struct.Struct("=QQ")


class MsgDecoder(SockDecoder):
    """Data transfers: what was sent or received, to or from which address."""

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
            args["addr"] = self.addr_out(mem, a[4], a[5], entry_room(entry))
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
                fds += [I32.unpack_from(raw, i)[0]
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
        raw = mem.read(a[1], count * MMSGHDR.size) if count else None
        if not raw:
            return args
        hdrs = MMSGHDR.iter_unpack(raw[: len(raw) - len(raw) % MMSGHDR.size])
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
