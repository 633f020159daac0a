"""The kernel outside ptrace: the C library (loaded directly, not through python-ptrace's
`ldconfig -p` lookup), prctl (the parent-death signal here; seccomp's use of it is in
kernel_seccomp.py), and what the tracer asks about a tracee's descriptors: which socket an fd
is (readlink of /proc/PID/fd/FD), its close-on-exec flag (/proc/PID/fdinfo/FD), which fds
share a socket, and a socket's domain, type and addresses through a copy of the fd
(pidfd_getfd). Nothing here stops or resumes a process.
"""

from __future__ import annotations

import ctypes
import os
from functools import cache
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

PR_SET_PDEATHSIG = 1


@cache
def _libc() -> ctypes.CDLL:
    """The C library, loaded once (and before fork, so that the child does not load it)."""
    return ctypes.CDLL("libc.so.6", use_errno=True)


@cache
def _prctl() -> Any:
    prctl = _libc()["prctl"]  # a function object of its own, with its own argtypes
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong)
    return prctl


def parent_death_signal(signum: int, parent: int) -> bool:
    """prctl(PR_SET_PDEATHSIG): signum to this process when its parent, `parent` (its pid,
    read before the call), ends; sent at once if it ended already. False where the kernel
    refuses. The harness itself (stopped with make), a traced child before it is traced (a
    harness killed before PTRACE_O_EXITKILL is set leaves no stopped child) and a build
    command use it."""
    if _prctl()(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # it ended already
        os.kill(os.getpid(), signum)
    return True


# -- a tracee's socket, seen from the tracer -----------------------------------------------

SYS_PIDFD_GETFD = 438  # x86_64
SOL_SOCKET = 1
SO_TYPE = 3
SO_DOMAIN = 39


def socket_inode(pid: int, fd: int) -> int | None:
    """The inode of the socket fd refers to in process pid (`socket:[N]`, as strace -y
    shows it); 0 when fd is open but no socket, None when it is not open (or gone)."""
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    if target.startswith("socket:["):
        return int(target[8:-1])
    return 0


def fd_cloexec(pid: int, fd: int) -> bool:
    """Whether fd has FD_CLOEXEC in process pid (/proc/PID/fdinfo/FD: O_CLOEXEC in flags)."""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", "rb") as f:
            for line in f:
                if line.startswith(b"flags:"):
                    return bool(int(line.split()[1], 8) & 0o2000000)
    except (OSError, ValueError):
        pass
    return False


def socket_fds(pid: int, inode: int) -> list[int]:
    """The fds of process pid that refer to socket inode."""
    want = f"socket:[{inode}]"
    out: list[int] = []
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == want:
                out.append(int(name))
        except OSError:
            continue
    return sorted(out)


def peek_socket(pid: int, fd: int) -> tuple[int, int, bytes | None, bytes | None] | None:
    """(domain, type, local sockaddr, peer sockaddr) of a tracee's socket, asked of the kernel
    through a copy of its fd (pidfd_getfd: the tracer may, as it may ptrace the process). The
    copy is closed at once, so the tracee's socket is as it was. None when it cannot be had."""
    libc = _libc()
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    finally:
        os.close(pidfd)
    if mine < 0:
        return None
    try:
        value = ctypes.c_int(0)
        size = ctypes.c_uint32(4)
        if libc.getsockopt(mine, SOL_SOCKET, SO_DOMAIN, ctypes.byref(value),
                           ctypes.byref(size)) != 0:
            return None
        domain = value.value
        size.value = 4
        if libc.getsockopt(mine, SOL_SOCKET, SO_TYPE, ctypes.byref(value),
                           ctypes.byref(size)) != 0:
            return None
        typ = value.value
        names = []
        for call in (libc.getsockname, libc.getpeername):
            buf = ctypes.create_string_buffer(128)
            size.value = 128
            names.append(buf.raw[:min(size.value, 128)]
                         if call(mine, buf, ctypes.byref(size)) == 0 else None)
        return domain, typ, names[0], names[1]
    finally:
        os.close(mine)
