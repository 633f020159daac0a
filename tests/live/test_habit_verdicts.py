"""The habit corpus (tests/habits) against the reference, run as `make compare` runs samples:
each habit gets the verdict tests/habits/expect.yaml gives it (the first differing step
named, when it differs) and its attribute table holds what `shows:` says. Every habit's calls
are held against strace in test_habit_corpus.py; this is what the report then says of them."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from harness.compare.analyze import analyze
from harness.render import words
from harness.render.attribute_rows import attribute_rows
from livehelp import REPO

pytestmark = pytest.mark.live

HABITS = REPO / "tests" / "habits"
EXPECT = yaml.safe_load((HABITS / "expect.yaml").read_text())


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (apt-get install gcc)")
    root = tmp_path_factory.mktemp("habits")
    ref = root / "ref"
    for role in ("servers", "clients"):
        shutil.copytree(REPO / role / "python-stdlib", ref / role / "python-stdlib")
    scenarios = sorted({e["scenario"] for e in EXPECT.values()})
    r = subprocess.run([sys.executable, "-m", "harness", "compare", "--samples", str(ref),
                        "--samples", str(HABITS), "--traces", str(root / "traces"),
                        *[a for s in scenarios for a in ("--scenario", s)]],
                       cwd=REPO, capture_output=True, text=True, timeout=600,
                       stdin=subprocess.DEVNULL)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    return analyze(root / "traces")


def result(report, name: str):
    e = EXPECT[name]
    for r in report.results():
        if r.sample == name and r.role == e["role"] and r.run.startswith(e["scenario"] + "/"):
            return r
    return None


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_each_habit_gets_its_verdict(report, name):
    e = EXPECT[name]
    r = result(report, name)
    if r is None or r.verdict.status == "skipped":
        pytest.skip(f"{name} did not run here (a toolchain missing: see its manifest)")
    want = "identical" if e["verdict"] == "attribute" else e["verdict"]
    summary = words.verdict_summary(r.verdict)
    assert r.verdict.status == want, summary
    if "step" in e:
        assert e["step"] in summary, summary
    rows = dict(attribute_rows(r.normalized.attributes))
    for row, text in (e.get("shows") or {}).items():
        assert text in rows.get(row, ""), (row, rows.get(row))


def test_every_note_shown_for_the_corpus_holds_of_its_run(report):
    """The notes audit (tests/unit/test_notes_audit.py) on the habit corpus's live runs."""
    sys.path.insert(0, str(REPO / "tests" / "unit"))
    from test_notes_audit import audit

    audit(report)
