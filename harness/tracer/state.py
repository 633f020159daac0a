"""What the tracer keeps per traced process: its socket fd table and epoll interest lists."""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from harness.model import Address

from harness.tracer.decode import Memory


class SockState:
    """One open socket. dup'd fds and forked children share the same object, as they share
    the kernel's socket: a bind through one fd is seen through all of them, and every event
    on it carries its id (1, 2, ... in the order the trace met its sockets)."""

    __slots__ = ("family", "type", "local", "peer", "id")

    def __init__(self, family: str | int, type: str | int, local: Address | None = None,
                 peer: Address | None = None, id: int = 0):
        self.family = family  # AF_INET, ...
        self.type = type  # SOCK_STREAM, ...
        self.local = local  # replaced, never mutated, so events can share it
        self.peer = peer
        self.id = id  # the socket's id in its trace

    def identity(self, fd: int) -> tuple[Any, ...]:
        """SocketIdentity's fields, as a tuple (the loop builds the object only on demand)."""
        return (fd, self.family, self.type, self.local, self.peer, self.id)


class Proc:
    """One traced thread group."""

    __slots__ = ("pid", "parent", "root", "exe", "argv", "threads", "socks", "cloexec",
                 "epolls", "epoll_births", "mem", "exit_code", "exit_signal", "alive")

    def __init__(self, pid: int, parent: int | None, root: Any, exe: str | None = None,
                 argv: list[str] | None = None, socks: dict[int, SockState] | None = None,
                 cloexec: set[int] | None = None,
                 epolls: dict[int, dict[int, int]] | None = None):
        self.pid = pid  # thread group id
        self.parent = parent  # traced parent's pid
        self.root = root  # the Root (spawned command) it belongs to
        self.exe = exe
        self.argv: list[str] = argv or []
        self.threads: list[int] = []  # every tid seen
        self.socks: dict[int, SockState] = socks or {}  # fd -> socket
        self.cloexec: set[int] = cloexec or set()  # tracked fds with FD_CLOEXEC
        self.epolls: dict[int, dict[int, int]] = epolls or {}  # epfd -> {fd: user data}
        # epfd -> its creation, recorded once a socket is added to it
        self.epoll_births: dict[int, tuple[Any, ...]] = {}
        self.mem: Memory | None = None
        self.exit_code: int | None = None
        self.exit_signal: str | None = None
        self.alive = True

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
