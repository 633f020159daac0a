"""Decoders of the readiness calls: poll and ppoll (their pollfd arrays), select and pselect6
(their fd sets, read at entry too, since the kernel overwrites them), and the epoll calls
(epoll_create, epoll_ctl, the wait calls, and the ready entries an epoll wait returned).
"""

from __future__ import annotations

import struct
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from harness.tracer.decode_mem import DecoderBase, signed32

MAX_POLL = 1024  # pollfd / epoll_event entries read per call
_POLLFD = struct.Struct("=ihh")
_EPOLL_EVENT = struct.Struct("=IQ")  # packed on x86_64: 12 bytes
_TIMESPEC = struct.Struct("=qq")


class PollDecoder(DecoderBase):
    """Waiting for readiness: which fds were watched, for what, for how long."""

    def timeout_ts(self, mem: Any, ptr: int) -> float | None:
        """A struct timespec as milliseconds; None for a null pointer (infinite)."""
        if not ptr:
            return None
        raw = mem.read(ptr, _TIMESPEC.size)
        if raw is None or len(raw) != _TIMESPEC.size:
            return None
        sec, nsec = _TIMESPEC.unpack(raw)
        return sec * 1000 + nsec / 1e6

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

    def fd_set(self, mem: Any, ptr: int, nfds: int) -> list[int] | None:
        if not ptr:
            return None
        nbytes = ((nfds + 63) // 64) * 8
        raw = mem.read(ptr, min(nbytes, 128))
        if raw is None:
            return None
        value = int.from_bytes(raw, "little")
        return [fd for fd in range(min(nfds, len(raw) * 8)) if value >> fd & 1]

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
