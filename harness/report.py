"""From a traces folder to a Report: load, normalize, compare. Nothing here runs a program.

    report = build_report(Path("traces"))          # reads traces/index.yaml
    print(harness.render.render(report, "terminal"))
    sys.exit(exit_code(report))

The traces folder is what the runner writes: index.yaml (a MatrixIndex) and, per run,
<scenario>/<server>--<client>/run.yaml (a RunRecord) with server.jsonl and client.jsonl (traces,
either may be missing when the run failed early). Each sample's canonical sequence is compared
with the reference sample's of the same role (servers with the reference server, clients with
the reference client), scenario by scenario; the reference's is shown beside the scenario's
textbook sequence (harness/scenarios.yaml). A verdict grid (samples by scenarios) sums it up,
telling a scenario a sample does not implement (n/a) from one that failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness import DEFAULT_REFERENCE
from harness.compare import (CHANGED, DIFFERS, MOVED, MOVED_AWAY, NO_REFERENCE, NO_TRACE,
                             REFERENCE, Pair, Verdict, align_steps, compare, merge_alignments)
from harness.model import FailedSample, MatrixIndex, RunRecord, SkippedSample
from harness.normalize.engine import ROLES, Normalized
from harness.normalize.steps import GAP, Step
from harness.normalize.textbook import Textbook, run_address
from harness.store import StoreError, TracesFolder

STDERR_TAIL_LINES = 5

# -- what a report holds -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SampleResult:
    """One sample in one run: its normalized trace and how it compares with the reference."""

    sample: str  # sample name
    role: str  # server | client
    scenario: str  # scenario of the run
    run: str  # run folder, relative to the traces folder ("tcp/c--c")
    record: RunRecord  # the run it took part in
    trace_file: str | None  # its trace file, relative to the traces folder; None if none named
    normalized: Normalized | None  # None when the trace file is missing
    verdict: Verdict  # against the reference sample of the same role

    @property
    def run_failed(self) -> bool:
        return not self.record.ok

    @property
    def incomplete(self) -> bool:
        """Its trace file was cut off (the harness died while writing it)."""
        return self.normalized is not None and not self.normalized.complete

    @property
    def matches(self) -> bool:
        return self.record.ok and self.verdict.matches and not self.incomplete

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.normalized.steps if self.normalized is not None else ()


@dataclass(frozen=True, slots=True)
class RunResult:
    """One run: its record and its two sides."""

    folder: str  # relative to the traces folder
    record: RunRecord  # what the runner wrote
    server: SampleResult  # the server's side
    client: SampleResult  # the client's side

    def side(self, role: str) -> SampleResult:
        return self.server if role == "server" else self.client


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a role's step table: a canonical step, one cell per sample."""

    step: int | None  # 1-based position in the base sequence; None for a step it lacks
    label: str  # the step: `conn = accept(listener)`, `recv(conn) → EOF`
    cells: tuple[str, ...]  # per sample: its dialect, `≠ ...` when changed, GAP when absent
    textbook: str = ""  # the textbook's call on this row, GAP when it has none ("" without one)


@dataclass(frozen=True, slots=True)
class RoleTable:
    """All samples of one role in one scenario, side by side with the reference."""

    scenario: str  # scenario name
    role: str  # server | client
    reference: str  # name of the reference sample
    base: str | None  # the sample whose steps give the rows: the reference if it has a trace
    samples: tuple[SampleResult, ...]  # one column per sample (its own pair's run), base first
    rows: tuple[TableRow, ...]  # aligned steps
    note: str = ""  # e.g. why the reference is missing
    textbook: tuple[Step, ...] = ()  # the scenario's textbook sequence for the base's run
    textbook_verdict: Verdict | None = None  # the base (the reference) against the textbook
    textbook_note: str = ""  # what its repeated steps stand for in this run


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    """Everything about one scenario."""

    name: str  # scenario name (tcp, ...)
    runs: tuple[RunResult, ...]  # in index order
    tables: tuple[RoleTable, ...]  # server, then client
    note: str = ""  # the textbook file's note on the scenario


NOT_IMPLEMENTED, SKIPPED, FAILED, NOT_RUN = "n/a", "skipped", "failed", "not run"


