"""`harness bench`: what tracing costs, measured side by side with strace in one run.

An echo client (Python, the real interpreter) makes 1 and N round trips against an untraced
echo server, under six configurations: untraced; strace -f -e trace=%network,%desc; strace -f
--seccomp-bpf with this tracer's syscall list; this tracer with seccomp; this tracer without;
and this tracer with seccomp making its stops but recording no data transfer, which splits its
cost into the stops and the copying and recording of what was sent and received.
This process, every tracer, the client and the server are pinned to one CPU, runs are
interleaved round-robin, and each figure is the median of the runs. Every time is
taken from inside this process: from just before the client is started to just after it has been
reaped (for this tracer: spawn to the end of its event loop, events kept in memory).
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

HERE = Path(__file__).parent / "benchdata"


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


def _ours(seccomp: bool, transfers: bool = True) -> Callable[[list[str]], tuple[float, int]]:
    """This tracer; with `transfers` false it still stops at every call and reads its
    registers, but copies no data and records no send or receive: what the stops alone cost."""
    from harness.tracer.core import Tracer

    class StopsOnly(Tracer):
        def _transfer(self, *args: object) -> None:
            return None

    def run(argv: list[str]) -> tuple[float, int]:
        # tables loaded before the clock starts
        tracer = Tracer(seccomp=seccomp) if transfers else StopsOnly(seccomp=seccomp)
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
    root = Path(__file__).parent.parent
    if bytecode_cache:
        subprocess.run([python, "-c", "import harness.tracer.core"], env=env, check=True,
                       cwd=root)
    times = []
    for _ in range(5):
        out = subprocess.run([python, "-c", code], check=True, env=env, capture_output=True,
                             text=True, cwd=root)
        times.append(float(out.stdout))
    return statistics.median(times)


def main(runs: int = 5, n: int = 20000, cpu: int | None = None) -> int:
    from tabulate import tabulate

    from harness.tracer.tables import load_syscalls

    if shutil.which("strace") is None:
        print("bench: strace is not installed (apt-get install strace)", file=sys.stderr)
        return 2
    mine = _pin(cpu)
    python = os.path.realpath(sys.executable)
    server = subprocess.Popen([python, str(HERE / "echo_server.py")], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, text=True)
    try:
        port = server.stdout.readline().strip() if server.stdout else ""
        # `?`: a name this strace does not know (a syscall newer than it) is left out
        names = ",".join("?" + name for name in sorted(load_syscalls().classes))
        configs: dict[str, Callable[[list[str]], tuple[float, int]]] = {
            "untraced": _untraced,
            "strace -f -e trace=%network,%desc": _strace(["-e", "trace=%network,%desc"]),
            "strace -f --seccomp-bpf (same syscalls)": _strace(
                ["--seccomp-bpf", "-e", f"trace={names}"]),
            "harness trace (seccomp)": _ours(True),
            "harness trace --no-seccomp": _ours(False),
            "harness trace (seccomp), stops only": _ours(True, transfers=False),
        }
        client = [python, str(HERE / "echo_client.py"), port]
        times: dict[tuple[str, int], list[float]] = {}
        events: dict[tuple[str, int], int] = {}
        print(f"bench: this process, the tracers, the client and the server pinned to CPU {mine}; "
              f"{runs} runs each, interleaved; N = 1 and {n}", file=sys.stderr)
        for i in range(runs):
            for rounds in (1, n):
                for name, run in configs.items():
                    elapsed, count = run([*client, str(rounds)])
                    times.setdefault((name, rounds), []).append(elapsed)
                    events[(name, rounds)] = count
            print(f"bench: run {i + 1}/{runs} done", file=sys.stderr)
    finally:
        server.kill()
        server.wait()

    med = {k: statistics.median(v) for k, v in times.items()}
    # the same client makes the same calls in every configuration: count them where recorded
    calls = events[("harness trace (seccomp)", n)] - events[("harness trace (seccomp)", 1)]
    base = med[("untraced", n)] - med[("untraced", 1)]
    per_call = {name: ((med[(name, n)] - med[(name, 1)]) - base) / calls * 1e6
                for name in configs}
    ref_one = med[("strace -f --seccomp-bpf (same syscalls)", 1)]
    ref_call = per_call["strace -f -e trace=%network,%desc"]
    rows = []
    for name in configs:
        rows.append([name, f"{med[(name, 1)]:.3f}", f"{med[(name, 1)] / ref_one:.2f}",
                     f"{med[(name, n)]:.3f}",
                     "—" if name == "untraced" else f"{per_call[name]:+.1f}",
                     "—" if name == "untraced" else f"{per_call[name] / ref_call:.2f}"])
    print(tabulate(rows, headers=["configuration", "N=1 (s)", "N=1 / strace-seccomp",
                                  f"N={n} (s)", "µs added per socket call",
                                  "per call / strace"], tablefmt="github"))
    imp = import_time(bytecode_cache=True)
    imp_nocache = import_time(bytecode_cache=False)
    print(f"\nsocket calls in the loop: {calls} ({calls / max(n - 1, 1):.2f} per round trip); "
          f"median of {runs}; pinned to CPU {mine}")
    print(f"import harness + harness.tracer.core: {imp * 1000:.1f} ms with bytecode caches, "
          f"{imp_nocache * 1000:.1f} ms compiling the sources (median of 5, fresh interpreter)")
    ours = per_call["harness trace (seccomp)"]
    print(f"targets: per call {ours / ref_call:.2f}x strace (<= 1.0), "
          f"N=1 {med[('harness trace (seccomp)', 1)] / ref_one:.2f}x strace --seccomp-bpf "
          f"(<= 1.2), import {imp * 1000:.1f} ms (< 30)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
