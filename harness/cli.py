"""Command line: `harness {trace,compare,verify,diff,normalize,render,new,bench} ...` (or
`python -m harness`).

This module only builds the arguments and dispatches to harness/commands.py. A HarnessError
(harness/common/errors.py) is caught here, once: its one-line message and its exit status.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness import DEFAULT_REFERENCE as REFERENCE
from harness.common.errors import SIGPIPE_STATUS, HarnessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _count(text: str) -> int:
    """A byte count: 0 or more."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def _trace_arguments(t: argparse.ArgumentParser) -> None:
    t.add_argument("-o", "--output", help="write a trace file (else print events on stderr)")
    t.add_argument("--format", choices=("jsonl", "json", "yaml"), help="trace file format: "
                   "jsonl (JSON Lines, written as events come; json is the same), or yaml "
                   "(one document for reading, made at the end); default: yaml for a .yaml "
                   "or .yml name, else jsonl")
    t.add_argument("--no-seccomp", action="store_true",
                   help="stop at every syscall instead of installing a seccomp filter")
    t.add_argument("-s", "--data", type=_count, default=64, metavar="N",
                   help="bytes of each data buffer to record (default 64), as strace's -s")
    t.add_argument("-p", "--attach", type=int, metavar="PID",
                   help="trace the running process PID (every thread, and what it starts from "
                   "now on); Ctrl-C detaches and leaves it running")
    t.add_argument("-e", dest="expr", metavar="trace=SET", action="append",
                   help="which calls to show or write, as strace's -e trace=: names and classes "
                   "(%%network, %%desc, %%process, %%uring), comma-separated, `!` first to "
                   "show all but those (repeatable)")
    t.add_argument("-c", dest="summary", action="store_true",
                   help="print a summary of the calls at the end (calls, errors, time per "
                   "syscall), as strace -c; with -o the events are written too")
    t.add_argument("-tt", dest="tt", action="store_true",
                   help="start each line with the time of day, in microseconds")
    t.add_argument("-r", dest="relative", action="store_true",
                   help="start each line with the time since the previous line")
    t.add_argument("-T", dest="timing", action="store_true",
                   help="end each line with the time spent in the call <seconds>")
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
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="runs at a time, each in a process of its own (default: the "
                   "number of CPUs the harness may use; 1: one after another)")
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
                   help="end with a line `harness CMD: exit status N` on stdout (on stderr "
                   "with --format json; make reports any failing command as its own status 2)")


DIFF_USAGE = ("harness diff [options] A B\n       harness diff [options] A -- CMD [ARGS...]\n"
              "       harness diff [options] --run 'CMD ARGS' --run 'CMD ARGS'\n"
              "       harness diff [options] --client 'CMD {port}' --run 'SERVER {port}' "
              "--run 'SERVER {port}'")
DIFF_DESCRIPTION = (
    "Normalize two traces and compare them, step by step, with compare's tables, attributes "
    "and notes; A is the base. A side is a trace file (harness trace -o FILE), a run folder "
    "(traces/<scenario>/<server>--<client>/), a command given with --run (split as a shell "
    "would, run without one), or the command after --, run here under the tracer. Of a lone "
    "trace the run's facts (role, address, scenario, message size) are read from its calls "
    "(the address its listening socket was bound to, or the one it connected to); the options "
    "below give them instead. Exit status: 0 the same, 1 not, 2 a side that cannot be used.")


def _diff_arguments(d: argparse.ArgumentParser) -> None:
    from harness.diff import DEFAULT_TIMEOUT

    d.add_argument("sides", nargs="*", metavar="A B", help="trace files or run folders")
    d.add_argument("--run", action="append", metavar="'CMD ARGS'",
                   help="a side that is a command, run here under the tracer (repeatable; "
                   "the sides are taken in the order given, the command after -- last)")
    d.add_argument("--client", metavar="'CMD ARGS'",
                   help="a client to run against each command side once it listens (or binds "
                   "a datagram socket to a port): both are traced, both roles compared; the "
                   "command is stopped once its client is done. `{port}` in the arguments of "
                   "a command side and its client is a free port, one per side")
    d.add_argument("--role", choices=("server", "client"),
                   help="compare this role (default: what both sides have; a lone trace is a "
                   "server if it listened, else a client)")
    d.add_argument("--scenario", metavar="NAME", help="a lone trace's scenario (default: from "
                   "its socket: unix, udp, tcp6, else tcp); tcp-session gives its sizes")
    d.add_argument("--host", help="a lone trace's address (default: the one it bound or "
                   "connected to)")
    d.add_argument("--port", type=int, help="a lone trace's port (default: the one it bound or "
                   "connected to)")
    d.add_argument("--path", help="a lone trace's unix socket path")
    d.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds a command may run before it is killed (default "
                   f"{DEFAULT_TIMEOUT:g})")
    d.add_argument("--no-seccomp", action="store_true", help="trace without seccomp filter")
    d.add_argument("--format", choices=("terminal", "markdown", "json"), default="terminal")
    d.add_argument("--level", choices=("raw", "socket", "canonical"), default="canonical",
                   help="normalization level of the tables (default canonical)")
    d.add_argument("--width", type=int, default=None, metavar="N",
                   help="fit terminal tables to N columns (0: no limit)")


