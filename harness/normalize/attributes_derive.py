"""How a sample's attributes are read off its socket view, what the socket rules set aside, what
the canonical rules folded away and counted, and the trace's process list.

`derive_attributes` makes the `Attributes` of one trace (harness/normalize/attributes.py says
what each is); each of the functions before it reads one of them: the I/O model, the
readiness APIs, address families and socket types, how each connection ended, how each
datagram socket names its peer, the calls counted, unrelated sockets, io_uring use and the
addresses the echo's sockets bound or connected to.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from harness.formats.model import RunRecord, Trace
from harness.normalize.attributes import (AddressKind, Addressing, Attributes, CallCount,
                                          ConnectionEnd, DatagramSocket, EndStep, IOModel,
                                          NamedAddress, ReadinessUse, SocketOption, Switch,
                                          UnrelatedSocket, UringUse)
from harness.normalize.kinds.match import has_effect, transfer_direction
from harness.normalize.sockets_walk import addresses_sent_to
from harness.normalize.steps import Step
from harness.normalize.syscalls import SyscallTable


def _flags(step: Step, key: str) -> list[Any]:
    value = step.args.get(key)
    return value if isinstance(value, list) else []


def io_model(steps: Sequence[Step], table: SyscallTable) -> IOModel:
    """How the echo sockets avoid blocking, if they do. A socket made non-blocking for a few
    calls and blocking again is a switch, which leaves the sample blocking when nothing else
    is non-blocking."""
    means: list[str | Switch] = []  # each way of not blocking, in order of first use
    switched: dict[str, tuple[int, str, list[str]]] = {}  # fd -> (index in means, how, calls)

    def switch(fd: str, how: str, on: bool) -> None:
        if on and fd not in switched:
            switched[fd] = (len(means), how, [])
            means.append(how)
        elif not on and fd in switched:
            at, how_on, calls = switched.pop(fd)
            means[at] = Switch(how=how_on, around=tuple(dict.fromkeys(calls)))

    signals: list[str] = []  # how signal-driven I/O was asked for
    nonblocking: dict[str, bool] = {}  # socket name -> non-blocking now
    blocked: list[str] = []  # sockets that accepted, connected or moved data blocking

    def signal(how: str) -> None:
        if how not in signals:
            signals.append(how)

    for s in steps:
        request, cmd = s.args.get("request"), s.args.get("cmd")
        if s.creates and not s.errno:
            nonblocking[s.creates] = False
        if table.in_class(s.syscall, "socket_create") and "SOCK_NONBLOCK" in _flags(s, "type_flags"):
            means.append("SOCK_NONBLOCK")
            if s.creates:
                nonblocking[s.creates] = True
        elif table.in_class(s.syscall, "accept_like") and "SOCK_NONBLOCK" in _flags(s, "flags"):
            means.append(f"{s.syscall}(SOCK_NONBLOCK)")
            if s.creates:
                nonblocking[s.creates] = True
        elif request == "FIONBIO":
            switch(s.fd, f"{s.syscall}(FIONBIO)", bool(s.args.get("arg")))
            if not s.errno:
                nonblocking[s.fd] = bool(s.args.get("arg"))
        elif cmd == "F_SETFL":
            switch(s.fd, f"{s.syscall}(O_NONBLOCK)", "O_NONBLOCK" in _flags(s, "arg"))
            if not s.errno:
                nonblocking[s.fd] = "O_NONBLOCK" in _flags(s, "arg")
            if "O_ASYNC" in _flags(s, "arg") and not s.errno:
                signal(f"{s.syscall}(O_ASYNC)")
        elif request == "FIOASYNC" and s.args.get("arg") and not s.errno:
            signal(f"{s.syscall}(FIOASYNC)")
        elif cmd in SIGNAL_OWNER or request in SIGNAL_OWNER:
            if not s.errno:
                signal(f"{s.syscall}({cmd if cmd in SIGNAL_OWNER else request})")
        else:
            if "MSG_DONTWAIT" in _flags(s, "flags"):
                means.append("MSG_DONTWAIT")
            if s.fd in switched and not (table.in_class(s.syscall, "readiness")
                                         or table.in_class(s.syscall, "housekeeping")):
                switched[s.fd][2].append(s.syscall)
            if (table.in_class(s.syscall, "accept_like")
                    or table.effect_arg(s.syscall, "connect", s.args) is not None
                    or table.direction(s.syscall, s.args, lambda v: v == s.fd) is not None) \
                    and isinstance(s.fd, str) and not nonblocking.get(s.fd, False) \
                    and "MSG_DONTWAIT" not in _flags(s, "flags"):
                blocked.append(s.fd)
    lasting_sockets = [fd for fd, on in nonblocking.items() if on]
    return IOModel(lasting=tuple(dict.fromkeys(m for m in means if isinstance(m, str))),
                   switches=tuple(dict.fromkeys(m for m in means if isinstance(m, Switch))),
                   signal_driven=tuple(signals), nonblocking=tuple(lasting_sockets),
                   blocking_sockets=tuple(fd for fd in dict.fromkeys(blocked)
                                          if fd not in lasting_sockets))


# fcntl commands and ioctl requests that say which process gets SIGIO (signal-driven I/O)
SIGNAL_OWNER = frozenset({"F_SETOWN", "F_SETOWN_EX", "F_SETSIG", "FIOSETOWN", "SIOCSPGRP"})


def readiness(steps: Sequence[Step], table: SyscallTable) -> tuple[tuple[ReadinessUse, ...],
                                                                   int]:
    """The readiness APIs the echo sockets were given to, and how many times the sample
    waited (registrations, epoll_ctl, are not waits)."""
    calls = [s for s in steps if table.in_class(s.syscall, "readiness")]
    apis: dict[str, list[str]] = {}
    for s in calls:
        api = table.readiness_apis.get(table.base(s.syscall), s.syscall)
        waits = apis.setdefault(api, [])
        if table.does(s.syscall, "wait") and s.syscall not in waits:
            waits.append(s.syscall)
    uses = []
    for api, waits in apis.items():
        edge = None
        if api == "epoll":
            edge = any("EPOLLET" in _flags(s, "events") for s in calls
                       if table.does(s.syscall, "register"))
        uses.append(ReadinessUse(api=api, waits=tuple(waits), edge_triggered=edge))
    return tuple(uses), sum(1 for s in calls if table.does(s.syscall, "wait"))


def families(steps: Sequence[Step], table: SyscallTable) -> tuple[tuple[str, ...], bool]:
    found = tuple(dict.fromkeys(str(s.args["domain"]) for s in steps
                                if table.base(s.syscall) == "socket" and "domain" in s.args))
    mapped = any(isinstance(a, dict) and bool(a.get("v4mapped"))
                 for s in steps for a in (s.args.get("addr"),))
    return found, mapped


def _release(s: Step, table: SyscallTable, trace: Trace | None) -> tuple[EndStep, str | None]:
    """How a step that released a socket's last reference did it."""
    if table.in_class(s.syscall, "process"):
        exe = s.args.get("exe") or next((p.exe for p in (trace.processes if trace else ())
                                         if p.pid == s.pid), None)
        program = os.path.basename(str(exe)) if exe else f"pid {s.pid}"
        return (EndStep.EXEC if s.args.get("exe") else EndStep.EXITED), program
    if table.in_class(s.syscall, "fd_copy"):
        return EndStep.REPLACED, s.syscall
    return EndStep.CLOSE, None


