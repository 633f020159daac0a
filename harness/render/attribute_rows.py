"""The attributes of a sample in words: the rows of the attribute tables, `verify`'s list of
what differs from the reference, the unrelated sockets of the Markdown socket views."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.normalize.attributes import (AddressKind, Addressing, Attributes, CallCount,
                                          ConnectionEnd, EndStep, IOModel, NamedAddress,
                                          ReadinessUse, SocketOption, Switch,
                                          UnrelatedSocket, UringUse)
from harness.normalize.sockets import SocketDescription
from harness.normalize.steps import format_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.compare.results import SampleResult
    from harness.wire.correlate import WireSide

ADDRESSING = {Addressing.SENDTO: "sendto with address",
              Addressing.CONNECT_SEND: "connect + send",
              Addressing.CONNECT_SENDTO: "connect + sendto with address",
              Addressing.SEND_WITHOUT_ADDRESS: "send without address",
              Addressing.NEVER_SENDS: "never sends"}
END_STEPS = {EndStep.READS_TO_EOF: "reads to EOF", EndStep.WAITS_FOR_EOF: "waits for EOF",
             EndStep.EOF_AT_ONCE: "reads EOF at once", EndStep.CLOSE: "close",
             EndStep.NEVER_CLOSED: "never closed"}
# how the last reference went, when not by a close (trace schema 4): the detail is the program
# (exit, exec) or the call (a dup2 over its last fd)
RELEASES = {EndStep.EXITED: "released when {} exited", EndStep.EXEC: "released at exec of {}",
            EndStep.REPLACED: "released by {} over its last fd"}
ORIGINS = {"unknown": "(made before the trace)", "accept": "accepted"}


def switch(s: Switch) -> str:
    """`fcntl(O_NONBLOCK) around connect only`; `fcntl(O_NONBLOCK) on and off, no call
    between` when nothing was made while it was on."""
    if not s.around:
        return f"{s.how} on and off, no call between"
    return f"{s.how} around {', '.join(s.around)} only"


def uring(u: UringUse) -> str:
    """`through io_uring: 3 operations in 2 io_uring_enter calls`, and what cannot be seen."""
    parts = []
    if u.operations or not u.unseen_rings:
        ops = f"{u.operations} operation" + ("s" if u.operations != 1 else "")
        enters = f"{u.enters} io_uring_enter call" + ("s" if u.enters != 1 else "")
        parts.append(f"through io_uring: {ops} in {enters}")
    if u.unseen_rings:
        rings = "a ring" if u.unseen_rings == 1 else f"{u.unseen_rings} rings"
        parts.append(f"{rings} with SQPOLL: a kernel thread submits, read at each "
                     "io_uring_enter")
    return "; ".join(parts)


def io_model(m: IOModel, ring: UringUse | None = None) -> str:
    """`blocking`, `non-blocking: SOCK_NONBLOCK, accept4(SOCK_NONBLOCK)`, `non-blocking:
    ioctl(FIONBIO) (listener non-blocking; conn in blocking mode)`, `blocking (fcntl(O_NONBLOCK)
    around connect only)`; then signal-driven I/O (`signal-driven I/O:
    fcntl(F_SETOWN), fcntl(O_ASYNC)`) and io_uring, when used."""
    switches = [switch(s) for s in m.switches]
    if m.blocking:
        text = "blocking" + (f" ({'; '.join(switches)})" if switches else "")
    else:
        text = "non-blocking: " + ", ".join([*m.lasting, *switches])
        if m.partly:  # `(listener non-blocking; conn in blocking mode)`
            text += " (" + "; ".join(
                [f"{', '.join(m.nonblocking)} non-blocking"] * bool(m.nonblocking)
                + [f"{', '.join(m.blocking_sockets)} in blocking mode"]) + ")"
    if m.signal_driven:
        text += "; signal-driven I/O: " + ", ".join(m.signal_driven)
    if ring is not None:
        text += "; " + uring(ring)
    return text


def readiness(uses: Sequence[ReadinessUse]) -> str:
    """`epoll, edge-triggered (epoll_pwait)`, `poll (ppoll)`, `epoll: registered, never
    waited`, `none`."""
    parts = []
    for u in uses:
        if not u.waits:  # sockets added to an epoll set that nobody waits on
            parts.append(f"{u.api}: registered, never waited")
            continue
        text = u.api
        if u.edge_triggered is not None:
            text += ", edge-triggered" if u.edge_triggered else ", level-triggered"
        if list(u.waits) != [u.api]:
            text += f" ({', '.join(u.waits)})"
        parts.append(text)
    return "; ".join(parts) or "none"


def families(attrs: Attributes) -> str:
    found = list(attrs.families)
    if attrs.v4_mapped:
        found = [f + " (v4-mapped IPv4)" if f == "AF_INET6" else f for f in found] \
            or ["AF_INET6 (v4-mapped IPv4)"]
    return ", ".join(found) or "—"


ADDRESS_KINDS = {AddressKind.RUN: "the run's address",
                 AddressKind.EVERY_INTERFACE: "every interface ({})",
                 AddressKind.HOST_NAME: "the host name's address {}",
                 AddressKind.LOOPBACK: "another loopback address {}",
                 AddressKind.OTHER: "another address of this machine, {}"}


def address(n: NamedAddress) -> str:
    """`binds every interface (0.0.0.0)`, `connects to the host name's address 127.0.1.1`,
    `the run's address` (bound or connected to)."""
    if n.kind == AddressKind.RUN:
        return "the run's address"
    shown = f"[{n.address}]" if ":" in n.address else n.address
    verb = "binds" if n.call == "bind" else "connects to"
    return f"{verb} {ADDRESS_KINDS[n.kind].format(shown)}"


def addresses(a: Attributes) -> str:
    """The addresses other than the run's that the echo's sockets bound or connected to,
    else `the run's address` (what they all named; `—` without echo calls)."""
    other = [address(n) for n in a.addresses if n.kind != AddressKind.RUN]
    if other:
        return "; ".join(dict.fromkeys(other))
    return "the run's address" if a.echo_calls else "—"


def _per_socket(styles: dict[str, str]) -> str:
    """One style for all the sockets, else each socket's."""
    if not styles:
        return "—"
    if len(set(styles.values())) == 1:
        return next(iter(styles.values()))
    return "; ".join(f"{fd}: {style}" for fd, style in styles.items())


