"""Command line: `python -m harness {trace,compare,verify,bench} ...`."""

from __future__ import annotations

import argparse
import os
import signal
import sys


class Terminated(Exception):
    """SIGTERM (or SIGHUP) reached the harness: stop like on Ctrl-C."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def install_stop_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)


def check_writable(path: str) -> str | None:
    """Why a trace file could not be written at path (None when it can)."""
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        return f"{path}: is a folder"
    if not os.path.isdir(folder):
        return f"{folder}: no such folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder}: not writable"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"{path}: not writable"
    return None


def cmd_trace(args: argparse.Namespace) -> int:
    from harness import tracefile

    if not args.command:
        print("harness trace: no command given (usage: harness trace [options] -- PROG ARGS...)",
              file=sys.stderr)
        return 2
    out = args.output or None
    sink = None
    if out is not None:
        problem = check_writable(out)
        if problem:
            print(f"harness trace: cannot write the trace: {problem}", file=sys.stderr)
            return 2
        try:
            sink = tracefile.TraceWriter(out, args.format)
        except ValueError as e:
            print(f"harness trace: {e}", file=sys.stderr)
            return 2
    from harness.tracer.core import TraceError, Tracer

    echo = None
    if out is None:
        from harness.tracer.text import format_event

        def echo(ev):  # type: ignore[no-untyped-def]
            print(format_event(ev), file=sys.stderr, flush=False)

    install_stop_handlers()
    tracer = Tracer(seccomp=not args.no_seccomp, data_bytes=args.data, echo=echo)
    try:
        root = tracer.spawn(args.command, sink=sink)
    except TraceError as e:
        print(f"harness trace: {e}", file=sys.stderr)
        return e.exit_status
    status: int | None = None
    try:
        tracer.run()
    except KeyboardInterrupt:
        status = 130
    except Terminated as e:
        status = 128 + e.signum
    finally:
        tracer.kill_all()  # every root done: its trace file is whole
        sys.stderr.flush()
    if root.exec_error:
        print(f"harness trace: {args.command[0]}: {root.exec_error}", file=sys.stderr)
    if root.fallback_reason:
        print(f"harness trace: traced every syscall: {root.fallback_reason}", file=sys.stderr)
    if status is not None:
        return status
    if root.exec_error:
        return 127
    return root.exit_status if root.exit_status is not None else 1


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; `only="trace"` builds just that subcommand (its start is what a
    traced command waits for: the others' arguments cost milliseconds to set up)."""
    p = argparse.ArgumentParser(prog="harness", description=(
        "Trace the socket syscalls of equivalent programs and compare them."))
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("trace", help="run a command under the tracer",
                       description="Run PROG under the socket-syscall tracer.")
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
    t.set_defaults(func=cmd_trace)

    if only != "trace":
        from harness import commands

        commands.add_subcommands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser("trace" if given[:1] == ["trace"] else None)
    args = parser.parse_args(argv)
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    return int(args.func(args))


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
