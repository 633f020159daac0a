"""Which socket each event of a trace worked on: the walk over a trace, and what it finds.

The tracer gives every socket an id and every event the ids of the sockets it named or
created (schema version 3): walking a trace is then gathering, per id, what was done to it.
Traces of older versions carry no ids: for them `walk_sockets_by_fd` follows the fds the way
the tracer does, from the call that creates a socket (socket, accept, socketpair) to the close
of its last fd, through fd reuse, dup* and fcntl(F_DUPFD), threads sharing their process's
fds, and forked children starting with copies of their parent's. Which of the sockets found
are the echo's is harness/normalize/sockets.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.formats.model import Address, SyscallEvent, Trace
from harness.normalize.syscalls import SyscallTable

# errno of a socket-only call made on an fd that is not a socket (or not open)
NOT_A_SOCKET = frozenset({"ENOTSOCK", "EBADF"})


@dataclass(frozen=True, slots=True)
class SocketInfo:
    """One socket over its lifetime, as the walk over a trace saw it."""

    id: int  # index in SocketWalk.sockets
    pid: int  # process that created it (or first used it)
    seq: int  # event that created it; 0 when the trace never showed its creation
    origin: str  # socket | accept | socketpair | unknown
    family: str | int | None  # AF_INET, AF_UNIX, ... (None when unknown)
    type: str | int | None  # SOCK_STREAM, ...
    fds: tuple[int, ...]  # the fds its creating call returned
    listener: int | None = None  # for an accepted socket: id of the listening socket
    bound: Address | None = None  # last address passed to bind
    connected: Address | None = None  # last address passed to connect
    connects: tuple[Address, ...] = ()  # every address passed to connect, each once, in order
    listening: bool = False  # listen was called on it
    sent_to: tuple[Address, ...] = ()  # addresses given to sendto/sendmsg, each once
    transfers: int = 0  # calls that moved data into or out of it (or tried to)
    # its local address as the tracer last knew it (a listener bound to port 0, or never
    # bound: the port the kernel gave it)
    local: Address | None = None

    @property
    def datagram(self) -> bool:
        return self.type == "SOCK_DGRAM"


@dataclass(frozen=True, slots=True)
class SocketWalk:
    """The sockets of a trace, and which of them each event named or created."""

    sockets: tuple[SocketInfo, ...]  # by id
    named: Mapping[int, Mapping[int, int]]  # event seq -> {fd named in its args: socket id}
    created: Mapping[int, tuple[int, ...]]  # event seq -> ids of the sockets it created
    touched: Mapping[int, tuple[int, ...]]  # event seq -> ids it worked on, created ones first
    # event seq -> ids of the sockets whose last reference it released (trace schema 4: a
    # close, a dup2 over an fd, an exec's close-on-exec fds, a process's exit)
    released: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    # whether the trace says which event released each socket's last reference (schema 4):
    # then a close of one of several fds of a socket is not the socket's close
    references: bool = False


def fd_values(value: Any) -> Iterator[int]:
    """The fds in one fd-valued argument: an int, a list of ints, or a list of {fd: ...}."""
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                fd = item.get("fd")
                if isinstance(fd, int) and not isinstance(fd, bool):
                    yield fd
            elif isinstance(item, int) and not isinstance(item, bool):
                yield item


def named_fds(event: SyscallEvent, table: SyscallTable) -> list[int]:
    fds: list[int] = []
    for key in table.fd_args:
        if key in event.args:
            for fd in fd_values(event.args[key]):
                if fd >= 0 and fd not in fds:
                    fds.append(fd)
    return fds


def addresses_sent_to(args: Mapping[str, Any]) -> list[Address]:
    """The addresses a send names: its own, or each of its messages' (sendmmsg)."""
    found = [args["addr"]] if isinstance(args.get("addr"), dict) else []
    msgs = args.get("msgs")
    for m in msgs if isinstance(msgs, list) else ():
        if isinstance(m, dict) and isinstance(m.get("addr"), dict):
            found.append(m["addr"])
    return found


