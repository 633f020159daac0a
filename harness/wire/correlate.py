"""The packets of a run beside the calls of its two sides, on one clock.

Each packet is given the call it comes from, by what TCP says rather than by time alone:
- the handshake: SYN is the client's connect(), or its sendto()/sendmsg() with MSG_FASTOPEN,
  whose data rides on the SYN; the last ACK is the connect()'s; SYN-ACK is the server
  kernel's, for the listening socket ("kernel, for listen(listener)"); accept() returns after
  the ACK;
- a data segment is the send whose bytes it carries (each direction's bytes counted from the
  sender's send steps, the segment's sequence number relative to its side's first);
- a FIN is the event that ended the sender's writing: a shutdown(SHUT_WR or SHUT_RDWR), or the
  event that released the socket's last reference (its last close, a dup2 over it, the exit
  or exec of the last process holding it: trace schema 4 says which); of those, the first
  still under way when the FIN went out;
- an RST is the release of the socket (a close with unread data, SO_LINGER 0), or, once the
  sender's FIN has gone, the kernel's answer to a segment for a closed socket;
- a UDP datagram is its sender's send of the same rank;
- an ICMP echo request (icmp-echo, a scenario without a port) is the client's send of the
  same rank, its echo reply the kernel's answer to it (the kernel is the server); a reply
  whose identifier and sequence no request of the run had is another program's, left out.
What cannot be tied to a call says so (`no call of the trace`). Pure ACKs are the receiving
kernel's, no call's. The TCP states of both ends are followed from
what was seen (SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
LAST_ACK, TIME_WAIT, CLOSED), and what only the wire shows is summed up per side: who closed
first, with a FIN or an RST, a half-close, how many segments carried data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from harness.common.vocabulary import ROLES
from harness.normalize.steps import Step
from harness.wire.packets import ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, Packet
from harness.wire.wirefile import Wire

SENDS = frozenset({"send"})
ENDS = frozenset({"shutdown", "close"})
ECHO_SOCKETS = frozenset({"conn", "sock"})  # the connection's end on each side


@dataclass(frozen=True, slots=True)
class Call:
    """A canonical step of one side, placed on the clock."""

    role: str  # client | server
    label: str  # the step as the tables write it: send(sock)
    dialect: str  # how it was made: sendto, write
    ts_ns: int  # when it returned (its last event's time)
    index: int  # its position in its side's canonical steps (0-based)
    name: str = ""  # the canonical call: send, connect, close
    socket: str = ""  # the socket it works on: conn, sock, listener
    bytes: int | None = None  # a transfer's bytes (its result), when it is one
    how: str = ""  # a shutdown's how (SHUT_WR)
    fastopen: bool = False  # a send with MSG_FASTOPEN: its data rides on the SYN
    release: bool = False  # it released the socket's last reference (schema 4: the trace
    # says so; older traces: every close)


@dataclass(frozen=True, slots=True)
class WirePacket:
    """One packet, its sender, the call it comes from, and the states after it."""

    packet: Packet
    sender: str  # client | server
    call: Call | None  # the call it comes from; None for the kernel's own (an ACK)
    relative_seq: int = 0  # TCP: as Wireshark shows it (the SYN 0, the first data byte 1)
    relative_ack: int = 0  # TCP: the next byte expected from the peer, relative the same way
    states: tuple[tuple[str, str], ...] = ()  # ((role, state), ...) that changed with it
    acks: Call | None = None  # the peer's call whose bytes (or FIN) it acknowledges first


@dataclass(frozen=True, slots=True)
class WireSide:
    """What only the wire shows of one side."""

    role: str
    protocol: str  # tcp | udp
    closes_first: str  # FIN | RST | "" (the peer closed first, or nobody closed)
    ends_with: str  # FIN | RST | "" (left open)
    half_close: int | None  # bytes it received after its own FIN (None: it sent none)
    data_segments: int  # segments (datagrams) it sent that carried data
    segments: int  # every segment it sent
    last_state: str  # its TCP state after the last packet


@dataclass(frozen=True, slots=True)
class WireFacts:
    """What the notes are chosen by, of one side, beside its summary."""

    connected: bool  # a TCP connection was made (the client's SYN, the server's SYN-ACK)
    # the close took three segments: this side's FIN carried the ACK of the peer's
    close_in_three: bool = False


@dataclass(frozen=True)
class WireView:
    """A run's packets with their calls, and each side's summary."""

    protocol: str  # tcp | udp
    port: int
    packets: tuple[WirePacket, ...]
    calls: tuple[Call, ...]  # both sides' canonical steps, in time order
    sides: Mapping[str, WireSide]  # role -> summary
    dropped: int = 0
    note: str | None = None  # what is missing from the view
    realtime_offset_ns: int = 0  # to give the packets wall-clock times (pcapng)
    facts: Mapping[str, WireFacts] = field(default_factory=dict)  # role -> its facts

    @property
    def connected(self) -> bool:
        """UDP, or a TCP connection was made."""
        return self.protocol != "tcp" or any(f.connected for f in self.facts.values())

    def timeline(self) -> list[Call | WirePacket]:
        """Calls and packets in the order of the clock."""
        items: list[Call | WirePacket] = [*self.calls, *self.packets]
        return sorted(items, key=lambda x: x.ts_ns if isinstance(x, Call) else x.packet.ts_ns)


def place_calls(role: str, steps: Sequence[Step], times: Mapping[int, int]) -> list[Call]:
    references = any("released" in s.args for s in steps)
    out = []
    for i, s in enumerate(steps):
        ts = max((times[q] for q in s.seqs if q in times), default=None)
        if ts is not None:
            size = s.result if s.name in SENDS and isinstance(s.result, int) and \
                s.result >= 0 else None
            flags = s.args.get("flags")
            fastopen = s.name in SENDS and isinstance(flags, list) and "MSG_FASTOPEN" in flags
            release = s.name == "close" and (s.args.get("released") == s.fd if references
                                             else True)
            label = s.label
            if release and s.syscall in PROCESS_EVENTS:  # an exit or exec released it
                label = f"{s.dialect}, the last holder of {s.fd}"
            out.append(Call(role=role, label=label, dialect=s.dialect, ts_ns=ts, index=i,
                            name=s.name, socket=s.fd, bytes=size,
                            how=next((q for q in s.qualifiers if q.startswith("SHUT_")), ""),
                            fastopen=fastopen, release=release))
    return out


PROCESS_EVENTS = frozenset({"exit", "exit_group", "execve", "execveat"})


@dataclass
class _End:
    """One end's TCP state as the packets show it."""

    state: str
    isn: int | None = None  # its initial sequence number
    fin_seq: int | None = None  # the sequence number its FIN took
    fin_acked: bool = False
    got_fin: bool = False
    after_fin: int = 0  # bytes received after its own FIN


