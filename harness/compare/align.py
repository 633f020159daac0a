"""Comparing a sample's sequence with the reference's: a global alignment with traceback.

The alignment is an edit distance (Needleman–Wunsch with unit costs): a step of the reference
with no counterpart is *missing*, a step of the sample with none is *extra*, and two steps that
are the same kind of call (same canonical name) but differ in fd, argument or outcome may pair
up as *changed* ("expected recv(conn), got recv(conn) → EOF"). Steps of different names never
pair up: a close where a send was expected reads as "missing send, extra close", not as a
change. Among alignments of equal cost the earliest matches win, so in "send, send" against
"send" the second send is the extra one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from harness.normalize.steps import Step


class Change(StrEnum):
    """What one column of an alignment is."""

    MATCH = "match"  # the same step in both
    CHANGED = "changed"  # the same call, another socket, argument or outcome
    EXTRA = "extra"  # a step only the sample makes
    MISSING = "missing"  # a step only the reference makes
    # a step both make, at another place: the sample's step (MOVED, got set) and the
    # reference's place it left (MOVED_AWAY, ref set)
    MOVED = "moved"
    MOVED_AWAY = "moved away"


MATCH, CHANGED, EXTRA, MISSING, MOVED, MOVED_AWAY = (
    Change.MATCH, Change.CHANGED, Change.EXTRA, Change.MISSING, Change.MOVED, Change.MOVED_AWAY)


@dataclass(frozen=True, slots=True)
class Pair:
    """One column of an alignment."""

    ref: int | None  # index in the reference sequence; None for an extra step
    got: int | None  # index in the sample's sequence; None for a missing step
    kind: Change  # match | changed | extra | missing | moved | moved away
    # for the two halves of a move: the other half's index (the reference step a MOVED step
    # was at; the sample's step a MOVED_AWAY place went to)
    partner: int | None = None


def align(ref: Sequence[Hashable], got: Sequence[Hashable],
          similar: Callable[[Any, Any], bool] | None = None) -> tuple[Pair, ...]:
    """Align two sequences of keys; `similar(a, b)` says which unequal keys may be paired as
    changed (cost 1, like a gap); without it unequal keys are never paired."""
    n, m = len(ref), len(got)
    # Steps shared at the start are matches in every optimal alignment that prefers early
    # matches: skip them to keep the table small for long socket-level sequences.
    start = 0
    while start < min(n, m) and ref[start] == got[start]:
        start += 1
    r, g = ref[start:], got[start:]
    rn, gm = len(r), len(g)
    inf = rn + gm + 1
    # cost[i][j]: the least cost of aligning r[i:] with g[j:]
    cost = [[0] * (gm + 1) for _ in range(rn + 1)]
    for i in range(rn, -1, -1):
        row, below = cost[i], cost[i + 1] if i < rn else None
        for j in range(gm, -1, -1):
            if i == rn:
                row[j] = gm - j
                continue
            if j == gm:
                row[j] = rn - i
                continue
            assert below is not None
            if r[i] == g[j]:
                diag = below[j + 1]
            elif similar is not None and similar(r[i], g[j]):
                diag = below[j + 1] + 1
            else:
                diag = inf
            row[j] = min(diag, below[j] + 1, row[j + 1] + 1)
    pairs = [Pair(k, k, MATCH) for k in range(start)]  # (shared start: matches)
    i = j = 0
    while i < rn or j < gm:
        here = cost[i][j]
        if i < rn and j < gm and r[i] == g[j] and here == cost[i + 1][j + 1]:
            pairs.append(Pair(start + i, start + j, MATCH))
            i, j = i + 1, j + 1
        elif (i < rn and j < gm and similar is not None and r[i] != g[j]
              and similar(r[i], g[j]) and here == cost[i + 1][j + 1] + 1):
            pairs.append(Pair(start + i, start + j, CHANGED))
            i, j = i + 1, j + 1
        elif i < rn and here == cost[i + 1][j] + 1:
            pairs.append(Pair(start + i, None, MISSING))
            i += 1
        else:
            pairs.append(Pair(None, start + j, EXTRA))
            j += 1
    return tuple(pairs)


def find_moves(pairs: Sequence[Pair], ref: Sequence[Hashable],
               got: Sequence[Hashable]) -> tuple[Pair, ...]:
    """A missing step and an extra step with the same key are one step made at another place:
    both halves become a move. Only for a step that both sequences make exactly once (the
    listener's close): which of several like steps (a recv loop's) went where cannot be
    told, so those stay extra and missing."""
    from collections import Counter

    once = {k for k, n in Counter(ref).items() if n == 1} & \
        {k for k, n in Counter(got).items() if n == 1}
    extras = {got[p.got]: i for i, p in enumerate(pairs)  # type: ignore[index]
              if p.kind == EXTRA and got[p.got] in once}  # type: ignore[index]
    out = list(pairs)
    for i, p in enumerate(pairs):
        if p.kind != MISSING:
            continue
        assert p.ref is not None
        j = extras.pop(ref[p.ref], None)
        if j is None:
            continue
        out[i] = Pair(p.ref, None, MOVED_AWAY, partner=pairs[j].got)
        out[j] = Pair(None, pairs[j].got, MOVED, partner=p.ref)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Difference:
    """One place where a sample's sequence departs from the reference's."""

    step: int  # 1-based position in the alignment of this sample with the reference
    kind: Change  # changed | extra | missing | moved
    expected: str | None  # the reference's step (its label), None for an extra step
    got: str | None  # the sample's step (its label), None for a missing step
    got_dialect: str | None = None  # how the sample made it, when it did
    # a move: the step's number in the reference's sequence and in the sample's (1-based)
    from_step: int | None = None
    to_step: int | None = None


class Status(StrEnum):
    """A sample's sequence against the reference's."""

    IDENTICAL = "identical"
    DIFFERS = "differs"
    REFERENCE = "reference"  # it is the reference
    NO_TRACE = "no trace"  # its trace file is missing: nothing to compare
    NO_REFERENCE = "no reference"  # the reference has no trace (or no run) to compare with
    KERNEL = "kernel"  # the kernel answered (icmp-echo): no server program, nothing to compare


IDENTICAL, DIFFERS, REFERENCE, NO_TRACE, NO_REFERENCE = (
    Status.IDENTICAL, Status.DIFFERS, Status.REFERENCE, Status.NO_TRACE, Status.NO_REFERENCE)


class NoTrace(msgspec.Struct, frozen=True, tag=True):
    """Why a sample has no sequence: its trace file (None: none was recorded) is missing."""

    trace_file: str | None  # relative to the traces folder
    run_outcome: str  # the run's outcome (ok, timeout, ...)
    run_detail: str | None  # the run's one line on what went wrong


class NoReference(msgspec.Struct, frozen=True, tag=True):
    """Why there is nothing to compare with: the reference's run has no trace, or there is
    no run of the reference."""

    reference: str  # the reference sample
    role: str  # server | client
    ran: bool  # the reference ran (its trace is missing) or did not run at all


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one sample's sequence compares with the reference's."""

    status: Status
    differences: tuple[Difference, ...] = ()  # in alignment order (only when status differs)
    alignment: tuple[Pair, ...] = ()  # the whole alignment (empty without a comparison)
    why: NoTrace | NoReference | None = None  # why there is no comparison

    @property
    def matches(self) -> bool:
        return self.status in (IDENTICAL, REFERENCE, Status.KERNEL)

    @property
    def first_step(self) -> int | None:
        return self.differences[0].step if self.differences else None


