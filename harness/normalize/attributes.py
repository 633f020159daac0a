"""A sample's attributes: what the canonical level folds away, kept visible.

They are read off the socket view (every call on the echo's sockets, nothing folded) and the
trace's process list: I/O model, readiness API, backlog, address family, how datagrams are
addressed, socket options, how the connection is closed, EAGAIN and readiness counts, threads,
unrelated socket activity.
Counts such as EAGAIN vary from run to run: they are metrics, never compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.model import Trace
from harness.normalize.steps import Step, format_value
from harness.normalize.syscalls import SyscallTable


@dataclass(frozen=True, slots=True)
class SocketOption:
    """One setsockopt on an echo socket."""

    fd: str  # symbolic socket name (listener, conn, sock)
    level: str  # SOL_SOCKET, SOL_TCP, ... (or the number)
    name: str  # SO_REUSEADDR, TCP_NODELAY, ... (or the number)
    value: Any  # as decoded: an int, {onoff, linger}, escaped bytes
    failed: str | None = None  # errno name when the call failed
    # Who set it: "sample" (its own code) or "runtime" (its library, by itself), known only
    # when the sample's manifest lists the options it sets (see declare_own_options);
    # "unknown" until then: the trace alone cannot tell.
    origin: str = "unknown"

    @property
    def text(self) -> str:
        value = format_value(self.value)
        who = "" if self.origin == "unknown" else f", by the {self.origin}"
        failed = f", failed {self.failed}" if self.failed else ""
        return f"{self.name}={value} ({self.fd}{who}{failed})"


@dataclass(frozen=True, slots=True)
class CallCount:
    """Calls of one kind that a rule folded away and counted (a tally: "runtime probes")."""

    call: str  # syscall name
    detail: str | None  # what it asked (ioctl TCGETS, fcntl F_GETFL, getsockopt SO_TYPE)
    errno: str | None  # how it failed, when it did
    count: int  # how many such calls

    @property
    def text(self) -> str:
        text = self.call + (f"({self.detail})" if self.detail else "")
        if self.errno:
            text += f" → {self.errno}"
        return text + (f" x{self.count}" if self.count > 1 else "")


@dataclass(frozen=True, slots=True)
class UnrelatedSocket:
    """Socket activity that is not the echo's (self-pipes, probe sockets, resolvers)."""

    what: str  # what the socket is: "AF_UNIX SOCK_STREAM socketpair"
    sockets: int  # how many sockets of that description
    calls: int  # how many calls were made on them
    syscalls: str  # which calls: "socketpair, ioctl x2, close x2"

    @property
    def short(self) -> str:
        n = f"{self.sockets} sockets" if self.sockets != 1 else "1 socket"
        c = f"{self.calls} calls" if self.calls != 1 else "1 call"
        return f"{self.what}: {n}, {c}"

    @property
    def text(self) -> str:
        return f"{self.short} ({self.syscalls})"


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a sample's canonical sequence leaves out."""

    io_model: str  # "blocking" or "non-blocking: <means>"
    readiness: str  # "none", "epoll, edge-triggered (epoll_pwait)", "poll (ppoll)", ...
    readiness_calls: int  # readiness calls that involved an echo socket (a metric)
    backlog: str  # listen backlog(s), "—" without listen
    family: str  # address family of the echo sockets: AF_INET, AF_INET6 (v4-mapped IPv4)
    options: tuple[SocketOption, ...]  # every setsockopt on the echo sockets, in order
    closing: str  # how the connection ends: close, shutdown(SHUT_WR), waits for EOF, close...
    eagain: int  # calls on echo sockets that failed with EAGAIN (a metric)
    threads: int  # threads seen in all traced processes
    processes: int  # traced processes
    socket_threads: int  # threads that made calls on the echo sockets
    echo_calls: int  # calls on the echo sockets (the socket view's length)
    unrelated: tuple[UnrelatedSocket, ...]  # other socket activity, by kind of socket
    # datagram sockets: "sendto with address" or "connect + send"; "—" for stream sockets
    addressing: str = "—"
    socket_type: str = "—"  # type of the echo sockets: SOCK_STREAM, SOCK_DGRAM, ...
    # calls folded away and counted, by tally name (rules.yaml): ("runtime probes", (...))
    tallies: tuple[tuple[str, tuple[CallCount, ...]], ...] = ()

    def rows(self) -> list[tuple[str, str]]:
        """(label, text) for tables, in a fixed order."""
        unrelated = "; ".join(u.short for u in self.unrelated) or "none"
        return [
            ("I/O model", self.io_model),
            ("readiness API", self.readiness),
            ("readiness calls", str(self.readiness_calls)),
            ("listen backlog", self.backlog),
            ("address family", self.family),
            ("socket type", self.socket_type),
            ("addressing", self.addressing),
            ("socket options", options_text(self.options)),
            ("closing", self.closing),
            *((name, ", ".join(c.text for c in counts) or "none")
              for name, counts in self.tallies),
            ("EAGAIN failures", str(self.eagain)),
            ("threads", f"{self.threads} in {self.processes} process"
                        + ("es" if self.processes != 1 else "")),
            ("threads with echo calls", str(self.socket_threads)),
            ("echo socket calls", str(self.echo_calls)),
            ("unrelated sockets", unrelated),
        ]


