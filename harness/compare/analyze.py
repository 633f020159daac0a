"""From a traces folder to typed results: load, normalize, compare. Nothing here runs a program,
and nothing here is worded: renderers say what the results mean (harness/render/).

    analysis = analyze(Path("traces"))             # reads traces/index.yaml
    print(harness.render.render(analysis, "terminal"))
    sys.exit(exit_code(analysis))

The traces folder (harness/formats/store.py) holds the matrix's index and, per run, run.yaml with the
server's and the client's traces. Each sample's canonical sequence is compared with the
reference sample's of the same role (servers with the reference server, clients with the
reference client), scenario by scenario; the reference's is shown beside the scenario's
textbook sequence (harness/tables/scenarios.yaml). A verdict grid (samples by scenarios) sums it up,
telling a scenario a sample does not implement (n/a) from one that failed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness import DEFAULT_REFERENCE
from harness.compare.align import (DIFFERS, MOVED, MOVED_AWAY, NO_REFERENCE, NO_TRACE, REFERENCE,
                             Change, NoReference, NoTrace, Pair, Status, Verdict, align_steps,
                             compare, merge_alignments)
from harness.formats.model import FailedSample, MatrixIndex, RunRecord, SkippedSample
from harness.normalize.engine import ROLES, Normalized
from harness.normalize.steps import Step
from harness.normalize.textbook import Loop, Textbook, run_address
from harness.formats.store import TracesFolder
from harness.wire.correlate import WireFacts, WireSide, WireView


class Level(StrEnum):
    """How far the traces are folded before they are compared (harness/normalize/)."""

    RAW = "raw"
    SOCKET = "socket"
    CANONICAL = "canonical"


class GridStatus(StrEnum):
    """A sample in a scenario, at a glance."""

    REFERENCE = "reference"
    IDENTICAL = "identical"
    DIFFERS = "differs"
    NO_TRACE = "no trace"
    NO_REFERENCE = "no reference"
    FAILED = "failed"  # its run or its build failed, or its trace was cut off
    NOT_IMPLEMENTED = "n/a"  # its manifest does not list the scenario
    SKIPPED = "skipped"  # its toolchain is missing here
    NOT_RUN = "not run"  # it implements the scenario but has no run in this folder
    KERNEL = "kernel"  # the kernel is the server (icmp-echo): no program ran


# -- what an analysis holds ----------------------------------------------------------------------

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
    # what the run's packets show of this side (when captured, and over TCP only when a
    # connection was made: a run without one has no TCP story to tell)
    wire: WireSide | None = None
    wire_facts: WireFacts | None = None  # what notes about the wire are chosen by

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
    wire: WireView | None = None  # the run's packets beside both sides' calls
    wire_note: str | None = None  # why there is no wire view, or what it lacks

    def side(self, role: str) -> SampleResult:
        return self.server if role == "server" else self.client


@dataclass(frozen=True, slots=True)
class Cell:
    """One column's cell of a step row."""

    step: Step | None  # the step on this row; None for a gap (or the place a move left)
    change: Change | None = None  # against the base's step: match, changed, extra, moved...
    moved_from: int | None = None  # MOVED: the step's number in the reference's sequence
    moved_up: bool | None = None  # MOVED_AWAY: the step was made on an earlier row


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a role's step table: a canonical step, one cell per sample."""

    step: int | None  # 1-based position in the base sequence; None for a step it lacks
    label: str  # the step in the tables' notation: `conn = accept(listener)`
    cells: tuple[Cell, ...]  # one per sample, in the table's column order
    textbook: Cell | None = None  # the textbook's call on this row (None: no textbook column)


@dataclass(frozen=True, slots=True)
class RoleTable:
    """All samples of one role in one scenario, side by side with the reference."""

    scenario: str  # scenario name
    role: str  # server | client
    reference: str  # name of the reference sample
    base: str | None  # the sample whose steps give the rows: the reference if it has a trace
    samples: tuple[SampleResult, ...]  # one column per sample (its own pair's run), base first
    rows: tuple[TableRow, ...]  # aligned steps
    reference_has_trace: bool = True  # else the rows follow `base`
    textbook: tuple[Step, ...] = ()  # the scenario's textbook sequence for the base's run
    textbook_verdict: Verdict | None = None  # the base (the reference) against the textbook
    textbook_loops: tuple[Loop, ...] = ()  # what its repeated steps stand for in this run


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """Everything about one scenario."""

    name: str  # scenario name (tcp, ...)
    runs: tuple[RunResult, ...]  # in index order
    tables: tuple[RoleTable, ...]  # server, then client
    note: str = ""  # the scenarios file's note on it (written there, for the reader)