def _same_call(a: Any, b: Any) -> bool:
    return bool(a[0] == b[0])  # Step.key starts with the canonical name


def align_steps(reference: Sequence[Step], steps: Sequence[Step]) -> tuple[Pair, ...]:
    """The alignment of two step sequences as verdicts and tables use it: same-named calls may
    pair up as changed, and a missing and an extra step of the same key are a move."""
    ref_keys, got_keys = [s.key for s in reference], [s.key for s in steps]
    return find_moves(align(ref_keys, got_keys, similar=_same_call), ref_keys, got_keys)


def compare(reference: Sequence[Step], steps: Sequence[Step]) -> Verdict:
    """Align a sample's steps with the reference's and say where they differ; a step made
    at another place than the reference's is one difference, a move, named at the first of
    its two places."""
    pairs = align_steps(reference, steps)
    diffs: list[Difference] = []
    moves_named: set[tuple[int, int]] = set()
    for k, p in enumerate(pairs, 1):
        if p.kind == MATCH:
            continue
        if p.kind in (MOVED, MOVED_AWAY):
            ref_i, got_i = _move_ends(p)
            if (ref_i, got_i) in moves_named:
                continue  # named at its other half, which came first
            moves_named.add((ref_i, got_i))
            diffs.append(Difference(step=k, kind=MOVED, expected=reference[ref_i].label,
                                    got=steps[got_i].label, got_dialect=steps[got_i].dialect,
                                    from_step=ref_i + 1, to_step=got_i + 1))
            continue
        diffs.append(Difference(step=k, kind=p.kind,
                                expected=reference[p.ref].label if p.ref is not None else None,
                                got=steps[p.got].label if p.got is not None else None,
                                got_dialect=steps[p.got].dialect if p.got is not None else None))
    return Verdict(status=DIFFERS if diffs else IDENTICAL, differences=tuple(diffs),
                   alignment=pairs)


