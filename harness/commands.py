"""Subcommands beyond `trace`: compare, verify, bench.

Exit status of compare and verify: 0 when every sample that ran matches the reference, 1 when
one differs or its run failed, 2 on a harness error (a broken manifest, rule or trace file).
"""

from __future__ import annotations

import argparse
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

from harness import DEFAULT_REFERENCE as REFERENCE

STDERR_TAIL = 10  # lines of a failed build's output printed


def _width(asked: int | None) -> int | None:
    if asked is not None:
        return asked or None
    import shutil

    return shutil.get_terminal_size((160, 24)).columns


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenario", action="append", metavar="NAME",
                   help="run only this scenario (repeatable; default: all)")
    p.add_argument("--reference", default=REFERENCE,
                   help=f"sample the others are compared with (default {REFERENCE})")
    p.add_argument("--traces", default="traces", metavar="DIR",
                   help="where traces and report.md are written (default traces/)")
    p.add_argument("--samples", action="append", metavar="DIR",
                   help="a folder holding servers/ and clients/ (repeatable; default: .)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds each server and client may run (default 10)")
    p.add_argument("--message", default=None, help="what the clients send")
    p.add_argument("--no-seccomp", action="store_true", help="trace without seccomp filter")
    p.add_argument("--format", choices=("terminal", "markdown", "json"), default="terminal",
                   help="what is printed (report.md is always Markdown)")
    p.add_argument("--level", choices=("raw", "socket", "canonical"), default="canonical",
                   help="normalization level of the tables (default canonical)")
    p.add_argument("--width", type=int, default=None, metavar="N",
                   help="fit terminal tables to N columns, cutting wide ones into pieces "
                   "(default: the terminal's width, 160 when not a terminal; 0: no limit)")


def add_subcommands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    c = sub.add_parser("compare", help="run the samples and compare their socket syscalls",
                       description="Run every sample pair under the tracer, normalize, "
                       "compare with the reference, print tables and write traces/report.md.")
    _common(c)
    c.add_argument("--cross", action="store_true", help="every client against every server")
    c.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="re-normalize and re-render traces already on disk; run nothing")
    c.set_defaults(func=cmd_compare)

    v = sub.add_parser("verify", help="run one sample against the reference and explain",
                       description="Run one sample (its server and client) and the reference "
                       "pair, then explain every difference.")
    v.add_argument("sample", help="sample name (a folder under servers/ or clients/)")
    _common(v)
    v.set_defaults(func=cmd_verify)

    b = sub.add_parser("bench", help="tracing cost against strace (a benchmark)")
    b.add_argument("--runs", type=int, default=5, help="runs per configuration (default 5)")
    b.add_argument("--n", type=int, default=20000, help="round trips of the long run")
    b.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first "
                   "allowed)")
    b.add_argument("--mem-n", type=int, nargs=2, default=(1000, 200000), metavar=("SHORT", "LONG"),
                   help="round trips of the two runs whose peak memory is compared "
                   "(default 1000 200000)")
    b.set_defaults(func=cmd_bench)


def _run_matrix(args: argparse.Namespace, only: str | None) -> int:
    from pathlib import Path

    from harness.matrix import plan, run_all
    from harness.runner import DEFAULT_MESSAGE, RunOptions
    from harness.samples import ManifestError

    traces = Path(args.traces)
    roots = [Path(d) for d in (args.samples or ["."])]
    try:
        p = plan(roots, scenarios=args.scenario, reference=args.reference, cross=getattr(
            args, "cross", False), only=only, build_cache=Path("build"), log=print)
    except ManifestError as e:
        print(f"harness: {e}", file=sys.stderr)
        return 2
    except LookupError as e:
        print(f"harness: {e.args[0]}", file=sys.stderr)
        return 2
    if only is not None and not p.pairs:
        failed = [f for f in p.failed if f.name == only]
        for f in failed:  # its toolchain is here: a failure, with the build's last lines
            print(f"harness: {f.role} {only} failed: {f.reason}", file=sys.stderr)
            for line in f.output.splitlines()[-STDERR_TAIL:]:
                print(f"  {line}", file=sys.stderr)
        if failed:
            return 1
        why = [s for s in p.skipped if s.name == only]
        if why:
            s = why[0]
            print(f"harness: {only} is skipped: {s.reason}"
                  + (f" (install: {s.hint})" if s.hint else ""), file=sys.stderr)
            return 0
    options = RunOptions(timeout=args.timeout, message=args.message or DEFAULT_MESSAGE,
                         seccomp=not args.no_seccomp)
    from harness.cli import Terminated, install_stop_handlers

    install_stop_handlers()
    try:
        run_all(p, traces, options, args.reference)
    except (KeyboardInterrupt, Terminated):
        print("harness: interrupted; the runs that finished are in "
              f"{traces}/ (compare --from {traces})", file=sys.stderr)
        return 130
    return -1


def _report(traces: Path, args: argparse.Namespace, explain_sample: str | None) -> int:
    from harness import report as report_mod
    from harness.render import render

    try:
        rep = report_mod.build_report(traces, reference=args.reference, level=args.level)
    except Exception as e:  # a broken rules or trace file: named in the message
        print(f"harness: {e}", file=sys.stderr)
        return 2
    print(render(rep, args.format, _width(args.width)))
    from harness.tracefile import write_atomic

    write_atomic(traces / "report.md", render(rep, "markdown"))
    if explain_sample is not None:
        print(report_mod.explain(rep, explain_sample))
    print(f"report: {traces / 'report.md'}", file=sys.stderr)
    return report_mod.exit_code(rep)


def cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.from_dir:
        return _report(Path(args.from_dir), args, None)
    status = _run_matrix(args, None)
    if status >= 0:
        return status
    return _report(Path(args.traces), args, None)


def cmd_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    if args.traces == "traces":  # keep the full matrix's traces and index as they are
        args.traces = f"traces/verify/{args.sample}"
    status = _run_matrix(args, args.sample)
    if status >= 0:
        return status
    return _report(Path(args.traces), args, args.sample)


def cmd_bench(args: argparse.Namespace) -> int:
    from harness import bench

    return bench.main(runs=args.runs, n=args.n, cpu=args.cpu, mem_n=tuple(args.mem_n))