@dataclass(frozen=True, slots=True)
class GridCell:
    """One sample in one scenario, as the verdict grid shows it."""

    status: GridStatus
    run: str | None = None  # the run folder it comes from (None without a run)
    first_step: int | None = None  # the first step that differs from the reference
    verdict: Status | None = None  # its verdict, when it has a run
    failure: str | None = None  # FAILED: the run's outcome, "build" or "trace incomplete"


@dataclass(frozen=True, slots=True)
class GridRow:
    """One sample (of one role) across the scenarios."""

    sample: str  # sample name (a pair's row: "NAME with PARTNER")
    role: str  # server | client
    cells: tuple[GridCell, ...]  # one per scenario of the grid, in its order
    # the other side's sample, in a row of the sample's runs with a partner other than the one
    # of its own row (compare --cross: every pair is shown); None in a sample's own row
    partner: str | None = None


@dataclass(frozen=True, slots=True)
class VerdictGrid:
    """Rows samples, columns scenarios: the report's first table."""

    scenarios: tuple[str, ...]  # column order
    rows: tuple[GridRow, ...]  # the reference first, then samples in order of appearance


@dataclass(frozen=True, slots=True)
class Analysis:
    """The results of comparing one traces folder."""

    traces_dir: str  # the folder that was read
    reference: str  # reference sample name
    level: Level  # normalization level compared (canonical unless asked)
    started_at: str  # when the matrix ran (from index.yaml; "" if unknown)
    scenarios: tuple[ScenarioResult, ...]  # in index order
    skipped: tuple[SkippedSample, ...]  # samples that could not run here, and why
    grid: VerdictGrid = field(default_factory=lambda: VerdictGrid((), ()))  # at a glance
    failed: tuple[FailedSample, ...] = ()  # samples whose build failed (a failure, exit 1)

    def results(self) -> Iterable[SampleResult]:
        for sc in self.scenarios:
            for run in sc.runs:
                yield run.server
                yield run.client

    def samples(self) -> list[str]:
        return list(dict.fromkeys(r.sample for r in self.results()))


# -- reading ---------------------------------------------------------------------------------------

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
                    level: str, rules: Any
                    ) -> tuple[str | None, Normalized | None, dict[int, int]]:
    """(its trace file, its normalized trace, each event's time by seq)."""
    from harness.formats import tracefile
    from harness.normalize.engine import normalize

    rel, path = store.trace_file(folder, record, role)
    if path is None:
        return rel, None, {}
    trace = tracefile.load(path)
    return (rel, normalize(trace, record, role, level, rules),
            {e.seq: e.ts_ns for e in trace.events})


def _wire_view(store: TracesFolder, folder: str, record: RunRecord, level: Level,
               sides: list[_Side]) -> tuple[WireView | None, str | None]:
    """The run's wire view, or why there is none."""
    from harness.wire.correlate import correlate
    from harness.wire.wirefile import read_wire

    path = store.wire_file(folder, record)
    if path is None:
        return None, record.wire_note or ("no packets captured (a run recorded before the "
                                          "wire view)" if record.wire_trace is None
                                          else f"{record.wire_trace} missing")
    if level != Level.CANONICAL:
        return None, "the wire view is made at the canonical level"
    steps = {s.role: s.normalized.steps for s in sides if s.normalized is not None}
    times = {s.role: s.times for s in sides}
    return correlate(read_wire(path), steps, times, record.wire_note), None


# -- comparing ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Side:
    """One sample's side of one run, before it is compared."""

    folder: str
    record: RunRecord
    role: str
    sample: str
    scenario: str
    trace_file: str | None
    normalized: Normalized | None
    times: dict[int, int] = field(default_factory=dict)  # event seq -> when it returned


def _verdict(side: _Side, ref: _Side | None, reference: str) -> Verdict:
    if side.normalized is None and kernel_side(side.record, side.role):
        return Verdict(status=Status.KERNEL)
    if side.normalized is None:
        return Verdict(status=NO_TRACE, why=NoTrace(trace_file=side.trace_file,
                                                    run_outcome=side.record.outcome,
                                                    run_detail=side.record.detail))
    if ref is None or ref.normalized is None:
        return Verdict(status=NO_REFERENCE, why=NoReference(reference=reference,
                                                            role=side.role,
                                                            ran=ref is not None))
    if side is ref:
        return Verdict(status=REFERENCE)
    return compare(ref.normalized.steps, side.normalized.steps)


