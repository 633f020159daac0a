"""Choosing why notes by a run's facts: the facts of a step a difference is about (StepFacts),
one note and the tests of whether it is about a difference, a dialect or an attribute row's
item (Note), and the loaded notes with the questions the reports ask of them (Knowledge): the
note of a difference, the notes of a dialect, of an attribute row, the particular before the
general and the syscall table's general fact of a call when no note fits.

The notes come from harness/render/knowledge.py, which loads and checks the file; the records
a note is made from are in harness/render/knowledge_spec.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.compare.align import MISSING, Difference
from harness.normalize.steps import Step
from harness.render.knowledge_spec import CHANGES, NoteSpec, selector_names


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
    # a changed step: the same call on the same socket with the same outcome, only the
    # arguments the comparison keeps (its qualifiers: a flag, a shutdown's how) otherwise
    qualifiers_only: bool = False
    echoed: bool = False  # the run passed its echo check: the message went and came back
    empty: bool = False  # the step is a send that moved no bytes (it returned 0)


Item = Mapping[str, Any]  # one item of an attribute row: fact name -> value


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
             sel.same_socket is not None, sel.qualifiers_only is not None,
             sel.echoed is not None, sel.empty is not None))

    def about_difference(self, d: Difference, step: Step | None, facts: StepFacts) -> bool:
        sel = self.spec.difference if self.spec is not None else None
        if sel is None or step is None:
            return False
        if sel.change and d.kind not in {CHANGES[c] for c in selector_names(sel.change)}:
            return False
        return ((not sel.step or step.name in selector_names(sel.step))
                and (not sel.qualifier or sel.qualifier in step.qualifiers)
                and (sel.outcome is None or step.outcome == sel.outcome)
                and (not sel.socket or sel.socket in (step.fd, step.creates))
                and (not sel.transport or sel.transport == facts.transport)
                and (not sel.socket_type or sel.socket_type == facts.socket_type)
                and (not sel.family or sel.family == facts.family)
                and (sel.killed is None or sel.killed == facts.killed)
                and (sel.received_before is None or sel.received_before == facts.received_before)
                and (sel.socket_made is None or sel.socket_made == facts.socket_made)
                and (sel.same_socket is None or sel.same_socket == facts.same_socket)
                and (sel.qualifiers_only is None
                     or sel.qualifiers_only == facts.qualifiers_only)
                and (sel.echoed is None or sel.echoed == facts.echoed)
                and (sel.empty is None or sel.empty == facts.empty))

    def about_dialect(self, ref: Step, got: Step) -> bool:
        sel = self.spec.dialect if self.spec is not None else None
        if sel is None:
            return False
        mine, theirs = _tokens(got.marks), _tokens(ref.marks)
        return ((not sel.syscall or got.syscall in selector_names(sel.syscall))
                and (not sel.step or got.name in selector_names(sel.step))
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
