"""Command line: `python -m harness {trace,compare,verify,bench} ...`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path


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


def check_writable(path: Path) -> str | None:
    """Why a trace file could not be written at path (None when it can)."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        return f"{path}: is a folder"
    if not folder.is_dir():
        return f"{folder}: no such folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder}: not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{path}: not writable"
    return None


def cmd_trace(args: argparse.Namespace) -> int:
    from harness import tracefile

    if not args.command:
        print("harness trace: no command given (usage: harness trace [options] -- PROG ARGS...)",
              file=sys.stderr)
        return 2
    out = Path(args.output) if args.output else None
    if out is not None:
        problem = check_writable(out)
        if problem:
            print(f"harness trace: cannot write the trace: {problem}", file=sys.stderr)
            return 2
        try:
            fmt = tracefile.format_for(out, args.format)
        except ValueError as e:
            print(f"harness trace: {e}", file=sys.stderr)
            return 2
    from harness.tracer.core import TraceError, Tracer
    from harness.tracer.text import format_event

    echo = None
    if out is None:
        def echo(ev):  # type: ignore[no-untyped-def]
            print(format_event(ev), file=sys.stderr, flush=False)

    install_stop_handlers()
    tracer = Tracer(seccomp=not args.no_seccomp, data_bytes=args.data, echo=echo)
    try:
        root = tracer.spawn(args.command)
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
        tracer.kill_all()
        sys.stderr.flush()
    if root.exec_error:
        print(f"harness trace: {args.command[0]}: {root.exec_error}", file=sys.stderr)
    if root.fallback_reason:
        print(f"harness trace: traced every syscall: {root.fallback_reason}", file=sys.stderr)
    if out is not None:
        tracefile.save(root.trace(args.data), out, fmt)
    if status is not None:
        return status
    if root.exec_error:
        return 127
    return root.exit_status if root.exit_status is not None else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description=(
        "Trace the socket syscalls of equivalent programs and compare them."))
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("trace", help="run a command under the tracer",
                       description="Run PROG under the socket-syscall tracer.")
    t.add_argument("-o", "--output", help="write a trace file (else print events on stderr)")
    t.add_argument("--format", choices=("yaml", "json"), help="trace file format (default: "
                   "from the file name, else yaml)")
    t.add_argument("--no-seccomp", action="store_true",
                   help="stop at every syscall instead of installing a seccomp filter")
    t.add_argument("--data", type=int, default=64, metavar="N",
                   help="bytes of each data buffer to record (default 64)")
    t.add_argument("command", nargs=argparse.REMAINDER, help="-- PROG [ARGS...]")
    t.set_defaults(func=cmd_trace)

    from harness import commands

    commands.add_subcommands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    return int(args.func(args))
