"""The why notes (harness/render/knowledge.py) of what the reports show: each difference, each way a
sample makes a step differently (its dialect), each attribute that differs from the
reference's. verify, the Markdown report and the terminal summary print them.

A note is chosen by typed facts of the run, gathered here: the scenario's transport, the
socket's family and type as the sample's steps made it, whether the program was killed,
whether the socket had received bytes before, and, for attributes, the typed values behind
each row (an option and its value, a shutdown's how, the wire's FIN or RST). Never by the
words a row prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.compare.results import RoleTable, SampleResult
from harness.compare.align import MISSING, MOVED, Difference
from harness.render.knowledge import default_knowledge
from harness.render.knowledge_match import Knowledge, Note, StepFacts
from harness.render.knowledge_spec import RACE_ROWS
from harness.normalize.attributes import AddressKind, Addressing, Attributes, EndStep
from harness.normalize.steps import Step
from harness.render import words

# said of a difference no note fits (none should: every call has the syscall table's)
NO_NOTE = "what this call does: see its manual page"

# each scenario's transport (the tcp6 scenario is TCP too)
TRANSPORTS = {"tcp": "tcp", "tcp6": "tcp", "tcp-session": "tcp", "udp": "udp", "unix": "unix",
              "udp-broadcast": "udp", "icmp-echo": "icmp"}


@dataclass(frozen=True)
class DifferenceNote:
    difference: Difference
    note: Note | None


@dataclass(frozen=True)
class DialectNote:
    reference: str  # the reference's dialect (accept4(SOCK_CLOEXEC))
    sample: str  # the sample's (accept)
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class AttributeNote:
    row: str  # the attribute (listen backlog)
    value: str  # the sample's value
    reference: str  # the reference's
    notes: tuple[Note, ...]


def difference_steps(result: SampleResult, ref: SampleResult,
                     d: Difference) -> tuple[Step | None, Step | None]:
    """(the reference's step, the sample's step) a difference is about."""
    if d.kind == MOVED and d.from_step is not None and d.to_step is not None:
        return ref.steps[d.from_step - 1], result.steps[d.to_step - 1]
    pair = result.verdict.alignment[d.step - 1]
    return (ref.steps[pair.ref] if pair.ref is not None else None,
            result.steps[pair.got] if pair.got is not None else None)


# -- the facts of a run ----------------------------------------------------------------------------

def killed(result: SampleResult) -> bool:
    """The sample's program was killed (by the harness at the run's time limit, or by a
    signal): its run's record gives it an exit status over 128."""
    status = result.record.server_exit if result.role == "server" else result.record.client_exit
    return status is not None and status > 128


def socket_kinds(steps: tuple[Step, ...]) -> dict[str, tuple[str, str]]:
    """Each socket name -> (its family, its type), as the steps that made it say."""
    kinds: dict[str, tuple[str, str]] = {}
    for s in steps:
        if not s.creates:
            continue
        family, typ = str(s.args.get("domain") or ""), str(s.args.get("type") or "")
        if s.name == "accept":
            family, typ = kinds.get(s.fd, ("", "SOCK_STREAM"))
        for name in s.creates.split(","):
            kinds.setdefault(name.strip(), (family, typ))
    return kinds


def step_facts(result: SampleResult, d: Difference, step: Step | None,
               other: Step | None = None) -> StepFacts:
    """What the run says about the step a difference is about (`other`: the reference's
    step, for a changed one)."""
    mine = result.steps
    kinds = socket_kinds(mine)
    fd = step.fd if step is not None else ""
    family, typ = kinds.get(fd, ("", ""))
    if step is not None and d.kind == MISSING:  # the reference's step: the sample's socket
        family, typ = kinds.get(step.fd, ("", ""))
    received = False
    if step is not None and d.kind != MISSING:
        for s in mine:
            if s is step:
                break
            if s.fd == step.fd and s.name == "recv" and not s.errno and s.outcome == "" \
                    and isinstance(s.result, int) and s.result > 0:
                received = True
    made = step is not None and (step.fd in kinds or any(s.fd == step.fd for s in mine))
    return StepFacts(transport=TRANSPORTS.get(result.scenario, ""), socket_type=typ,
                     family=family, killed=killed(result), received_before=received,
                     socket_made=made,
                     same_socket=other is None or step is None
                     or (other.fd, other.creates) == (step.fd, step.creates),
                     qualifiers_only=other is not None and step is not None
                     and d.kind != MISSING
                     and (other.name, other.fd, other.creates, other.outcome, other.errno)
                     == (step.name, step.fd, step.creates, step.outcome, step.errno)
                     and other.qualifiers != step.qualifiers,
                     echoed=result.record.ok,
                     empty=step is not None and step.name == "send" and not step.errno
                     and step.result == 0)


def _on(value: Any) -> bool:
    """An option's value turns it on: not 0 (a linger's onoff, a struct's first field)."""
    if isinstance(value, dict):
        value = value.get("onoff", next(iter(value.values()), 0))
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    return bool(value) and value not in ("0", "\\x00\\x00\\x00\\x00")