@dataclass(frozen=True, slots=True)
class GridCell:
    """One sample in one scenario, as the verdict grid shows it."""

    status: str  # reference | identical | differs | failed | n/a | skipped | not run | no trace
    text: str  # the cell: identical, differs (step 4), failed (timeout), n/a
    run: str | None = None  # the run folder it comes from (None without a run)
    step: int | None = None  # the first step that differs from the reference, when one does


@dataclass(frozen=True, slots=True)
class GridRow:
    """One sample (of one role) across the scenarios."""

    sample: str  # sample name
    role: str  # server | client
    cells: tuple[GridCell, ...]  # one per scenario of the grid, in its order


@dataclass(frozen=True, slots=True)
class VerdictGrid:
    """Rows samples, columns scenarios: the report's first table."""

    scenarios: tuple[str, ...]  # column order
    rows: tuple[GridRow, ...]  # the reference first, then samples in order of appearance


@dataclass(frozen=True, slots=True)
class Report:
    """The result of comparing one traces folder."""

    traces_dir: str  # the folder that was read
    reference: str  # reference sample name
    level: str  # normalization level compared (canonical unless asked)
    started_at: str  # when the matrix ran (from index.yaml; "" if unknown)
    scenarios: tuple[ScenarioReport, ...]  # in index order
    skipped: tuple[SkippedSample, ...]  # samples that could not run here, and why
    grid: VerdictGrid = field(default_factory=lambda: VerdictGrid((), ()))  # verdicts at a glance
    failed: tuple[FailedSample, ...] = ()  # samples whose build failed (a failure, exit 1)

    def results(self) -> Iterable[SampleResult]:
        for sc in self.scenarios:
            for run in sc.runs:
                yield run.server
                yield run.client

    def samples(self) -> list[str]:
        return list(dict.fromkeys(r.sample for r in self.results()))


# -- reading the traces folder -------------------------------------------------------------------

ReportError = StoreError  # a broken file of the traces folder (harness/store.py names it)


def mask_run_text(text: str | None, record: RunRecord) -> str | None:
    """A run's own text (detail, stderr) with its temporary socket path as PATH and its
    folder as RUNDIR, as the tables show them: they change from run to run."""
    if not text or not record.path:
        return text
    folder = os.path.dirname(record.path)
    text = text.replace(record.path, "PATH")
    return text.replace(folder, "RUNDIR") if folder not in ("", "/") else text


def _masked(record: RunRecord) -> RunRecord:
    if not record.path:
        return record
    return replace(record, detail=mask_run_text(record.detail, record),
                   server_stderr=mask_run_text(record.server_stderr, record) or "",
                   client_stderr=mask_run_text(record.client_stderr, record) or "",
                   client_stdout=mask_run_text(record.client_stdout, record) or "")


def _normalize_side(store: TracesFolder, folder: str, record: RunRecord, role: str,
                    level: str, rules: Any) -> tuple[str | None, Normalized | None]:
    from harness import tracefile
    from harness.normalize.engine import normalize

    rel, path = store.trace_file(folder, record, role)
    if path is None:
        return rel, None
    return rel, normalize(tracefile.load(path), record, role, level, rules)


# -- comparing -----------------------------------------------------------------------------------

def _no_trace_note(record: RunRecord, role: str, trace_file: str | None) -> str:
    what = f"{trace_file} missing" if trace_file else "no trace file recorded"
    if not record.ok:
        what += f" (run {record.outcome}" + (f": {record.detail}" if record.detail else "") + ")"
    return what


def _verdict(side: dict[str, Any], ref: dict[str, Any] | None, reference: str,
             role: str) -> Verdict:
    if side["normalized"] is None:
        return Verdict(status=NO_TRACE, note=_no_trace_note(side["record"], role,
                                                            side["trace_file"]))
    if ref is None or ref["normalized"] is None:
        why = (f"the reference {role} {reference} has no trace" if ref is not None
               else f"no run of the reference {role} {reference}")
        return Verdict(status=NO_REFERENCE, note=why)
    if side is ref:
        return Verdict(status=REFERENCE)
    return compare(ref["normalized"].steps, side["normalized"].steps)


def _home(sides: list[dict[str, Any]], sample: str) -> dict[str, Any]:
    """The run that shows a sample in the tables: with its own pair, else its first run."""
    mine = [s for s in sides if s["sample"] == sample]
    own = [s for s in mine if s["record"].server == s["record"].client]
    return (own or mine)[0]


