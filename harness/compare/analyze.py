"""From a traces folder to typed results: load, normalize, compare. Nothing here runs a program,
and nothing here is worded: renderers say what the results mean (harness/render/).

    analysis = analyze(Path("traces"))             # reads traces/index.yaml
    print(harness.render.render(analysis, "terminal"))
    sys.exit(exit_code(analysis))

The traces folder (harness/formats/store.py) holds the matrix's index and, per run, run.yaml with
the server's and the client's traces. Each sample's canonical sequence is compared with the
reference sample's of the same role (servers with the reference server, clients with the reference
client), scenario by scenario; the reference's is shown beside the scenario's textbook sequence
(harness/tables/scenarios.yaml). A verdict grid (samples by scenarios) sums it up, telling a
scenario a sample does not implement (n/a) from one that failed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness import DEFAULT_REFERENCE
from harness.common.vocabulary import ROLES
from harness.compare.align import (NO_REFERENCE, NO_TRACE, REFERENCE, NoReference, NoTrace, Status,
                                   Verdict, compare)
from harness.compare.grid import verdict_grid
from harness.compare.layout import role_table
from harness.compare.run_steps import run_steps
from harness.compare.results import Analysis, Level, RunResult, SampleResult, ScenarioResult
from harness.formats.model import RunRecord
from harness.formats.store import TracesFolder
from harness.normalize.engine import Normalized
from harness.normalize.rules import RuleSet
from harness.wire.correlate import WireView


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


# -- comparing ---------------------------------------------------------------------------------

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


def analyze(traces_dir: Path, reference: str | None = None, level: str = "canonical",
            rules: RuleSet | None = None, steps_files: bool = False) -> Analysis:
    """Read a traces folder, normalize every trace at `level`, compare each sample with the
    reference sample of its role. A broken file raises a HarnessError naming the file and the
    field; a run that failed or lacks a trace is a result, not dropped. The textbook column is
    shown at the canonical level, the level it is written at. `steps_files`: each run's
    steps are read from its steps.json while that still stands for the run, else written
    there (harness/compare/run_steps.py)."""
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
        steps = run_steps(store, folder, record, level, rules, steps_files)
        of_run = []
        for role in ROLES:
            of_run.append(_Side(folder=folder, record=_masked(record), role=role,
                                sample=record.server if role == "server" else record.client,
                                scenario=record.scenario,
                                trace_file=store.trace_file(folder, record, role)[0],
                                normalized=steps.sides.get(role),
                                times=steps.times.get(role, {})))
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
                tables.append(role_table(name, role, reference, columns, book, rules))
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