def end(e: ConnectionEnd) -> str:
    return ", ".join(f"shutdown({how})" if kind == EndStep.SHUTDOWN else
                     RELEASES[kind].format(how) if kind in RELEASES else END_STEPS[kind]
                     for kind, how in e.steps)


def options(opts: Sequence[SocketOption]) -> str:
    """Each option once: the sockets it was set on, each with how often when more than once
    (`TCP_NODELAY=1 (conn x3)`, `IP_TOS=0 (listener, conn x5)`); an option the tables do
    not name shows its level and number (`SOL_IP 99=1`)."""
    groups: dict[tuple[Any, ...], list[SocketOption]] = {}
    for o in opts:
        groups.setdefault((o.level, o.name, repr(o.value), o.failed, o.origin), []).append(o)
    parts = []
    for (level, name, _, failed, origin), same in groups.items():
        per_fd: dict[str, int] = {}
        for o in same:
            per_fd[o.fd] = per_fd.get(o.fd, 0) + 1
        where = ", ".join(fd + (f" x{n}" if n > 1 else "") for fd, n in per_fd.items())
        shown = f"{level} {name}" if name.lstrip("-").isdigit() else name
        who = "" if origin == "unknown" else f", by the {origin}"
        fail = f", failed {failed}" if failed else ""
        parts.append(f"{shown}={format_value(same[0].value)} ({where}{who}{fail})")
    return "; ".join(parts) or "none"


def option(o: SocketOption) -> str:
    return options([o])


def call_count(c: CallCount) -> str:
    """`ioctl(TCGETS) → ENOTTY x2`, `getsockname`."""
    text = c.call + (f"({c.detail})" if c.detail else "")
    if c.errno:
        text += f" → {c.errno}"
    return text + (f" x{c.count}" if c.count > 1 else "")


