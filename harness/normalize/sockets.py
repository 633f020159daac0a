"""Which sockets of a trace are the echo's, and what the others are.

The walk over a trace (harness/normalize/sockets_walk.py) finds every socket and what each
event did to it; `walk_sockets` picks the walk the trace allows. The echo sockets are found
from the run's address (its host and port, or for the unix scenario its socket path): the
stream socket bound to it (the listener), the sockets accepted from that listener
(connections), the socket connected to it (the client's), and for datagrams the socket bound
to it (the UDP server's) or sending to it (the UDP client's: any send that names it, each
message of a sendmmsg too). A program may name another address of this machine than the run's
host: a socket bound to the run's port is the run's whatever address it binds (every interface,
0.0.0.0 or [::]; the host name's address, 127.0.1.1 on Debian; another loopback address: a
bind can only name this machine's addresses), and one connected or sending to the run's port on
a loopback address or the host name's is the run's too (`this_machine`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.formats.model import SyscallEvent, Trace
from harness.normalize.sockets_walk import (SocketInfo, SocketWalk, walk_sockets_by_fd,
                                            walk_sockets_by_id)
from harness.normalize.syscalls import SyscallTable

# Addresses a server may bind that also take connections for the run's address.
WILDCARDS = frozenset({"0.0.0.0", "::"})


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


def walk_sockets(trace: Trace, table: SyscallTable) -> SocketWalk:
    """Every socket of the trace and what each event did to it: by the tracer's socket ids,
    or for a trace without them (schema versions 1 and 2) by following the fds."""
    if not any(e.sock is not None and e.sock.id is not None for e in trace.events):
        return walk_sockets_by_fd(trace, table)
    return walk_sockets_by_id(trace, table)


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