def _cell(step: Step, kind: str | None, moved_from: int | None = None) -> str:
    if kind == CHANGED:
        return f"≠ {step.label} ({step.dialect})"
    if kind == MOVED:
        return f"{step.dialect} (moved from {moved_from})"
    return step.dialect


def _textbook_steps(book: Textbook | None, run: RunRecord, rules: Any) -> tuple[Step, ...]:
    if book is None:
        return ()
    address = run_address(run, rules.param("mask_ports", "run_port", "PORT"),
                          rules.param("mask_paths", "run_path", "PATH"))
    return book.steps(run, address)


def _table(scenario: str, role: str, reference: str, columns: Sequence[SampleResult],
           book: Textbook | None = None, rules: Any = None) -> RoleTable:
    base = next((c for c in columns if c.sample == reference and c.normalized is not None),
                None)
    note = ""
    if base is None:
        base = next((c for c in columns if c.normalized is not None), None)
        note = (f"no trace of the reference {role} {reference}"
                + (f": rows follow {base.sample}" if base is not None else ""))
    if base is None:
        return RoleTable(scenario, role, reference, None, tuple(columns), (), note)
    columns = [base] + [c for c in columns if c is not base]
    ref_steps = base.steps
    alignments: list[tuple[Pair, ...]] = []
    for c in columns:
        if c.normalized is None:
            alignments.append(tuple(Pair(i, None, "missing") for i in range(len(ref_steps))))
        elif c.verdict.alignment and c.sample != base.sample and base.sample == reference:
            alignments.append(c.verdict.alignment)
        else:
            alignments.append(align_steps(ref_steps, c.steps))
    # the textbook is one more column, aligned with the base like the samples
    book_steps = _textbook_steps(book, base.record, rules) if book is not None else ()
    sequences = [c.steps for c in columns]
    if book_steps:
        alignments.append(align_steps(ref_steps, book_steps))
        sequences.append(book_steps)
    n = len(columns)
    merged = merge_alignments(len(ref_steps), alignments, [[s.key for s in seq]
                                                          for seq in sequences])
    # where each moved step landed (column, its index) -> row, for the arrow on the row it left
    landed = {(c, idx): k for k, r in enumerate(merged) for c, (idx, kind)
              in enumerate(zip(r.cells, r.kinds)) if kind == MOVED}
    went = [{p.ref: p.partner for p in al if p.kind == MOVED_AWAY} for al in alignments]
    came = [{p.got: p.partner for p in al if p.kind == MOVED} for al in alignments]

    def cell(c: int, k: int, r: Any, seq: Sequence[Step]) -> str:
        idx, kind = r.cells[c], r.kinds[c]
        if kind == MOVED_AWAY:
            there = landed.get((c, went[c].get(r.ref)))
            return "moved ↑" if there is not None and there < k else "moved ↓"
        if idx is None:
            return GAP
        partner = came[c].get(idx)
        return _cell(seq[idx], kind, None if partner is None else partner + 1)

    rows = []
    for k, r in enumerate(merged):
        if r.ref is not None:
            label = ref_steps[r.ref].label
        else:
            first = next(i for i, x in enumerate(r.cells) if x is not None)
            label = sequences[first][r.cells[first]].label  # type: ignore[index]
        cells = tuple(cell(c, k, r, sequences[c]) for c in range(n))
        textbook = cell(n, k, r, book_steps) if book_steps else ""
        rows.append(TableRow(step=None if r.ref is None else r.ref + 1, label=label, cells=cells,
                             textbook=textbook))
    return RoleTable(scenario, role, reference, base.sample, tuple(columns), tuple(rows), note,
                     textbook=book_steps,
                     textbook_verdict=compare(book_steps, ref_steps) if book_steps else None,
                     textbook_note=book.loop_note(base.record) if book_steps and book else "")


