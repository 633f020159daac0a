"""`harness diff`'s two sides compared, and what comparing them gave said: `build` normalizes
both and compares B with A with compare's machinery (harness/compare), as a sample with the
reference, in the roles both have; `render` prints it as the terminal, Markdown or JSON report,
with `verdict_line`, one line: the same, or where each role differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.diff_sides import Side

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.compare.results import Analysis, SampleResult


@dataclass(frozen=True)
class Diff:
    """The two sides and what comparing them gave."""

    sides: tuple[Side, Side]
    roles: tuple[str, ...]  # the roles compared
    scenario: str
    analysis: Analysis
    compared: tuple[tuple[str, SampleResult], ...]  # (A | B, its result) of each role compared

    @property
    def same(self) -> bool:
        return all(r.matches for _, r in self.compared)

    @property
    def exit_code(self) -> int:
        return 0 if self.same else 1


def _roles(a: Side, b: Side, forced: str | None) -> tuple[str, ...]:
    if forced:
        return (forced,)
    common = tuple(r for r in ("server", "client") if r in a.roles and r in b.roles)
    if common:
        return common
    # two lone traces that look like different roles (a run folder has both)
    role = a.roles[0]
    b.notes.append(f"B looks like a {b.roles[0]}, A like a {role}: compared as {role}s "
                   f"(--role chooses)")
    return (role,)


def build(a: Side, b: Side, level: str, role: str | None = None) -> Diff:
    """Normalize both sides and compare B with A, with compare's machinery."""
    from harness.compare import analyze as an
    from harness.compare.grid import verdict_grid
    from harness.compare.layout import role_table
    from harness.compare.run_steps import normalize_side
    from harness.compare.results import (Analysis, Level, RunResult, SampleResult,
                                         ScenarioResult)
    from harness.formats.model import MatrixIndex
    from harness.common.vocabulary import ROLES
    from harness.normalize.engine import normalize
    from harness.normalize.rules import default_rules

    rules = default_rules()
    lvl = Level(level)
    roles = _roles(a, b, role)
    scenario = a.record.scenario
    if b.record.scenario != scenario:
        b.notes.append(f"B's scenario is {b.record.scenario}, A's {scenario}: compared in "
                       f"{scenario}'s tables")
    sides: dict[tuple[str, str], an._Side] = {}
    wires: dict[str, tuple[Any, Any]] = {}
    for s in (a, b):
        run = s.spec.source
        of_run = []
        for r in ROLES:
            trace_file, normalized = None, None
            times: dict[int, int] = {}
            if s.store is not None:
                trace_file, normalized, times = normalize_side(s.store, s.folder,
                                                               s.record, r, lvl, rules)
                trace_file = str(s.store.root / trace_file) if trace_file else None
            elif r in roles and (r in s.traces or len(s.traces) == 1):
                # a lone trace, as the role it is compared as
                trace = s.traces.get(r) or next(iter(s.traces.values()))
                trace_file = s.spec.source + (" (--client)" if r == "client" and
                                              len(s.traces) == 2 else "")
                normalized = normalize(trace, s.record, r, lvl, rules)
                times = {e.seq: e.ts_ns for e in trace.events}
            of_run.append(an._Side(folder=run, record=an._masked(s.record), role=r,
                                   sample=s.name, scenario=scenario, trace_file=trace_file,
                                   normalized=normalized, times=times))
        for side in of_run:
            sides[(s.spec.label, side.role)] = side
        if s.store is not None:
            wires[s.spec.label] = an._wire_view(s.store, s.folder, s.record, lvl, of_run)
        else:
            wires[s.spec.label] = (None, f"no packets: a {s.kind} has none "
                                         f"(a run folder of compare has)")
    books = rules.textbooks if lvl == Level.CANONICAL else None
    results: dict[tuple[str, str], SampleResult] = {}
    tables = []
    for r in ROLES:
        ref = sides[("A", r)] if r in roles else None
        for label in "AB":
            side = sides[(label, r)]
            view = wires[label][0]
            results[(label, r)] = SampleResult(
                sample=side.sample, role=r, scenario=scenario, run=side.folder,
                record=side.record, trace_file=side.trace_file, normalized=side.normalized,
                verdict=an._verdict(side, ref, a.name),
                wire=view.sides.get(r) if view is not None and view.connected else None,
                wire_facts=view.facts.get(r) if view is not None else None)
        if r in roles:
            book = books.get(scenario, r) if books is not None else None
            tables.append(role_table(scenario, r, a.name,
                                     [results[("A", r)], results[("B", r)]], book, rules))
    runs = tuple(RunResult(folder=sides[(label, "server")].folder,
                           record=sides[(label, "server")].record,
                           server=results[(label, "server")],
                           client=results[(label, "client")],
                           wire=wires[label][0], wire_note=wires[label][1])
                 for label in "AB")
    note = ""
    if books is not None:
        book = books.get(scenario, "server") or books.get(scenario, "client")
        note = book.note if book is not None else ""
    sc = ScenarioResult(name=scenario, runs=runs, tables=tuple(tables), note=note)
    index = MatrixIndex(reference=a.name, scenarios=[scenario], runs=[])
    analysis = Analysis(traces_dir="", reference=a.name, level=lvl, started_at="",
                        scenarios=(sc,), skipped=(), grid=verdict_grid([sc], index, a.name))
    compared = tuple((label, results[(label, r)]) for r in roles for label in "AB")
    return Diff(sides=(a, b), roles=roles, scenario=scenario, analysis=analysis,
                compared=compared)


