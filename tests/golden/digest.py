"""An analysis as lines of text, for the compare stage's goldens: what the comparison decided
(the verdict grid, each sample's verdict, differences and alignment, each table's rows, each
run's wire summary) and which note each difference, dialect and attribute gets, by the note's
id. The steps themselves are the normalize stage's goldens, and the words of the reports the
render stage's: a change of a sentence rewrites neither file."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec

from harness.compare.align import Change, Pair, Verdict
from harness.compare.results import Analysis, GridCell, RoleTable, SampleResult
from harness.render import notes


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


def _cell(c: GridCell) -> str:
    out = str(c.status)
    if c.first_step is not None:
        out += f" (step {c.first_step})"
    if c.failure:
        out += f" [{c.failure}]"
    return out


_PAIR = {Change.MATCH: "{r}={g}", Change.CHANGED: "{r}~{g}", Change.EXTRA: "+{g}",
         Change.MISSING: "-{r}", Change.MOVED: "{g}<{p}", Change.MOVED_AWAY: "{r}>{p}"}


def _pair(p: Pair) -> str:
    """1=1 a match, 5~5 a changed step, +6 an extra, -7 a missing one, 8<6 a step moved from
    the reference's 6th place, 6>8 the place it left (1-based)."""
    def n(i: int | None) -> str:
        return "?" if i is None else str(i + 1)
    return _PAIR[p.kind].format(r=n(p.ref), g=n(p.got), p=n(p.partner))


def _verdict(v: Verdict) -> Iterator[str]:
    yield f"verdict: {v.status}" + (f" ({_json(v.why)})" if v.why is not None else "")
    for d in v.differences:
        yield f"difference: {_json(d)}"
    if v.alignment:
        yield "alignment: " + " ".join(_pair(p) for p in v.alignment)


def _table(t: RoleTable) -> Iterator[str]:
    yield (f"{t.scenario} {t.role} · reference {t.reference} · base {t.base}"
           + ("" if t.reference_has_trace else " (the reference has no trace)"))
    if t.textbook_verdict is not None:
        yield "  textbook " + " · ".join(_verdict(t.textbook_verdict))
    for s in t.samples:
        yield f"  {s.sample} ({s.run}, {s.record.outcome})"
        yield from (f"    {line}" for line in _verdict(s.verdict))
    yield "  rows (step · label · each column's change):"
    for row in t.rows:
        changes = " | ".join(
            "-" if c.change is None else str(c.change)
            + (f" from {c.moved_from}" if c.moved_from is not None else "")
            for c in row.cells)
        yield f"    {row.step if row.step is not None else '-'} · {row.label} · {changes}"


def compare_digest(a: Analysis) -> str:
    lines = [f"reference {a.reference} · level {a.level}", "grid:"]
    for row in a.grid.rows:
        cells = " · ".join(f"{sc} {_cell(c)}" for sc, c in zip(a.grid.scenarios, row.cells))
        lines.append(f"  {row.sample} {row.role}: {cells}")
    lines += [f"skipped: {s.name} {s.role}: {s.reason}" for s in a.skipped]
    lines += [f"failed: {f.name} {f.role}: {f.reason}" for f in a.failed]
    for sc in a.scenarios:
        for t in sc.tables:
            lines.extend(_table(t))
        for run in sc.runs:
            lines.append(f"run {run.folder}: {run.record.outcome}"
                         + (f" · no wire view: {run.wire_note}" if run.wire is None else ""))
            if run.wire is not None:
                w = run.wire
                lines.append(f"  wire: {w.protocol}, {len(w.packets)} packets, "
                             f"{len(w.calls)} calls, {w.dropped} dropped"
                             + (f", note: {w.note}" if w.note else ""))
                for role in sorted(w.sides):
                    lines.append(f"  wire {role}: {_json(w.sides[role])} "
                                 f"facts {_json(w.facts.get(role))}")
    return "\n".join(lines) + "\n"


def _ids(found: tuple[notes.Note, ...] | list[notes.Note]) -> str:
    return ", ".join(n.id for n in found) or "(none)"


def _sample_notes(result: SampleResult, ref: SampleResult) -> Iterator[str]:
    for dn in notes.differences(result, ref):
        yield (f"    step {dn.difference.step} {dn.difference.kind}: "
               f"{dn.note.id if dn.note is not None else '(no note)'}")
    for dl in notes.dialects(result, ref):
        yield f"    dialect {dl.reference} -> {dl.sample}: {_ids(dl.notes)}"
    for an in notes.attributes(result, ref):
        yield f"    attribute {an.row}: {_ids(an.notes)}"


def notes_digest(a: Analysis) -> str:
    """Which note each difference, dialect and attribute row of each sample gets."""
    lines: list[str] = []
    for sc in a.scenarios:
        for t in sc.tables:
            ref = next((s for s in t.samples if s.sample == t.reference), None)
            if ref is None or ref.normalized is None:
                lines.append(f"{t.scenario} {t.role}: no reference to note against")
                continue
            lines.append(f"{t.scenario} {t.role}:")
            for s in t.samples:
                if s is ref or s.normalized is None:
                    continue
                said = list(_sample_notes(s, ref))
                lines.append(f"  {s.sample}:" + ("" if said else " (nothing to note)"))
                lines.extend(said)
    return "\n".join(lines) + "\n"
