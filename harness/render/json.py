"""The report for machines: one JSON document with the verdicts, sequences and attributes."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from harness.normalize.steps import Step, format_call
from harness.render import tables as t
from harness.report import Report, RoleTable, SampleResult, exit_code, run_failure


def step_doc(step: Step) -> dict[str, Any]:
    return {"step": step.label, "name": step.name, "fd": step.fd, "dialect": step.dialect,
            "outcome": step.outcome, "qualifiers": list(step.qualifiers), "seqs": list(step.seqs)}


def sample_doc(result: SampleResult) -> dict[str, Any]:
    v = result.verdict
    doc: dict[str, Any] = {
        "sample": result.sample, "role": result.role, "run": result.run,
        "trace_file": result.trace_file,
        "verdict": {"status": v.status, "summary": v.summary, "first_step": v.first_step,
                    "differences": [asdict(d) for d in v.differences]},
        "run_outcome": result.record.outcome, "matches": result.matches}
    n = result.normalized
    if n is not None:
        doc["steps"] = [step_doc(s) for s in n.steps]
        doc["socket_view"] = [{"seq": s.seqs[0], "tid": s.tid, "call": format_call(s)}
                              for s in n.socket_view]
        doc["attributes"] = asdict(n.attributes)
    return doc


def table_doc(table: RoleTable) -> dict[str, Any]:
    names = [s.sample for s in table.samples]
    book = table.textbook_verdict
    textbook = None if book is None else {
        "steps": [s.label for s in table.textbook], "note": table.textbook_note,
        "base_verdict": {"status": book.status, "summary": book.summary,
                         "first_step": book.first_step}}
    return {"role": table.role, "reference": table.reference, "base": table.base,
            "note": table.note, "samples": names, "textbook": textbook,
            "rows": [{"step": r.step, "label": r.label,
                      **({"textbook": r.textbook} if book is not None else {}),
                      "cells": dict(zip(names, r.cells))}
                     for r in table.rows],
            "verdicts": {s.sample: t.verdict_cell(s) for s in table.samples}}


def grid_doc(report: Report) -> dict[str, Any]:
    grid = report.grid
    return {"scenarios": list(grid.scenarios),
            "rows": [{"sample": row.sample, "role": row.role,
                      "cells": {sc: {"status": c.status, "text": c.text, "run": c.run,
                                     "first_step": c.step}
                                for sc, c in zip(grid.scenarios, row.cells)}}
                     for row in grid.rows]}


class JsonRenderer:
    extension = ".json"

    def render(self, report: Report) -> str:
        doc = {
            "reference": report.reference, "level": report.level,
            "started_at": report.started_at, "exit_code": exit_code(report),
            "grid": grid_doc(report),
            "scenarios": [{
                "name": sc.name, "note": sc.note,
                "tables": [table_doc(tb) for tb in sc.tables],
                "runs": [{"folder": run.folder, "outcome": run.record.outcome,
                          "detail": run.record.detail, "failure": run_failure(run.record),
                          "server": sample_doc(run.server), "client": sample_doc(run.client)}
                         for run in sc.runs]}
                for sc in report.scenarios],
            "skipped": [s.to_dict() for s in report.skipped],
            "failed": [f.to_dict() for f in report.failed],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