def _advance(ends: dict[str, _End], sender: str, p: Packet) -> list[tuple[str, str]]:
    """Move both ends' states on with one packet; the changes."""
    peer = "server" if sender == "client" else "client"
    me, other = ends[sender], ends[peer]
    before = {r: e.state for r, e in ends.items()}
    if p.has("RST"):
        me.state = other.state = "CLOSED"
    else:
        if p.has("SYN") and not p.has("ACK"):
            me.state = "SYN_SENT"
        elif p.has("SYN"):
            me.state = "SYN_RECV"
            if other.state == "SYN_SENT":
                other.state = "ESTABLISHED"
        elif p.has("ACK") and other.state == "SYN_RECV":
            other.state = "ESTABLISHED"
        if p.has("ACK") and other.fin_seq is not None and not other.fin_acked \
                and _seq_after(p.ack, other.fin_seq):
            other.fin_acked = True
            other.state = {"FIN_WAIT_1": "FIN_WAIT_2", "CLOSING": "TIME_WAIT",
                           "LAST_ACK": "CLOSED"}.get(other.state, other.state)
        if p.length and other.fin_seq is not None:
            other.after_fin += p.length
        if p.has("FIN"):
            me.fin_seq = p.seq + p.length
            me.state = "LAST_ACK" if me.got_fin else "FIN_WAIT_1"
            other.got_fin = True
            if other.fin_seq is None:
                other.state = "CLOSE_WAIT"
            elif other.fin_acked:
                other.state = "TIME_WAIT"
            else:
                other.state = "CLOSING"
    return [(r, e.state) for r, e in ends.items() if e.state != before[r]]


