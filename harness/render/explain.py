"""`verify`'s account of one sample: its verdict in each scenario, its steps beside the
reference's with the alignment, the attributes that differ, what went wrong in its runs."""

from __future__ import annotations

from harness.analysis import Analysis, find_sample
from harness.compare import MATCH
from harness.normalize.steps import GAP
from harness.render import words


def explain(analysis: Analysis, sample: str) -> str:
    from tabulate import tabulate

    from harness.render.attributes import attribute_rows

    find_sample(analysis, sample)
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
            if home.normalized is not None and ref is not None and ref.normalized is not None \
                    and home is not ref:
                rows = []
                for k, p in enumerate(home.verdict.alignment, 1):
                    want = ref.steps[p.ref] if p.ref is not None else None
                    got = home.steps[p.got] if p.got is not None else None
                    rows.append([k, want.label if want else GAP, want.dialect if want else "",
                                 got.label if got else GAP, got.dialect if got else "",
                                 "" if p.kind == MATCH else str(p.kind)])
                table_text = tabulate(rows, headers=["#", f"{table.reference} (reference)",
                                                     "dialect", sample, "dialect", ""],
                                      tablefmt="simple")
                out += ["", *("  " + line for line in table_text.splitlines()), ""]
                diff_attrs = [(label, mine_v, ref_v) for (label, mine_v), (_, ref_v) in
                              zip(attribute_rows(home.normalized.attributes),
                                  attribute_rows(ref.normalized.attributes)) if mine_v != ref_v]
                if diff_attrs:
                    out.append("  attributes that differ from the reference:")
                    out += [f"    {label}: {v} (reference: {r})" for label, v, r in diff_attrs]
            for other in mine:
                if other is not home:
                    out.append(f"  also in run {other.run}: "
                               f"{words.verdict_summary(other.verdict)}"
                               + (f" (run {other.record.outcome})" if other.run_failed else ""))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