def _option(name: object) -> object:
    """An option's name as notes know it: SO_RCVTIMEO_OLD and _NEW (the same option, with a
    time_t of another width) are SO_RCVTIMEO."""
    return name.removesuffix("_OLD").removesuffix("_NEW") if isinstance(name, str) else name


def _uses(a: Attributes) -> set[str]:
    m = a.io_model
    uses: set[str] = set()
    for way in m.lasting:
        for token in ("SOCK_NONBLOCK", "FIONBIO", "O_NONBLOCK", "MSG_DONTWAIT"):
            if token in way:
                uses.add(token)
    for sw in m.switches:
        uses.add("around connect" if list(sw.around) == ["connect"] else "switch")
    if m.signal_driven:
        uses.add("signal-driven")
    if a.uring is not None:
        if a.uring.operations:
            uses.add("io_uring")
        if a.uring.unseen_rings:
            uses.add("SQPOLL")
    return uses


ADDRESSINGS = {Addressing.SENDTO: "sendto", Addressing.CONNECT_SEND: "connect+send",
               Addressing.CONNECT_SENDTO: "connect+sendto",
               Addressing.SEND_WITHOUT_ADDRESS: "send", Addressing.NEVER_SENDS: "never sends"}
RELEASED = {EndStep.EXITED, EndStep.EXEC, EndStep.REPLACED}


def row_items(result: SampleResult) -> dict[str, list[dict[str, Any]]]:
    """Each attribute row of a sample -> its items' typed facts (harness/render/knowledge.py
    ROW_FACTS): what a note about the row is chosen by."""
    from harness.normalize.syscalls import default_table

    n = result.normalized
    if n is None:
        return {}
    a = n.attributes
    table = default_table()
    items: dict[str, list[dict[str, Any]]] = {
        "I/O model": [{"blocking": a.io_model.blocking, "partly": a.io_model.partly,
                       "waits": a.readiness_calls > 0, "uses": _uses(a)}],
        "readiness API": [{"api": u.api, "waits": bool(u.waits)} for u in a.readiness],
        "readiness calls": [{}],
        "listen backlog": [{"backlog_max": isinstance(b, int) and (b < 0 or b >= 4096)}
                           for b in a.backlogs],
        "address family": [{"family": f, "mapped": a.v4_mapped} for f in a.families]
        or ([{"family": "AF_INET6", "mapped": True}] if a.v4_mapped else []),
        "address": [{"named": str(n.kind)} for n in a.addresses
                    if n.kind != AddressKind.RUN],
        "socket type": [{"socket_type": t} for t in a.socket_types],
        "addressing": [{"addressing": ADDRESSINGS[d.addressing]} for d in a.datagrams],
        "socket options": [{"option": _option(o.name), "enabled": _on(o.value)}
                           for o in a.options if not o.failed],
        "closing": [{"shutdown": {how for k, how in e.steps if k == EndStep.SHUTDOWN},
                     "released": bool(RELEASED & {k for k, _ in e.steps}),
                     "never_closed": EndStep.NEVER_CLOSED in {k for k, _ in e.steps}}
                    for e in a.ends],
        "EAGAIN failures": [{"waits": a.readiness_calls > 0}], "threads with echo calls": [{}], "echo socket calls": [{}],
        "threads": [{"forked": a.processes > 1, "threaded": a.threads > a.processes}],
        "unrelated sockets": [
            {"socket_type": u.what.type or "", "family": u.what.family or "",
             "origin": u.what.origin, "connected": bool(u.what.connects),
             "sends": bool(u.what.sent_to) or any(table.does(c, "send")
                                                  for c, _ in u.call_counts),
             "peer": set(u.what.connects), "none": False} for u in a.unrelated]
        or [{"none": True}],
    }
    for name, counts in a.tallies:
        items[name] = [{"call": c.call, "detail": c.detail or "", "none": False}
                       for c in counts] or [{"none": True}]
    w = result.wire
    three = result.wire_facts is not None and result.wire_facts.close_in_three
    if w is not None and w.protocol == "udp":
        items["segments sent (wire)"] = [{"protocol": "udp"}]
    if w is not None and w.protocol == "tcp":
        items["closes first (wire)"] = [{"closes_first": w.closes_first or "none",
                                         "close_in_three": three}]
        items["ends with (wire)"] = [{"ends_with": w.ends_with or "none"}]
        items["data after its FIN (wire)"] = [] if w.half_close is None else \
            [{"after_fin": w.half_close > 0}]
        items["segments sent (wire)"] = [{"protocol": "tcp"}]
        # how it got there: who closed first, and with what this side ended it
        items["last TCP state (wire)"] = [{"last_state": w.last_state,
                                           "closes_first": w.closes_first or "none",
                                           "ends_with": w.ends_with or "none"}]
    return items


# -- the notes -------------------------------------------------------------------------------------