def _seq_after(ack: int, fin_seq: int) -> bool:
    """ack acknowledges the FIN at fin_seq (32-bit sequence arithmetic)."""
    return (ack - fin_seq - 1) % (1 << 32) < (1 << 31)


def correlate(wire: Wire, steps: Mapping[str, Sequence[Step]],
              times: Mapping[str, Mapping[int, int]], note: str | None = None) -> WireView:
    """The wire view of one run: `steps` each side's canonical steps, `times` each side's
    event seq -> time it returned."""
    calls = {role: place_calls(role, steps.get(role, ()), times.get(role, {}))
             for role in ROLES}
    packets: list[WirePacket] = []
    counts = {role: [0, 0] for role in ROLES}  # data segments, segments
    first_close: dict[str, str] = {}
    last_end: dict[str, str] = {}
    datagrams = {role: 0 for role in ROLES}
    # each side's segments not yet acknowledged: (the relative number after them, their call)
    unacked: dict[str, list[tuple[int, Call | None]]] = {role: [] for role in ROLES}
    ends = {"client": _End("CLOSED"),
            "server": _End("LISTEN" if any(c.label.startswith("listen(")
                                           for c in calls["server"]) else "CLOSED")}
    syn = {role: False for role in ROLES}
    synack = {role: False for role in ROLES}
    three = {role: False for role in ROLES}
    acked_fin = {role: False for role in ROLES}  # it acknowledged the peer's FIN
    requests: set[tuple[int, int]] = set()  # ICMP: (identifier, sequence) of each request
    for p in wire.packets:
        if p.proto == "icmp":  # the client's requests, the kernel's (the server's) replies
            if p.icmp_type == ICMP_ECHO_REPLY and (p.ident, p.icmp_seq) not in requests:
                continue  # an answer to another program's ping
            sender = "client" if p.icmp_type == ICMP_ECHO_REQUEST else "server"
            counts[sender][1] += 1
            if p.length:
                counts[sender][0] += 1
            if sender == "client":
                requests.add((p.ident, p.icmp_seq))
                call: Call | None = _nth(calls[sender], SENDS, datagrams[sender]) or \
                    _untied(sender, p, "no send of the trace")
                datagrams[sender] += 1
            else:
                call = _untied(sender, p, "kernel, for the echo request"
                               if p.icmp_type == ICMP_ECHO_REPLY else "kernel")
            packets.append(WirePacket(packet=p, sender=sender, call=call))
            continue
        sender = "server" if p.src[1] == wire.port else "client"
        counts[sender][1] += 1
        if p.length:
            counts[sender][0] += 1
        if p.proto == "udp":
            call = _nth(calls[sender], SENDS, datagrams[sender]) or \
                _untied(sender, p, "no send of the trace")
            datagrams[sender] += 1
            packets.append(WirePacket(packet=p, sender=sender, call=call))
            continue
        end = ends[sender]
        if p.has("SYN"):
            end.isn = p.seq
        # relative numbers as Wireshark shows them: the SYN is 0, the first data byte 1
        rel_seq = (p.seq - end.isn) % (1 << 32) if end.isn is not None else 0
        peer = ends["server" if sender == "client" else "client"]
        rel_ack = (p.ack - peer.isn) % (1 << 32) if peer.isn is not None and \
            p.has("ACK") else 0
        call = _call_of(p, sender, calls, rel_seq - 1, ends)
        if p.has("SYN") and p.has("ACK"):
            synack[sender] = True
        if p.has("SYN") and not p.has("ACK"):
            syn[sender] = True
        their_fin = ends[other_of(sender)].fin_seq
        if p.has("FIN") and p.has("ACK") and their_fin is not None \
                and not acked_fin[sender] and _seq_after(p.ack, their_fin):
            three[sender] = True
        if p.has("ACK") and their_fin is not None and _seq_after(p.ack, their_fin):
            acked_fin[sender] = True
        if p.has("FIN") or p.has("RST"):
            kind = "RST" if p.has("RST") else "FIN"
            if not first_close:
                first_close[sender] = kind
            last_end[sender] = kind
        changed = _advance(ends, sender, p)
        other = "server" if sender == "client" else "client"
        acked = [c for after, c in unacked[other] if p.has("ACK") and after <= rel_ack]
        unacked[other] = [(after, c) for after, c in unacked[other]
                          if not (p.has("ACK") and after <= rel_ack)]
        if p.length or p.has("FIN"):
            unacked[sender].append((rel_seq + p.length + (1 if p.has("FIN") else 0), call))
        packets.append(WirePacket(packet=p, sender=sender, call=call, relative_seq=rel_seq,
                                  relative_ack=rel_ack, states=tuple(changed),
                                  acks=next((c for c in acked if c is not None), None)))
    sides = {}
    for role in ROLES:
        sides[role] = WireSide(
            role=role, protocol=wire.protocol, closes_first=first_close.get(role, ""),
            ends_with=last_end.get(role, ""),
            half_close=ends[role].after_fin if ends[role].fin_seq is not None else None,
            data_segments=counts[role][0], segments=counts[role][1],
            last_state=ends[role].state)
    facts = {role: WireFacts(connected=syn["client"] and synack["server"],
                             close_in_three=three[role]) for role in ROLES}
    if wire.dropped:
        note = f"{wire.dropped} packets dropped by the kernel: the view is partial"
    every = sorted([c for cs in calls.values() for c in cs], key=lambda c: c.ts_ns)
    return WireView(protocol=wire.protocol, port=wire.port, packets=tuple(packets),
                    calls=tuple(every), sides=sides, dropped=wire.dropped, note=note,
                    realtime_offset_ns=wire.realtime_offset_ns, facts=facts)