class _Gather:
    """What a walk learns about the sockets, as mutable records until it is done."""

    def __init__(self) -> None:
        self.sockets: list[dict[str, Any]] = []
        self.named: dict[int, dict[int, int]] = {}
        self.created: dict[int, tuple[int, ...]] = {}
        self.touched: dict[int, tuple[int, ...]] = {}
        self.released: dict[int, tuple[int, ...]] = {}
        self.references = False

    def effects(self, ev: SyscallEvent, names: Mapping[int, int], table: SyscallTable) -> None:
        """What the call did to the sockets it names, as the syscall table says: binds,
        connects, listens, sends (with the addresses they name)."""
        sockets = self.sockets
        if table.transfers(ev.syscall):
            for i in set(names.values()):
                sockets[i]["transfers"] = sockets[i].get("transfers", 0) + 1

        def target(effect: str) -> int | None:
            arg = table.effect_arg(ev.syscall, effect, ev.args)
            fd = ev.args.get(arg) if arg is not None else None
            return names.get(fd) if isinstance(fd, int) else None

        if ev.sock is not None and ev.sock.local and ev.sock.fd in names:
            sockets[names[ev.sock.fd]]["local"] = ev.sock.local
        if (t := target("bind")) is not None:
            sockets[t]["bound"] = ev.args.get("addr")
        if (t := target("connect")) is not None:
            sockets[t]["connected"] = ev.args.get("addr")
            seen = sockets[t].setdefault("connects", ())
            if isinstance(ev.args.get("addr"), dict) and ev.args["addr"] not in seen:
                sockets[t]["connects"] = seen + (ev.args["addr"],)
        if (t := target("listen")) is not None and not ev.failed:
            sockets[t]["listening"] = True
        if (t := target("send")) is not None:
            for addr in addresses_sent_to(ev.args):
                sent = sockets[t].setdefault("sent_to", ())
                if addr not in sent:
                    sockets[t]["sent_to"] = sent + (addr,)

    def walk(self) -> SocketWalk:
        return SocketWalk(sockets=tuple(SocketInfo(**s) for s in self.sockets),
                          named=self.named, created=self.created, touched=self.touched,
                          released=self.released, references=self.references)


def walk_sockets_by_id(trace: Trace, table: SyscallTable) -> SocketWalk:
    """The walk of a trace whose events carry the tracer's socket ids."""
    g = _Gather()
    index: dict[int, int] = {}  # tracer's socket id -> index in g.sockets

    def released(ev: SyscallEvent) -> None:
        if ev.released:
            g.references = True
            g.released[ev.seq] = tuple(index[i] for i in ev.released if i in index)

    for ev in trace.events:
        if ev.kind == "process":
            released(ev)
            continue
        pairs = dict(ev.ids)
        if ev.sock is not None and ev.sock.id is not None:
            pairs.setdefault(ev.sock.fd, ev.sock.id)
        creating = not ev.failed and (table.in_class(ev.syscall, "socket_create")
                                      or table.in_class(ev.syscall, "accept_like"))
        new_fds = ev.fds
        if creating and not new_fds and isinstance(ev.result, int) and ev.result >= 0:
            new_fds = (ev.result,)  # an io_uring operation: the new fd is its result
        made: list[int] = []
        for fd, sid in pairs.items():
            if sid in index:
                continue
            new = creating and fd in new_fds
            origin = ("socketpair" if table.base(ev.syscall) == "socketpair" else
                      "accept" if table.in_class(ev.syscall, "accept_like") else
                      "socket") if new else "unknown"
            family = typ = None
            if new and origin != "accept":
                family, typ = ev.args.get("domain"), ev.args.get("type")
            if ev.sock is not None and ev.sock.id == sid:
                family, typ = family or ev.sock.family, typ or ev.sock.type
            listener = None
            if origin == "accept":
                lfd = ev.args.get("fd")
                listener = index.get(pairs.get(lfd, -1)) if isinstance(lfd, int) else None
            index[sid] = len(g.sockets)
            g.sockets.append({"id": len(g.sockets), "pid": ev.pid,
                              "seq": ev.seq if new else 0, "origin": origin,
                              "family": None if family == "unknown" else family,
                              "type": None if typ == "unknown" else typ,
                              "fds": tuple(new_fds) if new else (fd,), "listener": listener})
            if new:
                made.append(index[sid])
        names = {fd: index[pairs[fd]] for fd in named_fds(ev, table) if fd in pairs}
        g.named[ev.seq] = names
        g.created[ev.seq] = tuple(made)
        created_or_dup = [index[pairs[fd]] for fd in new_fds if fd in pairs]
        g.touched[ev.seq] = tuple(dict.fromkeys(created_or_dup + list(names.values())))
        g.effects(ev, names, table)
        released(ev)
    return g.walk()


