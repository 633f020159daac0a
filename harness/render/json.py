"""The results for machines: one JSON document of typed values, no sentences.

Its shape is documented in docs/json-report.md, with the paths users ask for and jq examples;
`schema_version` (SCHEMA_VERSION) is raised whenever a field is renamed, removed or changes its
meaning (a new field is added without raising it). What each value means is also in the dataclasses
of harness/compare/results.py, harness/compare/align.py and harness/normalize/attributes.py; the
statuses and kinds are their enums' values. A question such as "which samples wait in epoll?" is a
lookup in `attributes.readiness`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, is_dataclass
from typing import Any

import msgspec

from harness.compare.analyze import exit_code

from harness.compare.results import Analysis, Cell, RoleTable, RunResult, SampleResult
from harness.compare.align import Verdict
from harness.normalize.steps import Step, format_call

SCHEMA_VERSION = 1  # docs/json-report.md


def plain(value: Any) -> Any:
    """Dataclasses and structs as mappings, tuples as lists (enums are str already)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, msgspec.Struct):
        return {name: plain(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def step_doc(step: Step) -> dict[str, Any]:
    return {"step": step.label, "name": step.name, "fd": step.fd, "creates": step.creates,
            "dialect": step.dialect, "outcome": step.outcome,
            "qualifiers": list(step.qualifiers), "seqs": list(step.seqs), "count": step.count}


def verdict_doc(v: Verdict) -> dict[str, Any]:
    return {"status": v.status, "first_step": v.first_step,
            "differences": [asdict(d) for d in v.differences], "why": plain(v.why)}


def sample_doc(result: SampleResult) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "sample": result.sample, "role": result.role, "run": result.run,
        "trace_file": result.trace_file, "verdict": verdict_doc(result.verdict),
        "run_outcome": result.record.outcome, "incomplete": result.incomplete,
        "matches": result.matches}
    n = result.normalized
    if n is not None:
        doc["steps"] = [step_doc(s) for s in n.steps]
        doc["socket_view"] = [{"seq": s.seqs[0], "tid": s.tid, "call": format_call(s)}
                              for s in n.socket_view]
        doc["attributes"] = plain(n.attributes)
    doc["wire"] = plain(result.wire)
    return doc


def wire_doc(run: RunResult) -> dict[str, Any] | None:
    """The run's packets: their frame numbers in wire.pcapng, times in ns from the first, who
    sent each, its TCP fields, the call it comes from, the states it led to."""
    view = run.wire
    if view is None:
        return None
    t0 = view.packets[0].packet.ts_ns if view.packets else 0
    return {"protocol": view.protocol, "dropped": view.dropped, "note": view.note,
            "packets": [{"frame": n, "t_ns": w.packet.ts_ns - t0, "sender": w.sender,
                         "flags": list(w.packet.flags), "length": w.packet.length,
                         "seq": w.relative_seq, "ack": w.relative_ack,
                         "window": w.packet.window,
                         "call": w.call.label if w.call else None,
                         "acks": w.acks.label if w.acks else None,
                         "states": [list(s) for s in w.states],
                         "icmp": {"type": w.packet.icmp_type, "code": w.packet.icmp_code,
                                  "id": w.packet.ident, "seq": w.packet.icmp_seq}
                         if w.packet.proto == "icmp" else None}
                        for n, w in enumerate(view.packets, 1)]}


def cell_doc(c: Cell | None) -> dict[str, Any] | None:
    if c is None or (c.step is None and c.change is None):
        return None  # a gap
    return {"change": c.change, "step": c.step.label if c.step else None,
            "dialect": c.step.dialect if c.step else None, "moved_from": c.moved_from,
            "moved_up": c.moved_up}


def table_doc(table: RoleTable) -> dict[str, Any]:
    names = [s.sample for s in table.samples]
    book = table.textbook_verdict
    textbook = None if book is None else {
        "steps": [s.label for s in table.textbook], "loops": plain(table.textbook_loops),
        "base_verdict": verdict_doc(book)}
    return {"role": table.role, "reference": table.reference, "base": table.base,
            "reference_has_trace": table.reference_has_trace, "samples": names,
            "textbook": textbook,
            "rows": [{"step": r.step, "label": r.label,
                      **({"textbook": cell_doc(r.textbook)} if book is not None else {}),
                      "cells": dict(zip(names, (cell_doc(c) for c in r.cells)))}
                     for r in table.rows],
            "verdicts": {s.sample: {"status": s.verdict.status,
                                    "first_step": s.verdict.first_step,
                                    "run_outcome": s.record.outcome,
                                    "incomplete": s.incomplete} for s in table.samples}}


def grid_doc(analysis: Analysis) -> dict[str, Any]:
    grid = analysis.grid
    return {"scenarios": list(grid.scenarios),
            "rows": [{"sample": row.sample, "role": row.role,
                      "cells": {sc: plain(c) for sc, c in zip(grid.scenarios, row.cells)}}
                     for row in grid.rows]}


class JsonRenderer:
    extension = ".json"

    def render(self, analysis: Analysis) -> str:
        doc = {
            "schema_version": SCHEMA_VERSION,
            "reference": analysis.reference, "level": analysis.level,
            "started_at": analysis.started_at, "exit_code": exit_code(analysis),
            "grid": grid_doc(analysis),
            "scenarios": [{
                "name": sc.name, "note": sc.note,
                "tables": [table_doc(tb) for tb in sc.tables],
                "runs": [{"folder": run.folder,
                          # the run's temporary socket path changes from run to run: PATH
                          "record": {**run.record.to_dict(),
                                     "path": "PATH" if run.record.path else None},
                          "server": sample_doc(run.server), "client": sample_doc(run.client),
                          "wire": wire_doc(run), "wire_note": run.wire_note}
                         for run in sc.runs]}
                for sc in analysis.scenarios],
            "skipped": [s.to_dict() for s in analysis.skipped],
            "failed": [f.to_dict() for f in analysis.failed],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