def options_text(options: Sequence[SocketOption]) -> str:
    """Each option once: the sockets it was set on, and how often when more than once
    (`TCP_NODELAY=1 (conn x3)`, `SO_KEEPALIVE=1 (listener, conn)`); an option the tables do
    not name shows its level and number (`SOL_IP 99=1`)."""
    groups: dict[tuple[Any, ...], list[SocketOption]] = {}
    for o in options:
        key = (o.level, o.name, repr(o.value), o.failed, o.origin)
        groups.setdefault(key, []).append(o)
    parts = []
    for (level, name, _, failed, origin), same in groups.items():
        fds = list(dict.fromkeys(o.fd for o in same))
        where = ", ".join(fds) + (f" x{len(same)}" if len(same) > len(fds) else "")
        shown = f"{level} {name}" if name.lstrip("-").isdigit() else name
        who = "" if origin == "unknown" else f", by the {origin}"
        fail = f", failed {failed}" if failed else ""
        parts.append(f"{shown}={format_value(same[0].value)} ({where}{who}{fail})")
    return "; ".join(parts) or "none"


def declare_own_options(attrs: Attributes, own: Iterable[str]) -> Attributes:
    """The hook for a sample manifest that lists the options its own code sets: those become
    origin "sample", every other option "runtime"."""
    own = set(own)
    options = tuple(replace(o, origin="sample" if o.name in own else "runtime")
                    for o in attrs.options)
    return replace(attrs, options=options)


def _flags(step: Step, key: str) -> list[Any]:
    value = step.args.get(key)
    return value if isinstance(value, list) else []


def io_model(steps: Sequence[Step], table: SyscallTable) -> str:
    """How the echo sockets avoid blocking, if they do. A socket made non-blocking for a few
    calls and blocking again (PHP's streams connect that way) is told apart,
    `fcntl(O_NONBLOCK) around connect only`, and leaves the sample blocking when nothing
    else is non-blocking."""
    means: list[str] = []  # each way of not blocking, in order of first use
    passing: set[int] = set()  # indexes in means of switches undone later
    switched: dict[str, tuple[int, list[str]]] = {}  # fd -> (index in means, calls meanwhile)

    def switch(fd: str, how: str, on: bool) -> None:
        if on and fd not in switched:
            switched[fd] = (len(means), [])
            means.append(how)
        elif not on and fd in switched:
            at, calls = switched.pop(fd)
            means[at] = f"{how} around {', '.join(dict.fromkeys(calls)) or 'nothing'} only"
            passing.add(at)

    for s in steps:
        if s.syscall == "socket" and "SOCK_NONBLOCK" in _flags(s, "type_flags"):
            means.append("SOCK_NONBLOCK")
        elif table.in_class(s.syscall, "accept_like") and "SOCK_NONBLOCK" in _flags(s, "flags"):
            means.append(f"{s.syscall}(SOCK_NONBLOCK)")
        elif s.syscall == "ioctl" and s.args.get("request") == "FIONBIO":
            switch(s.fd, "ioctl(FIONBIO)", bool(s.args.get("arg")))
        elif s.syscall == "fcntl" and s.args.get("cmd") == "F_SETFL":
            switch(s.fd, "fcntl(O_NONBLOCK)", "O_NONBLOCK" in _flags(s, "arg"))
        else:
            if "MSG_DONTWAIT" in _flags(s, "flags"):
                means.append("MSG_DONTWAIT")
            if s.fd in switched and not (table.in_class(s.syscall, "readiness")
                                         or table.in_class(s.syscall, "housekeeping")):
                switched[s.fd][1].append(s.syscall)
    lasting = list(dict.fromkeys(m for i, m in enumerate(means) if i not in passing))
    undone = list(dict.fromkeys(m for i, m in enumerate(means) if i in passing))
    if not lasting:
        return "blocking" + (f" ({'; '.join(undone)})" if undone else "")
    return "non-blocking: " + ", ".join(lasting + undone)


