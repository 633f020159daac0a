"""Which socket each event of a trace worked on, and which sockets are the echo's.

The tracer gives every socket an id and every event the ids of the sockets it named or
created (schema version 3): walking a trace is then gathering, per id, what was done to it.
Traces of older versions carry no ids: for them `walk_sockets_by_fd` follows the fds the way
the tracer does, from the call that creates a socket (socket, accept, socketpair) to the close
of its last fd, through fd reuse, dup* and fcntl(F_DUPFD), threads sharing their process's
fds, and forked children starting with copies of their parent's.

The echo sockets are found from the run's address (its host and port, or for the unix scenario
its socket path): the stream socket bound to it (the listener), the sockets accepted from that
listener (connections), the socket connected to it (the client's), and for datagrams the socket
bound to it (the UDP server's) or sending to it (the UDP client's: any send that names it, each
message of a sendmmsg too). A program may name another address of this machine than the run's
host: a socket bound to the run's port is the run's whatever address it binds (every interface,
0.0.0.0 or [::]; the host name's address, 127.0.1.1 on Debian; another loopback address: a
bind can only name this machine's addresses), and one connected or sending to the run's port on
a loopback address or the host name's is the run's too (`this_machine`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.formats.model import Address, SyscallEvent, Trace
from harness.normalize.syscalls import SyscallTable

# Addresses a server may bind that also take connections for the run's address.
WILDCARDS = frozenset({"0.0.0.0", "::"})
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


def socket_fds(ev: SyscallEvent) -> frozenset[int]:
    """The fds of an event that the tracer says are sockets (its sock, its ids)."""
    fds = {fd for fd, _ in ev.ids}
    if ev.sock is not None:
        fds.add(ev.sock.fd)
    return frozenset(fds)


def direction(ev: SyscallEvent, table: SyscallTable) -> str | None:
    """recv or send: what the event is at its socket end (sendfile into a socket is a send,
    splice out of one a receive), from the table's effects; None when it moves no bytes
    through a socket."""
    fds = socket_fds(ev)
    return table.direction(ev.syscall, ev.args, lambda v: isinstance(v, int) and v in fds)


def addresses_sent_to(args: Mapping[str, Any]) -> list[Address]:
    """The addresses a send names: its own, or each of its messages' (sendmmsg)."""
    found = [args["addr"]] if isinstance(args.get("addr"), dict) else []
    msgs = args.get("msgs")
    for m in msgs if isinstance(msgs, list) else ():
        if isinstance(m, dict) and isinstance(m.get("addr"), dict):
            found.append(m["addr"])
    return found


def walk_sockets(trace: Trace, table: SyscallTable) -> SocketWalk:
    """Every socket of the trace and what each event did to it: by the tracer's socket ids,
    or for a trace without them (schema versions 1 and 2) by following the fds."""
    if not any(e.sock is not None and e.sock.id is not None for e in trace.events):
        return walk_sockets_by_fd(trace, table)
    return walk_sockets_by_id(trace, table)


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


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _same_ip(a: Any, b: str) -> bool:
    """Equal as IP addresses (0:0:0:0:0:0:0:1 is ::1), else as strings."""
    if a == b:
        return True
    try:
        return ipaddress.ip_address(str(a)) == ipaddress.ip_address(b)
    except ValueError:
        return False


def this_machine(address: Any, local: Iterable[str] = ()) -> bool:
    """A loopback address (127.0.0.0/8, ::1), or one of `local`, the addresses the host
    name resolved to when the run was made (RunRecord.host_addresses): never a wildcard."""
    try:
        ip = ipaddress.ip_address(str(address))
    except ValueError:
        return False
    return ip.is_loopback or any(_same_ip(address, a) for a in local)


def address_matches(addr: Any, host: str, port: int, path: str | None = None,
                    bound: bool = False, local: Iterable[str] = ()) -> bool:
    """Whether a decoded address is the run's: its socket path when the run has one (unix),
    else its port and its host (a v4-mapped IPv6 address counts as its IPv4). A bound
    address (`bound`) is the run's on its port whatever its address: a bind can only name an
    address of this machine, or every one (0.0.0.0, [::]), and a server bound to 0.0.0.0 or
    to the host name's address (127.0.1.1) is the run's server. Any other is the run's when it
    names this machine (a loopback address, or one of `local`: the host name's addresses);
    never a wildcard: a socket connected to [::]:PORT (glibc's address-sorting probe) does
    not talk to the run's address."""
    if not isinstance(addr, dict):
        return False
    if path:
        return addr.get("family") == "AF_UNIX" and addr.get("path") == path
    if not port:  # a run without a port (icmp-echo): a raw or ICMP socket sends to the host
        return _is_ip(host) and not addr.get("port") and _same_ip(addr.get("address"), host)
    if addr.get("port") != port:
        return False
    if not _is_ip(host):  # a host name: only the port can be checked
        return True
    address = addr.get("address")
    if _same_ip(address, host) or _same_ip(addr.get("v4mapped"), host):
        return True
    if bound:
        return address is not None or addr.get("v4mapped") is not None
    return this_machine(addr.get("v4mapped") or address, local)