def _nth(calls: Sequence[Call], names: frozenset[str], n: int) -> Call | None:
    found = [c for c in calls if c.label.split("(")[0] in names]
    return found[n] if n < len(found) else None


def other_of(role: str) -> str:
    return "server" if role == "client" else "client"


def _untied(sender: str, p: Packet, what: str) -> Call:
    """A packet no call of the trace caused, saying so."""
    return Call(role=sender, label=what, dialect="", ts_ns=p.ts_ns, index=-1)


def _under_way(causes: Sequence[Call], p: Packet) -> Call | None:
    """Of the calls that could have sent a packet, the first still under way when it went
    (it returned at or after the packet), else the last that had returned."""
    return next((c for c in causes if c.ts_ns >= p.ts_ns), causes[-1] if causes else None)


def _call_of(p: Packet, sender: str, calls: Mapping[str, Sequence[Call]], offset_at: int,
             ends: Mapping[str, _End]) -> Call | None:
    """The call a packet comes from; offset_at: its first byte's place in its direction's
    stream (0 for the first byte sent)."""
    mine = calls[sender]
    if p.has("SYN") and not p.has("ACK"):
        opens = [c for c in mine if c.name == "connect" or c.fastopen]
        if p.length:  # data on the SYN: a send with MSG_FASTOPEN
            opens = [c for c in opens if c.fastopen] or opens
        found = next(iter(opens), None)
        return found if found is not None else _untied(sender, p, "no call of the trace")
    if p.has("SYN"):  # the server kernel answers for the listening socket
        listen = next((c for c in mine if c.name == "listen"), None)
        return _untied(sender, p, f"kernel, for {listen.label}" if listen is not None
                       else "kernel, for a listening socket")
    if p.has("FIN") or p.has("RST"):
        echo = [c for c in mine if c.socket in ECHO_SOCKETS]
        releases = [c for c in echo if c.name == "close" and c.release]
        if p.has("RST") and ends[sender].fin_seq is not None:
            # after its FIN, an RST answers a segment that came for a closed socket
            return _untied(sender, p, "kernel, for a closed socket")
        causes = releases if p.has("RST") else [
            c for c in echo if (c.name == "shutdown" and c.how in ("SHUT_WR", "SHUT_RDWR"))
            or (c.name == "close" and c.release)]
        found = _under_way(causes, p)
        return found if found is not None else _untied(sender, p, "no call of the trace")
    if p.length:
        offset = 0
        for c in mine:
            if c.name in SENDS:
                if c.bytes is None or offset <= offset_at < offset + c.bytes:
                    return c
                offset += c.bytes
        return _untied(sender, p, "no send of the trace")
    if sender == "client" and ends["server"].state == "SYN_RECV":  # the handshake's ACK
        return next((c for c in mine if c.name == "connect"), None)
    return None  # an ACK of the kernel's own


__all__ = ["Call", "WireFacts", "WirePacket", "WireSide", "WireView", "correlate",
           "place_calls"]
