"""Every sentence the reports say, made from the typed results: the analysis stores none.

Renderers (terminal, Markdown, explain) call these; the JSON renderer does not, it writes the
results as they are. Changing a wording is changing this module only.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.compare.align import (CHANGED, DIFFERS, EXTRA, MISSING, MOVED, MOVED_AWAY,
                                   Difference, NoReference, NoTrace, Verdict)
from harness.compare.results import Cell, GridCell, RoleTable, SampleResult
from harness.formats.model import RunRecord
from harness.normalize.steps import GAP
from harness.normalize.textbook import Loop

STDERR_TAIL_LINES = 5  # lines of a failed run's stderr shown


NO_CELL = Cell(None)  # a row's cell in a column that has none there: a gap


# -- differences and verdicts -------------------------------------------------------------------

def difference(d: Difference) -> str:
    """`extra send(conn)`, `missing recv(sock)`, `expected X, got Y`, `X moved from step 8 to
    step 5`."""
    if d.kind == EXTRA:
        return f"extra {d.got}"
    if d.kind == MISSING:
        return f"missing {d.expected}"
    if d.kind == MOVED:
        return f"{d.got} moved from step {d.from_step} to step {d.to_step}"
    return f"expected {d.expected}, got {d.got}"


def verdict_short(v: Verdict) -> str:
    """For a table cell: identical, differs at step 6, no trace."""
    if v.status == DIFFERS:
        return f"differs at step {v.first_step}"
    return str(v.status)


def why(v: Verdict) -> str:
    """Why a verdict has no comparison ("" when it has one)."""
    w = v.why
    if isinstance(w, NoTrace):
        text = f"{w.trace_file} missing" if w.trace_file else "no trace file recorded"
        if w.run_outcome != "ok":
            text += f" (run {w.run_outcome}" + (f": {w.run_detail}" if w.run_detail
                                                else "") + ")"
        return text
    if isinstance(w, NoReference):
        return (f"the reference {w.role} {w.reference} has no trace" if w.ran
                else f"no run of the reference {w.role} {w.reference}")
    return ""


def verdict_summary(v: Verdict) -> str:
    """differs at step k (expected X, got Y; extra Z; missing W), or why there is none."""
    if v.status == DIFFERS:
        return f"{verdict_short(v)} ({'; '.join(difference(d) for d in v.differences)})"
    reason = why(v)
    return f"{v.status}: {reason}" if reason else str(v.status)


# -- tables -------------------------------------------------------------------------------------

def cell(c: Cell) -> str:
    """One sample's cell of a step row: its dialect; `≠ label (dialect)` when changed; `dialect
    (moved from 8)` where a moved step was made, `moved ↑`/`moved ↓` on the row it left."""
    if c.change == MOVED_AWAY:
        return "moved ↑" if c.moved_up else "moved ↓"
    if c.step is None:
        return GAP
    if c.change == CHANGED:
        return f"≠ {c.step.label} ({c.step.dialect})"
    if c.change == MOVED:
        return f"{c.step.dialect} (moved from {c.moved_from})"
    return c.step.dialect


def verdict_cell(result: SampleResult) -> str:
    text = verdict_short(result.verdict)
    if result.run_failed:
        text += f"; run {result.record.outcome}"
    if result.incomplete:
        text += "; trace incomplete"
    return text


def grid_cell(c: GridCell) -> str:
    """identical, differs (step 4), failed (timeout); differs (step 4), failed (build), n/a."""
    verdict = f"differs (step {c.first_step})" if c.verdict == DIFFERS else \
        (str(c.verdict) if c.verdict is not None else "")
    if c.failure is not None:
        return f"failed ({c.failure})" + (f"; {verdict}" if c.verdict == DIFFERS else "")
    return verdict or str(c.status)


def table_note(table: RoleTable) -> str:
    """Why the rows follow another sample than the reference ("" when they do not)."""
    if table.reference_has_trace:
        return ""
    return (f"no trace of the reference {table.role} {table.reference}"
            + (f": rows follow {table.base}" if table.base is not None else ""))


def loops(items: Sequence[Loop]) -> str:
    """What a textbook's repeated steps stand for in this run ("" without repeats)."""
    parts = []
    for loop in items:
        calls = ", ".join(loop.steps)
        if loop.per_message:
            detail = (f"{len(loop.sizes)} in this run: " + ", ".join(map(str, loop.sizes))
                      + " bytes") if loop.sizes else "1 in this run"
            parts.append(f"{calls} once per message ({detail}); how many rows depends on the "
                         "messages")
        else:
            parts.append(f"{calls} {loop.times} times")
    return "; ".join(parts)


# -- runs ---------------------------------------------------------------------------------------

def stderr_tail(text: str, lines: int = STDERR_TAIL_LINES) -> list[str]:
    return [line for line in text.rstrip("\n").splitlines()[-lines:]] if text.strip() else []


def run_stopped(record: RunRecord, role: str) -> list[str]:
    """A server that serves forever, stopped by the harness once its client was done (not a
    failure: its last accept never returned)."""
    if role != "server" or not record.server_stopped:
        return []
    return ["serves forever: stopped by the harness once its client was done, waiting for "
            "the next peer"]


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