def _move_ends(p: Pair) -> tuple[int, int]:
    """(reference index, sample index) of the step either half of a move stands for."""
    ref_i, got_i = (p.partner, p.got) if p.kind == MOVED else (p.ref, p.partner)
    assert ref_i is not None and got_i is not None
    return ref_i, got_i


@dataclass(frozen=True, slots=True)
class RowIndex:
    """One row of a table that shows several samples against the reference."""

    ref: int | None  # index of the reference step; None for a step the reference lacks
    cells: tuple[int | None, ...]  # per sample: index of its step on this row, or None
    # per sample: match | changed | extra | moved, moved away (no step: it is elsewhere),
    # None for a gap
    kinds: tuple[Change | None, ...]


def merge_alignments(ref_len: int, alignments: Sequence[Sequence[Pair]],
                     keys: Sequence[Sequence[Hashable]]) -> tuple[RowIndex, ...]:
    """Rows for a table of many samples, each aligned with the reference on its own.

    The reference steps give the rows; a sample's extra steps go between the reference steps
    they fall between, and extras of several samples with the same key share a row."""
    ncol = len(alignments)
    ref_cells: list[list[int | None]] = [[None] * ncol for _ in range(ref_len)]
    ref_kinds: list[list[Change | None]] = [[None] * ncol for _ in range(ref_len)]
    # extra rows before reference step g (g == ref_len: after the last one)
    slots: list[list[tuple[Hashable, list[int | None], list[Change | None]]]] = [
        [] for _ in range(ref_len + 1)]
    for c, pairs in enumerate(alignments):
        slot, cursor = 0, 0
        for p in pairs:
            if p.ref is not None:
                ref_cells[p.ref][c] = p.got
                ref_kinds[p.ref][c] = p.kind if p.got is not None or p.kind == MOVED_AWAY \
                    else None
                slot, cursor = p.ref + 1, 0
                continue
            assert p.got is not None
            key = keys[c][p.got]
            rows = slots[slot]
            k = next((k for k in range(cursor, len(rows))
                      if rows[k][0] == key and rows[k][1][c] is None), None)
            if k is None:
                k = cursor if cursor <= len(rows) else len(rows)
                # keep this sample's extras in its own order: after the rows it already used
                rows.insert(k, (key, [None] * ncol, [None] * ncol))
            rows[k][1][c] = p.got
            rows[k][2][c] = p.kind  # extra, or moved
            cursor = k + 1
    out: list[RowIndex] = []
    for g in range(ref_len + 1):
        out += [RowIndex(None, tuple(cells), tuple(kinds)) for _key, cells, kinds in slots[g]]
        if g < ref_len:
            out.append(RowIndex(g, tuple(ref_cells[g]), tuple(ref_kinds[g])))
    return tuple(out)