def connection_ends(steps: Sequence[Step], table: SyscallTable,
                    trace: Trace | None = None) -> tuple[ConnectionEnd, ...]:
    """How each connection (accepted, connected, or carrying data) was given up. When the
    trace says which event released each socket's last reference (schema 4), that event is
    its end (a close of one of several fds is not); else every close is."""
    references = trace is not None and any(e.released for e in trace.events)
    data_fds = list(dict.fromkeys(
        s.creates if table.in_class(s.syscall, "accept_like") else s.fd for s in steps
        if (transfer_direction(s, table) is not None or table.does(s.syscall, "connect")
            or table.in_class(s.syscall, "accept_like"))
        and not s.errno))
    ends = []
    for fd in data_fds:
        if not fd:  # a call on no named socket (an accept that made none): no connection
            continue
        parts: list[tuple[EndStep, str | None]] = []
        own_eof = False  # after shutdown(SHUT_RD or SHUT_RDWR) a receive gets EOF at once
        for s in steps:
            if s.fd != fd:
                continue
            kinds = [k for k, _ in parts]
            if references and table.does(s.syscall, "release"):
                if s.args.get("released") == fd and not s.errno:
                    parts.append(_release(s, table, trace))
            elif table.does(s.syscall, "shutdown"):
                how = s.args.get("how")
                parts.append((EndStep.SHUTDOWN, str(how)))
                own_eof = own_eof or how in ("SHUT_RD", "SHUT_RDWR")
            elif s.outcome == "EOF" and not {EndStep.READS_TO_EOF, EndStep.WAITS_FOR_EOF,
                                             EndStep.EOF_AT_ONCE} & set(kinds):
                parts.append((EndStep.EOF_AT_ONCE if own_eof else EndStep.WAITS_FOR_EOF
                              if EndStep.SHUTDOWN in kinds else EndStep.READS_TO_EOF, None))
            elif table.in_class(s.syscall, "close_like") and not s.errno:
                parts.append((EndStep.CLOSE, None))
        if not {EndStep.CLOSE, EndStep.EXITED, EndStep.EXEC, EndStep.REPLACED} \
                & {k for k, _ in parts}:
            parts.append((EndStep.NEVER_CLOSED, None))
        ends.append(ConnectionEnd(socket=fd, steps=tuple(parts)))
    return tuple(ends)