def _grid_cell(result: SampleResult | None, sample: str, role: str, scenario: str,
               implements: Mapping[str, Mapping[str, list[str]]],
               skipped: set[tuple[str, str]], failed: set[tuple[str, str]]) -> GridCell:
    if result is not None:
        v = result.verdict
        text = f"differs (step {v.first_step})" if v.status == DIFFERS else v.status
        if result.run_failed or result.incomplete:
            why = result.record.outcome if result.run_failed else "trace incomplete"
            return GridCell(FAILED, f"failed ({why})" + (f"; {text}" if v.status == DIFFERS
                                                          else ""), result.run, v.first_step)
        return GridCell(v.status, text, result.run, v.first_step)
    listed = implements.get(role, {}).get(sample)
    if listed is not None and scenario not in listed:
        return GridCell(NOT_IMPLEMENTED, NOT_IMPLEMENTED)
    if (sample, role) in failed:
        return GridCell(FAILED, "failed (build)")
    if (sample, role) in skipped:
        return GridCell(SKIPPED, SKIPPED)
    if listed is not None:
        return GridCell(NOT_RUN, NOT_RUN)
    return GridCell(NOT_IMPLEMENTED, NOT_IMPLEMENTED)


def verdict_grid(scenarios: Sequence[ScenarioReport], index: MatrixIndex,
                 reference: str) -> VerdictGrid:
    """Rows every sample seen (in a run, in the index's `implements`, or skipped), the reference
    first; columns the scenarios of the report. A sample is shown by its own pair's run."""
    homes: dict[tuple[str, str, str], SampleResult] = {}
    seen: list[tuple[str, str]] = []
    for sc in scenarios:
        for table in sc.tables:
            for result in table.samples:
                homes[(result.sample, table.role, sc.name)] = result
                seen.append((result.sample, table.role))
    for role in ROLES:
        seen += [(name, role) for name in index.implements.get(role, {})]
    seen += [(s.name, s.role) for s in [*index.skipped, *index.failed] if s.role in ROLES]
    names = list(dict.fromkeys(name for name, _ in seen))
    names.sort(key=lambda name: name != reference)  # stable: the reference first
    known = set(seen)
    skipped = {(s.name, s.role) for s in index.skipped}
    failed = {(f.name, f.role) for f in index.failed}
    rows = [GridRow(sample=name, role=role,
                    cells=tuple(_grid_cell(homes.get((name, role, sc.name)), name, role,
                                           sc.name, index.implements, skipped, failed)
                                for sc in scenarios))
            for name in names for role in ROLES if (name, role) in known]
    return VerdictGrid(scenarios=tuple(sc.name for sc in scenarios), rows=tuple(rows))


def build_report(traces_dir: Path, reference: str | None = None, level: str = "canonical",
                 rules: Any = None) -> Report:
    """Read a traces folder, normalize every trace at `level`, compare each sample with the
    reference sample of its role. Raises ReportError naming the file (and field) of a broken
    file; a run that failed or lacks a trace is reported, not dropped. The textbook column is
    shown at the canonical level, the level it is written at."""
    from harness.normalize.rules import LEVELS, default_rules

    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r} (levels: {', '.join(LEVELS)})")
    traces_dir = Path(traces_dir)
    store = TracesFolder(traces_dir)
    index = store.read_index()
    reference = reference or index.reference or DEFAULT_REFERENCE
    rules = rules or default_rules()
    books = rules.textbooks if level == "canonical" else None
    sides: list[dict[str, Any]] = []
    for folder in index.runs:
        record = store.read_run(folder)
        for role in ROLES:
            trace_file, normalized = _normalize_side(store, folder, record, role, level,
                                                     rules)
            sides.append({"folder": folder, "record": _masked(record), "role": role,
                          "sample": record.server if role == "server" else record.client,
                          "scenario": record.scenario, "trace_file": trace_file,
                          "normalized": normalized})
    scenario_names = list(dict.fromkeys(list(index.scenarios) + [s["scenario"] for s in sides]))
    scenarios = []
    for name in scenario_names:
        mine = [s for s in sides if s["scenario"] == name]
        results: dict[int, SampleResult] = {}
        tables = []
        for role in ROLES:
            of_role = [s for s in mine if s["role"] == role]
            ref = _home(of_role, reference) if any(s["sample"] == reference
                                                   for s in of_role) else None
            for s in of_role:
                results[id(s)] = SampleResult(
                    sample=s["sample"], role=role, scenario=name, run=s["folder"],
                    record=s["record"], trace_file=s["trace_file"], normalized=s["normalized"],
                    verdict=_verdict(s, ref, reference, role))
            columns = [results[id(_home(of_role, sample))]
                       for sample in dict.fromkeys(s["sample"] for s in of_role)]
            if columns:
                book = books.get(name, role) if books is not None else None
                tables.append(_table(name, role, reference, columns, book, rules))
        runs = []
        for folder in dict.fromkeys(s["folder"] for s in mine):
            server, client = (next(results[id(s)] for s in mine
                                   if s["folder"] == folder and s["role"] == role)
                              for role in ROLES)
            runs.append(RunResult(folder=folder, record=server.record, server=server,
                                  client=client))
        note = ""
        if books is not None:
            book = books.get(name, "server") or books.get(name, "client")
            note = book.note if book is not None else ""
        scenarios.append(ScenarioReport(name=name, runs=tuple(runs), tables=tuple(tables),
                                        note=note))
    return Report(traces_dir=str(traces_dir), reference=reference, level=level,
                  started_at=index.started_at, scenarios=tuple(scenarios),
                  skipped=tuple(index.skipped), failed=tuple(index.failed),
                  grid=verdict_grid(scenarios, index, reference))


