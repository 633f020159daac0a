"""What the tracer keeps per traced thread (Task) and per traced process (Proc: its socket fd
table and epoll interest lists)."""

from __future__ import annotations

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from harness.formats.model import Address

from harness.tracer.decode_mem import Memory


class SockState:
    """One open socket. dup'd fds, forked children and exec'd programs share the same object,
    as they share the kernel's socket: a bind through one fd is seen through all of them, and
    every event on it carries its id (1, 2, ... in the order the trace met its sockets) and its
    inode (the kernel's identity, as /proc/PID/fd/N names it: `socket:[INODE]`)."""

    __slots__ = ("family", "type", "local", "peer", "id", "inode", "refs", "made", "inflight")

    def __init__(self, family: str | int, type: str | int, local: Address | None = None,
                 peer: Address | None = None, id: int = 0, inode: int | None = None,
                 made: bool = True):
        self.family = family  # AF_INET, ...
        self.type = type  # SOCK_STREAM, ...
        self.local = local  # replaced, never mutated, so events can share it
        self.peer = peer
        self.id = id  # the socket's id in its trace
        self.inode = inode  # the kernel's socket inode (None when it could not be read)
        self.refs = 0  # fds of traced processes that refer to it
        # copies of it sent over a unix socket (SCM_RIGHTS) and not yet received: the kernel
        # holds a reference for each, so no fd being left is not its release
        self.inflight = 0
        # made by a traced process (socket, accept, socketpair, io_uring), so that only
        # traced processes can hold it; False for one met by its inode (inherited from a
        # process the tracer does not follow, which may hold it still)
        self.made = made

    def identity(self, fd: int) -> tuple[Any, ...]:
        """SocketIdentity's fields, as a tuple (the loop builds the object only on demand)."""
        return (fd, self.family, self.type, self.local, self.peer, self.id, self.inode)


