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
  shutdown: SHUT_WR}`). Which facts a row has is ROW_FACTS (harness/render/knowledge_spec.py,
  with the file's records); the file is checked against it when it loads.

The particular notes come before the general ones; a row's note with no facts, and a step
kind's with none, is its general note, shown when nothing more specific fits. A syscall with
no note of its own is explained by the general fact the syscall table gives (its classes and
effects, harness/tables/syscalls.yaml): no report says "no note".

This module loads and checks the file and makes the syscall table's general notes; choosing
the notes of a run is harness/render/knowledge_match.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.render.knowledge_match import Knowledge, Note
from harness.render.knowledge_spec import (CHANGES, FACT_VALUES, ROW_FACTS, AttributeSelector,
                                           DialectSelector, DifferenceSelector, KnowledgeFile,
                                           NoteSpec, selector_names)

KNOWLEDGE_FILE = Path(__file__).with_name("knowledge.yaml")
SYSCALLS_FILE = Path(__file__).parents[1] / "tables" / "syscalls.yaml"
MAN_PAGE = re.compile(r"^[a-z0-9_.+-]+\([0-9][a-z]*\)$")  # shutdown(2), ipv6(7)


class KnowledgeError(HarnessError):
    """A knowledge file that cannot be used: names the file, the note and the field."""


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
        unknown = selector_names(diff.change) - set(CHANGES)
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


__all__ = ["KnowledgeError", "default_knowledge", "load_knowledge"]