def exit_code(report: Report) -> int:
    """0 when every sample that ran matches its reference and every run succeeded; 1 when one
    differs or failed (its run, or its build), or when nothing ran at all."""
    results = list(report.results())
    if not results or report.failed:
        return 1
    return 0 if all(r.matches for r in results) else 1


# -- explaining one sample -----------------------------------------------------------------------

def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> list[str]:
    return [line for line in text.rstrip("\n").splitlines()[-lines:]] if text.strip() else []


def run_failure(record: RunRecord) -> list[str]:
    """What went wrong in a run, as lines: outcome and detail, then the stderr tails."""
    if record.ok:
        return []
    lines = [f"run {record.outcome}" + (f": {record.detail}" if record.detail else "")]
    for role, text in (("server", record.server_stderr), ("client", record.client_stderr)):
        tail = stderr_tail(text)
        if tail:
            lines.append(f"{role} stderr (last lines):")
            lines += [f"  {line}" for line in tail]
    return lines


def explain(report: Report, sample: str) -> str:
    """A readable account of one sample against the reference: verdict, the two sequences
    side by side, the differences, the attributes that differ, failed runs."""
    from tabulate import tabulate

    found = [r for r in report.results() if r.sample == sample]
    if not found:
        known = ", ".join(report.samples()) or "none"
        raise ValueError(f"no sample named {sample!r} in {report.traces_dir} (samples: {known})")
    out: list[str] = []
    for sc in report.scenarios:
        for table in sc.tables:
            mine = [r for r in (run.side(table.role) for run in sc.runs) if r.sample == sample]
            if not mine:
                continue
            home = next(c for c in table.samples if c.sample == sample)
            ref = next((c for c in table.samples if c.sample == table.reference), None)
            out.append(f"{sample} ({table.role}), scenario {sc.name}, run {home.run}: "
                       f"{home.verdict.summary}")
            out.append(f"  reference: {table.reference} {table.role}")
            out += [f"  {line}" for line in run_failure(home.record)]
            if home.normalized is not None and ref is not None and ref.normalized is not None \
                    and home is not ref:
                rows = []
                for k, p in enumerate(home.verdict.alignment, 1):
                    want = ref.steps[p.ref] if p.ref is not None else None
                    got = home.steps[p.got] if p.got is not None else None
                    rows.append([k, want.label if want else GAP, want.dialect if want else "",
                                 got.label if got else GAP, got.dialect if got else "",
                                 "" if p.kind == "match" else p.kind])
                table_text = tabulate(rows, headers=["#", f"{table.reference} (reference)",
                                                     "dialect", sample, "dialect", ""],
                                      tablefmt="simple")
                out += ["", *("  " + line for line in table_text.splitlines()), ""]
                diff_attrs = [(label, mine_v, ref_v) for (label, mine_v), (_, ref_v) in
                              zip(home.normalized.attributes.rows(),
                                  ref.normalized.attributes.rows()) if mine_v != ref_v]
                if diff_attrs:
                    out.append("  attributes that differ from the reference:")
                    out += [f"    {label}: {v} (reference: {r})" for label, v, r in diff_attrs]
            for other in mine:
                if other is not home:
                    out.append(f"  also in run {other.run}: {other.verdict.summary}"
                               + (f" (run {other.record.outcome})" if other.run_failed else ""))
            out.append("")
    return "\n".join(out).rstrip() + "\n"
