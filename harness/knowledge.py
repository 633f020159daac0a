"""Why notes: what a difference, a dialect or an attribute means, for someone learning sockets.

The notes are data (harness/normalize/knowledge.yaml, beside the rules): each has a short
title, two or three sentences, the manual pages to read, and one selector saying what it is
about:

- `difference`: a step a sample has and the reference does not, or the other way round
  (`{step: shutdown, qualifier: SHUT_WR}`, `{step: recv, outcome: EOF}`);
- `dialect`: how a sample made a step both have (`{syscall: accept}`, `{mark: MSG_NOSIGNAL}`,
  `{missing_mark: SOCK_CLOEXEC}`: the reference's mark that the sample's call lacks);
- `attribute`: an attribute whose value differs from the reference's (`{row: listen backlog,
  value: '^(4096|-1)$'}`, a regular expression searched in the attribute's text).

The renderers (verify's explain, the Markdown report, the terminal summary) ask this module
for the notes of what they show; a difference with no note is shown as such, so that gaps show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import ClassVar

from harness.compare import CHANGED, EXTRA, MISSING, MOVED, Difference
from harness.errors import HarnessError
from harness.normalize.steps import Step

KNOWLEDGE_FILE = Path(__file__).parent / "normalize" / "knowledge.yaml"
MAN_PAGE = re.compile(r"^[a-z0-9_.+-]+\([0-9][a-z]*\)$")  # shutdown(2), ipv6(7)
CHANGES = {str(c): c for c in (EXTRA, MISSING, CHANGED, MOVED)}


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


@dataclass(frozen=True, slots=True)
class DialectSelector:
    STRICT: ClassVar[bool] = True
    syscall: str | list[str] = field(default_factory=list)  # the sample's call (accept, write)
    step: str | list[str] = field(default_factory=list)  # canonical name of the step
    mark: str = ""  # a mark of the sample's call (MSG_NOSIGNAL, EINPROGRESS, v4-mapped)
    missing_mark: str = ""  # a mark of the reference's call the sample's lacks
    extra: str = ""  # a call folded into the sample's (SO_ERROR)


@dataclass(frozen=True, slots=True)
class AttributeSelector:
    STRICT: ClassVar[bool] = True
    row: str  # the attribute, as the tables name it (listen backlog, I/O model)
    value: str = ""  # a regular expression searched in the sample's value ("" for any)


@dataclass(frozen=True, slots=True)
class NoteSpec:
    STRICT: ClassVar[bool] = True
    id: str
    title: str  # a few words: the one-line summaries show it
    text: str  # two or three sentences
    see: list[str]  # manual pages: shutdown(2)
    difference: DifferenceSelector | None = None
    dialect: DialectSelector | None = None
    attribute: AttributeSelector | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    STRICT: ClassVar[bool] = True
    notes: list[NoteSpec]


# -- the notes, ready to match ---------------------------------------------------------------

def _names(value: str | list[str]) -> frozenset[str]:
    return frozenset([value] if isinstance(value, str) else value)


def _tokens(marks: tuple[str, ...]) -> frozenset[str]:
    """A step's marks as single names: `SOCK_NONBLOCK|SOCK_CLOEXEC` is two."""
    return frozenset(part.strip() for mark in marks for part in mark.split("|"))


@dataclass(frozen=True, slots=True)
class Note:
    """One why note."""

    id: str
    title: str
    text: str
    see: tuple[str, ...]
    spec: NoteSpec

    def about_difference(self, d: Difference, step: Step | None) -> bool:
        sel = self.spec.difference
        if sel is None or step is None:
            return False
        if sel.change and d.kind not in {CHANGES[c] for c in _names(sel.change)}:
            return False
        return ((not sel.step or step.name in _names(sel.step))
                and (not sel.qualifier or sel.qualifier in step.qualifiers)
                and (sel.outcome is None or step.outcome == sel.outcome)
                and (not sel.socket or sel.socket in (step.fd, step.creates)))

    def about_dialect(self, ref: Step, got: Step) -> bool:
        sel = self.spec.dialect
        if sel is None:
            return False
        mine, theirs = _tokens(got.marks), _tokens(ref.marks)
        return ((not sel.syscall or got.syscall in _names(sel.syscall))
                and (not sel.step or got.name in _names(sel.step))
                and (not sel.mark or sel.mark in mine)
                and (not sel.missing_mark or (sel.missing_mark in theirs
                                              and sel.missing_mark not in mine))
                and (not sel.extra or sel.extra in got.extras))

    def about_attribute(self, row: str, text: str) -> bool:
        sel = self.spec.attribute
        return sel is not None and sel.row == row and \
            (not sel.value or re.search(sel.value, text) is not None)


@dataclass(frozen=True)
class Knowledge:
    notes: tuple[Note, ...]
    source: str

    def for_difference(self, d: Difference, expected: Step | None,
                       got: Step | None) -> Note | None:
        """The note about one difference (the first that fits: the file lists the particular
        before the general); a missing step is the reference's, any other the sample's."""
        step = expected if d.kind == MISSING else got
        return next((n for n in self.notes if n.about_difference(d, step)), None)

    def for_dialect(self, ref: Step, got: Step) -> tuple[Note, ...]:
        """The notes about how the sample made a step the reference made otherwise."""
        if ref.dialect == got.dialect:
            return ()
        return tuple(n for n in self.notes if n.about_dialect(ref, got))

    def for_attribute(self, row: str, text: str) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.about_attribute(row, text))


def load_knowledge(path: Path | str = KNOWLEDGE_FILE) -> Knowledge:
    """Read and check a knowledge file: every field known and of its type, one selector per
    note, ids unique, manual pages written as name(section), regular expressions valid."""
    from harness.validate import ValidationError, check_record, read_yaml

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
        spec = _spec(raw, where)
        notes.append(Note(id=spec.id, title=spec.title.strip(), text=" ".join(spec.text.split()),
                          see=tuple(spec.see), spec=spec))
    return Knowledge(notes=tuple(notes), source=str(path))


def _spec(raw: dict, where: str) -> NoteSpec:
    diff = DifferenceSelector(**raw["difference"]) if raw.get("difference") else None
    dialect = DialectSelector(**raw["dialect"]) if raw.get("dialect") else None
    attr = AttributeSelector(**raw["attribute"]) if raw.get("attribute") else None
    if diff is not None:
        unknown = _names(diff.change) - set(CHANGES)
        if unknown:
            raise KnowledgeError(f"{where}: field 'difference.change': unknown change "
                                 f"{sorted(unknown)[0]!r} (changes: {', '.join(CHANGES)})")
    if attr is not None and attr.value:
        try:
            re.compile(attr.value)
        except re.error as e:
            raise KnowledgeError(f"{where}: field 'attribute.value': not a regular "
                                 f"expression: {e}") from None
    return NoteSpec(id=raw["id"], title=raw["title"], text=raw["text"], see=list(raw["see"]),
                    difference=diff, dialect=dialect, attribute=attr)


@cache
def default_knowledge() -> Knowledge:
    return load_knowledge(KNOWLEDGE_FILE)


__all__ = ["Knowledge", "KnowledgeError", "Note", "default_knowledge", "load_knowledge"]