# -- saying it -----------------------------------------------------------------------------------

def verdict_line(d: Diff) -> str:
    """One line: the same, or where each role differs."""
    from harness.render import words

    a, b = d.sides
    if d.same:
        return (f"same: {b.name} (B) makes the calls {a.name} (A) makes, as "
                f"{' and '.join(r + 's' for r in d.roles)}")
    parts = []
    for label, r in d.compared:
        what = "" if r.verdict.status == "reference" else words.verdict_summary(r.verdict)
        if r.run_failed:
            what += ("; " if what else "") + f"its run: {r.record.outcome}" + \
                (f" ({r.record.detail})" if r.record.detail else "")
        elif r.incomplete:
            what += ("; " if what else "") + "its trace is incomplete"
        if what:
            parts.append(f"{r.role} {r.sample} ({label}): {what}")
    return "differ: " + "; ".join(parts)


def render(d: Diff, fmt: str, width: int | None) -> str:
    from harness.common.escape import visible
    from harness.render import render as render_analysis

    a, b = d.sides
    if fmt == "json":
        import json

        doc = json.loads(render_analysis(d.analysis, "json"))
        doc["exit_code"] = d.exit_code
        doc["diff"] = {"same": d.same, "roles": list(d.roles), "scenario": d.scenario,
                       "sides": [{"label": s.spec.label, "source": s.spec.source,
                                  "kind": s.kind, "name": s.name, "roles": list(s.roles),
                                  "host": s.record.host, "port": s.record.port,
                                  "path": s.record.path, "how": s.how} for s in d.sides]}
        return visible(json.dumps(doc, indent=1, ensure_ascii=False), json=True) + "\n"
    sides = [f"{s.spec.label}: {s.spec.source} — {s.name}, {s.how}" for s in d.sides]
    if fmt == "markdown":
        head = ["# Two traces compared", "", *(f"- {line}" for line in sides), "",
                f"**{verdict_line(d)}**", ""]
        body = render_analysis(d.analysis, "markdown")
        return visible("\n".join(head)) + "\n" + body
    from harness.render.explain import explain

    head = ["Two traces compared", "===================", "", *sides, ""]
    body = render_analysis(d.analysis, "terminal", width)
    why = explain(d.analysis, b.name) if not d.same else ""
    tail = visible(verdict_line(d))
    return visible("\n".join(head)) + "\n" + body + ("\n" + visible(why) if why else "") + \
        "\n" + tail + "\n"

