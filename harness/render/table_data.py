"""The tables every text format shows, as plain (headers, rows) data.

Terminal and Markdown print the same tables; only tabulate's `tablefmt` (and the Markdown
escaping of cells) differ, like one table builder with two row styles.
"""

from __future__ import annotations

from harness.compare.results import Analysis, RoleTable, SampleResult, ScenarioResult
from harness.normalize.steps import GAP
from harness.render import words
from harness.render.attribute_rows import WIRE_ROWS, sample_rows

TEXTBOOK = "textbook"
GRID_LEGEND = ("Each sample against the reference sample of its role. differs (step k): "
               "the first step that differs; failed: the run failed (failed (build): the "
               "sample did not build); n/a: the sample does not "
               "implement the scenario; skipped: it cannot run here; not run: it implements "
               "the scenario but has no run.")
# Attribute rows left out when no sample has anything to say in them.
OPTIONAL_ATTRIBUTES = ("listen backlog", "addressing", *WIRE_ROWS)

Table = tuple[list[str], list[list[str]]]

ROLE_TITLES = {"server": "servers", "client": "clients"}
STDERR_LINES = 10  # lines of a failed build's output shown


def column_title(table: RoleTable, result: SampleResult) -> str:
    return f"{result.sample} (ref)" if result.sample == table.reference else result.sample


def grid_table(report: Analysis) -> Table:
    """Rows the samples (one per role), columns the scenarios."""
    grid = report.grid
    headers = ["sample", "role", *grid.scenarios]
    rows = [[row.sample + (" (ref)" if row.sample == report.reference else ""), row.role,
             *(words.grid_cell(c) for c in row.cells)] for row in grid.rows]
    return headers, rows


def steps_table(table: RoleTable) -> Table:
    """Rows the canonical steps, columns the textbook (when the scenario has one) and the
    samples, cells the dialects, then a verdict row."""
    book = [TEXTBOOK] if table.textbook else []
    headers = ["#", "step", *book] + [column_title(table, s) for s in table.samples]
    rows = [[str(r.step) if r.step is not None else "+", r.label,
             *([words.cell(r.textbook or words.NO_CELL)] if book else []),
             *(words.cell(c) for c in r.cells)]
            for r in table.rows]
    rows.append(["", "verdict", *([""] if book else []),
                 *(words.verdict_cell(s) for s in table.samples)])
    return headers, rows


def textbook_line(table: RoleTable) -> str | None:
    """How the base sample (the reference) compares with the textbook."""
    v = table.textbook_verdict
    if v is None or table.base is None:
        return None
    who = f"{table.base} (reference)" if table.base == table.reference else table.base
    return f"{who} against the textbook: {words.verdict_summary(v)}"


def attributes_table(table: RoleTable) -> Table:
    """Rows the attributes, columns the samples; rows empty for every sample are left out."""
    headers = ["attribute"] + [column_title(table, s) for s in table.samples]
    per_sample = [dict(sample_rows(s)) for s in table.samples]
    labels = next((list(d) for d in per_sample if d), [])
    rows = []
    for label in labels:
        cells = [d.get(label, GAP) for d in per_sample]
        if all(c in (GAP, "none") for c in cells) and label in OPTIONAL_ATTRIBUTES:
            continue
        rows.append([label, *cells])
    return headers, rows


def differences(table: RoleTable) -> list[str]:
    """One line per sample that is not identical to the reference."""
    return [f"{s.sample}: {words.verdict_summary(s.verdict)}" for s in table.samples
            if s.verdict.status not in ("identical", "reference")]


def runs_table(scenario: ScenarioResult) -> Table:
    headers = ["run", "outcome", "server", "client", "detail"]
    rows = [[run.folder, run.record.outcome, words.verdict_short(run.server.verdict),
             words.verdict_short(run.client.verdict), run.record.detail or ""]
            for run in scenario.runs]
    return headers, rows


def failures(scenario: ScenarioResult) -> list[tuple[str, list[str]]]:
    """(run folder, lines) for every run that failed."""
    return [(run.folder, words.run_failure(run.record)) for run in scenario.runs
            if not run.record.ok]


def build_failures(report: Analysis) -> list[tuple[str, list[str]]]:
    """(sample and role, lines) for every sample whose build failed: the reason, then the
    last lines the build printed."""
    return [(f"{f.role} {f.name}", [f.reason, *f.output.splitlines()[-STDERR_LINES:]])
            for f in report.failed]


def skipped_table(report: Analysis) -> Table:
    headers = ["sample", "role", "reason", "install"]
    rows = [[s.name, s.role, s.reason, s.hint or ""] for s in report.skipped]
    return headers, rows


def summary_line(report: Analysis) -> str:
    runs = sum(len(sc.runs) for sc in report.scenarios)
    failed = sum(1 for sc in report.scenarios for r in sc.runs if not r.record.ok)
    differ = sum(1 for r in report.results() if r.verdict.status == "differs")
    parts = [f"reference {report.reference}", f"level {report.level}",
             f"{runs} run" + ("s" if runs != 1 else ""), f"{failed} failed",
             f"{differ} differing"]
    if report.failed:
        parts.append(f"{len(report.failed)} failed to build")
    if report.skipped:
        parts.append(f"{len(report.skipped)} skipped")
    return ", ".join(parts)
