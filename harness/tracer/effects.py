"""What each finished syscall does to the tracer's socket table, by its class in
harness/tables/syscalls.yaml and then by its name: sockets made (socket, socketpair, accept),
addresses learnt (bind, connect, getsockname, getpeername), fds passed over a unix socket,
the fd table changed (close, close_range, dup, fcntl, ioctl), epoll sets kept, readiness
calls' watched fds; and whether the call is recorded (a part of harness.tracer.core.Tracer).

The chain stays an if/elif on names: the `does` column of syscalls.yaml is the normalizer's
vocabulary (send, receive, wait...) and says nothing of what the tracer must do with a call's
decoded arguments (a dup's new fd, F_DUPFD, FIOCLEX, an accept's listener)."""

from __future__ import annotations

import time

from harness.tracer import kernel
from harness.tracer.decode import ADDRLEN_ENTRY_CALLS
from harness.tracer.state import Proc, SockState, Task
from harness.tracer.transfers import Transfers

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Effects(Transfers):
    """A finished call's effects (a part of harness.tracer.core.Tracer)."""

    def _finish(self, task: Task, name: str, a: tuple[int, ...], res: int | None) -> None:
        """Decode, update the fd table, record if it concerns a socket."""
        proc = task.proc
        r = -4095 if res is None else res  # an unfinished call decodes as failed
        if name in self.transfers:  # copy what it touched, decode later
            rec = self._transfer(task, name, a, r)
            if rec is not None:
                self._store(task, rec)
            return
        ok = r >= 0
        socks = proc.socks
        dec = self.decoder
        if self.classes[name] == "uring":
            self._uring_exit(task, name, a, r)
            return
        if task.entry is not None and name in ADDRLEN_ENTRY_CALLS:
            args = dec.decoders[name](proc.mem, a, r, entry=task.entry)
        else:
            args = dec.decoders[name](proc.mem, a, r)
        fds: tuple[int, ...] = ()
        sock: tuple[Any, ...] | None = None
        record = True
        cls = self.classes[name]
        gone: list[SockState] = []  # sockets whose last fd in this process the call closed
        # the sockets its fd arguments name, before the call changes the table (a close, a
        # dup2 onto a socket): fd -> id
        named = self._named(proc, name, cls, args, a)

        if name == "socket" or name == "socketpair":
            if ok:
                st_args = (args["domain"], args["type"])
                cloexec = "SOCK_CLOEXEC" in args["type_flags"]
                if name == "socket":
                    fds = (r,)
                    gone += proc.add(r, proc.root.new_socket(
                        *st_args, inode=kernel.socket_inode(proc.pid, r)), cloexec)
                else:
                    pair = dec.socketpair_fds(proc.mem, a)
                    if pair is not None:
                        fds = tuple(pair)
                        unnamed = {"family": args["domain"]}
                        for fd in pair:
                            gone += proc.add(fd, proc.root.new_socket(
                                *st_args, local=unnamed, peer=unnamed,
                                inode=kernel.socket_inode(proc.pid, fd)), cloexec)
                sock = socks[fds[0]].identity(fds[0]) if fds else None
        elif name == "accept" or name == "accept4":
            listener = socks.get(args["fd"]) or self._resolve(proc, args["fd"])
            if ok:
                fds = (r,)
                family = listener.family if listener else (args["addr"] or {}).get("family", "unknown")
                typ = listener.type if listener else "SOCK_STREAM"
                local = listener.local if listener else None
                if not _specific(local):  # a wildcard listener: the kernel says which address
                    local = self._local_address(proc, r) or local
                gone += proc.add(r, proc.root.new_socket(
                    family, typ, local=local, peer=args["addr"],
                    inode=kernel.socket_inode(proc.pid, r)),
                    "SOCK_CLOEXEC" in args.get("flags", ()))
                sock = socks[r].identity(r)
            elif listener is not None:
                sock = listener.identity(args["fd"])
        elif cls == "net":
            fd = args["fd"]
            st = socks.get(fd) or self._resolve(proc, fd)
            if st is not None:
                if ok or (name == "connect" and r == -115):  # EINPROGRESS
                    if name == "bind":
                        st.local = args["addr"]
                    elif name == "connect":
                        st.peer = args["addr"]
                    elif name == "getsockname":
                        st.local = args["addr"] or st.local
                    elif name == "getpeername":
                        st.peer = args["addr"] or st.peer
                sock = st.identity(fd)
            rights = args.get("rights")
            if rights and ok:  # fds passed over a unix socket (SCM_RIGHTS)
                if self.syscalls.moves.get(name) == "receive":  # new fds for the receiver
                    fds = tuple(fd for fd in rights if self._resolve(proc, fd) is not None)
                    for fd in fds:  # the copy in flight has arrived
                        socks[fd].inflight = max(0, socks[fd].inflight - 1)
                else:  # the sockets sent are named by the call, and are in flight
                    for fd in rights:
                        if self._known(proc, fd):
                            named[fd] = socks[fd].id
                            socks[fd].inflight += 1
        elif cls == "io" or cls == "desc":
            fd, st = self._socket_arg(proc, name, a)
            if st is None:
                record = False
            else:
                sock = st.identity(fd)
        elif cls == "fd":
            record, fds, sock = self._fd_call(proc, name, args, a, r, gone)
        elif cls == "new_fd":  # a new fd for a file another process holds: a socket?
            st = self._resolve(proc, r) if ok else None
            if st is None:
                return
            fds, sock = (r,), st.identity(r)
        elif cls == "epoll_new":
            # recorded only once a socket is added to it (see _readiness)
            if ok:
                proc.drop(r)
                proc.epolls[r] = {}
                if "EPOLL_CLOEXEC" in args["flags"]:
                    proc.cloexec.add(r)
                proc.epoll_births[r] = (task.tid, name, args, r, time.monotonic_ns())
            return
        else:  # readiness
            record = self._readiness(task, name, args, a, r, task.entry)
            named = self._watched(proc, name, args)
        released = self._released(proc.root, gone) if gone else ()
        if not record:
            return
        ids = {**named, **{fd: socks[fd].id for fd in fds if fd in socks}}
        if sock is not None and ids.items() <= {(sock[0], sock[5])}:
            ids = {}  # the one socket is the event's `sock`
        self._record(task, name, args, res, fds, sock, ids=tuple(ids.items()),
                     released=released)

    def _fd_call(self, proc: Proc, name: str, args: dict[str, Any], a: tuple[int, ...],
                 r: int, gone: list[SockState]
                 ) -> tuple[bool, tuple[int, ...], tuple[Any, ...] | None]:
        """A call on the fd table; the sockets whose last fd here it closed go to gone."""
        socks = proc.socks
        ok = r >= 0
        if name == "close":
            fd = args["fd"]
            st = socks.get(fd)
            if r != -9:  # EBADF: it was not open; anything else closed it
                gone += proc.drop(fd)
            return st is not None, (), st.identity(fd) if st else None
        if name == "close_range":
            first, last = args["first"], args["last"]
            hit = sorted(fd for fd in list(socks) + list(proc.epolls) if first <= fd <= last)
            args["sockets"] = [fd for fd in hit if fd in socks]
            if ok:
                for fd in hit:
                    if "CLOSE_RANGE_CLOEXEC" in args["flags"]:
                        proc.set_cloexec(fd, True)
                    else:
                        gone += proc.drop(fd)
                if "CLOSE_RANGE_CLOEXEC" not in args["flags"]:
                    proc.notsock -= {fd for fd in proc.notsock if first <= fd <= last}
            return bool(args["sockets"]), (), None
        if name in ("dup", "dup2", "dup3"):
            old = args["oldfd"]
            st = socks.get(old)
            target = socks.get(args.get("newfd", -1))
            if ok:
                gone += proc.dup(old, r, "O_CLOEXEC" in args.get("flags", ()))
                fds: tuple[int, ...] = (r,)
            else:
                fds = ()
            rec = st is not None or target is not None
            return rec, fds, st.identity(old) if st else None
        fd = args["fd"]
        st = socks.get(fd)
        if name == "fcntl":
            cmd = args["cmd"]
            fds = ()
            if ok and cmd in ("F_DUPFD", "F_DUPFD_CLOEXEC"):
                gone += proc.dup(fd, r, cmd == "F_DUPFD_CLOEXEC")
                fds = (r,)
            elif ok and cmd == "F_SETFD":
                proc.set_cloexec(fd, "FD_CLOEXEC" in args["arg"])
            return st is not None, fds, st.identity(fd) if st else None
        # ioctl
        if ok and args["request"] in ("FIOCLEX", "FIONCLEX"):
            proc.set_cloexec(fd, args["request"] == "FIOCLEX")
        return st is not None, (), st.identity(fd) if st else None

    def _readiness(self, task: Task, name: str, args: dict[str, Any], a: tuple[int, ...],
                   r: int, entry: dict[str, Any] | None) -> bool:
        proc = task.proc
        socks = proc.socks
        known = self._known
        if name in ("poll", "ppoll"):
            return any([known(proc, p["fd"]) for p in args["fds"]])
        if name in ("select", "pselect6"):
            if entry:  # the sets watched and the timeout asked for, not what came back
                ready = args.pop("ready")
                args.pop("timeout_ms")
                args.update(entry)
                args["ready"] = ready
            watched = [fd for key in ("readfds", "writefds", "exceptfds")
                       for fd in args.get(key) or ()]
            return any([known(proc, fd) for fd in watched])
        if name == "epoll_ctl":
            epfd, fd, op = args["epfd"], args["fd"], args["op"]
            interest = proc.epolls.setdefault(epfd, {})
            birth = proc.epoll_births.get(epfd)
            if birth is not None and known(proc, fd):
                del proc.epoll_births[epfd]
                tid, bname, bargs, bres, ts = birth
                self._record(self.tasks.get(tid, task), bname, bargs, bres, (bres,), ts_ns=ts)
            if r >= 0:
                if op == "EPOLL_CTL_DEL":
                    interest.pop(fd, None)
                else:
                    interest[fd] = args.get("user_data", fd)
            return fd in socks
        # epoll_wait family
        interest = proc.epolls.get(args["epfd"], {})
        by_data = {data: fd for fd, data in interest.items()}
        events = self.decoder.t["epoll_events"]
        args["ready"] = [{"fd": by_data.get(data), "events": events.flags(ev)}
                         for ev, data in self.decoder.epoll_ready(proc.mem, a, r)]
        args["watching"] = sorted(fd for fd in interest if known(proc, fd))
        return bool(args["watching"])


def _specific(addr: Any) -> bool:
    """Whether an address names one local address (not a wildcard, 0.0.0.0 or ::, nor
    unknown): an accepted socket's own address is then its listener's."""
    return isinstance(addr, dict) and addr.get("address") not in (None, "0.0.0.0", "::") \
        or isinstance(addr, dict) and "path" in addr
