"""The wire view in words: a run's calls and packets as a terminal timeline (`--wire`) and as a
Mermaid sequence diagram (the Markdown report): client calls | the wire | server calls. Each
packet carries its frame number in the run's wire.pcapng (harness/wire/pcapng.py writes the
view's packets in order, frame 1 first), to find it in Wireshark (`frame.number == N`)."""

from __future__ import annotations

from harness.compare.results import RunResult
from harness.wire.correlate import Call, WirePacket, WireView
from harness.wire.packets import flags_text, icmp_text

ARROW = {"client": "→", "server": "←"}


def packet_what(w: WirePacket) -> str:
    """`SYN`, `PSH-ACK 14 bytes`, `FIN-ACK`, `datagram 14 bytes`, `datagram 14 bytes to
    127.255.255.255 (broadcast)`, `echo request id 4242 seq 1, 14 bytes`."""
    p = w.packet
    if p.proto == "icmp":
        return icmp_text(p) + (f", {p.length} bytes" if p.length else "")
    what = "datagram" if p.proto == "udp" else flags_text(p)
    what += f" {p.length} bytes" if p.length else ""
    return what + (f" to {p.dst[0]} (broadcast)" if p.broadcast else "")


def packet_text(w: WirePacket) -> str:
    """`→ SYN` (client to server), `← PSH-ACK 14 bytes` (server to client)."""
    return f"{ARROW[w.sender]} {packet_what(w)}"


def states_text(w: WirePacket) -> str:
    return ", ".join(f"{role} {state}" for role, state in w.states)


def summary(view: WireView) -> str:
    """`10 packets (2 with data); the server closed first (FIN); the client ends CLOSED, the
    server TIME_WAIT`."""
    data = sum(1 for w in view.packets if w.packet.length)
    parts = [f"{len(view.packets)} packet{'s' if len(view.packets) != 1 else ''} "
             f"({data} with data)"]
    if view.protocol == "tcp" and not view.connected:
        parts.append("no TCP connection was made")
    elif view.protocol == "tcp":
        first = next(((role, side.closes_first) for role, side in view.sides.items()
                      if side.closes_first), None)
        if first:
            parts.append(f"the {first[0]} closed first ({first[1]})")
        parts.append(f"the client ends {view.sides['client'].last_state}, the server "
                     f"{view.sides['server'].last_state}")
    if view.note:
        parts.append(view.note)
    return "; ".join(parts)


def _whose(w: WirePacket) -> str:
    """` (send(sock))`: the call a packet comes from; ` (of send(sock))`: the call whose
    bytes a pure ACK acknowledges."""
    if w.call is not None:
        return f" ({w.call.label})"
    if w.acks is not None:
        return f" (of {w.acks.label})"
    return ""


def frame_numbers(view: WireView) -> dict[int, int]:
    """id(packet) -> its frame number in the run's wire.pcapng: 1, 2, ... in the view's
    order, the order the pcapng file has them."""
    return {id(w): n for n, w in enumerate(view.packets, 1)}


def _ms(ts: int, t0: int) -> str:
    return f"{(ts - t0) / 1e6:.3f}"


def timeline(run: RunResult) -> list[str]:
    """The run's calls and packets in clock order, one line each."""
    from tabulate import tabulate

    head = f"{run.folder}: wire"
    view = run.wire
    if view is None:
        return [f"{head}: {run.wire_note or 'none'}"]
    items = view.timeline()
    t0 = min((x.ts_ns if isinstance(x, Call) else x.packet.ts_ns) for x in items) if items \
        else 0
    frames = frame_numbers(view)
    rows = []
    for x in items:
        if isinstance(x, Call):
            cells = [x.label, "", "", ""] if x.role == "client" else ["", "", "", x.label]
            rows.append([_ms(x.ts_ns, t0), *cells, ""])
        else:
            rows.append([_ms(x.packet.ts_ns, t0), "", str(frames[id(x)]),
                         packet_text(x) + _whose(x), "", states_text(x)])
    table = tabulate(rows, headers=["ms", "client", "frame", "wire", "server", "TCP states"],
                     tablefmt="simple", disable_numparse=True)
    return [f"{head}: {summary(view)}", *("  " + line for line in table.splitlines())]


def _mermaid_text(text: str) -> str:
    """Text Mermaid takes in a message or a note: no `;` (a statement's end) nor `#`."""
    return text.replace("#", "#35;").replace(";", "#59;")


def mermaid(run: RunResult) -> list[str]:
    """A sequenceDiagram: the client's calls as notes on the left, the server's on the
    right, each packet an arrow with its frame number (in wire.pcapng), the call it comes
    from and the states it leads to."""
    view = run.wire
    assert view is not None
    frames = frame_numbers(view)
    out = ["```mermaid", "sequenceDiagram",
           f"    participant C as client {_mermaid_text(run.client.sample)}",
           f"    participant S as server {_mermaid_text(run.server.sample)}"]
    pending: list[Call] = []

    def flush() -> None:
        while pending:
            role = pending[0].role
            group = []
            while pending and pending[0].role == role:
                group.append(pending.pop(0).label)
            who = "C" if role == "client" else "S"
            side = "left of" if role == "client" else "right of"
            out.append(f"    Note {side} {who}: {_mermaid_text('<br/>'.join(group))}")

    for x in view.timeline():
        if isinstance(x, Call):
            pending.append(x)
            continue
        flush()
        src, dst = ("C", "S") if x.sender == "client" else ("S", "C")
        what = f"frame {frames[id(x)]}: {packet_what(x)}{_whose(x)}"
        out.append(f"    {src}->>{dst}: {_mermaid_text(what)}")
        if x.states:
            out.append(f"    Note over C,S: {_mermaid_text(states_text(x))}")
    flush()
    out.append("```")
    return out
