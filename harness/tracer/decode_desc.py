"""Decoders of the other calls on a descriptor: those that change the fd table (close,
close_range, dup, dup2, dup3, fcntl, ioctl), those between a socket and a pipe or a file
(sendfile, splice, vmsplice, tee, copy_file_range), and the rest of strace's desc class (lseek,
mmap, newfstatat, statx, and the generic decoder of any call on a descriptor: its fds, the path
after a dirfd).
"""

from __future__ import annotations

import struct
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

from harness.tracer.decode_mem import escape, signed, signed32
from harness.tracer.decode_msg import MsgDecoder

MAX_PATH = 256  # bytes of a path argument kept
AT_FDCWD = -100
_I64 = struct.Struct("=q")


class DescDecoder(MsgDecoder):
    """Calls on a descriptor other than the socket API and data transfers through a socket
    (vmsplice reads its iovecs as writev does)."""

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
