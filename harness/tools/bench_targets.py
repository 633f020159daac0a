"""`harness bench`: the targets, and whether the figures of one run meet them, as one table
(target | measured | CPUs | met?). Only figures measured side by side in the same run are
compared with each other: every ratio here is of two commands timed in that run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Measured:
    """The figures of one bench run the targets speak of (None: not measured in this run)."""

    n: int  # round trips of the long run
    file_n: int  # round trips of the run whose trace file sizes are compared
    whole_jsonl: float  # `harness trace -o x.jsonl` / `strace -f -o`, wall time at N=n
    whole_yaml: float  # `harness trace -o x.yaml` / `strace -f -o`, wall time at N=n
    start_up: float  # `harness trace -o x.jsonl` / `strace --seccomp-bpf -o`, at N=1
    per_call: float  # time added per socket call in the loop, this tracer / strace
    stops_only: float  # the same for this tracer making its stops only
    file_mb: float  # the .jsonl trace file at N=file_n, in MB
    strace_file_mb: float  # strace -f -o's text file at N=file_n, in MB
    tracing_cpus: int = 1  # the tracing figures are measured pinned to one CPU
    from_events: int | None = None  # events of the trace `compare --from` read
    from_wall: float | None = None  # `harness compare --from DIR`: seconds
    from_peak_mb: float | None = None  # its peak resident memory, MB
    from_cpus: int | None = None  # the CPUs it could use
    from_missing: str = "not measured"  # shown when it was not measured: why
    matrix_wall: float | None = None  # `harness compare` of the whole matrix, warm: seconds
    matrix_cpus: int | None = None  # the CPUs it could use
    matrix_missing: str = "not run (--matrix)"


@dataclass(frozen=True, slots=True)
class Target:
    """One row: a figure meets its target when its value is at most the limit."""

    what: str
    target: str  # as printed
    limit: float
    value: float | None  # None: not measured in this run
    shown: str  # the value as printed
    cpus: int | None

    @property
    def met(self) -> str:
        if self.value is None:
            return "—"
        return "yes" if self.value <= self.limit else "no"


def targets(m: Measured) -> list[Target]:
    """The rows of the target table, from one run's figures."""
    one = m.tracing_cpus
    rows = [
        Target(f"whole `harness trace -o x.jsonl`, N={m.n} / `strace -f -o`", "<= 1.0x", 1.0,
               m.whole_jsonl, f"{m.whole_jsonl:.2f}x", one),
        Target("per socket call, loop / strace", "<= 0.9x", 0.9, m.per_call,
               f"{m.per_call:.2f}x (stops alone {m.stops_only:.2f}x)", one),
        Target("N=1 (start-up) / `strace --seccomp-bpf -o`", "<= 1.2x", 1.2, m.start_up,
               f"{m.start_up:.2f}x", one),
        Target(f"trace file (.jsonl) at N={m.file_n}", f"<= strace -f -o's ({m.strace_file_mb:.1f}"
               " MB)", m.strace_file_mb, m.file_mb,
               f"{m.file_mb:.1f} MB ({m.file_mb / m.strace_file_mb:.2f}x)"
               if m.strace_file_mb else f"{m.file_mb:.1f} MB", one),
        Target(f"`harness trace -o x.yaml`, N={m.n} / `strace -f -o`", "<= 1.5x", 1.5,
               m.whole_yaml, f"{m.whole_yaml:.2f}x", one),
    ]
    trace = f"one {m.from_events:,}-event trace" if m.from_events else "one long trace"
    rows += [
        Target(f"`harness compare --from` of {trace}: wall", "<= 2 s", 2.0, m.from_wall,
               _seconds(m.from_wall, m.from_missing), m.from_cpus),
        Target(f"`harness compare --from` of {trace}: peak", "<= 100 MB", 100.0,
               m.from_peak_mb, m.from_missing if m.from_peak_mb is None
               else f"{m.from_peak_mb:.1f} MB", m.from_cpus),
        Target("`make compare`, warm (`harness compare`, whole matrix)", "<= 7 s on 2 cores",
               7.0, m.matrix_wall, _seconds(m.matrix_wall, m.matrix_missing),
               m.matrix_cpus),
    ]
    return rows


def _seconds(value: float | None, otherwise: str) -> str:
    return otherwise if value is None else f"{value:.2f} s"


def target_table(m: Measured) -> str:
    """The target table as GitHub Markdown."""
    from tabulate import tabulate

    rows = [[t.what, t.target, t.shown, "—" if t.cpus is None else str(t.cpus), t.met]
            for t in targets(m)]
    return tabulate(rows, headers=["figure", "target", "measured", "CPUs", "met?"],
                    tablefmt="github", disable_numparse=True)