# the note that explains every missing step of a sample whose io_uring submissions a kernel
# thread made (SQPOLL): what they did is not in the trace, so no note about the step fits
UNSEEN_RING_NOTE = "io-uring-sqpoll"


def differences(result: SampleResult, ref: SampleResult,
                knowledge: Knowledge | None = None) -> list[DifferenceNote]:
    k = knowledge or default_knowledge()
    n = result.normalized
    unseen = None
    if n is not None and n.attributes.uring is not None and n.attributes.uring.unseen_rings:
        unseen = k.note(UNSEEN_RING_NOTE)
    out = []
    for d in result.verdict.differences:
        if unseen is not None and d.kind == MISSING:
            out.append(DifferenceNote(d, unseen))
            continue
        expected, got = difference_steps(result, ref, d)
        step = expected if d.kind == MISSING else got
        facts = step_facts(result, d, step, expected if step is got else None)
        out.append(DifferenceNote(d, k.for_difference(d, expected, got, facts)))
    return out


def dialects(result: SampleResult, ref: SampleResult,
             knowledge: Knowledge | None = None) -> list[DialectNote]:
    """Each distinct way the sample makes a step the reference makes otherwise."""
    k = knowledge or default_knowledge()
    seen: dict[tuple[str, str], DialectNote] = {}
    for p in result.verdict.alignment:
        if p.ref is None or p.got is None:
            continue
        want, got = ref.steps[p.ref], result.steps[p.got]
        if want.dialect != got.dialect and (want.dialect, got.dialect) not in seen:
            seen[(want.dialect, got.dialect)] = DialectNote(want.dialect, got.dialect,
                                                            k.for_dialect(want, got))
    return list(seen.values())


def attributes(result: SampleResult, ref: SampleResult,
               knowledge: Knowledge | None = None) -> list[AttributeNote]:
    """Each attribute whose value differs from the reference's. The wire's rows that one
    run's timing decides (who closed first, the last state, the segments) do not make a
    sample whose calls are the reference's differ, unless an RST ended it (a close with
    unread bytes: no race)."""
    from harness.render.attribute_rows import sample_rows

    if result.normalized is None or ref.normalized is None:
        return []
    k = knowledge or default_knowledge()
    items = row_items(result)
    race = result.verdict.matches and not _reset(result) and not _reset(ref)
    return [AttributeNote(label, mine, theirs, k.for_attribute(label, items.get(label, [])))
            for (label, mine), (_, theirs) in zip(sample_rows(result), sample_rows(ref))
            if mine != theirs and not (race and label in RACE_ROWS)]


def _reset(result: SampleResult) -> bool:
    """Its side of the wire sent an RST: how the connection ended is then no race."""
    w = result.wire
    return w is not None and "RST" in (w.closes_first, w.ends_with)


def note_line(note: Note) -> str:
    """`a half-close before the close: shutdown(SHUT_WR) sends ... For example: Node's
    socket.end(). (see shutdown(2))`."""
    return f"{note.title}: {note.text}{examples(note)} (see {', '.join(note.see)})"


def examples(note: Note) -> str:
    """The note's runtime examples, said to be examples (" Examples (not from this run): ...")
    ("" without)."""
    if not note.examples:
        return ""
    return " Examples (not from this run): " + "; ".join(note.examples) + "."


def note_short(note: Note | None) -> str:
    """The note's title and pages, for one-line summaries."""
    if note is None:
        return NO_NOTE
    return f"{note.title} ({', '.join(note.see)})"


# -- one table's notes, each once, with the samples it concerns ---------------------------------

@dataclass
class TableNotes:
    """What a role table's differences, dialects and attributes have to say: each note once,
    with the samples it concerns, in the order met; and the differences no note fits."""

    notes: dict[str, tuple[Note, list[str]]] = field(default_factory=dict)  # id -> (note, samples)
    unexplained: list[tuple[str, str]] = field(default_factory=list)  # (sample, difference)

    def add(self, note: Note, sample: str) -> None:
        entry = self.notes.setdefault(note.id, (note, []))
        if sample not in entry[1]:
            entry[1].append(sample)


def table_notes(table: RoleTable, knowledge: Knowledge | None = None) -> TableNotes:
    out = TableNotes()
    ref = next((s for s in table.samples if s.sample == table.reference), None)
    if ref is None or ref.normalized is None:
        return out
    others = [r for r in table.samples if r is not ref and r.normalized is not None]
    for result in others:  # the differences first, then the dialects, then the attributes
        for dn in differences(result, ref, knowledge):
            if dn.note is None:
                out.unexplained.append((result.sample, words.difference(dn.difference)))
            else:
                out.add(dn.note, result.sample)
    for result in others:
        for dl in dialects(result, ref, knowledge):
            for note in dl.notes:
                out.add(note, result.sample)
    for result in others:
        for an in attributes(result, ref, knowledge):
            for note in an.notes:
                out.add(note, result.sample)
    return out
