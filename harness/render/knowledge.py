"""Why notes: what a difference, a dialect or an attribute means, for someone learning sockets.

The notes are data (harness/render/knowledge.yaml, beside the rules): each has a short
title, the general fact (what the call, flag or option does: true of any program), runtime
examples (shown as examples, never as a claim about the run), the manual pages to read, and one
selector saying what it is about. A selector names typed facts of the run, never a pattern over
the words the reports print:

- `difference`: a step a sample has and the reference does not, or the other way round, with
  facts of the step and of the run (`{step: recv, outcome: EOF, received_before: true}`,
  `{step: bind, change: extra, socket_type: SOCK_DGRAM}`, `{step: close, change: missing,
  killed: true}`);
- `dialect`: how a sample made a step both have (`{syscall: accept}`, `{mark: MSG_NOSIGNAL}`:
  a mark the sample's call has and the reference's lacks, `{missing_mark: SOCK_CLOEXEC}`: the
  other way round);
- `attribute`: an attribute whose value differs from the reference's, with facts of one of
  its items (`{row: socket options, option: TCP_NODELAY, enabled: false}`, `{row: closing,
  shutdown: SHUT_WR}`). Which facts a row has is ROW_FACTS; the file is checked against it
  when it loads.

The particular notes come before the general ones; a row's note with no facts, and a step
kind's with none, is its general note, shown when nothing more specific fits. A syscall with
no note of its own is explained by the general fact the syscall table gives (its classes and
effects, harness/tables/syscalls.yaml): no report says "no note".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from harness.compare.align import CHANGED, EXTRA, MISSING, MOVED, Difference
from harness.common.errors import HarnessError
from harness.normalize.steps import Step

KNOWLEDGE_FILE = Path(__file__).with_name("knowledge.yaml")
SYSCALLS_FILE = Path(__file__).parents[1] / "tables" / "syscalls.yaml"
MAN_PAGE = re.compile(r"^[a-z0-9_.+-]+\([0-9][a-z]*\)$")  # shutdown(2), ipv6(7)
CHANGES = {str(c): c for c in (EXTRA, MISSING, CHANGED, MOVED)}
TRANSPORTS = ("tcp", "udp", "unix")
SOCKET_TYPES = ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET", "SOCK_RAW")
FAMILIES = ("AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK")
SHUTDOWNS = ("SHUT_RD", "SHUT_WR", "SHUT_RDWR")
WIRE_ENDS = ("FIN", "RST", "none")
TCP_STATES = ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT_1",
              "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")

# each attribute row (as the tables name it) -> the facts its items have (the fields of
# AttributeSelector a note about that row may name); a row's items are made by
# harness/render/notes.py from the sample's typed attributes and wire summary
ROW_FACTS: dict[str, frozenset[str]] = {
    "I/O model": frozenset({"blocking", "uses"}),
    "readiness API": frozenset({"api", "waits"}),
    "readiness calls": frozenset(),
    "listen backlog": frozenset({"backlog_max"}),
    "address family": frozenset({"family", "mapped"}),
    "address": frozenset({"named"}),
    "socket type": frozenset({"socket_type"}),
    "addressing": frozenset({"addressing"}),
    "socket options": frozenset({"option", "enabled"}),
    "closing": frozenset({"shutdown", "released", "never_closed"}),
    "runtime probes": frozenset({"call", "detail", "none"}),
    "fd copies": frozenset({"call", "none"}),
    "EAGAIN failures": frozenset(),
    "threads": frozenset({"forked", "threaded"}),
    "threads with echo calls": frozenset(),
    "echo socket calls": frozenset(),
    "unrelated sockets": frozenset({"socket_type", "family", "origin", "connected", "sends",
                                    "peer", "none"}),
    "closes first (wire)": frozenset({"closes_first", "close_in_three"}),
    "ends with (wire)": frozenset({"ends_with"}),
    "data after its FIN (wire)": frozenset({"after_fin"}),
    "segments sent (wire)": frozenset(),
    "last TCP state (wire)": frozenset({"last_state"}),
}
# the wire rows whose value one run's timing decides: two runs of the same programs may differ
RACE_ROWS = frozenset({"closes first (wire)", "last TCP state (wire)",
                       "segments sent (wire)"})
# the values a fact may take, where they are few
FACT_VALUES: dict[str, tuple[str, ...]] = {
    "transport": TRANSPORTS, "socket_type": SOCKET_TYPES, "family": FAMILIES,
    "shutdown": SHUTDOWNS, "closes_first": WIRE_ENDS, "ends_with": WIRE_ENDS,
    "last_state": TCP_STATES, "api": ("epoll", "poll", "select"),
    "addressing": ("sendto", "connect+send", "connect+sendto", "send", "never sends"),
    "uses": ("SOCK_NONBLOCK", "FIONBIO", "O_NONBLOCK", "MSG_DONTWAIT", "switch",
             "around connect", "signal-driven", "io_uring", "SQPOLL"),
    "origin": ("socket", "socketpair", "accept", "unknown"),
    "named": ("run", "every interface", "host name", "loopback", "other"),
}


class KnowledgeError(HarnessError):
    """A knowledge file that cannot be used: names the file, the note and the field."""


# -- the file's records (checked field by field, unknown fields refused) ------------------------

@dataclass(frozen=True, slots=True)
class DifferenceSelector:
    STRICT: ClassVar[bool] = True
    step: str | list[str] = field(default_factory=list)  # canonical name of the step (the
    # sample's, or the missing one); empty: any step
    change: str | list[str] = field(default_factory=list)  # extra, missing, changed, moved
    qualifier: str = ""  # one of the step's compared arguments (SHUT_WR, MSG_PEEK)
    outcome: str | None = None  # EOF, an errno, "never returned"; "" for success
    socket: str = ""  # the socket it works on (listener, conn, sock, sock2)
    transport: str = ""  # the scenario's: tcp, udp, unix
    socket_type: str = ""  # the type of the step's socket (SOCK_STREAM, SOCK_DGRAM)
    family: str = ""  # the family of the step's socket (AF_INET, AF_INET6, AF_UNIX)
    killed: bool | None = None  # the sample's program was killed (by the harness, a signal)
    received_before: bool | None = None  # its socket received bytes before this step
    socket_made: bool | None = None  # the sample made a socket of the step's name
    same_socket: bool | None = None  # a changed step: on the socket the reference's is on


@dataclass(frozen=True, slots=True)
class DialectSelector:
    STRICT: ClassVar[bool] = True
    syscall: str | list[str] = field(default_factory=list)  # the sample's call (accept, write)
    step: str | list[str] = field(default_factory=list)  # canonical name of the step
    mark: str = ""  # a mark the sample's call has and the reference's lacks (MSG_NOSIGNAL)
    missing_mark: str = ""  # a mark of the reference's call the sample's lacks
    extra: str = ""  # a call folded into the sample's (SO_ERROR)


@dataclass(frozen=True, slots=True)
class AttributeSelector:
    """An attribute row and facts one of its items must have (ROW_FACTS says which)."""

    STRICT: ClassVar[bool] = True
    row: str  # the attribute, as the tables name it (listen backlog, I/O model)
    blocking: bool | None = None  # I/O model: the echo's sockets block
    uses: str = ""  # I/O model: a way of not blocking, or of doing I/O (FACT_VALUES)
    api: str = ""  # readiness API: epoll, poll, select
    waits: bool | None = None  # readiness API: something waits on it (false: registered)
    backlog_max: bool | None = None  # listen backlog: the largest the kernel allows
    family: str = ""  # address family; unrelated sockets
    mapped: bool | None = None  # address family: IPv4 through v4-mapped IPv6 addresses
    named: str = ""  # address: what an address bound or connected to is (FACT_VALUES)
    socket_type: str = ""  # socket type; unrelated sockets
    addressing: str = ""  # addressing: how a datagram socket names its peer
    option: str = ""  # socket options: the option's name (SO_KEEPALIVE)
    enabled: bool | None = None  # socket options: set to a value that turns it on (not 0)
    shutdown: str = ""  # closing: a shutdown(how) before the end
    released: bool | None = None  # closing: its last reference went otherwise than a close
    never_closed: bool | None = None  # closing: nothing closed it while traced
    call: str = ""  # tallies: the call counted (getsockname, ioctl, dup2)
    detail: str = ""  # tallies: what it asked (TCGETS, F_GETFL, SO_ERROR)
    none: bool | None = None  # the row is empty (no probe, no unrelated socket)
    forked: bool | None = None  # threads: more than one process
    threaded: bool | None = None  # threads: a process with more than one thread
    origin: str = ""  # unrelated sockets: socket, socketpair, accept, unknown
    connected: bool | None = None  # unrelated sockets: connected somewhere
    sends: bool | None = None  # unrelated sockets: sent bytes
    peer: str = ""  # unrelated sockets: the address it connected to, exactly
    closes_first: str = ""  # wire: FIN, RST, none
    close_in_three: bool | None = None  # wire: this side's FIN carried the ACK of the peer's
    ends_with: str = ""  # wire: FIN, RST, none
    after_fin: bool | None = None  # wire: bytes received after its own FIN
    last_state: str = ""  # wire: its last TCP state

    def facts(self) -> dict[str, Any]:
        """The facts it names: {field: value}, row left out."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "row" and getattr(self, f.name) not in ("", None)}


