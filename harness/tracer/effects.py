"""What each finished syscall does to the tracer's socket table: sockets made (socket,
socketpair, accept), addresses learnt (bind, connect, getsockname, getpeername), fds passed
over a unix socket, the fd table changed (close, close_range, dup, fcntl, ioctl), epoll sets
kept, readiness calls' watched fds; and whether the call is recorded (a part of
harness.tracer.core.Tracer).

A call's effect is its `effect` in harness/tables/syscalls.yaml (or its `trace` class's), and
each effect is one method here, _effect_EFFECT: `_finish` calls it through a table of bound
methods built once, one dict lookup a call. (The `does` column is the normalizer's: send,
receive, wait..., nothing of a dup's new fd, F_DUPFD, FIOCLEX or an accept's listener.)"""

from __future__ import annotations

import time

from harness.tracer import kernel_proc
from harness.tracer.decode import ADDRLEN_ENTRY_CALLS
from harness.tracer.state import SockState, Task
from harness.tracer.transfers import Transfers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    Regs = tuple[int, ...]  # a call's argument registers

HANDLER = "_effect_"  # the method of effect E is _effect_E
EINPROGRESS = -115


class Effects(Transfers):
    """A finished call's effects (a part of harness.tracer.core.Tracer)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        effects = self.syscalls.effects
        # each effect's method, bound once; then each traced call's, by its name
        self.effect_handlers: dict[str, Callable[..., None]] = {
            effect: getattr(self, HANDLER + effect) for effect in set(effects.values())}
        self.finishers = {name: self.effect_handlers[e] for name, e in effects.items()}

    def _finish(self, task: Task, name: str, a: Regs, res: int | None) -> None:
        """Decode, update the fd table, record if it concerns a socket."""
        r = -4095 if res is None else res  # an unfinished call decodes as failed
        if name in self.transfers:  # copy what it touched, decode later
            rec = self._transfer(task, name, a, r)
            if rec is not None:
                self._store(task, rec)
            return
        self.finishers[name](task, name, a, r, res)

    # Each _effect_ method takes (task, name, a, r, res): the call's registers, its result
    # (r: -4095 for a call that never returned, res: None then).

    def _decoded(self, task: Task, name: str, a: Regs, r: int) -> dict[str, Any]:
        """The call's arguments, decoded (with the address length its entry read, for a call
        that overwrites it)."""
        if task.entry is not None and name in ADDRLEN_ENTRY_CALLS:
            return self.decoder.decoders[name](task.proc.mem, a, r, entry=task.entry)
        return self.decoder.decoders[name](task.proc.mem, a, r)

    def _done(self, task: Task, name: str, args: dict[str, Any], res: int | None,
              fds: tuple[int, ...], sock: tuple[Any, ...] | None, named: dict[int, int],
              gone: Iterable[SockState], record: bool = True) -> None:
        """The end of every effect: the sockets whose last fd in this process the call closed
        (gone) released, and the call recorded (when it concerns a socket) with the sockets
        it named before it changed the table (named: fd -> id) and those at the fds it made."""
        proc = task.proc
        released = self._released(proc.root, gone) if gone else ()
        if not record:
            return
        socks = proc.socks
        ids = {**named, **{fd: socks[fd].id for fd in fds if fd in socks}}
        if sock is not None and ids.items() <= {(sock[0], sock[5])}:
            ids = {}  # the one socket is the event's `sock`
        self._record(task, name, args, res, fds, sock, ids=tuple(ids.items()),
                     released=released)

    # -- the socket API (net) ----------------------------------------------------------------

    def _effect_new_socket(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """socket: a new socket at the fd returned."""
        self._new_sockets(task, name, a, r, res, False)

    def _effect_new_pair(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """socketpair: two new sockets, each the other's peer, at the fds it wrote back."""
        self._new_sockets(task, name, a, r, res, True)

    def _new_sockets(self, task: Task, name: str, a: Regs, r: int, res: int | None,
                     pair: bool) -> None:
        """New sockets at the fd returned, or at the pair of fds socketpair wrote back (each
        unnamed, the other's peer)."""
        proc = task.proc
        args = self._decoded(task, name, a, r)
        named = self._named_by(proc, args.get("fd"))
        gone: list[SockState] = []
        fds: tuple[int, ...] = ()
        if r >= 0:
            st_args = (args["domain"], args["type"])
            cloexec = "SOCK_CLOEXEC" in args["type_flags"]
            if not pair:
                fds = (r,)
                gone += proc.add(r, proc.root.new_socket(
                    *st_args, inode=kernel_proc.socket_inode(proc.pid, r)), cloexec)
            else:
                made = self.decoder.socketpair_fds(proc.mem, a)
                if made is not None:
                    fds = tuple(made)
                    unnamed = {"family": args["domain"]}
                    for fd in made:
                        gone += proc.add(fd, proc.root.new_socket(
                            *st_args, local=unnamed, peer=unnamed,
                            inode=kernel_proc.socket_inode(proc.pid, fd)), cloexec)
        sock = proc.socks[fds[0]].identity(fds[0]) if fds else None
        self._done(task, name, args, res, fds, sock, named, gone)

    def _effect_accept(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """accept, accept4: a new socket at the fd returned, of its listener's family and
        type, at its listener's address (the kernel says which for a wildcard listener),
        connected to the address the call wrote back."""
        proc = task.proc
        socks = proc.socks
        args = self._decoded(task, name, a, r)
        named = self._named_by(proc, args.get("fd"))
        listener = socks.get(args["fd"]) or self._resolve(proc, args["fd"])
        gone: list[SockState] = []
        fds: tuple[int, ...] = ()
        sock = None
        if r >= 0:
            fds = (r,)
            family = listener.family if listener else (args["addr"] or {}).get("family",
                                                                                "unknown")
            typ = listener.type if listener else "SOCK_STREAM"
            local = listener.local if listener else None
            if not _specific(local):  # a wildcard listener: the kernel says which address
                local = self._local_address(proc, r) or local
            gone += proc.add(r, proc.root.new_socket(
                family, typ, local=local, peer=args["addr"],
                inode=kernel_proc.socket_inode(proc.pid, r)),
                "SOCK_CLOEXEC" in args.get("flags", ()))
            sock = socks[r].identity(r)
        elif listener is not None:
            sock = listener.identity(args["fd"])
        self._done(task, name, args, res, fds, sock, named, gone)

    def _effect_names_socket(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """A call on the socket its `fd` argument names (listen, setsockopt...)."""
        self._on_socket(task, name, a, r, res)

    def _effect_sets_local(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """bind: the address it gives is the socket's, once it succeeded."""
        self._on_socket(task, name, a, r, res, "local", r >= 0)

    def _effect_sets_peer(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """connect: the address it gives is the socket's peer, once it succeeded or is under
        way (EINPROGRESS)."""
        self._on_socket(task, name, a, r, res, "peer", r >= 0 or r == EINPROGRESS)

    def _effect_learns_local(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """getsockname: the address the kernel wrote back is the socket's."""
        self._on_socket(task, name, a, r, res, "local", r >= 0, keep=True)

    def _effect_learns_peer(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """getpeername: the address the kernel wrote back is the socket's peer."""
        self._on_socket(task, name, a, r, res, "peer", r >= 0, keep=True)

    def _effect_sends_fds(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """sendmsg: the sockets whose fds it passes (SCM_RIGHTS) are named, and in flight."""
        self._on_socket(task, name, a, r, res, passes="send")

    def _effect_receives_fds(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """recvmsg: the fds passed to it (SCM_RIGHTS) are new fds of the sockets in flight."""
        self._on_socket(task, name, a, r, res, passes="receive")

    def _on_socket(self, task: Task, name: str, a: Regs, r: int, res: int | None,
                   side: str = "", took: bool = False, keep: bool = False,
                   passes: str = "") -> None:
        """A call on the socket its `fd` argument names (asked of the kernel when the tracer
        did not see it made), which is the event's. When `took`, the address in its args is
        the socket's `side` (local or peer); with `keep`, the one known stays when the call
        gave none. `passes` fds over a unix socket: send or receive."""
        proc = task.proc
        socks = proc.socks
        args = self._decoded(task, name, a, r)
        named = self._named_by(proc, args.get("fd"))
        fds: tuple[int, ...] = ()
        sock = None
        fd = args["fd"]
        st = socks.get(fd) or self._resolve(proc, fd)
        if st is not None:
            if took:
                addr = args["addr"]
                setattr(st, side, (addr or getattr(st, side)) if keep else addr)
            sock = st.identity(fd)
        rights = args.get("rights") if passes else None
        if rights and r >= 0:  # fds passed over a unix socket (SCM_RIGHTS)
            if passes == "receive":  # new fds for the receiver
                fds = tuple(fd for fd in rights if self._resolve(proc, fd) is not None)
                for fd in fds:  # the copy in flight has arrived
                    socks[fd].inflight = max(0, socks[fd].inflight - 1)
            else:  # the sockets sent are named by the call, and are in flight
                for fd in rights:
                    if self._known(proc, fd):
                        named[fd] = socks[fd].id
                        socks[fd].inflight += 1
        self._done(task, name, args, res, fds, sock, named, ())

    # -- descriptors (io, desc, new_fd) ------------------------------------------------------

    def _effect_names_fd(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """A call on descriptors (read, fstat...): recorded when one of its fd arguments is a
        socket, the first such the event's."""
        proc = task.proc
        fd, st = self._socket_arg(proc, name, a)
        if st is None:  # no socket: nothing to decode (most such calls are on files)
            return
        self._done(task, name, self._decoded(task, name, a, r), res, (), st.identity(fd),
                   self._named(proc, name, a), ())

    def _effect_new_fd(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """pidfd_getfd: a new fd for a file another process holds, recorded when it is a
        socket."""
        st = self._resolve(task.proc, r) if r >= 0 else None
        if st is not None:
            self._done(task, name, self._decoded(task, name, a, r), res, (r,), st.identity(r),
                       {}, ())

    # -- the fd table (fd) -------------------------------------------------------------------

    def _effect_close(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """close: the fd is gone, unless it was not open (EBADF)."""
        proc = task.proc
        args = self._decoded(task, name, a, r)
        named = self._named(proc, name, a)
        fd = args["fd"]
        st = proc.socks.get(fd)
        gone = proc.drop(fd) if r != -9 else ()  # EBADF: it was not open
        self._done(task, name, args, res, (), st.identity(fd) if st else None, named, gone,
                   st is not None)

    def _effect_close_range(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """close_range: the sockets and epoll fds in the range closed, or marked
        close-on-exec (CLOSE_RANGE_CLOEXEC); args gets the socket fds it hit (`sockets`)."""
        proc = task.proc
        socks = proc.socks
        args = self._decoded(task, name, a, r)
        first, last = args["first"], args["last"]  # a[0], a[1] as unsigned ints
        named = {fd: st.id for fd, st in socks.items() if first <= fd <= last}
        gone: list[SockState] = []
        hit = sorted(fd for fd in list(socks) + list(proc.epolls) if first <= fd <= last)
        args["sockets"] = [fd for fd in hit if fd in socks]
        if r >= 0:
            for fd in hit:
                if "CLOSE_RANGE_CLOEXEC" in args["flags"]:
                    proc.set_cloexec(fd, True)
                else:
                    gone += proc.drop(fd)
            if "CLOSE_RANGE_CLOEXEC" not in args["flags"]:
                proc.notsock -= {fd for fd in proc.notsock if first <= fd <= last}
        self._done(task, name, args, res, (), None, named, gone, bool(args["sockets"]))

    def _effect_dup(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """dup, dup2, dup3: the fd returned is a copy of oldfd (dup2 and dup3 close the one
        it replaces); recorded when either is a socket."""
        proc = task.proc
        socks = proc.socks
        args = self._decoded(task, name, a, r)
        named = self._named(proc, name, a)
        old = args["oldfd"]
        st = socks.get(old)
        target = socks.get(args.get("newfd", -1))
        gone: Iterable[SockState] = ()
        fds: tuple[int, ...] = ()
        if r >= 0:
            gone = proc.dup(old, r, "O_CLOEXEC" in args.get("flags", ()))
            fds = (r,)
        self._done(task, name, args, res, fds, st.identity(old) if st else None, named, gone,
                   st is not None or target is not None)

    def _effect_fcntl(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """fcntl: F_DUPFD and F_DUPFD_CLOEXEC copy the fd, F_SETFD sets close-on-exec."""
        proc = task.proc
        args = self._decoded(task, name, a, r)
        named = self._named(proc, name, a)
        fd, cmd = args["fd"], args["cmd"]
        st = proc.socks.get(fd)
        gone: Iterable[SockState] = ()
        fds: tuple[int, ...] = ()
        if r >= 0 and cmd in ("F_DUPFD", "F_DUPFD_CLOEXEC"):
            gone = proc.dup(fd, r, cmd == "F_DUPFD_CLOEXEC")
            fds = (r,)
        elif r >= 0 and cmd == "F_SETFD":
            proc.set_cloexec(fd, "FD_CLOEXEC" in args["arg"])
        self._done(task, name, args, res, fds, st.identity(fd) if st else None, named, gone,
                   st is not None)

    def _effect_ioctl(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """ioctl: FIOCLEX and FIONCLEX set close-on-exec."""
        proc = task.proc
        args = self._decoded(task, name, a, r)
        named = self._named(proc, name, a)
        fd = args["fd"]
        st = proc.socks.get(fd)
        if r >= 0 and args["request"] in ("FIOCLEX", "FIONCLEX"):
            proc.set_cloexec(fd, args["request"] == "FIOCLEX")
        self._done(task, name, args, res, (), st.identity(fd) if st else None, named, (),
                   st is not None)

    # -- readiness (readiness, epoll_new) ----------------------------------------------------

    def _effect_poll(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """poll, ppoll: recorded when a socket is among the fds it watches."""
        args = self._decoded(task, name, a, r)
        self._watching(task, name, args, res, [p["fd"] for p in args["fds"]])

    def _effect_select(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """select, pselect6: recorded when a socket is in one of the sets it watches."""
        args = self._decoded(task, name, a, r)
        entry = task.entry
        if entry:  # the sets watched and the timeout asked for, not what came back
            ready = args.pop("ready")
            args.pop("timeout_ms")
            args.update(entry)
            args["ready"] = ready
        self._watching(task, name, args, res, [fd for key in ("readfds", "writefds", "exceptfds")
                                               for fd in args.get(key) or ()])

    def _watching(self, task: Task, name: str, args: dict[str, Any], res: int | None,
                  watched: list[int]) -> None:
        """A readiness call, recorded when a socket is among the fds it watches (each fd the
        tracer did not see made asked of the kernel)."""
        proc = task.proc
        known = self._known
        if any([known(proc, fd) for fd in watched]):
            self._done(task, name, args, res, (), None, self._watched(proc, watched), ())

    def _effect_epoll_ctl(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """epoll_ctl: the epoll fd's interest set (fd -> its user data); recorded when the fd
        is a socket, and the epoll fd's creation with it, the first time."""
        proc = task.proc
        socks = proc.socks
        args = self._decoded(task, name, a, r)
        epfd, fd, op = args["epfd"], args["fd"], args["op"]
        interest = proc.epolls.setdefault(epfd, {})
        birth = proc.epoll_births.get(epfd)
        if self._known(proc, fd) and birth is not None:  # (an fd not seen made: asked)
            del proc.epoll_births[epfd]
            tid, bname, bargs, bres, ts = birth
            self._record(self.tasks.get(tid, task), bname, bargs, bres, (bres,), ts_ns=ts)
        if r >= 0:
            if op == "EPOLL_CTL_DEL":
                interest.pop(fd, None)
            else:
                interest[fd] = args.get("user_data", fd)
        if fd in socks:
            self._done(task, name, args, res, (), None, {fd: socks[fd].id}, ())

    def _effect_epoll_wait(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """epoll_wait, epoll_pwait, epoll_pwait2: the ready fds, by the user data of the
        interest set; recorded when a socket is in the set."""
        proc = task.proc
        args = self._decoded(task, name, a, r)
        interest = proc.epolls.get(args["epfd"], {})
        by_data = {data: fd for fd, data in interest.items()}
        events = self.decoder.t["epoll_events"]
        args["ready"] = [{"fd": by_data.get(data), "events": events.flags(ev)}
                         for ev, data in self.decoder.epoll_ready(proc.mem, a, r)]
        known = self._known
        watching = args["watching"] = sorted(fd for fd in list(interest) if known(proc, fd))
        if watching:
            self._done(task, name, args, res, (), None, self._watched(proc, watching), ())

    def _effect_epoll_new(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """epoll_create, epoll_create1: an epoll fd with an empty interest set, recorded once
        a socket is added to it (see _effect_epoll_ctl)."""
        proc = task.proc
        args = self._decoded(task, name, a, r)
        if r >= 0:
            proc.drop(r)
            proc.epolls[r] = {}
            if "EPOLL_CLOEXEC" in args["flags"]:
                proc.cloexec.add(r)
            proc.epoll_births[r] = (task.tid, name, args, r, time.monotonic_ns())

    # -- io_uring (uring) --------------------------------------------------------------------

    def _effect_uring(self, task: Task, name: str, a: Regs, r: int, res: int | None) -> None:
        """io_uring_setup, io_uring_enter, io_uring_register: the ring's (rings.py)."""
        self._uring_exit(task, name, a, r)


def _specific(addr: Any) -> bool:
    """Whether an address names one local address (not a wildcard, 0.0.0.0 or ::, nor
    unknown): an accepted socket's own address is then its listener's."""
    return isinstance(addr, dict) and addr.get("address") not in (None, "0.0.0.0", "::") \
        or isinstance(addr, dict) and "path" in addr