def readiness(steps: Sequence[Step], table: SyscallTable) -> tuple[str, int]:
    calls = [s for s in steps if table.in_class(s.syscall, "readiness")]
    apis: dict[str, list[str]] = {}
    for s in calls:
        api = table.readiness_apis.get(s.syscall, s.syscall)
        waits = apis.setdefault(api, [])
        if s.syscall != "epoll_ctl" and s.syscall not in waits:
            waits.append(s.syscall)
    parts = []
    for api, waits in apis.items():
        if not waits:  # sockets added to an epoll set that nobody waits on
            parts.append(f"{api}: registered, never waited")
            continue
        text = api
        if api == "epoll":
            edge = any("EPOLLET" in _flags(s, "events") for s in calls if s.syscall == "epoll_ctl")
            text += ", edge-triggered" if edge else ", level-triggered"
        if waits != [api]:
            text += f" ({', '.join(waits)})"
        parts.append(text)
    return ("; ".join(parts) or "none"), len(calls)


def family(steps: Sequence[Step]) -> str:
    families = list(dict.fromkeys(str(s.args["domain"]) for s in steps
                                  if s.syscall == "socket" and "domain" in s.args))
    mapped = any(isinstance(a, dict) and a.get("v4mapped")
                 for s in steps for a in (s.args.get("addr"),))
    if mapped:
        families = [f + " (v4-mapped IPv4)" if f == "AF_INET6" else f for f in families] \
            or ["AF_INET6 (v4-mapped IPv4)"]
    return ", ".join(families) or "—"


def closing(steps: Sequence[Step], table: SyscallTable) -> str:
    """How each connection (accepted, connected, or carrying data) was given up."""
    data_fds = list(dict.fromkeys(
        s.creates if table.in_class(s.syscall, "accept_like") else s.fd for s in steps
        if (table.in_class(s.syscall, "recv_like") or table.in_class(s.syscall, "send_like")
            or s.syscall == "connect" or table.in_class(s.syscall, "accept_like"))
        and not s.errno))
    styles: dict[str, str] = {}
    for fd in data_fds:
        parts: list[str] = []
        own_eof = False  # after shutdown(SHUT_RD or SHUT_RDWR) a receive gets EOF at once
        for s in steps:
            if s.fd != fd:
                continue
            if s.syscall == "shutdown":
                how = s.args.get("how")
                parts.append(f"shutdown({how})")
                own_eof = own_eof or how in ("SHUT_RD", "SHUT_RDWR")
            elif s.outcome == "EOF" and not any("EOF" in p for p in parts):
                if own_eof:
                    parts.append("reads EOF at once")
                elif any(p.startswith("shutdown") for p in parts):
                    parts.append("waits for EOF")
                else:
                    parts.append("reads to EOF")
            elif table.in_class(s.syscall, "close_like") and not s.errno:
                parts.append("close")
        if "close" not in parts:
            parts.append("never closed")
        styles[fd] = ", ".join(parts)
    if not styles:
        return "—"
    if len(set(styles.values())) == 1:
        return next(iter(styles.values()))
    return "; ".join(f"{fd}: {style}" for fd, style in styles.items())


