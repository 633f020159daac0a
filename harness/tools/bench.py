"""`harness bench`: what tracing costs, measured side by side with strace in one run.

Two parts. **Whole commands** (what a user waits for): `harness trace -o FILE -- CLIENT` timed
from outside, interpreter start, tracer start and the trace file written included, beside
`strace -f -o FILE` (strace's default: every syscall, as text) and `strace -f --seccomp-bpf
-e trace=SAME -o FILE` (the syscalls this tracer stops at), for N = 1 and N round trips, and
the peak memory of each command (ru_maxrss from wait4) for a short and a long run.

**The loop alone**: an echo client (Python, the real interpreter) makes 1 and N round trips against an untraced
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
from typing import Any

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


def _timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """(wall seconds, peak resident KiB) of one command, from just before it starts to its
    reaping; the peak is the largest of the command and the children it waited for."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:6])} ... failed with {proc.returncode}")
    return elapsed, usage.ru_maxrss


def harness_command() -> list[str]:
    """How a user starts the harness: its installed script beside the interpreter, else
    `python -m harness`."""
    script = Path(sys.executable).parent / "harness"
    if script.exists():
        return [str(script)]
    return [os.path.realpath(sys.executable), "-m", "harness"]


def whole_commands(client: list[str], names: str, runs: int, n: int, mem_n: tuple[int, int],
                   out: Path) -> dict[str, Any]:
    """Wall time (median of runs, interleaved) of each whole command at N=1 and N=n, peak
    memory at mem_n[0] and mem_n[1] round trips, trace file sizes."""
    # what an installed harness runs with: bytecode caches, written here once
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([os.path.realpath(sys.executable), "-m", "compileall", "-q",
                    str(Path(__file__).parents[1])], check=True, env=env)
    harness = harness_command()
    commands: dict[str, Callable[[int], list[str]]] = {
        "untraced": lambda k: [*client, str(k)],
        "strace -f -o FILE": lambda k: ["strace", "-f", "-qq", "-o", str(out / "strace.txt"),
                                        *client, str(k)],
        "strace -f --seccomp-bpf -o FILE (same syscalls)": lambda k: [
            "strace", "-f", "-qq", "--seccomp-bpf", "-e", f"trace={names}", "-o",
            str(out / "strace-seccomp.txt"), *client, str(k)],
        "harness trace -o FILE.jsonl": lambda k: [*harness, "trace", "-o",
                                                  str(out / "trace.jsonl"), "--", *client,
                                                  str(k)],
        "harness trace -o FILE.yaml": lambda k: [*harness, "trace", "-o",
                                                 str(out / "trace.yaml"), "--", *client,
                                                 str(k)],
    }
    files = {"strace -f -o FILE": "strace.txt",
             "strace -f --seccomp-bpf -o FILE (same syscalls)": "strace-seccomp.txt",
             "harness trace -o FILE.jsonl": "trace.jsonl",
             "harness trace -o FILE.yaml": "trace.yaml"}
    wall: dict[tuple[str, int], list[float]] = {}
    for i in range(runs):
        for rounds in (1, n):
            for name, argv in commands.items():
                wall.setdefault((name, rounds), []).append(_timed(argv(rounds), env)[0])
        print(f"bench: whole commands, run {i + 1}/{runs} done", file=sys.stderr)
    peak: dict[tuple[str, int], int] = {}
    size: dict[str, int] = {}
    for rounds in mem_n:
        for name, argv in commands.items():
            peak[(name, rounds)] = _timed(argv(rounds), env)[1]
            if name in files and rounds == mem_n[1]:
                size[name] = (out / files[name]).stat().st_size
    print(f"bench: peak memory at N = {mem_n[0]} and {mem_n[1]} measured", file=sys.stderr)
    return {"wall": {k: statistics.median(v) for k, v in wall.items()}, "peak": peak,
            "size": size, "commands": list(commands), "harness": " ".join(harness)}


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
         mem_n: tuple[int, int] = (1000, 200000)) -> int:
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
            "harness trace (seccomp), no kernel identity": _ours(True, identity=False),
        }
        client = [python, str(HERE / "echo_client.py"), port]
        print(f"bench: this process, the tracers, the client and the server pinned to CPU {mine}; "
              f"{runs} runs each, interleaved; N = 1 and {n}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
            whole = whole_commands(client, names, runs, n, mem_n, Path(tmp))
        times: dict[tuple[str, int], list[float]] = {}
        events: dict[tuple[str, int], int] = {}
        for i in range(runs):
            for rounds in (1, n):
                for name, run in configs.items():
                    elapsed, count = run([*client, str(rounds)])
                    times.setdefault((name, rounds), []).append(elapsed)
                    events[(name, rounds)] = count
            print(f"bench: loop only, run {i + 1}/{runs} done", file=sys.stderr)
    finally:
        server.kill()
        server.wait()

    wall, peak, size = whole["wall"], whole["peak"], whole["size"]
    print(f"Whole commands ({whole['harness']} trace ...; interpreter start, tracer start and "
          "the trace file written included)\n")
    strace_all, strace_same = "strace -f -o FILE", \
        "strace -f --seccomp-bpf -o FILE (same syscalls)"
    rows = []
    for name in whole["commands"]:
        rows.append([name, f"{wall[(name, 1)]:.3f}", f"{wall[(name, 1)] / wall[(strace_same, 1)]:.2f}",
                     f"{wall[(name, n)]:.3f}", f"{wall[(name, n)] / wall[(strace_all, n)]:.2f}",
                     f"{peak[(name, mem_n[0])] / 1024:.1f}", f"{peak[(name, mem_n[1])] / 1024:.1f}",
                     f"{peak[(name, mem_n[1])] / peak[(name, mem_n[0])]:.2f}",
                     f"{size[name] / 1e6:.1f}" if name in size else "—"])
    print(tabulate(rows, headers=["command", "N=1 (s)", "N=1 / strace-seccomp", f"N={n} (s)",
                                  f"N={n} / strace -f", f"peak MB N={mem_n[0]}",
                                  f"peak MB N={mem_n[1]}", "peak ratio",
                                  f"file MB N={mem_n[1]}"], tablefmt="github"))

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
    print("\nThe loop alone (timed in this process: spawn to the end of the event loop, "
          "events kept in memory, no file)\n")
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
    plain = "harness trace (seccomp), no kernel identity"
    print(f"sockets known by their inodes (unknown fds asked of the kernel once): N=1 "
          f"{(med[('harness trace (seccomp)', 1)] / med[(plain, 1)] - 1) * 100:+.1f} %, "
          f"per socket call {(ours / per_call[plain] - 1) * 100:+.1f} % (target <= 5 %)")
    jsonl = "harness trace -o FILE.jsonl"
    print(f"targets: whole command N={n} {wall[(jsonl, n)] / wall[(strace_all, n)]:.2f}x "
          f"strace -f -o FILE (<= 1.5, goal 1.0); N=1 "
          f"{wall[(jsonl, 1)] / wall[(strace_same, 1)]:.2f}x strace --seccomp-bpf -o FILE "
          f"(<= 1.5); peak memory N={mem_n[1]} "
          f"{peak[(jsonl, mem_n[1])] / peak[(jsonl, mem_n[0])]:.2f}x N={mem_n[0]} (<= 1.5); "
          f"loop per call {ours / ref_call:.2f}x strace (was 1.54)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