def datagram_sockets(steps: Sequence[Step], table: SyscallTable) -> tuple[DatagramSocket, ...]:
    """How each echo datagram socket names its peer: an address on every sendto, or connect
    once and plain sends (connect is then a step of its own, one the textbook lacks)."""
    dgram = list(dict.fromkeys(s.creates for s in steps
                               if table.base(s.syscall) == "socket"
                               and s.args.get("type") == "SOCK_DGRAM" and not s.errno))
    out = []
    for fd in dgram:
        mine = [s for s in steps if s.fd == fd]
        sends = [s for s in mine if has_effect(s, "send", table)]
        connected = any(table.does(s.syscall, "connect") and not s.errno for s in mine)
        # an address on the call, or on each of its messages (sendmmsg)
        addressed = any(addresses_sent_to(s.args) for s in sends)
        if connected:
            style = Addressing.CONNECT_SENDTO if addressed else Addressing.CONNECT_SEND
        elif addressed:
            style = Addressing.SENDTO
        else:
            style = Addressing.NEVER_SENDS if not sends else Addressing.SEND_WITHOUT_ADDRESS
        out.append(DatagramSocket(socket=fd, addressing=style))
    return tuple(out)


def count_syscalls(steps: Sequence[Step]) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for s in steps:
        counts[s.syscall] = counts.get(s.syscall, 0) + 1
    return tuple(counts.items())


def unrelated_sockets(aside: Sequence[Step]) -> tuple[UnrelatedSocket, ...]:
    groups: dict[Any, list[Step]] = {}
    for s in aside:
        groups.setdefault(s.aside, []).append(s)

    def sockets(group: list[Step]) -> int:
        return len({n.strip() for x in group for n in x.fd.split(",") + x.creates.split(",")
                    if n.strip()})

    return tuple(UnrelatedSocket(what=what, sockets=sockets(group), calls=len(group),
                                 call_counts=count_syscalls(group))
                 for what, group in groups.items())


def socket_types(steps: Sequence[Step], trace: Trace) -> tuple[str, ...]:
    """The types of the echo sockets, as the tracer knew them (SOCK_STREAM, SOCK_DGRAM)."""
    events = {e.seq: e for e in trace.events}
    return tuple(dict.fromkeys(str(ev.sock.type) for s in steps
                               for ev in (events.get(s.seqs[0]),)
                               if ev is not None and ev.sock is not None
                               and ev.sock.type != "unknown"))


def count_calls(steps: Sequence[Step], detail_args: Sequence[str]) -> tuple[CallCount, ...]:
    """Calls by (name, what they asked, errno), in order of first appearance."""
    counts: dict[tuple[str, str | None, str | None], int] = {}
    for s in steps:
        detail = next((str(s.args[a]) for a in detail_args if s.args.get(a) is not None), None)
        key = (s.syscall, detail, s.errno)
        counts[key] = counts.get(key, 0) + 1
    return tuple(CallCount(call=c, detail=d, errno=e, count=n) for (c, d, e), n in counts.items())


def uring_use(steps: Sequence[Step], trace: Trace) -> UringUse | None:
    """The echo's io_uring operations, the io_uring_enter calls on their rings, and the rings
    whose submissions a kernel thread makes (IORING_SETUP_SQPOLL), which are never seen."""
    events = {e.seq: e for e in trace.events}
    ops = [events[s.seqs[0]] for s in steps if s.seqs and s.seqs[0] in events
           and events[s.seqs[0]].kind == "uring"]
    rings = {(e.pid, e.args.get("ring")) for e in ops}
    enters = sum(1 for e in trace.events if e.syscall == "io_uring_enter"
                 and (e.pid, e.args.get("fd")) in rings)
    unseen = sum(1 for e in trace.events if e.syscall == "io_uring_setup" and not e.errno
                 and "IORING_SETUP_SQPOLL" in (e.args.get("flags") or ()))
    if not ops and not unseen:
        return None
    return UringUse(operations=len(ops), enters=enters, unseen_rings=unseen)


