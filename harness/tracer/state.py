"""What the tracer keeps per traced process: its socket fd table and epoll interest lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.model import Address, SocketIdentity
from harness.tracer.decode import Memory


@dataclass(slots=True)
class SockState:
    """One open socket. dup'd fds and forked children share the same object, as they share
    the kernel's socket: a bind through one fd is seen through all of them."""

    family: str | int  # AF_INET, ...
    type: str | int  # SOCK_STREAM, ...
    local: Address | None = None  # replaced, never mutated, so events can share it
    peer: Address | None = None

    def identity(self, fd: int) -> SocketIdentity:
        return SocketIdentity(fd=fd, family=self.family, type=self.type, local=self.local,
                              peer=self.peer)


@dataclass(slots=True)
class Proc:
    """One traced thread group."""

    pid: int  # thread group id
    parent: int | None  # traced parent's pid
    root: Any  # the Root (spawned command) it belongs to
    exe: str | None = None
    argv: list[str] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)  # every tid seen
    socks: dict[int, SockState] = field(default_factory=dict)  # fd -> socket
    cloexec: set[int] = field(default_factory=set)  # tracked fds with FD_CLOEXEC
    epolls: dict[int, dict[int, int]] = field(default_factory=dict)  # epfd -> {fd: data}
    epoll_births: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # epfd -> its
    # creation, recorded once a socket is added to it
    mem: Memory | None = None
    exit_code: int | None = None
    exit_signal: str | None = None
    alive: bool = True

    def fork_copy(self, pid: int, root: Any) -> Proc:
        """The state a forked child starts with: the same sockets under the same fds."""
        return Proc(pid=pid, parent=self.pid, root=root, exe=self.exe, argv=list(self.argv),
                    socks=dict(self.socks), cloexec=set(self.cloexec),
                    epolls={k: dict(v) for k, v in self.epolls.items()})

    # -- fd table operations ----------------------------------------------------------------

    def add(self, fd: int, sock: SockState, cloexec: bool) -> None:
        self.drop(fd)
        self.socks[fd] = sock
        if cloexec:
            self.cloexec.add(fd)

    def drop(self, fd: int) -> None:
        self.socks.pop(fd, None)
        self.cloexec.discard(fd)
        self.epoll_births.pop(fd, None)
        if self.epolls.pop(fd, None) is None:
            for interest in self.epolls.values():
                interest.pop(fd, None)

    def dup(self, old: int, new: int, cloexec: bool) -> None:
        """new becomes a copy of old (what dup, dup2, dup3 and F_DUPFD do)."""
        if old == new:
            return
        sock = self.socks.get(old)
        interest = self.epolls.get(old)
        self.drop(new)
        if sock is not None:
            self.socks[new] = sock
        if interest is not None:
            self.epolls[new] = interest
        if cloexec and (sock is not None or interest is not None):
            self.cloexec.add(new)

    def set_cloexec(self, fd: int, on: bool) -> None:
        if on and (fd in self.socks or fd in self.epolls):
            self.cloexec.add(fd)
        else:
            self.cloexec.discard(fd)

    def on_exec(self) -> None:
        for fd in list(self.cloexec):
            self.drop(fd)
        self.cloexec.clear()
