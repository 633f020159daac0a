"""A run's two sides normalized: the normalize stage over one run folder. Its output is the
run's steps.json (harness/normalize/steps_file.py), which `harness normalize RUN_DIR` writes
and `compare` writes beside the traces; `compare --from` reads it back instead of
normalizing again while it still stands for its run (the same run.yaml and traces, by size
and modification time, and the same normalizer)."""

from __future__ import annotations

from harness.common.errors import HarnessError
from harness.common.vocabulary import ROLES
from harness.formats.model import RunRecord
from harness.formats.store import RUN_FILE, TracesFolder
from harness.normalize.engine import Normalized
from harness.normalize.rules import RuleSet
from harness.normalize.steps_file import (DEFAULT_NAME, FORMAT, VERSION, Source, StepsFile,
                                          load_fresh, normalizer_fingerprint, save, stamps)


def normalize_side(store: TracesFolder, folder: str, record: RunRecord, role: str,
                   level: str, rules: RuleSet
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


def step_times(normalized: Normalized, when: dict[int, int]) -> dict[int, int]:
    """When each of the steps' events returned (seq -> ts_ns), of `when`, every event's: what
    the wire view needs of a trace once it is normalized."""
    return {q: when[q] for s in normalized.steps for q in s.seqs if q in when}


def _sources(store: TracesFolder, folder: str, record: RunRecord) -> list[str]:
    """The files of the run folder the steps are made from: run.yaml and the traces."""
    names = [RUN_FILE]
    for role in ROLES:
        _, path = store.trace_file(folder, record, role)
        if path is not None:
            names.append(path.name)
    return names


def normalize_run(store: TracesFolder, folder: str, record: RunRecord, level: str,
                  rules: RuleSet) -> StepsFile:
    """Both sides of the run normalized from its traces, with when each step returned and
    what they were made from (looked at before the files are read: a file changed while it
    is read makes the steps stale)."""
    names = _sources(store, folder, record)
    now = stamps(store.run_folder(folder), names)
    sides: dict[str, Normalized | None] = {}
    times: dict[str, dict[int, int]] = {}
    for role in ROLES:
        _, normalized, when = normalize_side(store, folder, record, role, level, rules)
        sides[role] = normalized
        times[role] = step_times(normalized, when) if normalized is not None else {}
    source = Source(now, normalizer_fingerprint()) if now is not None else None
    return StepsFile(FORMAT, VERSION, folder, level, sides, times, source)


def run_steps(store: TracesFolder, folder: str, record: RunRecord, level: str,
              rules: RuleSet, files: bool) -> StepsFile:
    """The run's steps. `files`: read the run's steps.json while it stands for the run (and
    the rules are the harness's own), else normalize and write it there (a folder that
    cannot be written is read all the same)."""
    from harness.normalize.rules import default_rules

    run_dir = store.run_folder(folder)
    own_rules = rules is default_rules()
    if files and own_rules:
        fresh = load_fresh(run_dir, level, _sources(store, folder, record))
        if fresh is not None and fresh.run == folder:
            return fresh
    doc = normalize_run(store, folder, record, level, rules)
    if files and own_rules and doc.source is not None and (run_dir / RUN_FILE).is_file():
        try:
            save(doc, run_dir / DEFAULT_NAME, follow=False)
        except (OSError, HarnessError):
            pass  # a read-only folder: the steps are made again next time
    return doc
