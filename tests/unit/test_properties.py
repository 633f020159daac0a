"""Properties of the trace loader and the normalizer on generated input (hypothesis).

- The loader, given a recorded trace with any one value replaced by any JSON value, or with
  its bytes cut or overwritten, either reads a trace or refuses with a TraceFileError naming
  the file; it never raises anything else. A trace it reads normalizes and compares at every
  level without an error.
- A change in any step the canonical level keeps (the step dropped, two steps exchanged, the
  call failing) changes the verdict against the unchanged trace: the normalizer does not fold
  a real difference away.

The traces are the recorded ones of tests/golden/sets (real programs, every sample).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from harness.formats import tracefile
from harness.compare.align import Status, compare
from harness.formats.model import RunRecord, Trace
from harness.normalize import LEVELS, normalize
from harness.formats.store import TracesFolder
from harness.formats.trace_base import TraceFileError

SETS = Path(__file__).resolve().parents[1] / "golden" / "sets"
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@cache
def recorded() -> tuple[tuple[str, str, RunRecord, Trace], ...]:
    """(run folder, role, run record, trace) of every recorded run that has both traces."""
    out = []
    for name in ("recorded-matrix", "recorded-habits", "recorded-wire"):
        store = TracesFolder(SETS / name)
        for folder in store.read_index().runs:
            record = store.read_run(folder)
            for role in ("server", "client"):
                _, path = store.trace_file(folder, record, role)
                if path is not None:
                    out.append((f"{name}/{folder}", role, record, tracefile.load(path)))
    return tuple(out)


def stream_lines(trace: Trace) -> list[Any]:
    return [json.loads(line) for line in tracefile.dumps(trace, "jsonl").splitlines()]


def paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: keys and list positions down to the scalars."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, prefix + (i,))
    return out


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    if isinstance(doc, dict):
        return {**doc, path[0]: replaced(doc[path[0]], path[1:], value)}
    copy = list(doc)
    copy[path[0]] = replaced(doc[path[0]], path[1:], value)
    return copy


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6)


def normalizes_everywhere(trace: Trace, record: RunRecord, role: str) -> None:
    """Every level normalizes, and the canonical steps compare with themselves."""
    for level in LEVELS:
        result = normalize(trace, record, role, level)
        compare(result.steps, result.steps)


def load_or_refuse(path: Path) -> Trace | None:
    try:
        return tracefile.load(path)
    except TraceFileError as e:
        message = str(e)
        assert str(path) in message and "\n" not in message, message
        return None


@SETTINGS
@given(data=st.data(), value=json_values)
def test_any_value_anywhere_is_read_or_refused_by_name(data: st.DataObject, value: Any) -> None:
    folder, role, record, trace = data.draw(st.sampled_from(recorded()), label="trace")
    lines = stream_lines(trace)
    n = data.draw(st.integers(0, len(lines) - 1), label="line")
    where = data.draw(st.sampled_from(paths(lines[n])), label="path")
    lines[n] = replaced(lines[n], where, value)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        loaded = load_or_refuse(path)
        # the same document as a YAML export (schema 1 layout: one mapping)
        doc: dict[str, Any] = {"events": lines[1:-1]}
        for line in (lines[0], lines[-1]):
            if isinstance(line, dict):
                doc.update({k: v for k, v in line.items() if k not in ("type", "events")})
        ypath = Path(tmp) / "t.yaml"
        from harness.common.validate import dump_yaml

        ypath.write_text(dump_yaml(doc))
        load_or_refuse(ypath)
    if loaded is not None:
        normalizes_everywhere(loaded, record, role)


@SETTINGS
@given(data=st.data())
def test_cut_or_overwritten_bytes_are_read_or_refused_by_name(data: st.DataObject) -> None:
    folder, role, record, trace = data.draw(st.sampled_from(recorded()), label="trace")
    fmt = data.draw(st.sampled_from(["jsonl", "yaml"]), label="format")
    raw = tracefile.dumps(trace, fmt).encode()
    at = data.draw(st.integers(0, len(raw) - 1), label="at")
    how = data.draw(st.sampled_from(["cut", "overwrite", "insert"]), label="how")
    junk = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
    if how == "cut":
        raw = raw[:at]
    elif how == "overwrite":
        raw = raw[:at] + junk + raw[at + len(junk):]
    else:
        raw = raw[:at] + junk + raw[at:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"t.{fmt}"
        path.write_bytes(raw)
        loaded = load_or_refuse(path)
    if loaded is not None:
        normalizes_everywhere(loaded, record, role)


# -- a change in a kept step changes the verdict -------------------------------------------------

def renumbered(trace: Trace, events: list[Any]) -> Trace:
    return replace(trace, events=tuple(replace(e, seq=i) for i, e in enumerate(events, 1)))


@cache
def canonical(index: int) -> tuple[Any, ...]:
    folder, role, record, trace = recorded()[index]
    return normalize(trace, record, role).steps


def changeable() -> list[int]:
    """Recorded runs whose canonical sequence has steps to change."""
    return [i for i in range(len(recorded())) if len(canonical(i)) >= 2]


@SETTINGS
@given(data=st.data())
def test_a_change_in_any_kept_step_changes_the_verdict(data: st.DataObject) -> None:
    index = data.draw(st.sampled_from(changeable()), label="run")
    folder, role, record, trace = recorded()[index]
    steps = canonical(index)
    k = data.draw(st.integers(0, len(steps) - 1), label="step")
    change = data.draw(st.sampled_from(["drop", "exchange", "fail"]), label="change")
    mine = set(steps[k].seqs)
    events = list(trace.events)
    if change == "drop":
        events = [e for e in events if e.seq not in mine]
    elif change == "exchange":
        assume(k + 1 < len(steps) and steps[k].key != steps[k + 1].key)
        theirs = set(steps[k + 1].seqs)
        # steps k and k+1 trade places: k's events go right after k+1's last one
        moved = [e for e in events if e.seq in mine]
        rest = [e for e in events if e.seq not in mine]
        last = max(i for i, e in enumerate(rest) if e.seq in theirs)
        events = rest[:last + 1] + moved + rest[last + 1:]
    else:
        first = min(mine)
        assume(trace.events[[e.seq for e in trace.events].index(first)].errno is None)
        events = [replace(e, result=-104, errno="ECONNRESET", fds=()) if e.seq == first else e
                  for e in events]
    changed = normalize(renumbered(trace, events), record, role).steps
    verdict = compare(steps, changed)
    assert verdict.status is not Status.IDENTICAL, (
        f"{folder} {role}: {change} step {k + 1} ({steps[k].label}) left the verdict "
        f"identical:\n  {[s.label for s in steps]}\n  {[s.label for s in changed]}")


def test_the_recorded_traces_are_there() -> None:
    assert len(recorded()) >= 40 and len(changeable()) >= 40
    assert os.path.isdir(SETS / "recorded-habits")
