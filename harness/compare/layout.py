"""A role's step table: every sample's sequence aligned with the base's (the reference's when
it has a trace), one row per step, the textbook as one more column."""

from __future__ import annotations

from collections.abc import Sequence

from harness.compare.align import (MOVED, MOVED_AWAY, Change, Pair, RowIndex, align_steps,
                                   compare, merge_alignments)
from harness.compare.results import Cell, RoleTable, SampleResult, TableRow
from harness.formats.model import RunRecord
from harness.normalize.rules import RuleSet
from harness.normalize.steps import Step
from harness.normalize.textbook import Textbook, run_address


def textbook_steps(book: Textbook | None, run: RunRecord, rules: RuleSet) -> tuple[Step, ...]:
    if book is None:
        return ()
    address = run_address(run, rules.param("mask_ports", "run_port", "PORT"),
                          rules.param("mask_paths", "run_path", "PATH"))
    return book.steps(run, address)


def role_table(scenario: str, role: str, reference: str, columns: Sequence[SampleResult],
               book: Textbook | None, rules: RuleSet) -> RoleTable:
    """The table of one role in one scenario: `columns` one per sample, the reference's
    first when it has a trace."""
    base = next((c for c in columns if c.sample == reference and c.normalized is not None),
                None)
    has_reference = base is not None
    if base is None:
        base = next((c for c in columns if c.normalized is not None), None)
    if base is None:
        return RoleTable(scenario, role, reference, None, tuple(columns), (),
                         reference_has_trace=False)
    columns = [base] + [c for c in columns if c is not base]
    ref_steps = base.steps
    alignments: list[tuple[Pair, ...]] = []
    for c in columns:
        if c.normalized is None:
            alignments.append(tuple(Pair(i, None, Change.MISSING) for i in range(len(ref_steps))))
        elif c.verdict.alignment and c.sample != base.sample and base.sample == reference:
            alignments.append(c.verdict.alignment)
        else:
            alignments.append(align_steps(ref_steps, c.steps))
    # the textbook is one more column, aligned with the base like the samples
    book_steps = textbook_steps(book, base.record, rules) if book is not None else ()
    sequences = [c.steps for c in columns]
    if book_steps:
        alignments.append(align_steps(ref_steps, book_steps))
        sequences.append(book_steps)
    n = len(columns)
    merged = merge_alignments(len(ref_steps), alignments, [[s.key for s in seq]
                                                           for seq in sequences])
    # where each moved step landed (column, its index) -> row, for the row it left
    landed = {(c, idx): k for k, r in enumerate(merged) for c, (idx, kind)
              in enumerate(zip(r.cells, r.kinds)) if kind == MOVED}
    went = [{p.ref: p.partner for p in al if p.kind == MOVED_AWAY} for al in alignments]
    came = [{p.got: p.partner for p in al if p.kind == MOVED} for al in alignments]

    def cell(c: int, k: int, r: RowIndex, seq: Sequence[Step]) -> Cell:
        idx, kind = r.cells[c], r.kinds[c]
        if kind == MOVED_AWAY:
            there = landed.get((c, went[c].get(r.ref)))
            return Cell(None, MOVED_AWAY, moved_up=there is not None and there < k)
        if idx is None:
            return Cell(None)
        partner = came[c].get(idx)
        return Cell(seq[idx], kind, moved_from=None if partner is None else partner + 1)

    rows = []
    for k, r in enumerate(merged):
        if r.ref is not None:
            label = ref_steps[r.ref].label
        else:
            first = next(i for i, x in enumerate(r.cells) if x is not None)
            label = sequences[first][r.cells[first]].label  # type: ignore[index]
        rows.append(TableRow(step=None if r.ref is None else r.ref + 1, label=label,
                             cells=tuple(cell(c, k, r, sequences[c]) for c in range(n)),
                             textbook=cell(n, k, r, book_steps) if book_steps else None))
    return RoleTable(scenario, role, reference, base.sample, tuple(columns), tuple(rows),
                     reference_has_trace=has_reference, textbook=book_steps,
                     textbook_verdict=compare(book_steps, ref_steps) if book_steps else None,
                     textbook_loops=book.loops(base.record) if book_steps and book else ())