@dataclass(frozen=True, slots=True)
class NoteSpec:
    STRICT: ClassVar[bool] = True
    id: str
    title: str  # a few words: the one-line summaries show it
    text: str  # the general fact: two or three sentences, true of any program
    see: list[str]  # manual pages: shutdown(2)
    examples: list[str] = field(default_factory=list)  # runtimes that do it, shown as such
    difference: DifferenceSelector | None = None
    dialect: DialectSelector | None = None
    attribute: AttributeSelector | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    STRICT: ClassVar[bool] = True
    notes: list[NoteSpec]


# -- the facts a note is chosen by ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StepFacts:
    """What the run says about the step a difference is about (harness/render/notes.py
    gathers them from the sample's steps, trace attributes and run record)."""

    transport: str = ""  # the scenario's: tcp, udp, unix
    socket_type: str = ""  # of the step's socket, when the steps say
    family: str = ""  # of the step's socket, when the steps say
    killed: bool = False  # the sample's program was killed
    received_before: bool = False  # its socket received bytes before this step
    socket_made: bool = True  # the sample made a socket of the step's name
    same_socket: bool = True  # a changed step: on the socket the reference's is on


Item = Mapping[str, Any]  # one item of an attribute row: fact name -> value


def _names(value: str | list[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _tokens(marks: tuple[str, ...]) -> frozenset[str]:
    """A step's marks as single names: `SOCK_NONBLOCK|SOCK_CLOEXEC` is two."""
    return frozenset(part.strip() for mark in marks for part in mark.split("|"))


def _fits(want: Any, have: Any) -> bool:
    if isinstance(have, (set, frozenset, tuple, list)):
        return want in have
    return want == have


@dataclass(frozen=True, slots=True)
class Note:
    """One why note."""

    id: str
    title: str
    text: str
    see: tuple[str, ...]
    spec: NoteSpec | None
    examples: tuple[str, ...] = ()

    @property
    def general(self) -> bool:
        """A row's or a step kind's note that names no fact: shown when no other fits."""
        if self.spec is None:
            return True
        if self.spec.attribute is not None:
            return not self.spec.attribute.facts()
        sel = self.spec.difference
        return sel is not None and not any(
            (sel.change, sel.qualifier, sel.outcome is not None, sel.socket, sel.transport,
             sel.socket_type, sel.family, sel.killed is not None,
             sel.received_before is not None, sel.socket_made is not None,
             sel.same_socket is not None))

    def about_difference(self, d: Difference, step: Step | None, facts: StepFacts) -> bool:
        sel = self.spec.difference if self.spec is not None else None
        if sel is None or step is None:
            return False
        if sel.change and d.kind not in {CHANGES[c] for c in _names(sel.change)}:
            return False
        return ((not sel.step or step.name in _names(sel.step))
                and (not sel.qualifier or sel.qualifier in step.qualifiers)
                and (sel.outcome is None or step.outcome == sel.outcome)
                and (not sel.socket or sel.socket in (step.fd, step.creates))
                and (not sel.transport or sel.transport == facts.transport)
                and (not sel.socket_type or sel.socket_type == facts.socket_type)
                and (not sel.family or sel.family == facts.family)
                and (sel.killed is None or sel.killed == facts.killed)
                and (sel.received_before is None or sel.received_before == facts.received_before)
                and (sel.socket_made is None or sel.socket_made == facts.socket_made)
                and (sel.same_socket is None or sel.same_socket == facts.same_socket))

    def about_dialect(self, ref: Step, got: Step) -> bool:
        sel = self.spec.dialect if self.spec is not None else None
        if sel is None:
            return False
        mine, theirs = _tokens(got.marks), _tokens(ref.marks)
        return ((not sel.syscall or got.syscall in _names(sel.syscall))
                and (not sel.step or got.name in _names(sel.step))
                and (not sel.mark or (sel.mark in mine and sel.mark not in theirs))
                and (not sel.missing_mark or (sel.missing_mark in theirs
                                              and sel.missing_mark not in mine))
                and (not sel.extra or sel.extra in got.extras))

    def about_item(self, row: str, item: Item) -> bool:
        sel = self.spec.attribute if self.spec is not None else None
        return sel is not None and sel.row == row and all(
            name in item and _fits(want, item[name]) for name, want in sel.facts().items())


@dataclass(frozen=True)
class Knowledge:
    notes: tuple[Note, ...]
    source: str
    syscalls: Mapping[str, Note] = field(default_factory=dict)  # general notes of the table

    def note(self, note_id: str) -> Note | None:
        return next((n for n in self.notes if n.id == note_id), None)

    def for_difference(self, d: Difference, expected: Step | None, got: Step | None,
                       facts: StepFacts | None = None) -> Note | None:
        """The note about one difference (the first that fits: the file lists the particular
        before the general), else the general fact of its call; a missing step is the
        reference's, any other the sample's."""
        step = expected if d.kind == MISSING else got
        facts = facts or StepFacts()
        found = next((n for n in self.notes if n.about_difference(d, step, facts)), None)
        if found is None and step is not None:
            found = self.syscalls.get(step.syscall) or self.syscalls.get(step.name)
        return found

    def for_dialect(self, ref: Step, got: Step) -> tuple[Note, ...]:
        """The notes about how the sample made a step the reference made otherwise; the
        general fact of the sample's call when none fits and its call is another."""
        if ref.dialect == got.dialect:
            return ()
        found = tuple(n for n in self.notes if n.about_dialect(ref, got))
        if not found and got.syscall != ref.syscall and got.syscall in self.syscalls:
            found = (self.syscalls[got.syscall],)
        return found

    def for_attribute(self, row: str, items: Sequence[Item]) -> tuple[Note, ...]:
        """The notes about a row whose items (typed facts, one per option, socket, call...)
        are these: every particular note some item fits, else the row's general note."""
        found = tuple(n for n in self.notes if not n.general
                      and any(n.about_item(row, item) for item in items))
        if found:
            return found
        return tuple(n for n in self.notes if n.general and n.spec is not None
                     and n.spec.attribute is not None and n.spec.attribute.row == row)[:1]


def note_from_spec(spec: NoteSpec) -> Note:
    return Note(id=spec.id, title=spec.title.strip(), text=" ".join(spec.text.split()),
                see=tuple(spec.see), spec=spec,
                examples=tuple(" ".join(e.split()) for e in spec.examples))


def load_knowledge(path: Path | str = KNOWLEDGE_FILE,
                   syscalls: Path | str | None = SYSCALLS_FILE) -> Knowledge:
    """Read and check a knowledge file: every field known and of its type, one selector per
    note, ids unique, manual pages written as name(section), each selector's facts known for
    its row and of a value they can take."""
    from harness.common.validate import ValidationError, check_record, read_yaml

    path = Path(path)
    doc = read_yaml(path, KnowledgeError)
    try:
        check_record(doc, KnowledgeFile, str(path), strict=True)
    except ValidationError as e:
        raise KnowledgeError(str(e)) from None
    notes: list[Note] = []
    seen: set[str] = set()
    for i, raw in enumerate(doc["notes"]):
        where = f"{path}: notes[{i}] ({raw['id']})"
        if raw["id"] in seen:
            raise KnowledgeError(f"{where}: id '{raw['id']}' used twice")
        seen.add(raw["id"])
        selectors = [k for k in ("difference", "dialect", "attribute") if raw.get(k)]
        if len(selectors) != 1:
            raise KnowledgeError(f"{where}: needs one of difference, dialect, attribute "
                                 f"(has {', '.join(selectors) or 'none'})")
        for page in raw["see"]:
            if not MAN_PAGE.match(page):
                raise KnowledgeError(f"{where}: field 'see': {page!r} is not a manual page "
                                     f"(write it as name(section): shutdown(2))")
        notes.append(note_from_spec(_spec(raw, where)))
    return Knowledge(notes=tuple(notes), source=str(path),
                     syscalls=syscall_notes(Path(syscalls)) if syscalls else {})


def _check_values(selector: str, values: Mapping[str, Any], where: str) -> None:
    for name, value in values.items():
        allowed = FACT_VALUES.get(name)
        if allowed is not None and isinstance(value, str) and value and value not in allowed:
            raise KnowledgeError(f"{where}: field '{selector}.{name}': {value!r} is not one of "
                                 f"{', '.join(allowed)}")


def _spec(raw: dict, where: str) -> NoteSpec:
    diff = DifferenceSelector(**raw["difference"]) if raw.get("difference") else None
    dialect = DialectSelector(**raw["dialect"]) if raw.get("dialect") else None
    attr = AttributeSelector(**raw["attribute"]) if raw.get("attribute") else None
    if diff is not None:
        unknown = _names(diff.change) - set(CHANGES)
        if unknown:
            raise KnowledgeError(f"{where}: field 'difference.change': unknown change "
                                 f"{sorted(unknown)[0]!r} (changes: {', '.join(CHANGES)})")
        _check_values("difference", raw["difference"], where)
    if attr is not None:
        if attr.row not in ROW_FACTS:
            raise KnowledgeError(f"{where}: field 'attribute.row': unknown row {attr.row!r} "
                                 f"(rows: {', '.join(ROW_FACTS)})")
        wrong = sorted(set(attr.facts()) - ROW_FACTS[attr.row])
        if wrong:
            known = ", ".join(sorted(ROW_FACTS[attr.row])) or "none"
            raise KnowledgeError(f"{where}: field 'attribute.{wrong[0]}': the row "
                                 f"{attr.row!r} has no such fact (its facts: {known})")
        _check_values("attribute", raw["attribute"], where)
    return NoteSpec(id=raw["id"], title=raw["title"], text=raw["text"], see=list(raw["see"]),
                    examples=list(raw.get("examples") or ()), difference=diff,
                    dialect=dialect, attribute=attr)


# -- the general fact of every call of the syscall table ------------------------------------------

CLASS_FACTS = {
    "socket_create": "makes a socket (or a connected pair of them) and gives it a descriptor",
    "accept_like": "takes a connection off a listening socket's queue and gives it a socket "
                   "of its own",
    "recv_like": "reads bytes out of a descriptor (0 from a stream socket: end of file)",
    "send_like": "writes bytes into a descriptor",
    "readiness": "waits until one of the descriptors it watches is ready",
    "queries": "asks about a socket or its descriptor and changes nothing",
    "housekeeping": "works on the descriptor's state, not on the conversation",
    "fd_copy": "gives an existing socket one more descriptor",
    "two_ended": "moves bytes between a socket and another descriptor inside the kernel",
    "close_like": "gives up a descriptor; the socket closes with its last one",
    "process": "starts, replaces or ends a process, which closes or keeps its descriptors",
    "fork_like": "makes a process (or a thread) that shares or copies the descriptors",
}
EFFECT_FACTS = {
    "bind": "gives the socket its local address",
    "listen": "makes the socket accept connections",
    "connect": "connects the socket to a peer address (for a datagram socket: records it)",
    "shutdown": "ends one or both directions of the connection",
    "send": "sends bytes through the socket",
    "receive": "receives bytes from the socket",
    "release": "gives up a reference to the socket",
    "wait": "waits for the socket to be ready",
    "register": "adds the socket to a readiness set, or removes it, without waiting",
}


OWN_FACTS = {
    "setsockopt": "sets an option of a socket (its level says which layer: SOL_SOCKET, "
                  "SOL_TCP, SOL_IP...)",
    "ioctl": "sends a device request to a descriptor; on a socket FIONBIO, FIOASYNC and "
             "FIOCLEX change its flags, FIONREAD asks how many bytes wait",
    "epoll_create": "makes an epoll instance, the set of descriptors a program waits on",
    "epoll_create1": "makes an epoll instance, the set of descriptors a program waits on",
    "io_uring_setup": "makes an io_uring instance: the queues a program submits operations "
                      "to and collects their results from",
    "io_uring_enter": "submits the operations written to an io_uring's queue, and can wait "
                      "for their completions",
    "io_uring_register": "registers buffers or descriptors with an io_uring instance",
    "mmap": "maps a file or memory into the process",
}


def syscall_notes(path: Path) -> dict[str, Note]:
    """A general note for every call of the table, from its classes and effects."""
    from harness.common.validate import read_yaml

    doc = read_yaml(path, KnowledgeError)
    rows = doc.get("syscalls") or {}
    out: dict[str, Note] = {}
    for name, row in rows.items():
        row = row or {}
        facts = [CLASS_FACTS[c] for c in (row.get("is") or ()) if c in CLASS_FACTS][:1]
        if not facts:
            facts = [EFFECT_FACTS[e] for e in (row.get("does") or {}) if e in EFFECT_FACTS]
        if name in OWN_FACTS:
            facts = [OWN_FACTS[name]]
        if not facts:
            facts = ["works on a descriptor, here a socket's, without sending or receiving "
                     "anything on it (its manual page says what it does)"]
        text = f"{name}() " + "; it ".join(facts) + "."
        out[name] = Note(id=f"syscall-{name}", title=f"what {name}() does", text=text,
                         see=(f"{name}(2)",), spec=None)
    for op, like in (doc.get("uring_ops") or {}).items():
        base = (like or {}).get("like") if isinstance(like, dict) else like
        if base in out:
            b = out[base]
            out[op] = Note(id=f"syscall-{op}", title=f"what {op} does",
                           text=f"{op} is {base}() made through io_uring: "
                                + b.text[len(base) + 3:],
                           see=("io_uring(7)", *b.see), spec=None)
    return out


@cache
def default_knowledge() -> Knowledge:
    return load_knowledge(KNOWLEDGE_FILE)


__all__ = ["Knowledge", "KnowledgeError", "Note", "ROW_FACTS", "RACE_ROWS", "StepFacts",
           "default_knowledge", "load_knowledge"]
