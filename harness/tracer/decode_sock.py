"""Decoders of socket addresses and of the socket API's own calls: struct sockaddr (AF_INET,
AF_INET6, AF_UNIX; whole, or the head a caller's short buffer kept), addresses passed in and
copied out by the kernel, and socket, socketpair, bind, connect, listen, accept, shutdown,
getsockname, getpeername, setsockopt and getsockopt.
"""

from __future__ import annotations

import struct
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from harness.tracer.decode_mem import I32, U32, DecoderBase, escape, signed32

MAX_ADDR = 128  # sizeof(struct sockaddr_storage)

_U16 = struct.Struct("=H")
_NBO16 = struct.Struct("!H")
_NBO32 = struct.Struct("!I")


def entry_room(entry: dict[str, Any] | None) -> int | None:
    """The address length the caller gave, from what was read at the call's entry."""
    return entry.get("addrlen_in") if entry else None


class SockDecoder(DecoderBase):
    """Socket addresses, and the calls of the socket API that are not data transfers."""

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
                                 "scope_id": U32.unpack_from(raw, 24)[0] if len(raw) >= 28 else 0}
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
                d["scope_id"] = U32.unpack_from(raw, 24)[0]
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
        addr = self.addr_out(mem, a[1], a[2], entry_room(entry)) if res == 0 else None
        return {"fd": signed32(a[0]), "addr": addr}

    def listen(self, mem: Any, a: tuple[int, ...], res: int) -> dict[str, Any]:
        return {"fd": signed32(a[0]), "backlog": signed32(a[1])}

    def accept(self, mem: Any, a: tuple[int, ...], res: int,
               entry: dict[str, Any] | None = None) -> dict[str, Any]:
        addr = self.addr_out(mem, a[1], a[2], entry_room(entry)) if res >= 0 else None
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
            return I32.unpack(raw)[0]
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
