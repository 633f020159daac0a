"""The normalize stage's goldens: every run of every trace set, normalized as `harness
normalize RUN_DIR` does it, written as steps.json writes it (one line per step), must equal
expected/<set>/steps/<scenario>/<server>--<client>.json. What the file was made from
(`source`: the files' modification times, the normalizer's digest) changes with every
checkout and every edit of the harness, and is left out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from goldens import EXPECTED, check, no_stale, set_folder, trace_sets
from harness.formats.store import RUN_FILE
from harness.normalize import steps_file
from harness.stages import normalize_run


@pytest.mark.parametrize("name", trace_sets())
def test_every_run_normalizes_to_its_steps(name: str,
                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = set_folder(name, tmp_path_factory)
    runs = sorted(p.parent for p in folder.glob(f"*/*/{RUN_FILE}"))
    assert runs, f"{folder}: no run folder"
    wanted = set()
    for run in runs:
        doc, _ = normalize_run(run)
        doc = replace(doc, source=None)
        rel = f"{run.parent.name}/{run.name}.json"
        wanted.add(rel)
        check(EXPECTED / name / "steps" / rel, steps_file.encode(doc).decode())
    no_stale(EXPECTED / name / "steps", "*/*.json", wanted)
