"""`harness bench`: what tracing costs, measured side by side with strace in one run, then
the stages after tracing, and every figure against its target in one table.

**Whole commands** (what a user waits for): `harness trace -o FILE -- CLIENT` timed from
outside, interpreter start, tracer start and the trace file written included, beside `strace -f
-o FILE` (strace's default: every syscall, as text) and `strace -f --seccomp-bpf -e trace=SAME
-o FILE` (the syscalls this tracer stops at), for N = 1 and N round trips, the peak memory of
each command (ru_maxrss from wait4) for a short and a long run, and the trace files' sizes
after the long one.

**The loop alone**: an echo client (Python, the real interpreter) makes 1 and N round trips
against an untraced echo server, under seven configurations: untraced; strace -f -e
trace=%network,%desc; strace -f --seccomp-bpf with this tracer's syscall list; this tracer
with seccomp; this tracer without; this tracer with seccomp making its stops but recording no
data transfer, which splits its cost into the stops and the copying and recording of what was
sent and received; and this tracer never asking the kernel what an fd is. Every time is taken
from inside this process: from just before the client is started to just after it has been
reaped (for this tracer: spawn to the end of its event loop, events kept in memory).

For both, this process, every tracer, the client and the server are pinned to one CPU, runs
are interleaved round-robin, and each figure is the median of the runs. **The stages after
tracing** (`harness compare --from` of one long trace; with --matrix, `harness compare` of the
whole matrix) run unpinned: harness/tools/bench_stages.py. The targets: bench_targets.py.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.tools.bench_stages import command_env, harness_command, timed
from harness.tools.bench_targets import Measured, target_table

HERE = Path(__file__).parent / "benchdata"
STRACE_ALL = "strace -f -o FILE"
STRACE_SAME = "strace -f --seccomp-bpf -o FILE (same syscalls)"
JSONL = "harness trace -o FILE.jsonl"
YAML = "harness trace -o FILE.yaml"
STRACE_NET = "strace -f -e trace=%network,%desc"
OURS = "harness trace (seccomp)"
STOPS = "harness trace (seccomp), stops only"
PLAIN = "harness trace (seccomp), no kernel identity"


def _pin(cpu: int | None) -> int:
    """Pin this process (and so everything it starts) to one CPU: a stop costs several times
    more when tracer and tracee wake each other across CPUs."""
    mine = cpu if cpu is not None else sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {mine})
    return mine


def _untraced(argv: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    subprocess.run(argv, stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t, 0


def _strace(extra: list[str]) -> Callable[[list[str]], tuple[float, int]]:
    def run(argv: list[str]) -> tuple[float, int]:
        t = time.perf_counter()
        subprocess.run(["strace", "-f", "-qq", *extra, "-o", "/dev/null", *argv],
                       stdin=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t, 0
    return run


def _ours(seccomp: bool, transfers: bool = True,
          identity: bool = True) -> Callable[[list[str]], tuple[float, int]]:
    """This tracer; with `transfers` false it still stops at every call and reads its
    registers, but copies no data and records no send or receive: what the stops alone cost.
    With `identity` false it never asks the kernel what an fd it did not see made is (an fd
    unknown to it is no socket, as before sockets were known by their inodes): what asking
    costs."""
    from harness.tracer.core import Tracer

    class StopsOnly(Tracer):
        def _transfer(self, *args: object) -> None:
            return None

    class NoIdentity(Tracer):
        def _resolve(self, *args: object) -> None:
            return None

    def run(argv: list[str]) -> tuple[float, int]:
        # tables loaded before the clock starts
        tracer = (StopsOnly(seccomp=seccomp) if not transfers else
                  NoIdentity(seccomp=seccomp) if not identity else Tracer(seccomp=seccomp))
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            t = time.perf_counter()
            root = tracer.spawn(argv, stdin=devnull)
            tracer.run()
            elapsed = time.perf_counter() - t
        finally:
            tracer.kill_all()
            os.close(devnull)
        if root.exit_status != 0:
            raise RuntimeError(f"traced client failed with {root.exit_status}")
        return elapsed, sum(1 for e in root.events if e.kind == "syscall")
    return run


def whole_commands(client: list[str], names: str, runs: int, n: int, mem_n: tuple[int, int],
                   out: Path, env: dict[str, str]) -> dict[str, Any]:
    """Wall time (median of runs, interleaved) of each whole command at N=1 and N=n, peak
    memory at mem_n[0] and mem_n[1] round trips, trace file sizes at mem_n[1]."""
    harness = harness_command()
    commands: dict[str, Callable[[int], list[str]]] = {
        "untraced": lambda k: [*client, str(k)],
        STRACE_ALL: lambda k: ["strace", "-f", "-qq", "-o", str(out / "strace.txt"), *client,
                               str(k)],
        STRACE_SAME: lambda k: ["strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={names}",
                                "-o", str(out / "strace-seccomp.txt"), *client, str(k)],
        JSONL: lambda k: [*harness, "trace", "-o", str(out / "trace.jsonl"), "--", *client,
                          str(k)],
        YAML: lambda k: [*harness, "trace", "-o", str(out / "trace.yaml"), "--", *client,
                         str(k)],
    }
    files = {STRACE_ALL: "strace.txt", STRACE_SAME: "strace-seccomp.txt", JSONL: "trace.jsonl",
             YAML: "trace.yaml"}
    wall: dict[tuple[str, int], list[float]] = {}
    for i in range(runs):
        for rounds in (1, n):
            for name, argv in commands.items():
                wall.setdefault((name, rounds), []).append(timed(argv(rounds), env)[0])
        print(f"bench: whole commands, run {i + 1}/{runs} done", file=sys.stderr)
    peak: dict[tuple[str, int], int] = {}
    size: dict[str, int] = {}
    for rounds in mem_n:
        for name, argv in commands.items():
            peak[(name, rounds)] = timed(argv(rounds), env)[1]
            if name in files and rounds == mem_n[1]:
                size[name] = (out / files[name]).stat().st_size
    print(f"bench: peak memory at N = {mem_n[0]} and {mem_n[1]} measured", file=sys.stderr)
    return {"wall": {k: statistics.median(v) for k, v in wall.items()}, "peak": peak,
            "size": size, "commands": list(commands), "harness": " ".join(harness)}


def loop_alone(client: list[str], names: str, runs: int, n: int) -> dict[str, Any]:
    """Each configuration's median time at N=1 and N=n (runs interleaved), and the time it
    adds per socket call."""
    configs: dict[str, Callable[[list[str]], tuple[float, int]]] = {
        "untraced": _untraced,
        STRACE_NET: _strace(["-e", "trace=%network,%desc"]),
        "strace -f --seccomp-bpf (same syscalls)": _strace(
            ["--seccomp-bpf", "-e", f"trace={names}"]),
        OURS: _ours(True),
        "harness trace --no-seccomp": _ours(False),
        STOPS: _ours(True, transfers=False),
        PLAIN: _ours(True, identity=False),
    }
    times: dict[tuple[str, int], list[float]] = {}
    events: dict[tuple[str, int], int] = {}
    for i in range(runs):
        for rounds in (1, n):
            for name, run in configs.items():
                elapsed, count = run([*client, str(rounds)])
                times.setdefault((name, rounds), []).append(elapsed)
                events[(name, rounds)] = count
        print(f"bench: loop only, run {i + 1}/{runs} done", file=sys.stderr)
    med = {k: statistics.median(v) for k, v in times.items()}
    # the same client makes the same calls in every configuration: count them where recorded
    calls = events[(OURS, n)] - events[(OURS, 1)]
    base = med[("untraced", n)] - med[("untraced", 1)]
    per_call = {name: ((med[(name, n)] - med[(name, 1)]) - base) / calls * 1e6
                for name in configs}
    return {"med": med, "calls": calls, "per_call": per_call, "configs": list(configs)}


def import_time(bytecode_cache: bool) -> float:
    """Seconds to import the package and the tracer module, in a fresh interpreter (median of
    5). With bytecode_cache, .pyc files are written by a first import and used by the timed
    ones, as on an ordinary install; without, every import compiles the sources (as when
    PYTHONDONTWRITEBYTECODE is set)."""
    code = ("import time; t = time.perf_counter(); import harness, harness.tracer.core; "
            "print(time.perf_counter() - t)")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="harness-nocache-")
    python = os.path.realpath(sys.executable)
    root = Path(__file__).parents[2]
    if bytecode_cache:
        subprocess.run([python, "-c", "import harness.tracer.core"], env=env, check=True,
                       cwd=root)
    times = []
    for _ in range(5):
        out = subprocess.run([python, "-c", code], check=True, env=env, capture_output=True,
                             text=True, cwd=root)
        times.append(float(out.stdout))
    return statistics.median(times)


def main(runs: int = 5, n: int = 20000, cpu: int | None = None,
         mem_n: tuple[int, int] = (1000, 200000), matrix: bool = False,
         from_n: int = 50000) -> int:
    from harness.tools import bench_stages
    from harness.tracer.tables import load_syscalls

    if shutil.which("strace") is None:
        print("bench: strace is not installed (apt-get install strace)", file=sys.stderr)
        return 2
    every_cpu = os.sched_getaffinity(0)  # what the stages run on: a user's command is not pinned
    mine = _pin(cpu)
    python = os.path.realpath(sys.executable)
    env = command_env()
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        server = subprocess.Popen([python, str(HERE / "echo_server.py")],
                                  stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            port = server.stdout.readline().strip() if server.stdout else ""
            # `?`: a name this strace does not know (a syscall newer than it) is left out
            names = ",".join("?" + name for name in sorted(load_syscalls().classes))
            client = [python, str(HERE / "echo_client.py"), port]
            print(f"bench: this process, the tracers, the client and the server pinned to CPU "
                  f"{mine}; {runs} runs each, interleaved; N = 1 and {n}", file=sys.stderr)
            whole = whole_commands(client, names, runs, n, mem_n, Path(tmp), env)
            loop = loop_alone(client, names, runs, n)
            # the long trace compare --from reads: traced here, pinned, and not timed
            traces, long_run = bench_stages.long_run_folder(Path(tmp), client, int(port),
                                                            from_n, env)
        finally:
            server.kill()
            server.wait()
        from_ = bench_stages.attempt("compare --from", lambda: bench_stages.compare_from(
            traces, runs, every_cpu, env))
        matrix_ = bench_stages.attempt("the matrix", lambda: bench_stages.matrix(
            Path(tmp), runs, every_cpu, env)) if matrix else None
    _print_whole(whole, n, mem_n)
    _print_loop(loop, n)
    calls = loop["calls"]
    print(f"\nsocket calls in the loop: {calls} ({calls / max(n - 1, 1):.2f} per round trip); "
          f"median of {runs}; pinned to CPU {mine}")
    imp = import_time(bytecode_cache=True)
    imp_nocache = import_time(bytecode_cache=False)
    print(f"import harness + harness.tracer.core: {imp * 1000:.1f} ms with bytecode caches, "
          f"{imp_nocache * 1000:.1f} ms compiling the sources (median of 5, fresh interpreter)")
    med, per_call = loop["med"], loop["per_call"]
    print(f"sockets known by their inodes (unknown fds asked of the kernel once): N=1 "
          f"{(med[(OURS, 1)] / med[(PLAIN, 1)] - 1) * 100:+.1f} %, per socket call "
          f"{(per_call[OURS] / per_call[PLAIN] - 1) * 100:+.1f} % (target <= 5 %)")
    from tabulate import tabulate

    print(f"\nThe stages after tracing (whole commands, unpinned; wall time and peak memory "
          f"from wait4, median of {runs})\n")
    print(tabulate(bench_stages.stage_rows(long_run, from_, matrix_),
                   headers=["command", "what", "CPUs", "wall (s)", "peak MB"],
                   tablefmt="github", disable_numparse=True))
    print("\nTargets (every ratio of two figures of this run)\n")
    print(target_table(_measured(whole, loop, n, mem_n, long_run, from_, matrix_)))
    return 0


def _measured(whole: dict[str, Any], loop: dict[str, Any], n: int, mem_n: tuple[int, int],
              long_run: dict[str, Any], from_: dict[str, Any],
              matrix_: dict[str, Any] | None) -> Measured:
    wall, size, per_call = whole["wall"], whole["size"], loop["per_call"]
    return Measured(
        n=n, file_n=mem_n[1], whole_jsonl=wall[(JSONL, n)] / wall[(STRACE_ALL, n)],
        whole_yaml=wall[(YAML, n)] / wall[(STRACE_ALL, n)],
        start_up=wall[(JSONL, 1)] / wall[(STRACE_SAME, 1)],
        per_call=per_call[OURS] / per_call[STRACE_NET],
        stops_only=per_call[STOPS] / per_call[STRACE_NET],
        file_mb=size[JSONL] / 1e6, strace_file_mb=size[STRACE_ALL] / 1e6,
        from_events=long_run["events"], from_wall=from_.get("wall"),
        from_peak_mb=from_.get("peak_mb"), from_cpus=from_.get("cpus"),
        from_missing="failed (stderr)" if "failed" in from_ else "not measured",
        matrix_wall=None if matrix_ is None else matrix_.get("wall", {}).get("harness compare"),
        matrix_cpus=None if matrix_ is None else matrix_.get("cpus"),
        matrix_missing="failed (stderr)" if matrix_ is not None else "not run (--matrix)")


def _print_whole(whole: dict[str, Any], n: int, mem_n: tuple[int, int]) -> None:
    from tabulate import tabulate

    wall, peak, size = whole["wall"], whole["peak"], whole["size"]
    print(f"Whole commands ({whole['harness']} trace ...; interpreter start, tracer start and "
          "the trace file written included; pinned to 1 CPU)\n")
    rows = []
    for name in whole["commands"]:
        rows.append([name, f"{wall[(name, 1)]:.3f}",
                     f"{wall[(name, 1)] / wall[(STRACE_SAME, 1)]:.2f}",
                     f"{wall[(name, n)]:.3f}", f"{wall[(name, n)] / wall[(STRACE_ALL, n)]:.2f}",
                     f"{peak[(name, mem_n[0])] / 1024:.1f}",
                     f"{peak[(name, mem_n[1])] / 1024:.1f}",
                     f"{peak[(name, mem_n[1])] / peak[(name, mem_n[0])]:.2f}",
                     f"{size[name] / 1e6:.1f}" if name in size else "—"])
    print(tabulate(rows, headers=["command", "N=1 (s)", "N=1 / strace-seccomp", f"N={n} (s)",
                                  f"N={n} / strace -f", f"peak MB N={mem_n[0]}",
                                  f"peak MB N={mem_n[1]}", "peak ratio",
                                  f"file MB N={mem_n[1]}"], tablefmt="github"))


def _print_loop(loop: dict[str, Any], n: int) -> None:
    from tabulate import tabulate

    med, per_call = loop["med"], loop["per_call"]
    ref_one = med[("strace -f --seccomp-bpf (same syscalls)", 1)]
    ref_call = per_call[STRACE_NET]
    rows = []
    for name in loop["configs"]:
        rows.append([name, f"{med[(name, 1)]:.3f}", f"{med[(name, 1)] / ref_one:.2f}",
                     f"{med[(name, n)]:.3f}",
                     "—" if name == "untraced" else f"{per_call[name]:+.1f}",
                     "—" if name == "untraced" else f"{per_call[name] / ref_call:.2f}"])
    print("\nThe loop alone (timed in this process: spawn to the end of the event loop, "
          "events kept in memory, no file; pinned to 1 CPU)\n")
    print(tabulate(rows, headers=["configuration", "N=1 (s)", "N=1 / strace-seccomp",
                                  f"N={n} (s)", "µs added per socket call",
                                  "per call / strace"], tablefmt="github"))


if __name__ == "__main__":
    sys.exit(main())
