"""Command line: `harness {trace,compare,verify,bench} ...` (or `python -m harness`).

This module only builds the arguments and dispatches to harness/commands.py. A HarnessError
(harness/errors.py) is caught here, once: its one-line message and its exit status.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness import DEFAULT_REFERENCE as REFERENCE
from harness.errors import HarnessError


def _trace_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("-o", "--output", help="write a trace file (else print events on stderr)")
    t.add_argument("--format", choices=("jsonl", "json", "yaml"), help="trace file format: "
                   "jsonl (JSON Lines, written as events come; json is the same), or yaml "
                   "(one document for reading, made at the end); default: yaml for a .yaml "
                   "or .yml name, else jsonl")
    t.add_argument("--no-seccomp", action="store_true",
                   help="stop at every syscall instead of installing a seccomp filter")
    t.add_argument("--data", type=int, default=64, metavar="N",
                   help="bytes of each data buffer to record (default 64)")
    t.add_argument("command", nargs=argparse.REMAINDER, help="-- PROG [ARGS...]")


def _matrix_arguments(p: argparse.ArgumentParser) -> None:
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
    p.add_argument("--no-wire", action="store_true",
                   help="do not capture the runs' packets (the wire view)")
    p.add_argument("--wire", action="store_true",
                   help="print each run's timeline: the calls of both sides and the packets "
                   "between them, on one clock")
    p.add_argument("--format", choices=("terminal", "markdown", "json"), default="terminal",
                   help="what is printed (report.md is always Markdown)")
    p.add_argument("--full", action="store_true",
                   help="terminal: print every table, attribute and list of differences (the "
                   "default is the verdict grid and one line per difference)")
    p.add_argument("--level", choices=("raw", "socket", "canonical"), default="canonical",
                   help="normalization level of the tables (default canonical)")
    p.add_argument("--width", type=int, default=None, metavar="N",
                   help="fit terminal tables to N columns, cutting wide ones into pieces "
                   "(default: the terminal's width, 160 when not a terminal; 0: no limit)")
    p.add_argument("--exit-with-parent", action="store_true",
                   help="stop (as on SIGTERM) when the parent process ends: make passes "
                   "this, so that a make stopped by a signal it does not pass on stops "
                   "the harness too")
    p.add_argument("--status-line", action="store_true",
                   help="end with a line `harness CMD: exit status N` on stdout (make "
                   "reports any failing command as its own status 2)")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; `only="trace"` builds just that subcommand (its start is what a
    traced command waits for: the others' arguments cost milliseconds to set up)."""
    p = argparse.ArgumentParser(prog="harness", description=(
        "Trace the socket syscalls of equivalent programs and compare them."))
    sub = p.add_subparsers(dest="cmd", required=True)
    _trace_arguments(sub.add_parser("trace", help="run a command under the tracer",
                                    description="Run PROG under the socket-syscall tracer."))
    if only == "trace":
        return p
    c = sub.add_parser("compare", help="run the samples and compare their socket syscalls",
                       description="Run every sample pair under the tracer, normalize, "
                       "compare with the reference, print tables and write traces/report.md.")
    _matrix_arguments(c)
    c.add_argument("--cross", action="store_true", help="every client against every server")
    c.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="re-normalize and re-render traces already on disk; run nothing")
    v = sub.add_parser("verify", help="run one sample against the reference and explain",
                       description="Run one sample (its server and client) and the reference "
                       "pair, then explain every difference.")
    v.add_argument("sample", help="sample name (a folder under servers/ or clients/)")
    _matrix_arguments(v)
    n = sub.add_parser("new", help="make a new sample's folders from a template",
                       description="Write servers/NAME and clients/NAME: a manifest and a "
                       "program skeleton per scenario, to fill in; then `make verify "
                       "SAMPLE=NAME`.")
    n.add_argument("name", nargs="?", help="the sample's name (its folders' name)")
    n.add_argument("--language", "-l", help="a language with a template (--list), or any "
                   "other for a manifest alone")
    n.add_argument("--scenario", action="append", metavar="NAME",
                   help="only this scenario's programs (repeatable; default: every scenario)")
    n.add_argument("--role", choices=("server", "client", "both"), default="both")
    n.add_argument("--samples", default=".", metavar="DIR",
                   help="the folder holding servers/ and clients/ (default .)")
    n.add_argument("--list", action="store_true", help="list the languages with a template")
    b = sub.add_parser("bench", help="tracing cost against strace (a benchmark)")
    b.add_argument("--runs", type=int, default=5, help="runs per configuration (default 5)")
    b.add_argument("--n", type=int, default=20000, help="round trips of the long run")
    b.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first "
                   "allowed)")
    b.add_argument("--mem-n", type=int, nargs=2, default=(1000, 200000),
                   metavar=("SHORT", "LONG"), help="round trips of the two runs whose peak "
                   "memory is compared (default 1000 200000)")
    return p


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    args = build_parser("trace" if given[:1] == ["trace"] else None).parse_args(argv)
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    from harness import commands

    try:
        code = int(getattr(commands, f"cmd_{args.cmd}")(args))
    except HarnessError as e:
        print(f"harness{' trace' if args.cmd == 'trace' else ''}: {e}", file=sys.stderr)
        code = e.exit_status
    if getattr(args, "status_line", False):
        print(f"harness {args.cmd}: exit status {code}", flush=True)
    return code


def run() -> None:
    """The `harness` command (pyproject's script). After `trace`, whose files are closed by
    then, the interpreter's own clean-up of every module is skipped (a few milliseconds of a
    command whose start and end a traced program waits for)."""
    code = main()
    if sys.argv[1:2] == ["trace"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