def _diff_parser() -> argparse.ArgumentParser:
    d = argparse.ArgumentParser(prog="harness diff", usage=DIFF_USAGE,
                                description=DIFF_DESCRIPTION, allow_abbrev=False)
    _diff_arguments(d)
    return d


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; `only="trace"` builds just that subcommand (its start is what a
    traced command waits for: the others' arguments cost milliseconds to set up)."""
    from harness import __version__

    p = argparse.ArgumentParser(prog="harness", description=(
        "Trace the socket syscalls of equivalent programs and compare them."))
    p.add_argument("--version", action="version", version=f"harness {__version__}")
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
                       "program skeleton per scenario asked (tcp unless --scenario says), to "
                       "fill in; or, with --from PATH, a program that exists, copied unchanged "
                       "with a manifest that runs it as it is. Then `make verify SAMPLE=NAME`.")
    n.add_argument("name", nargs="?", help="the sample's name (its folders' name)")
    n.add_argument("--language", "-l", help="a language with a template (--list), or any "
                   "other for a manifest alone")
    n.add_argument("--scenario", action="append", metavar="NAME",
                   help="this scenario's programs (repeatable; default: tcp alone)")
    n.add_argument("--role", choices=("server", "client", "both"), default=None,
                   help="the roles to make (default both; with --from: the one its file name "
                   "says, server or client)")
    n.add_argument("--from", dest="from_program", metavar="PATH",
                   help="wrap this program, copied unchanged, instead of writing a skeleton")
    n.add_argument("--samples", default=".", metavar="DIR",
                   help="the folder holding servers/ and clients/ (default .)")
    n.add_argument("--list", action="store_true", help="list the languages with a template")
    _diff_arguments(sub.add_parser("diff", help="compare two traces (files, run folders or "
                                   "commands)", usage=DIFF_USAGE, description=DIFF_DESCRIPTION))
    from harness import stages

    stages.add_arguments(sub)
    b = sub.add_parser("bench", help="tracing cost against strace (a benchmark)")
    b.add_argument("--runs", type=int, default=5, help="runs per configuration (default 5)")
    b.add_argument("--n", type=int, default=20000, help="round trips of the long run")
    b.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the first "
                   "allowed)")
    b.add_argument("--mem-n", type=int, nargs=2, default=(1000, 200000),
                   metavar=("SHORT", "LONG"), help="round trips of the two runs whose peak "
                   "memory is compared, and of the trace files compared after the long one "
                   "(default 1000 200000)")
    b.add_argument("--from-n", type=int, default=50000, metavar="N",
                   help="round trips of the trace `compare --from` is timed on (two events "
                   "each; default 50000)")
    b.add_argument("--matrix", action="store_true",
                   help="also time `harness compare` of the whole matrix, warm, unpinned "
                   "(the project's samples; some 10-15 s a run)")
    return p


class _Closable:
    """sys.stdout or sys.stderr, which may be a pipe whose reader has gone (`harness compare
    | head`): the first write that finds it closed points the descriptor at /dev/null and
    notes it; the command goes on quietly (the report is still written) and exits
    SIGPIPE_STATUS, as a program killed by SIGPIPE would be seen."""

    closed = False  # some output's reader went away

    def __init__(self, stream: Any):
        self._stream = stream

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _gone(self) -> None:
        _Closable.closed = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._gone()
            try:
                self._stream.flush()  # (what was buffered goes to /dev/null)
            except OSError:
                pass


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status. Its output may go to a pipe whose reader goes away
    (`harness compare | head`): then it goes on quietly and exits 141 (_Closable)."""
    streams = sys.stdout, sys.stderr
    _Closable.closed = False
    sys.stdout, sys.stderr = _Closable(sys.stdout), _Closable(sys.stderr)
    try:
        code = _main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        sys.stdout, sys.stderr = streams
    return SIGPIPE_STATUS if _Closable.closed else code


def _main(argv: list[str] | None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["trace"]:
        # its own parser: a wrong option is told with `harness trace`'s usage, and one before
        # the program's name is never taken for the program's
        t = argparse.ArgumentParser(prog="harness trace",
                                    description="Run PROG under the socket-syscall tracer.")
        _trace_arguments(t)
        args = t.parse_args(given[1:])
        args.cmd = "trace"
    elif given[:1] == ["diff"]:
        # its own parser: what follows the first `--` is a command, run as side B
        rest = given[1:]
        cut = rest.index("--") if "--" in rest else len(rest)
        args = _diff_parser().parse_args(rest[:cut])
        args.cmd, args.command, args.tokens = "diff", rest[cut + 1:], rest[:cut]
    else:
        args = build_parser().parse_args(given)
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    from harness import commands, stages

    module = stages if args.cmd in ("normalize", "render") else commands
    try:
        code = int(getattr(module, f"cmd_{args.cmd}")(args))
    except HarnessError as e:
        from harness.common.escape import visible

        # (one line, whatever the file or the field it names holds)
        named = args.cmd in ("trace", "diff", "normalize", "render")
        print(f"harness{' ' + args.cmd if named else ''}: {visible(str(e), lines=False)}",
              file=sys.stderr)
        code = e.exit_status
    if getattr(args, "status_line", False):
        # with --format json, stdout is one JSON document: the line goes to stderr
        out = sys.stderr if getattr(args, "format", None) == "json" else sys.stdout
        print(f"harness {args.cmd}: exit status {code}", file=out, flush=True)
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