def walk_sockets_by_fd(trace: Trace, table: SyscallTable) -> SocketWalk:
    """Follow every socket of the trace through its fds, processes and threads."""
    parents = {p.pid: p.parent for p in trace.processes}
    fd_tables: dict[int, dict[int, int]] = {}
    g = _Gather()
    sockets, named, created, touched = g.sockets, g.named, g.created, g.touched

    def fds_of(pid: int) -> dict[int, int]:
        if pid not in fd_tables:
            # A child seen before its parent's fork record: start from the parent's fds.
            parent = parents.get(pid)
            fd_tables[pid] = dict(fd_tables.get(parent, {})) if parent is not None else {}
        return fd_tables[pid]

    def new_socket(ev: SyscallEvent, origin: str, fd: int, **extra: Any) -> int:
        sock = ev.sock if ev.sock is not None and ev.sock.fd == fd else None
        family = ev.args.get("domain") if origin in ("socket", "socketpair") else None
        typ = ev.args.get("type") if origin in ("socket", "socketpair") else None
        if sock is not None:
            family, typ = family or sock.family, typ or sock.type
        sockets.append({"id": len(sockets), "pid": ev.pid, "seq": ev.seq if origin != "unknown"
                        else 0, "origin": origin, "family": family, "type": typ,
                        "fds": tuple(ev.fds) if origin != "unknown" else (fd,), **extra})
        return len(sockets) - 1

    for ev in trace.events:
        if ev.kind == "process":
            if table.in_class(ev.syscall, "fork_like") and not ev.args.get("thread"):
                child = ev.args.get("child", ev.result)
                if isinstance(child, int) and child > 0:
                    fd_tables[child] = dict(fds_of(ev.pid))
            continue
        fds = fds_of(ev.pid)
        made: dict[int, int] = {}
        # 1. the sockets (or socket fds) this call created
        if not ev.failed and ev.fds:
            if table.in_class(ev.syscall, "socket_create"):
                origin = "socketpair" if table.base(ev.syscall) == "socketpair" else "socket"
                for fd in ev.fds:
                    made[fd] = new_socket(ev, origin, fd)
            elif table.in_class(ev.syscall, "accept_like"):
                lfd = ev.args.get("fd", -1)
                if isinstance(lfd, int) and lfd >= 0 and lfd not in fds:
                    # a listener made before the trace began (the accept's `sock` is the
                    # new socket's, so nothing is known of it)
                    fds[lfd] = len(sockets)
                    sockets.append({"id": len(sockets), "pid": ev.pid, "seq": 0,
                                    "origin": "unknown", "family": None, "type": None,
                                    "fds": (lfd,)})
                listener = fds.get(lfd)
                made[ev.fds[0]] = new_socket(ev, "accept", ev.fds[0], listener=listener)
                if ev.sock is not None and sockets[-1]["family"] is None:
                    sockets[-1]["family"], sockets[-1]["type"] = ev.sock.family, ev.sock.type
            else:  # dup*, fcntl(F_DUPFD): one more fd for a socket already known
                old = ev.args.get("oldfd", ev.args.get("fd"))
                if isinstance(old, int) and old in fds:
                    made[ev.fds[0]] = fds[old]
        # 2. the sockets its fd arguments name
        names: dict[int, int] = {}
        for fd in named_fds(ev, table):
            if fd in made:
                names[fd] = made[fd]
            elif fd in fds:
                names[fd] = fds[fd]
            elif (not table.in_class(ev.syscall, "readiness") and ev.errno not in NOT_A_SOCKET
                  and (not table.in_class(ev.syscall, "two_ended")
                       or (ev.sock is not None and ev.sock.fd == fd))):
                # The tracer records these calls only for socket fds: a socket made before
                # the trace began. Readiness calls may also watch pipes, so not for them;
                # and a socket-only call that failed with ENOTSOCK or EBADF (the JVM asks
                # getsockname(0) whether inetd started it) shows the fd is no socket at all;
                # of a sendfile's or a splice's two fds, only the one the tracer names is one.
                fds[fd] = names[fd] = new_socket(ev, "unknown", fd)
        fds.update(made)
        new_ids = tuple(dict.fromkeys(made.values()))
        named[ev.seq] = names
        created[ev.seq] = tuple(i for i in new_ids if sockets[i]["seq"] == ev.seq)
        touched[ev.seq] = tuple(dict.fromkeys(new_ids + tuple(names.values())))
        g.effects(ev, names, table)  # 3. what the call did to them
        if table.does(ev.syscall, "release") and not table.in_class(ev.syscall, "fd_copy"):
            # the fds it closed: its fd, or a range of them (close_range)
            if "first" in ev.args and not ev.failed:
                first, last = ev.args.get("first", 0), ev.args.get("last", -1)
                for fd in [f for f in fds if first <= f <= last]:
                    del fds[fd]
            else:
                arg = table.effect_arg(ev.syscall, "release", ev.args)
                if arg is not None and isinstance(ev.args.get(arg), int):
                    fds.pop(ev.args[arg], None)
    return g.walk()