def kernel_side(record: RunRecord, role: str) -> bool:
    """The server side of a run the kernel served (icmp-echo): no program, no trace."""
    from harness.tables.scenario import KERNEL

    return role == "server" and record.server == KERNEL and record.server_trace is None


def _home(sides: list[_Side], sample: str) -> _Side:
    """The run that shows a sample in the tables: with its own pair, else its first run."""
    mine = [s for s in sides if s.sample == sample]
    own = [s for s in mine if s.record.server == s.record.client]
    return (own or mine)[0]


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
    book_steps = _textbook_steps(book, base.record, rules) if book is not None else ()
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

    def cell(c: int, k: int, r: Any, seq: Sequence[Step]) -> Cell:
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


def _grid_cell(result: SampleResult | None, sample: str, role: str, scenario: str,
               implements: Mapping[str, Mapping[str, list[str]]],
               skipped: set[tuple[str, str]], failed: set[tuple[str, str]]) -> GridCell:
    if result is not None:
        v = result.verdict
        status = GridStatus(str(v.status))
        if result.run_failed or result.incomplete:
            return GridCell(GridStatus.FAILED, result.run, v.first_step, v.status,
                            failure=result.record.outcome if result.run_failed
                            else "trace incomplete")
        return GridCell(status, result.run, v.first_step, v.status)
    listed = implements.get(role, {}).get(sample)
    if listed is not None and scenario not in listed:
        return GridCell(GridStatus.NOT_IMPLEMENTED)
    if (sample, role) in failed:
        return GridCell(GridStatus.FAILED, failure="build")
    if (sample, role) in skipped:
        return GridCell(GridStatus.SKIPPED)
    if listed is not None:
        return GridCell(GridStatus.NOT_RUN)
    return GridCell(GridStatus.NOT_IMPLEMENTED)


def verdict_grid(scenarios: Sequence[ScenarioResult], index: MatrixIndex,
                 reference: str) -> VerdictGrid:
    """Rows every sample seen (in a run, in the index's `implements`, skipped or failed), the
    reference first; columns the scenarios. A sample is shown by its own pair's run (else
    its first), and its runs with other partners (--cross) in a row each, after its own."""
    homes: dict[tuple[str, str, str], SampleResult] = {}
    seen: list[tuple[str, str]] = []
    for sc in scenarios:
        for table in sc.tables:
            for result in table.samples:
                homes[(result.sample, table.role, sc.name)] = result
                seen.append((result.sample, table.role))
        for run in sc.runs:  # the kernel's side of a run it served has no table of its own
            key = (run.server.sample, "server", sc.name)
            if run.server.verdict.status == Status.KERNEL and (
                    key not in homes or run.client.sample == reference):
                homes[key] = run.server  # shown by the reference client's run
                seen.append((run.server.sample, "server"))
    for role in ROLES:
        seen += [(name, role) for name in index.implements.get(role, {})]
    seen += [(s.name, s.role) for s in [*index.skipped, *index.failed] if s.role in ROLES]
    names = list(dict.fromkeys(name for name, _ in seen))
    names.sort(key=lambda name: name != reference)  # stable: the reference first
    known = set(seen)
    skipped = {(s.name, s.role) for s in index.skipped}
    failed = {(f.name, f.role) for f in index.failed}
    # the runs of a sample with another partner than its own row's (--cross runs every pair;
    # each side of a run is shown once, so the reference's runs with a sample are in that
    # sample's rows)
    others: dict[tuple[str, str], dict[str, dict[str, SampleResult]]] = {}
    for sc in scenarios:
        for run in sc.runs:
            for role in ROLES:
                side, other = run.side(role), run.side("client" if role == "server" else "server")
                home = homes.get((side.sample, role, sc.name))
                if side.sample == reference or home is None or home.run == run.folder \
                        or side.verdict.status == Status.KERNEL:
                    continue
                others.setdefault((side.sample, role), {}).setdefault(
                    other.sample, {})[sc.name] = side
    rows = []
    for name in names:
        for role in ROLES:
            if (name, role) not in known:
                continue
            rows.append(GridRow(sample=name, role=role, cells=tuple(
                _grid_cell(homes.get((name, role, sc.name)), name, role, sc.name,
                           index.implements, skipped, failed) for sc in scenarios)))
            for partner, results in others.get((name, role), {}).items():
                rows.append(GridRow(sample=f"{name} with {partner}", role=role, cells=tuple(
                    _grid_cell(results.get(sc.name), name, role, sc.name, index.implements,
                               skipped, failed) for sc in scenarios), partner=partner))
    return VerdictGrid(scenarios=tuple(sc.name for sc in scenarios), rows=tuple(rows))


