"""`compare` end to end on real programs: the samples present, the negative controls, a
re-render from disk, and Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.compare.analyze import analyze as build_report
from harness.render.explain import explain

from e2ehelp import PYTHON, REPO, SampleTree, running


def harness(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "harness", *args], cwd=REPO, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300, **kw)


@pytest.fixture
def with_controls(matrix):
    return matrix


def first_line(traces: Path, sample: str) -> str:
    return explain(build_report(traces), sample).splitlines()[0]


def test_negative_controls_differ_at_the_right_step(with_controls):
    traces, r = with_controls
    assert r.returncode == 1, r.stdout + r.stderr
    assert "differs at step 7 (extra send(conn))" in first_line(traces, "echo-twice")
    assert "differs at step 6 (missing send(conn))" in first_line(traces, "close-before-echo")
    line = first_line(traces, "connect-twice")
    assert "differs at step 3" in line and "extra sock2 = socket()" in line
    # the summary says each difference with its note's title, or that it has none
    assert "tcp server echo-twice, step 7: extra send(conn): more sends than the reference " \
        "(send(2))" in r.stdout
    assert "tcp server close-before-echo, step 6: missing send(conn): a transfer the " \
        "reference makes and the sample does not" in r.stdout
    if shutil.which("node"):
        assert "tcp server node, step 7: extra shutdown(conn, SHUT_WR): a half-close before " \
            "the close (shutdown(2), tcp(7), unix(7))" in r.stdout


def test_a_splice_echo_folds_to_recv_and_send(with_controls):
    """Go's io.Copy(conn, conn) never calls read or write on the connection: splice moves
    the bytes through a pipe. Canonically those are recv and send; what remains different is
    the read until end of file."""
    traces, r = with_controls
    if shutil.which("go") is None:
        assert "go-copy" in r.stdout and "apt-get install golang-go" in r.stdout
        pytest.skip("go not installed: go-copy is listed as skipped")
    assert first_line(traces, "go-copy").endswith(
        "differs at step 7 (extra recv(conn) → EOF)")
    rep = build_report(traces)
    table = next(t for sc in rep.scenarios if sc.name == "tcp" for t in sc.tables
                 if t.role == "server")
    column = next(s for s in table.samples if s.sample == "go-copy")
    dialects = [s.dialect for s in column.normalized.steps]
    assert dialects[4:7] == ["splice(SPLICE_F_NONBLOCK)"] * 3


def test_habit_controls_on_live_runs(with_controls):
    """The habit controls of tests/samples, run for real: each verdict is what the report
    must say of that habit (tests/unit/test_habits.py checks the same on recorded traces)."""
    traces, r = with_controls
    if shutil.which("cc") is not None:
        assert first_line(traces, "probe-first").endswith(": identical")
        assert first_line(traces, "tty-probe").endswith(": identical")
        assert "FAIL  server build-fails: build failed with exit status 1" in r.stderr
    assert first_line(traces, "epoll-registered").endswith(": identical")
    assert first_line(traces, "listener-closed-early").endswith(
        "differs at step 5 (close(listener) moved from step 8 to step 5)")
    assert "expected listener = socket(), got sock = socket(SOCK_DGRAM)" in \
        first_line(traces, "udp-in-tcp")
    assert "extra recv(sock) … never returned" in first_line(traces, "udp-waits-again")
    assert "extra recv(conn, MSG_PEEK); extra shutdown(conn, SHUT_RDWR)" in \
        first_line(traces, "peek-shutdown")


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_verify_of_a_sample_that_does_not_build_fails(tmp_path):
    r = harness("verify", "build-fails", "--samples", ".", "--samples", "tests/samples",
                "--traces", str(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "harness: server build-fails failed: build failed with exit status 1" in r.stderr
    assert "error: expected" in r.stderr  # the compiler's own last lines
    assert "skipped" not in r.stderr


def test_the_reference_and_its_equals_are_identical(with_controls):
    traces, r = with_controls
    assert "reference" in first_line(traces, "python-stdlib")
    ran = {line.split()[1].split("/")[1] for line in r.stderr.splitlines()
           if line.startswith("[")}
    for sample in ("c", "python-asyncio"):
        if f"{sample}--{sample}" in ran:
            assert first_line(traces, sample).endswith(": identical"), first_line(traces,
                                                                                  sample)


def test_compare_from_disk_renders_the_same_report_without_running(with_controls):
    traces, _ = with_controls
    before = {p: p.stat().st_mtime_ns for p in traces.rglob("*.yaml")}
    r = harness("compare", "--from", str(traces), "--format", "markdown")
    assert r.returncode == 1
    assert r.stdout == (traces / "report.md").read_text() + "\n"
    assert not r.stderr.startswith("[")  # no run progress: nothing ran
    assert {p: p.stat().st_mtime_ns for p in traces.rglob("*.yaml")} == before


def test_make_compare_runs_the_samples_present(matrix):
    """What a user runs: every sample is either in the tables or listed as skipped."""
    traces, r = matrix
    status = r.returncode
    assert status in (0, 1), r.stdout + r.stderr
    report = (traces / "report.md").read_text()
    for folder in ("servers", "clients"):
        for sample in (REPO / folder).iterdir():
            assert sample.name in report, sample.name
    # the terminal has the summary: the grid, a line per difference, where the report is
    assert "Verdicts" in r.stdout and "tcp: servers" not in r.stdout
    assert f"{traces}/report.md" in r.stdout
    assert "tcp: servers" in report
    assert status == (1 if "differs" in r.stdout or "failed" in r.stdout else 0)
    if "differs" in r.stdout:
        assert "Differences" in r.stdout


def test_ctrl_c_stops_the_matrix_and_leaves_no_process(samples: SampleTree, tmp_path):
    marker = samples.add("client", "sleepy", "import time\ntime.sleep(120)\n")
    h = subprocess.Popen([PYTHON, "-m", "harness", "compare", "--samples", str(samples.root),
                          "--samples", ".", "--scenario", "tcp", "--traces",
                          str(tmp_path / "t")], cwd=REPO, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not running(str(marker)):
            time.sleep(0.05)
        assert running(str(marker)), "the sleepy client never started"
        h.send_signal(signal.SIGINT)
        out, err = h.communicate(timeout=30)
    finally:
        if h.poll() is None:
            h.kill()
            h.wait()
    assert h.returncode == 130, err
    assert "interrupted" in err
    time.sleep(0.2)
    assert not running(str(marker))


def test_compare_where_there_are_no_samples_says_so_and_writes_nothing(tmp_path) -> None:
    """Run in a folder without servers/ or clients/ (and no --samples): one line saying how
    to point it at samples; no traces folder, no report, no build folder."""
    for cmd in (["compare"], ["compare", "--samples", "."]):
        r = subprocess.run([PYTHON, "-m", "harness", *cmd], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert r.returncode == 2, r.stderr
        assert r.stderr == (f"harness: no samples in . (no servers/ or clients/ folder): run "
                            f"it in the project's folder, or give --samples DIR\n")
        assert list(tmp_path.iterdir()) == []


def test_the_samples_builds_have_a_folder_of_their_own() -> None:
    """`build/` is where Python's packaging puts its own (pip wheel .): the samples' builds
    go elsewhere."""
    from harness.commands_matrix import BUILD_CACHE

    assert BUILD_CACHE == "sample-builds"
    assert "sample-builds/" in (REPO / ".gitignore").read_text().splitlines()
