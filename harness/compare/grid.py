"""The verdict grid: samples by scenarios, each cell a sample's verdict in one scenario, telling
a scenario it does not implement (n/a) from one it could not run (skipped) or that failed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from harness.common.vocabulary import ROLES
from harness.compare.align import Status
from harness.compare.results import (GridCell, GridRow, GridStatus, SampleResult, ScenarioResult,
                                     VerdictGrid)
from harness.formats.model import MatrixIndex


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
    seen += [(s.name, s.role) for s in index.skipped if s.role in ROLES]
    seen += [(f.name, f.role) for f in index.failed if f.role in ROLES]
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