def address_kind(addr: Mapping[str, Any], run: RunRecord) -> tuple[AddressKind, str]:
    """What an address an echo socket named is: the run's, every interface, the host name's
    (RunRecord.host_addresses), another loopback address, another address; and the
    address as named (no port)."""
    from harness.normalize.sockets import WILDCARDS, _same_ip

    if "path" in addr or "abstract" in addr:
        return AddressKind.RUN, str(addr.get("path", addr.get("abstract")))
    named = str(addr.get("v4mapped") or addr.get("address") or "")
    if _same_ip(named, run.host):
        return AddressKind.RUN, named
    if named in WILDCARDS:
        return AddressKind.EVERY_INTERFACE, named
    if any(_same_ip(named, a) for a in run.host_addresses):
        return AddressKind.HOST_NAME, named
    import ipaddress

    try:
        loopback = ipaddress.ip_address(named).is_loopback
    except ValueError:
        loopback = False
    return (AddressKind.LOOPBACK if loopback else AddressKind.OTHER), named


def named_addresses(steps: Sequence[Step], table: SyscallTable,
                    run: RunRecord | None) -> tuple[NamedAddress, ...]:
    """The addresses on the run's port (or its path) the echo's sockets were bound or
    connected to (calls that succeeded, or a connect under way), each once, in order."""
    if run is None:
        return ()
    found: dict[NamedAddress, None] = {}
    for s in steps:
        addr = s.args.get("addr")
        if s.errno not in (None, "EINPROGRESS") or not isinstance(addr, dict) or not s.fd \
                or "," in s.fd:  # (a non-blocking connect is under way)
            continue
        call = "bind" if table.does(s.syscall, "bind") else \
            "connect" if table.does(s.syscall, "connect") else None
        if call is None:
            continue
        ports = ("PORT", run.port, 0) if run.port_from == "learned" and call == "bind" \
            else ("PORT", run.port)  # (`port: own`: a bind of port 0, the kernel chose)
        if "path" not in addr and "abstract" not in addr and addr.get("port") not in ports:
            continue  # a port of its own (a UDP client's bind to 0.0.0.0:0): not the run's
        kind, named = address_kind(addr, run)
        found[NamedAddress(socket=s.fd, call=call, kind=kind, address=named)] = None
    return tuple(found)


def derive_attributes(steps: Sequence[Step], aside: Sequence[Step], trace: Trace,
                      table: SyscallTable,
                      tallies: Mapping[str, Sequence[Step]] | None = None,
                      tally_details: Mapping[str, Sequence[str]] | None = None,
                      run: RunRecord | None = None) -> Attributes:
    """The attributes of one trace, from its socket view, what was set aside, and what the
    canonical rules folded away and counted (tallies: name -> steps)."""
    ready, ready_calls = readiness(steps, table)
    backlogs = tuple(dict.fromkeys(s.args.get("backlog") for s in steps
                                   if table.does(s.syscall, "listen")))
    options = tuple(SocketOption(fd=s.fd, level=str(s.args.get("level")),
                                 name=str(s.args.get("optname")), value=s.args.get("value"),
                                 failed=s.errno)
                    for s in steps if s.syscall == "setsockopt")
    would_block = table.errnos(("would_block",))
    fams, mapped = families(steps, table)
    events = {e.seq: e for e in trace.events}
    calls = [s for s in steps if not (s.seqs and s.seqs[0] in events
                                      and events[s.seqs[0]].kind == "process")]
    details = tally_details or {}
    return Attributes(
        io_model=io_model(steps, table), readiness=ready, readiness_calls=ready_calls,
        backlogs=backlogs, families=fams, v4_mapped=mapped,
        socket_types=socket_types(steps, trace), datagrams=datagram_sockets(steps, table),
        options=options, ends=connection_ends(steps, table, trace),
        tallies=tuple((name, count_calls(found, details.get(name, ())))
                      for name, found in (tallies or {}).items()),
        eagain=sum(1 for s in steps if s.errno in would_block),
        threads=sum(max(len(p.threads), 1) for p in trace.processes),
        processes=len(trace.processes), socket_threads=len({s.tid for s in calls}),
        echo_calls=len(calls), unrelated=unrelated_sockets(aside),
        uring=uring_use(steps, trace), addresses=named_addresses(steps, table, run))
