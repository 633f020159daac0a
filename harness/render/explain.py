"""`verify`'s account of one sample: its verdict in each scenario, its steps beside the
reference's with the alignment, then what each difference, each dialect and each attribute
that differs from the reference's means (the why notes of harness/render/knowledge.yaml),
and what went wrong in its runs."""

from __future__ import annotations

import textwrap

from harness.compare.analyze import find_sample

from harness.compare.results import Analysis, SampleResult
from harness.compare.align import MATCH
from harness.render.knowledge_match import Note
from harness.normalize.steps import GAP
from harness.render import notes as why
from harness.render import words

WIDTH = 100  # explain's text wraps here


class _Notes:
    """Prints each note in full the first time, by its title after that."""

    def __init__(self) -> None:
        self.shown: set[str] = set()

    def lines(self, note: Note | None, indent: str) -> list[str]:
        if note is None:
            return [f"{indent}{why.NO_NOTE}"]
        if note.id in self.shown:
            return [f"{indent}{note.title} (see above)"]
        self.shown.add(note.id)
        return textwrap.wrap(why.note_line(note), WIDTH, initial_indent=indent,
                             subsequent_indent=indent, break_on_hyphens=False)


def _steps_table(table_ref: str, sample: str, home: SampleResult, ref: SampleResult) -> list[str]:
    from tabulate import tabulate

    rows = []
    for k, p in enumerate(home.verdict.alignment, 1):
        want = ref.steps[p.ref] if p.ref is not None else None
        got = home.steps[p.got] if p.got is not None else None
        rows.append([k, want.label if want else GAP, want.dialect if want else "",
                     got.label if got else GAP, got.dialect if got else "",
                     "" if p.kind == MATCH else str(p.kind)])
    text = tabulate(rows, headers=["#", f"{table_ref} (reference)", "dialect", sample,
                                   "dialect", "change"], tablefmt="simple")
    return ["", *("  " + line for line in text.splitlines()), ""]


def _why(home: SampleResult, ref: SampleResult, shown: _Notes) -> list[str]:
    out: list[str] = []
    diffs = why.differences(home, ref)
    if diffs:
        out.append("  why it differs:")
        for dn in diffs:
            out.append(f"    step {dn.difference.step}: {words.difference(dn.difference)}")
            out += shown.lines(dn.note, "      ")
    sections = [
        ("how it makes its calls otherwise",
         [(f"{d.sample} (reference: {d.reference})", d.notes)
          for d in why.dialects(home, ref) if d.notes]),
        ("attributes that differ from the reference",
         [(f"{a.row}: {a.value} (reference: {a.reference})", a.notes)
          for a in why.attributes(home, ref)])]
    for title, items in sections:
        if items:
            out.append(f"  {title}:")
            for what, notes in items:
                out.append(f"    {what}")
                for note in notes:
                    out += shown.lines(note, "      ")
    return out


def explain(analysis: Analysis, sample: str) -> str:
    find_sample(analysis, sample)
    shown = _Notes()
    out: list[str] = []
    for sc in analysis.scenarios:
        for table in sc.tables:
            mine = [r for r in (run.side(table.role) for run in sc.runs) if r.sample == sample]
            if not mine:
                continue
            home = next(c for c in table.samples if c.sample == sample)
            ref = next((c for c in table.samples if c.sample == table.reference), None)
            out.append(f"{sample} ({table.role}), scenario {sc.name}, run {home.run}: "
                       f"{words.verdict_summary(home.verdict)}")
            out.append(f"  reference: {table.reference} {table.role}")
            out += [f"  {line}" for line in words.run_failure(home.record)]
            out += [f"  {line}" for line in words.run_stopped(home.record, table.role)]
            if home.normalized is not None and ref is not None and ref.normalized is not None \
                    and home is not ref:
                out += _steps_table(table.reference, sample, home, ref)
                out += _why(home, ref, shown)
            for other in mine:
                if other is not home:
                    out.append(f"  also in run {other.run}: "
                               f"{words.verdict_summary(other.verdict)}"
                               + (f" (run {other.record.outcome})" if other.run_failed else ""))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
