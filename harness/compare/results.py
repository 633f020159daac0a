"""What an analysis holds: typed results of comparing one traces folder (harness/compare/
analyze.py makes them; harness/render/ words them). These classes are also the analysis.json
format (harness/compare/analysis_file.py writes and reads them with msgspec): one definition."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from harness.compare.align import Change, Status, Verdict
from harness.formats.model import FailedSample, RunRecord, SkippedSample
from harness.normalize.engine import Normalized
from harness.normalize.steps import Step
from harness.normalize.textbook import Loop
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