def socket_description(d: SocketDescription) -> str:
    """`AF_UNIX SOCK_STREAM socketpair`, `AF_INET SOCK_DGRAM socket connected to
    127.0.0.1:PORT`."""
    parts = [d.family if d.family is not None else "socket of unknown family"]
    if d.type is not None:
        parts.append(d.type)
    parts.append(ORIGINS.get(d.origin, d.origin))
    if d.bound is not None:
        parts.append(f"bound to {d.bound}")
    if d.connects:
        parts.append("connected to " + ", ".join(d.connects))
    if d.sent_to:
        parts.append("sending to " + ", ".join(d.sent_to))
    if d.listening:
        parts.append("listening")
    return " ".join(parts)


def unrelated_short(u: UnrelatedSocket) -> str:
    n = f"{u.sockets} sockets" if u.sockets != 1 else "1 socket"
    c = f"{u.calls} calls" if u.calls != 1 else "1 call"
    return f"{socket_description(u.what)}: {n}, {c}"


def unrelated(u: UnrelatedSocket) -> str:
    calls = ", ".join(name if n == 1 else f"{name} x{n}" for name, n in u.call_counts)
    return f"{unrelated_short(u)} ({calls})"


def attribute_rows(a: Attributes) -> list[tuple[str, str]]:
    """(label, text) for tables, in a fixed order."""
    return [
        ("I/O model", io_model(a.io_model, a.uring)),
        ("readiness API", readiness(a.readiness)),
        ("readiness calls", str(a.readiness_calls)),
        ("listen backlog", ", ".join(map(str, a.backlogs)) or "—"),
        ("address family", families(a)),
        ("address", addresses(a)),
        ("socket type", ", ".join(a.socket_types) or "—"),
        ("addressing", _per_socket({d.socket: ADDRESSING[d.addressing] for d in a.datagrams})),
        ("socket options", options(a.options)),
        ("closing", _per_socket({e.socket: end(e) for e in a.ends})),
        *((name, ", ".join(call_count(c) for c in counts) or "none")
          for name, counts in a.tallies),
        ("EAGAIN failures", str(a.eagain)),
        ("threads", f"{a.threads} in {a.processes} process"
                    + ("es" if a.processes != 1 else "")),
        ("threads with echo calls", str(a.socket_threads)),
        ("echo socket calls", str(a.echo_calls)),
        ("unrelated sockets", "; ".join(unrelated_short(u) for u in a.unrelated) or "none"),
    ]


# -- what the wire shows of a side (harness/wire/correlate.py) -----------------------------------

WIRE_ROWS = ("closes first (wire)", "ends with (wire)", "data after its FIN (wire)",
             "segments sent (wire)", "last TCP state (wire)")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("s" if n != 1 else "")


def wire_rows(side: WireSide | None) -> list[tuple[str, str]]:
    """The wire's rows of a side's attributes: `—` without a capture (the analysis gives no
    side for a TCP run whose handshake never happened), and for UDP, where there is no
    connection to close."""
    if side is None:
        return [(label, "—") for label in WIRE_ROWS]
    if side.protocol in ("udp", "icmp"):  # no connection; ICMP: the messages it sent
        return [(WIRE_ROWS[0], "—"), (WIRE_ROWS[1], "—"), (WIRE_ROWS[2], "—"),
                (WIRE_ROWS[3], _count(side.data_segments, "datagram" if side.protocol
                                      == "udp" else "ICMP message")), (WIRE_ROWS[4], "—")]
    after = "—" if side.half_close is None else (
        f"{side.half_close} bytes received" if side.half_close else "none")
    return [(WIRE_ROWS[0], f"yes, {side.closes_first}" if side.closes_first else "no"),
            (WIRE_ROWS[1], side.ends_with or "neither FIN nor RST"),
            (WIRE_ROWS[2], after),
            (WIRE_ROWS[3], f"{_count(side.segments, 'segment')}, "
                           f"{side.data_segments} with data"),
            (WIRE_ROWS[4], side.last_state)]


def sample_rows(result: SampleResult) -> list[tuple[str, str]]:
    """Every attribute row of a sample: its trace's, then what the wire shows of it."""
    if result.normalized is None:
        return []
    return attribute_rows(result.normalized.attributes) + wire_rows(result.wire)