def echo_roles(walk: SocketWalk, host: str, port: int,
               path: str | None = None, local: Iterable[str] = (),
               learned: bool = False) -> dict[int, str]:
    """socket id -> listener | conn | sock, for the echo's sockets: the one bound to the run's
    address (a listener, or for datagrams the UDP server's only socket, `sock` like the
    client's), the connections accepted from a listener, and the sockets connected or
    sending to the run's address.

    A datagram socket that was connected to the run's address but never carried a byte is
    not one of them: a connect on a datagram socket sends nothing, it only asks the kernel
    for a route, which is what getaddrinfo's address-sorting probe does with every address
    it returns. That probe is an unrelated socket."""
    roles: dict[int, str] = {}

    def matches(addr: Any, bound: bool = False) -> bool:
        return address_matches(addr, host, port, path, bound=bound, local=local)

    for s in walk.sockets:
        # (a server that chose its port, `port: own`, bound port 0 or never bound: the port
        # its listener, or its datagram socket, got is the run's)
        if matches(s.bound, bound=True) or (
                s.origin != "accept" and (s.listening or (s.datagram and s.bound is not None))
                and matches(s.local, bound=True)):
            roles[s.id] = "sock" if s.datagram else "listener"
    if learned and not roles:
        # the run's port was the one the kernel gave a server that bound port 0 (`port:
        # own`), which its trace may not hold: its first listener, or datagram socket bound
        # to port 0, is the run's
        first = next((s for s in walk.sockets if s.origin != "accept" and (
            s.listening or (s.datagram and isinstance(s.bound, dict)
                            and s.bound.get("port") == 0))), None)
        if first is not None:
            roles[first.id] = "sock" if first.datagram else "listener"
    for s in walk.sockets:
        if s.id in roles:
            continue
        if s.origin == "accept" and s.listener in roles:
            roles[s.id] = "conn"
        elif any(matches(a) for a in s.sent_to):
            roles[s.id] = "sock"
        elif any(matches(a) for a in s.connects) and not (s.datagram and s.transfers == 0):
            roles[s.id] = "sock"
    return roles


def symbolic_names(walk: SocketWalk, roles: Mapping[int, str],
                   bases: Mapping[str, str], other: str) -> dict[int, str]:
    """socket id -> name: the echo's as listener, conn, conn2, sock, sock2 ...; the others as
    other1, other2 ... (numbered in order of creation, so stable across runs)."""
    names: dict[int, str] = {}
    counts: dict[str, int] = {}
    n_other = 0
    for s in sorted(walk.sockets, key=lambda s: (s.seq, s.id)):
        role = roles.get(s.id)
        if role is None:
            n_other += 1
            names[s.id] = f"{other}{n_other}"
            continue
        counts[role] = counts.get(role, 0) + 1
        base = bases.get(role, role)
        names[s.id] = base if counts[role] == 1 else f"{base}{counts[role]}"
    return names


@dataclass(frozen=True, slots=True)
class SocketDescription:
    """What a socket that is not the echo's is, the same from run to run (no fd, no pid)."""

    family: str | None  # AF_UNIX, AF_INET6 ... (None when the trace never showed it)
    type: str | None  # SOCK_STREAM, SOCK_DGRAM ...
    origin: str  # socket | socketpair | accept | unknown (made before the trace)
    bound: str | None = None  # the address it was bound to, as the tables write it
    connects: tuple[str, ...] = ()  # every address it was connected to, in order
    sent_to: tuple[str, ...] = ()  # every address it sent datagrams to
    listening: bool = False


def describe(s: SocketInfo, mask: Any) -> SocketDescription:
    """A socket as an unrelated one is listed: its addresses masked (PORT, PATH) and written
    as the tables write them."""
    from harness.normalize.steps import format_addr

    return SocketDescription(
        family=str(s.family) if s.family is not None else None,
        type=str(s.type) if s.type is not None else None, origin=s.origin,
        bound=format_addr(mask(s.bound)) if s.bound is not None else None,
        connects=tuple(format_addr(mask(a)) for a in s.connects),
        sent_to=tuple(format_addr(mask(a)) for a in s.sent_to), listening=s.listening)
