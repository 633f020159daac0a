"""`harness bench`: how a whole command is timed, and the stages after tracing timed as whole
commands.

A whole command is timed from outside: from just before it is started to its reaping, its
peak memory from wait4's rusage (the largest of the command and the children it waited for:
of processes running side by side, the largest one, not their sum).

**`harness compare --from DIR` of one long trace**: a traces folder is made holding one run
(`tcp/bench-echo--bench-echo`) whose client trace is the bench echo client's, written by
`harness trace -o` for ROUND_TRIPS round trips (two socket calls each) against the bench echo
server, which is not traced (the run has no server trace). The tracing is done once, before
any timing; only `harness compare --from DIR --reference bench-echo` is timed (it normalizes
the trace and writes steps.json, report.md and analysis.json into DIR, as it does for a user).
Each timed command normalizes: the steps.json the command before wrote is deleted before it.
Beside, the same command timed as a user's second one runs it, reading that steps.json.

**`harness compare` of the whole matrix, warm** (opt-in): the repository's samples, built
once by a first run that is not timed, into a temporary traces folder; with `--jobs 1` beside
the default when `harness compare --help` lists `--jobs`.

Both run on every CPU this process could use before it pinned itself: these are the figures
of a user's command, not of a tracer's stops.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]  # the project: its samples, and the builds under it
SAMPLE = "bench-echo"  # the name the long run's sides go by
SCENARIO = "tcp"


def harness_command() -> list[str]:
    """How a user starts the harness: its installed script beside the interpreter, else
    `python -m harness`."""
    script = Path(sys.executable).parent / "harness"
    if script.exists():
        return [str(script)]
    return [os.path.realpath(sys.executable), "-m", "harness"]


def command_env() -> dict[str, str]:
    """What an installed harness runs with: bytecode caches, written once here."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([os.path.realpath(sys.executable), "-m", "compileall", "-q",
                    str(Path(__file__).parents[1])], check=True, env=env)
    return env


def timed(argv: list[str], env: dict[str, str] | None = None,
          cpus: Collection[int] | None = None, statuses: Iterable[int] = (0,),
          cwd: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak resident KiB) of one command, from just before it starts to its
    reaping; the peak is the largest of the command and the children it waited for. With
    cpus, the command runs on those CPUs (whatever this process is pinned to). An exit status
    not in statuses is an error."""
    preexec = None if cpus is None else partial(os.sched_setaffinity, 0, set(cpus))
    with tempfile.TemporaryFile() as err:  # what it says, shown only when it fails
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=env, preexec_fn=preexec, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in statuses:
            err.seek(0)
            said = err.read()[-2000:].decode(errors="replace")
            raise RuntimeError(f"{' '.join(argv[:6])} ... failed with {proc.returncode}:\n"
                               f"{said}")
    return elapsed, usage.ru_maxrss


def long_run_folder(root: Path, client: list[str], port: int, round_trips: int,
                    env: dict[str, str]) -> tuple[Path, dict[str, Any]]:
    """A traces folder under root holding one run whose client trace is the echo client's
    (client: its command without the round trips) for round_trips round trips; (the folder,
    what its trace holds)."""
    from harness.formats.model import MatrixIndex, RunRecord
    from harness.formats.store import TRACE_FILES, TracesFolder

    store = TracesFolder(root / "traces-from")
    folder = f"{SCENARIO}/{SAMPLE}--{SAMPLE}"
    run_dir = store.prepare_run(folder)
    trace = run_dir / TRACE_FILES["client"]
    timed([*harness_command(), "trace", "-o", str(trace), "--", *client, str(round_trips)], env)
    store.write_run(folder, RunRecord(
        scenario=SCENARIO, server=SAMPLE, client=SAMPLE, host="127.0.0.1", port=port,
        message="0123456789abcdef", outcome="ok", client_exit=0, server_trace=None,
        client_trace=trace.name, expect="any"))
    store.write_index(MatrixIndex(reference=SAMPLE, scenarios=[SCENARIO], runs=[folder]))
    # counted by the harness's own reader, in an interpreter of its own
    count = subprocess.run([sys.executable, "-c",
                            "import sys; from harness.formats.tracefile import load; "
                            "print(len(load(sys.argv[1]).events))", str(trace)],
                           capture_output=True, text=True, env=env, cwd=ROOT)
    if count.returncode != 0:
        print(f"bench: the long trace's events could not be counted:\n{count.stderr[-2000:]}",
              file=sys.stderr)
    return store.root, {"events": int(count.stdout) if count.returncode == 0 else None,
                        "round_trips": round_trips, "file_mb": trace.stat().st_size / 1e6}


def attempt(what: str, stage: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A stage's figures; when one of its commands fails, {"failed": the last line it said}
    (all it said is on stderr): the run's other figures are printed all the same."""
    try:
        return stage()
    except RuntimeError as e:
        print(f"bench: {what} failed: {e}", file=sys.stderr)
        return {"failed": (str(e).strip().splitlines() or ["?"])[-1]}