class Proc:
    """One traced thread group."""

    __slots__ = ("pid", "parent", "root", "exe", "argv", "threads", "socks", "cloexec",
                 "epolls", "epoll_births", "mem", "exit_code", "exit_signal", "alive",
                 "notsock", "rings")

    def __init__(self, pid: int, parent: int | None, root: Any, exe: str | None = None,
                 argv: list[str] | None = None, socks: dict[int, SockState] | None = None,
                 cloexec: set[int] | None = None,
                 epolls: dict[int, dict[int, int]] | None = None,
                 notsock: set[int] | None = None):
        self.pid = pid  # thread group id
        self.parent = parent  # traced parent's pid
        self.root = root  # the Root (spawned command) it belongs to
        self.exe = exe
        self.argv: list[str] = argv or []
        self.threads: list[int] = []  # every tid seen
        self.socks: dict[int, SockState] = socks or {}  # fd -> socket
        for sock in self.socks.values():  # a forked child's fds are references too
            sock.refs += 1
        self.cloexec: set[int] = cloexec or set()  # tracked fds with FD_CLOEXEC
        self.epolls: dict[int, dict[int, int]] = epolls or {}  # epfd -> {fd: user data}
        # epfd -> its creation, recorded once a socket is added to it
        self.epoll_births: dict[int, tuple[Any, ...]] = {}
        # open fds the kernel said are no sockets (asked once per fd: dropped when the fd is
        # closed or replaced, all of them at exec)
        self.notsock: set[int] = notsock or set()
        self.rings: dict[int, Any] = {}  # io_uring fd -> its ring (harness.tracer.uring_ring)
        self.mem: Memory | None = None
        self.exit_code: int | None = None
        self.exit_signal: str | None = None
        self.alive = True

    def fork_copy(self, pid: int, root: Any) -> Proc:
        """The state a forked child starts with: the same sockets under the same fds."""
        return Proc(pid=pid, parent=self.pid, root=root, exe=self.exe, argv=list(self.argv),
                    socks=dict(self.socks), cloexec=set(self.cloexec),
                    epolls={k: dict(v) for k, v in self.epolls.items()},
                    notsock=set(self.notsock))

    # -- fd table operations ----------------------------------------------------------------
    # Each returns the sockets whose last reference in this process's table went with it
    # (refs fell to 0): the tracer then asks the kernel whether another process holds them.

    def add(self, fd: int, sock: SockState, cloexec: bool) -> list[SockState]:
        gone = self.drop(fd)
        self.socks[fd] = sock
        sock.refs += 1
        if cloexec:
            self.cloexec.add(fd)
        return gone

    def adopt(self, fd: int, sock: SockState, cloexec: bool) -> None:
        """An fd found to be a socket (the tracer did not see it made): not an epoll fd or a
        ring, whatever was thought; still in the epoll sets that watch it (which `drop`
        would leave it out of, as it does a closed fd)."""
        self.notsock.discard(fd)
        self.epolls.pop(fd, None)
        self.epoll_births.pop(fd, None)
        self.rings.pop(fd, None)
        self.socks[fd] = sock
        sock.refs += 1
        if cloexec:
            self.cloexec.add(fd)

    def drop(self, fd: int) -> list[SockState]:
        self.notsock.discard(fd)
        self.cloexec.discard(fd)
        self.epoll_births.pop(fd, None)
        self.rings.pop(fd, None)
        if self.epolls.pop(fd, None) is None:
            for interest in self.epolls.values():
                interest.pop(fd, None)
        sock = self.socks.pop(fd, None)
        if sock is None:
            return []
        sock.refs -= 1
        return [sock] if sock.refs <= 0 else []

    def dup(self, old: int, new: int, cloexec: bool) -> list[SockState]:
        """new becomes a copy of old (what dup, dup2, dup3 and F_DUPFD do)."""
        if old == new:
            return []
        sock = self.socks.get(old)
        interest = self.epolls.get(old)
        ring = self.rings.get(old)
        gone = self.drop(new)
        if sock is not None:
            self.socks[new] = sock
            sock.refs += 1
        if interest is not None:
            self.epolls[new] = interest
        if ring is not None:
            self.rings[new] = ring
        if old in self.notsock:
            self.notsock.add(new)
        if cloexec and (sock is not None or interest is not None):
            self.cloexec.add(new)
        return [s for s in gone if s is not sock]

    def set_cloexec(self, fd: int, on: bool) -> None:
        if on and (fd in self.socks or fd in self.epolls):
            self.cloexec.add(fd)
        else:
            self.cloexec.discard(fd)

    def on_exec(self) -> list[SockState]:
        gone: list[SockState] = []
        for fd in list(self.cloexec):
            gone += self.drop(fd)
        self.cloexec.clear()
        self.notsock.clear()  # close-on-exec fds the tracer did not follow are gone too
        return gone

    def close_all(self) -> list[SockState]:
        """The process is gone: every fd with it."""
        gone: list[SockState] = []
        for fd in list(self.socks):
            gone += self.drop(fd)
        return gone


class Task:
    """One traced thread."""

    __slots__ = ("tid", "proc", "started", "in_syscall", "nr", "args", "entry", "quiet", "sure",
                 "t0", "dur")

    def __init__(self, tid: int, proc: Proc, started: bool = False, quiet: bool = False,
                 sure: bool = True):
        self.tid = tid
        self.proc = proc
        # whether in_syscall is known: a thread the tracer attached to may be inside a call
        # (its first syscall stop is asked whether it is an entry or an exit)
        self.sure = sure
        self.t0 = 0  # monotonic ns of the entry of the call in flight (when timing)
        self.dur = 0  # ns from its entry to its exit (when timing)
        # seccomp mode and nobody watching events as they come: transfers take the short path
        self.quiet = quiet
        self.started = started  # its first stop (SIGSTOP) has been seen
        self.in_syscall = False  # between entry and exit (all-syscalls mode)
        self.nr = -1  # syscall in flight, when we asked for its exit
        self.args: tuple[int, ...] = ()  # raw arguments of a call it was killed in
        self.entry: dict[str, Any] | None = None  # what had to be read at entry
