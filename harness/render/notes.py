"""The why notes (harness/knowledge.py) of what the reports show: each difference, each way a
sample makes a step differently (its dialect), each attribute that differs from the
reference's. verify, the Markdown report and the terminal summary print them."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.analysis import RoleTable, SampleResult
from harness.compare import MOVED, Difference
from harness.knowledge import Knowledge, Note, default_knowledge
from harness.normalize.steps import Step
from harness.render import words

NO_NOTE = "no note yet (add one to harness/normalize/knowledge.yaml)"


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


def differences(result: SampleResult, ref: SampleResult,
                knowledge: Knowledge | None = None) -> list[DifferenceNote]:
    k = knowledge or default_knowledge()
    return [DifferenceNote(d, k.for_difference(d, *difference_steps(result, ref, d)))
            for d in result.verdict.differences]


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
    """Each attribute whose value differs from the reference's."""
    from harness.render.attributes import sample_rows

    if result.normalized is None or ref.normalized is None:
        return []
    k = knowledge or default_knowledge()
    return [AttributeNote(label, mine, theirs, k.for_attribute(label, mine))
            for (label, mine), (_, theirs) in zip(sample_rows(result), sample_rows(ref))
            if mine != theirs]


def note_line(note: Note) -> str:
    """`a half-close before the close: shutdown(SHUT_WR) sends ... (see shutdown(2))`."""
    return f"{note.title}: {note.text} (see {', '.join(note.see)})"


def note_short(note: Note | None) -> str:
    """The note's title and pages, for one-line summaries."""
    if note is None:
        return "no note yet"
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