def compare_from(traces: Path, runs: int, cpus: Collection[int],
                 env: dict[str, str]) -> dict[str, Any]:
    """`harness compare --from traces`: median wall seconds and peak MB of runs runs, each
    normalizing the trace (the run's steps.json, which the run before wrote, is deleted
    first, untimed); and, beside, of runs runs that find steps.json standing for the run and
    read it instead ("warm_wall", "warm_peak_mb")."""
    argv = [*harness_command(), "compare", "--from", str(traces), "--reference", SAMPLE]
    figures: dict[str, Any] = {"cpus": len(cpus)}
    for warm in (False, True):
        wall, peak = [], []
        for i in range(runs):
            if not warm:
                for made in traces.glob("*/*/steps.json"):
                    made.unlink()
            # its exit status says how the samples compare (1: the server has no trace)
            elapsed, kib = timed(argv, env, cpus, statuses=(0, 1))
            wall.append(elapsed)
            peak.append(kib / 1024)
            print(f"bench: compare --from{' (steps.json read)' if warm else ''}, run "
                  f"{i + 1}/{runs} done", file=sys.stderr)
        prefix = "warm_" if warm else ""
        figures[prefix + "wall"] = statistics.median(wall)
        figures[prefix + "peak_mb"] = statistics.median(peak)
    return figures


def has_jobs() -> bool:
    """Whether this harness's compare runs pairs in parallel (`--jobs N`)."""
    out = subprocess.run([*harness_command(), "compare", "--help"], capture_output=True,
                         text=True, check=True, stdin=subprocess.DEVNULL)
    return "--jobs" in out.stdout


def matrix(root: Path, runs: int, cpus: Collection[int],
           env: dict[str, str]) -> dict[str, Any]:
    """`harness compare` of the whole matrix into a traces folder under root, warm: a first
    run, not timed, builds what is not built yet; then runs runs of each configuration,
    interleaved (the default, and `--jobs 1` when there is a --jobs). Median wall seconds
    and peak MB of each."""
    from harness.formats.store import TracesFolder

    traces = root / "traces-matrix"
    base = [*harness_command(), "compare", "--traces", str(traces), "--exit-with-parent"]
    configs = {"harness compare": base}
    if has_jobs():
        configs["harness compare --jobs 1"] = [*base, "--jobs", "1"]
    # 1: a sample differs from the reference, or its run failed: still a whole matrix
    timed(base, env, cpus, statuses=(0, 1), cwd=ROOT)
    print("bench: matrix warmed (a first run, not timed)", file=sys.stderr)
    wall: dict[str, list[float]] = {}
    peak: dict[str, list[float]] = {}
    for i in range(runs):
        for name, argv in configs.items():
            elapsed, kib = timed(argv, env, cpus, statuses=(0, 1), cwd=ROOT)
            wall.setdefault(name, []).append(elapsed)
            peak.setdefault(name, []).append(kib / 1024)
        print(f"bench: matrix, run {i + 1}/{runs} done", file=sys.stderr)
    return {"wall": {k: statistics.median(v) for k, v in wall.items()},
            "peak_mb": {k: statistics.median(v) for k, v in peak.items()},
            "cpus": len(cpus), "pairs": len(TracesFolder(traces).read_index().runs)}


def stage_rows(long_run: dict[str, Any], from_: dict[str, Any] | None,
               matrix_: dict[str, Any] | None) -> list[list[str]]:
    """The rows of the stages' table: command, what it reads or runs, CPUs, wall, peak."""
    events = "?" if long_run["events"] is None else f"{long_run['events']:,}"
    rows = []
    if from_ is not None:
        rows.append([f"harness compare --from DIR --reference {SAMPLE}",
                     f"1 run: a client trace of {events} events ({long_run['round_trips']:,} "
                     f"round trips, {long_run['file_mb']:.1f} MB), no server trace",
                     *_figures(from_, from_.get("wall"), from_.get("peak_mb"))])
        if "warm_wall" in from_:
            rows.append([f"the same again, its steps.json read", "the same run, normalized "
                         "by the command before", *_figures(from_, from_["warm_wall"],
                                                           from_["warm_peak_mb"])])
    if matrix_ is not None and "failed" in matrix_:
        rows.append(["harness compare --traces DIR", "the whole matrix, warm builds",
                     *_figures(matrix_, None, None)])
    elif matrix_ is not None:
        for name, wall in matrix_["wall"].items():
            rows.append([f"{name} --traces DIR", f"the whole matrix ({matrix_['pairs']} runs), "
                         "warm builds", *_figures(matrix_, wall, matrix_["peak_mb"][name])])
    return rows


def _figures(stage: dict[str, Any], wall: float | None, peak: float | None) -> list[str]:
    """CPUs, wall and peak cells; a stage that failed says so in the wall cell."""
    if "failed" in stage:
        return ["—", f"failed: {stage['failed'][:60]}", "—"]
    return [str(stage["cpus"]), f"{wall:.2f}", f"{peak:.1f}"]