def analyze(traces_dir: Path, reference: str | None = None, level: str = "canonical",
            rules: Any = None) -> Analysis:
    """Read a traces folder, normalize every trace at `level`, compare each sample with the
    reference sample of its role. A broken file raises a HarnessError naming the file and the
    field; a run that failed or lacks a trace is a result, not dropped. The textbook column is
    shown at the canonical level, the level it is written at."""
    from harness.normalize.rules import default_rules

    try:
        level = Level(level)
    except ValueError:
        raise ValueError(f"unknown level {level!r} (levels: "
                         f"{', '.join(x.value for x in Level)})") from None
    traces_dir = Path(traces_dir)
    store = TracesFolder(traces_dir)
    index = store.read_index()
    reference = reference or index.reference or DEFAULT_REFERENCE
    rules = rules or default_rules()
    books = rules.textbooks if level == Level.CANONICAL else None
    sides: list[_Side] = []
    wires: dict[str, tuple[WireView | None, str | None]] = {}
    for folder in index.runs:
        record = store.read_run(folder)
        of_run = []
        for role in ROLES:
            trace_file, normalized, times = _normalize_side(store, folder, record, role,
                                                            level, rules)
            of_run.append(_Side(folder=folder, record=_masked(record), role=role,
                                sample=record.server if role == "server" else record.client,
                                scenario=record.scenario, trace_file=trace_file,
                                normalized=normalized, times=times))
        sides += of_run
        wires[folder] = _wire_view(store, folder, record, level, of_run)
    scenario_names = list(dict.fromkeys(list(index.scenarios) + [s.scenario for s in sides]))
    scenarios = []
    for name in scenario_names:
        mine = [s for s in sides if s.scenario == name]
        results: dict[int, SampleResult] = {}
        tables = []
        for role in ROLES:
            of_role = [s for s in mine if s.role == role]
            ref = _home(of_role, reference) if any(s.sample == reference
                                                   for s in of_role) else None
            for s in of_role:
                view = wires[s.folder][0]
                results[id(s)] = SampleResult(
                    sample=s.sample, role=role, scenario=name, run=s.folder, record=s.record,
                    trace_file=s.trace_file, normalized=s.normalized,
                    verdict=_verdict(s, ref, reference),
                    wire=view.sides.get(role) if view is not None and view.connected
                    else None,
                    wire_facts=view.facts.get(role) if view is not None else None)
            columns = [results[id(_home(of_role, sample))]
                       for sample in dict.fromkeys(s.sample for s in of_role
                                                   if not kernel_side(s.record, role))]
            if columns:
                book = books.get(name, role) if books is not None else None
                tables.append(_table(name, role, reference, columns, book, rules))
        runs = []
        for folder in dict.fromkeys(s.folder for s in mine):
            server, client = (next(results[id(s)] for s in mine
                                   if s.folder == folder and s.role == role)
                              for role in ROLES)
            runs.append(RunResult(folder=folder, record=server.record, server=server,
                                  client=client, wire=wires[folder][0],
                                  wire_note=wires[folder][1]))
        note = ""
        if books is not None:
            book = books.get(name, "server") or books.get(name, "client")
            note = book.note if book is not None else ""
        scenarios.append(ScenarioResult(name=name, runs=tuple(runs), tables=tuple(tables),
                                        note=note))
    return Analysis(traces_dir=str(traces_dir), reference=reference, level=level,
                    started_at=index.started_at, scenarios=tuple(scenarios),
                    skipped=tuple(index.skipped), failed=tuple(index.failed),
                    grid=verdict_grid(scenarios, index, reference))


def exit_code(analysis: Analysis) -> int:
    """0 when every sample that ran matches its reference and every run succeeded; 1 when one
    differs or failed (its run, or its build), or when nothing ran at all."""
    results = list(analysis.results())
    if not results or analysis.failed:
        return 1
    return 0 if all(r.matches for r in results) else 1


def find_sample(analysis: Analysis, sample: str) -> list[SampleResult]:
    """Every result of one sample; a HarnessError listing the samples when there is none."""
    from harness.common.errors import HarnessError

    found = [r for r in analysis.results() if r.sample == sample]
    if not found:
        known = ", ".join(analysis.samples()) or "none"
        raise HarnessError(f"no sample named {sample!r} in {analysis.traces_dir} "
                           f"(samples: {known})")
    return found