def addressing(steps: Sequence[Step], table: SyscallTable) -> str:
    """How each echo datagram socket names its peer: an address on every sendto, or connect
    once and plain sends (connect is then a step of its own, one the textbook lacks)."""
    dgram = list(dict.fromkeys(s.creates for s in steps
                               if s.syscall == "socket" and s.args.get("type") == "SOCK_DGRAM"
                               and not s.errno))
    styles: dict[str, str] = {}
    for fd in dgram:
        mine = [s for s in steps if s.fd == fd]
        sends = [s for s in mine if table.in_class(s.syscall, "send_like")]
        connected = any(s.syscall == "connect" and not s.errno for s in mine)
        addressed = any(isinstance(s.args.get("addr"), dict) for s in sends)
        if connected:
            styles[fd] = "connect + sendto with address" if addressed else "connect + send"
        elif addressed:
            styles[fd] = "sendto with address"
        else:
            styles[fd] = "never sends" if not sends else "send without address"
    if not styles:
        return "—"
    if len(set(styles.values())) == 1:
        return next(iter(styles.values()))
    return "; ".join(f"{fd}: {style}" for fd, style in styles.items())


def summarize_calls(steps: Sequence[Step]) -> str:
    counts: dict[str, int] = {}
    for s in steps:
        counts[s.syscall] = counts.get(s.syscall, 0) + 1
    return ", ".join(name if n == 1 else f"{name} x{n}" for name, n in counts.items())


def unrelated_sockets(aside: Sequence[Step]) -> tuple[UnrelatedSocket, ...]:
    groups: dict[str, list[Step]] = {}
    for s in aside:
        groups.setdefault(s.aside, []).append(s)
    def sockets(group: list[Step]) -> int:
        return len({n.strip() for x in group for n in x.fd.split(",") + x.creates.split(",")
                    if n.strip()})

    return tuple(UnrelatedSocket(what=what, sockets=sockets(group), calls=len(group),
                                 syscalls=summarize_calls(group))
                 for what, group in groups.items())


def socket_types(steps: Sequence[Step], trace: Trace) -> str:
    """The types of the echo sockets, as the tracer knew them (SOCK_STREAM, SOCK_DGRAM)."""
    events = {e.seq: e for e in trace.events}
    types = list(dict.fromkeys(str(ev.sock.type) for s in steps for ev in (events.get(s.seqs[0]),)
                               if ev is not None and ev.sock is not None
                               and ev.sock.type != "unknown"))
    return ", ".join(types) or "—"


def count_calls(steps: Sequence[Step], detail_args: Sequence[str]) -> tuple[CallCount, ...]:
    """Calls by (name, what they asked, errno), in order of first appearance."""
    counts: dict[tuple[str, str | None, str | None], int] = {}
    for s in steps:
        detail = next((str(s.args[a]) for a in detail_args if s.args.get(a) is not None), None)
        key = (s.syscall, detail, s.errno)
        counts[key] = counts.get(key, 0) + 1
    return tuple(CallCount(call=c, detail=d, errno=e, count=n) for (c, d, e), n in counts.items())


def derive_attributes(steps: Sequence[Step], aside: Sequence[Step], trace: Trace,
                      table: SyscallTable,
                      tallies: Mapping[str, Sequence[Step]] | None = None,
                      tally_details: Mapping[str, Sequence[str]] | None = None) -> Attributes:
    """The attributes of one trace, from its socket view, what was set aside, and what the
    canonical rules folded away and counted (tallies: name -> steps)."""
    ready, ready_calls = readiness(steps, table)
    backlogs = list(dict.fromkeys(str(s.args.get("backlog")) for s in steps
                                  if s.syscall == "listen"))
    options = tuple(SocketOption(fd=s.fd, level=str(s.args.get("level")),
                                 name=str(s.args.get("optname")), value=s.args.get("value"),
                                 failed=s.errno)
                    for s in steps if s.syscall == "setsockopt")
    would_block = table.errnos(("would_block",))
    threads = sum(max(len(p.threads), 1) for p in trace.processes)
    details = tally_details or {}
    return Attributes(
        io_model=io_model(steps, table), readiness=ready, readiness_calls=ready_calls,
        backlog=", ".join(backlogs) or "—", family=family(steps), options=options,
        closing=closing(steps, table), eagain=sum(1 for s in steps if s.errno in would_block),
        threads=threads, processes=len(trace.processes),
        socket_threads=len({s.tid for s in steps}), echo_calls=len(steps),
        unrelated=unrelated_sockets(aside), addressing=addressing(steps, table),
        socket_type=socket_types(steps, trace),
        tallies=tuple((name, count_calls(found, details.get(name, ())))
                      for name, found in (tallies or {}).items()))
