"""`harness trace`: one command (or, with -p, a running process) traced as strace traces it,
its events printed on stderr or, with -o, written to a trace file; -e selects the calls shown,
-c sums them up in a table at the end, -T, -tt and -r time them. A version manager's shim is
traced past (`_past_shim`, which harness/diff_command.py uses for its command sides too).
Imports stay inside the command, as in harness/commands.py: a traced command waits for the
harness to start.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys

from harness.commands import BadArguments
from harness.common.errors import SIGPIPE_STATUS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def writable_problem(path: str) -> str | None:
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


class _FilteredSink:
    """A trace file that receives only the events -e selects."""

    def __init__(self, sink: Any, shown: Any):
        self._sink = sink
        self._shown = shown

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sink, name)

    def start(self, header: dict[str, Any]) -> None:
        self._sink.start(header)

    def write(self, events: list[dict[str, Any]]) -> None:
        shown = self._shown
        # (a socket record, which has no syscall, is kept: the events after it name it)
        self._sink.write([e for e in events if "syscall" not in e
                          or shown(e["syscall"], e.get("kind", "syscall"))])

    def finish(self, footer: dict[str, Any]) -> None:
        self._sink.finish(footer)


class _Clock:
    """strace's -tt (time of day, microseconds) and -r (seconds since the line before) at the
    start of each event line."""

    def __init__(self, tt: bool, relative: bool):
        import time

        self.tt, self.relative = tt, relative
        # the wall clock at monotonic 0: events carry monotonic times
        self.offset = time.time_ns() - time.monotonic_ns()
        self.last: int | None = None

    def stamp(self, ts_ns: int) -> str:
        import time

        out = ""
        if self.relative:
            out += f"{(ts_ns - self.last if self.last is not None else 0) / 1e9:10.6f} "
            self.last = ts_ns
        if self.tt:
            wall = ts_ns + self.offset
            out += time.strftime("%H:%M:%S", time.localtime(wall // 1_000_000_000)) + \
                f".{wall % 1_000_000_000 // 1000:06d} "
        return out


def _past_shim(command: list[str]) -> list[str]:
    """A version manager's shim (pyenv, rbenv, asdf: a script in a `shims` folder that forks
    and execs the real program) would be traced with the program: a Python shim is replaced by
    the interpreter it runs, as the runner does; of any other, one line says it is traced."""
    import shutil

    found = shutil.which(command[0])
    if found is None or os.path.basename(os.path.dirname(found)) != "shims":
        return command
    try:
        with open(found, "rb") as f:
            if f.read(2) != b"#!":
                return command
    except OSError:
        return command
    name = os.path.basename(found)
    if name.startswith("python"):
        import subprocess

        try:
            real = subprocess.run([found, "-c", "import sys; print(sys.executable)"],
                                  capture_output=True, text=True, timeout=10,
                                  stdin=subprocess.DEVNULL).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            real = ""
        if real and os.path.isabs(real):
            print(f"harness trace: {command[0]} is a shim ({found}): tracing the interpreter "
                  f"it runs, {real}", file=sys.stderr)
            return [real, *command[1:]]
    print(f"harness trace: {command[0]} is a shim ({found}): its own fork and exec are "
          f"traced too", file=sys.stderr)
    return command


def cmd_trace(args: argparse.Namespace) -> int:
    from harness.formats import tracefile
    from harness.run.stopping import Terminated, install_stop_handlers

    if not args.command and args.attach is None:
        raise BadArguments("no command given (usage: harness trace [options] -- PROG ARGS..., "
                           "or harness trace -p PID)")
    if args.command and args.attach is not None:
        raise BadArguments("-p PID traces a running process: give no command with it")
    sink: Any = None  # a TraceWriter, or one behind the -e filter (_FilteredSink)
    if args.output:
        problem = writable_problem(args.output)
        if problem:
            raise BadArguments(f"cannot write the trace: {problem}")

        def unwritable(message: str) -> None:  # said at once: the command runs on
            if sink is not None and sink.errno == errno.EPIPE:
                return  # `-o /dev/stdout | head`: its reader went away, quietly (141)
            print(f"harness trace: {message} (the command runs on to its end, its trace "
                  f"lost)", file=sys.stderr, flush=True)

        try:  # (a link of another user at the name: refused here, before anything runs)
            sink = tracefile.TraceWriter(args.output, args.format, on_error=unwritable)
        except ValueError as e:
            raise BadArguments(str(e)) from None
    from harness.tracer.core import Tracer

    shown = None
    if args.expr:
        from harness.tracer.select import event_filter
        from harness.tracer.tables import load_syscalls

        shown = event_filter(args.expr, load_syscalls().classes)
        if sink is not None:
            sink = _FilteredSink(sink, shown)
    timing = args.timing or args.summary
    summary = None
    echo = None
    if args.summary:  # strace -c: the table at the end instead of the events
        from harness.tracer.select import Summary

        summary = Summary()

        def echo(ev):  # type: ignore[no-untyped-def]
            dur = tracer.durations.get(ev.seq) if sink is not None else \
                tracer.durations.pop(ev.seq, None)
            if ev.kind != "process" and (shown is None or shown(ev.syscall, ev.kind)):
                summary.add(ev.syscall, ev.errno is not None, dur)
    elif sink is None:
        from harness.common.escape import visible
        from harness.tracer.event_line import format_event

        clock = _Clock(args.tt, args.relative)

        def echo(ev):  # type: ignore[no-untyped-def]
            dur = tracer.durations.pop(ev.seq, None)
            if shown is not None and not shown(ev.syscall, ev.kind):
                return
            line = format_event(ev)
            if args.timing and dur is not None:
                line += f" <{dur / 1e9:.6f}>"
            print(clock.stamp(ev.ts_ns) + visible(line, lines=False), file=sys.stderr,
                  flush=False)

    install_stop_handlers()
    tracer = Tracer(seccomp=not args.no_seccomp, data_bytes=args.data, echo=echo,
                    timing=timing)
    if args.attach is not None:
        root = tracer.attach(args.attach, sink=sink)  # TraceError: no such process, refused
    else:
        args.command = _past_shim(args.command)
        root = tracer.spawn(args.command, sink=sink)  # TraceError: cannot start (127, or 1)
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
    if summary is not None:
        print(summary.text(), file=sys.stderr)
    if root.exec_error:
        print(f"harness trace: {args.command[0]}: {root.exec_error}", file=sys.stderr)
    if root.fallback_reason and not root.attached:
        print(f"harness trace: traced every syscall: {root.fallback_reason}", file=sys.stderr)
    if root.attached:  # detached, running on (or gone: its exit status is its parent's)
        return status if status is not None else 0
    if status is not None:
        return status
    if sink is not None and sink.error is not None:  # said when it happened
        return SIGPIPE_STATUS if sink.errno == errno.EPIPE else BadArguments.exit_status
    if root.exec_error:
        return 127
    return root.exit_status if root.exit_status is not None else 1
