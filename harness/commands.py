"""What each subcommand does, from its parsed arguments (harness/cli.py builds them).

Exit status of compare and verify: 0 when every sample that ran matches the reference, 1 when
one differs, its run failed or its build failed, 2 on a harness error (a broken manifest, rule
or trace file), 130 (128 + the signal) when interrupted. Errors the user can act on are
HarnessErrors, reported by the command line in one line.

Imports stay inside the commands: `trace` must start without the compare stack.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys

from harness.common.errors import SIGPIPE_STATUS, HarnessError, Interrupted

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from harness.run.matrix import Plan

BUILD_TAIL = 10  # lines of a failed build's output printed by verify


class BadArguments(HarnessError):
    """Arguments that name nothing usable (no command, an unwritable trace file)."""


# -- trace ------------------------------------------------------------------------------------

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
        self._sink.write([e for e in events if shown(e["syscall"], e.get("kind", "syscall"))])

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
    sink = None
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
        from harness.tracer.text import format_event

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


# -- compare and verify ---------------------------------------------------------------------

def _width(asked: int | None) -> int | None:
    if asked is not None:
        return asked or None
    import shutil

    return shutil.get_terminal_size((160, 24)).columns


# where the samples' builds are kept, under the folder the harness runs in: a name of its own
# (`build/` is where Python's packaging tools put theirs)
BUILD_CACHE = "sample-builds"


def _sample_folders(args: argparse.Namespace) -> list[Any]:
    """The --samples folders; refused in one line, before anything is written, when none of
    them holds a servers/ or clients/ folder (compare run in the wrong folder)."""
    from pathlib import Path

    folders = [Path(d) for d in (args.samples or ["."])]
    if not any((f / role).is_dir() for f in folders for role in ("servers", "clients")):
        where = ", ".join(str(f) for f in folders)
        raise BadArguments(f"no samples in {where} (no servers/ or clients/ folder): run it "
                           f"in the project's folder, or give --samples DIR")
    return folders


def _plan(args: argparse.Namespace, only: str | None) -> Plan:
    from pathlib import Path

    from harness.run.matrix import plan

    # (verify names its sample: an unknown one is refused by its name)
    folders = _sample_folders(args) if only is None else \
        [Path(d) for d in (args.samples or ["."])]
    return plan(folders, scenarios=args.scenario,
                reference=args.reference, cross=getattr(args, "cross", False), only=only,
                build_cache=Path(BUILD_CACHE), log=_progress)


def _progress(line: str) -> None:
    """A build's progress, on stderr as the runs' is: stdout is the report (--format json)."""
    print(line, file=sys.stderr, flush=True)


class _stoppable:
    """Ctrl-C, SIGTERM and SIGHUP (and, with --exit-with-parent, the end of the parent) stop
    the command as Interrupted, exit status 128 + the signal. What the command is doing is
    the list's last item, for the message ("building the samples", "running the pairs").
    (A class, not contextlib's decorator: `harness trace` imports this module, and its start
    is what a traced command waits for.)"""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.doing = ["starting"]

    def __enter__(self) -> list[str]:
        from harness.run.stopping import install_stop_handlers, parent_death_signal

        install_stop_handlers()
        if getattr(self.args, "exit_with_parent", False):
            parent_death_signal(signal.SIGTERM)
        return self.doing

    def __exit__(self, kind: type | None, error: BaseException | None, tb: object) -> None:
        from harness.run.stopping import Terminated

        if isinstance(error, KeyboardInterrupt):
            raise Interrupted(f"interrupted while {self.doing[-1]}") from None
        if isinstance(error, Terminated):
            raise Interrupted(f"stopped by {signal.Signals(error.signum).name} while "
                              f"{self.doing[-1]}", 128 + error.signum) from None


def _check_message(args: argparse.Namespace) -> None:
    """A --message no program could be given is refused before anything is built or run."""
    from harness.run.runner import message_problem

    problem = message_problem(args.message) if args.message is not None else None
    if problem:
        raise BadArguments(problem)


def _run(p: Plan, args: argparse.Namespace, doing: list[str]) -> None:
    """Run every pair of the plan (the runs that finish are on disk at once)."""
    from pathlib import Path

    from harness.run.matrix import run_all
    from harness.run.runner import DEFAULT_MESSAGE, RunOptions

    traces = Path(args.traces)
    options = RunOptions(timeout=args.timeout, message=args.message or DEFAULT_MESSAGE,
                         seccomp=not args.no_seccomp, capture=not args.no_wire)
    doing.append(f"running the pairs; the runs that finished are in {traces}/ "
                 f"(compare --from {traces})")
    run_all(p, traces, options, args.reference)
    doing.append(f"writing the report; the runs are in {traces}/ (compare --from {traces})")


def _report(traces: Path, args: argparse.Namespace, explain_sample: str | None) -> int:
    from harness.compare.analyze import analyze, exit_code
    from harness.common.escape import visible
    from harness.render import render
    from harness.render.explain import explain
    from harness.formats.store import TracesFolder

    analysis = analyze(traces, reference=args.reference, level=args.level)
    if args.format == "terminal" and not args.full:
        from harness.render.summary import SummaryRenderer

        # verify explains every difference below: its summary is the grid
        print(SummaryRenderer(_width(args.width), with_differences=explain_sample is None,
                              report_file=str(traces / "report.md")).render(analysis))
    else:
        print(render(analysis, args.format, _width(args.width)))
    store = TracesFolder(traces)
    written = store.write_report(render(analysis, "markdown"))
    _write_pcapngs(store, analysis)
    if explain_sample is not None:
        print(visible(explain(analysis, explain_sample)))
    if getattr(args, "wire", False):
        from harness.render.wire import timeline

        for sc in analysis.scenarios:
            for run in sc.runs:
                if explain_sample is None or explain_sample in (run.server.sample,
                                                                run.client.sample):
                    print(visible("\n".join(timeline(run)) + "\n"))
    print(f"report: {written}", file=sys.stderr)
    return exit_code(analysis)


def _write_pcapngs(store: Any, analysis: Any) -> None:
    """Beside each run's wire.jsonl, its packets as pcapng, each named by its call."""
    from harness.formats.store import StoreError
    from harness.wire.pcapng import write_pcapng

    for sc in analysis.scenarios:
        for run in sc.runs:
            if run.wire is not None:
                path = store.run_folder(run.folder) / "wire.pcapng"
                try:
                    write_pcapng(path, run.wire)
                except OSError as e:
                    raise StoreError(f"{path}: cannot write: {e.strerror}") from None


def cmd_compare(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.formats.store import TracesFolder

    if args.from_dir:
        from harness.diff import not_a_traces_folder

        problem = not_a_traces_folder(args.from_dir)  # (and nothing written there)
        if problem:
            raise BadArguments(problem)
        folder = TracesFolder(args.from_dir)
        if not folder.root.is_dir():  # nothing to lock: the report says there is no folder
            return _report(folder.root, args, None)
        with _stoppable(args) as doing, folder.locked():
            doing.append(f"writing the report of {folder.root}/")
            return _report(folder.root, args, None)
    _check_message(args)
    _sample_folders(args)  # (none: one line, and no traces folder made)
    with _stoppable(args) as doing, TracesFolder(args.traces).locked():
        doing.append("building the samples; nothing ran")
        p = _plan(args, None)
        _run(p, args, doing)
        return _report(Path(args.traces), args, None)


def cmd_verify(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.formats.store import TracesFolder

    if args.traces == "traces":  # keep the full matrix's traces and index as they are
        args.traces = f"traces/verify/{args.sample}"
    _check_message(args)
    with _stoppable(args) as doing:
        doing.append("building the samples; nothing ran")
        p = _plan(args, args.sample)  # (an unknown sample is refused here: no folder made)
        if not p.pairs:  # the sample cannot run: say why, run nothing
            failed = [f for f in p.failed if f.name == args.sample]
            from harness.common.escape import visible

            for f in failed:  # its toolchain is here: a failure, with the build's last lines
                print(visible(f"harness: {f.role} {f.name} failed: {f.reason}", lines=False),
                      file=sys.stderr)
                for line in f.output.splitlines()[-BUILD_TAIL:]:
                    print(f"  {visible(line, lines=False)}", file=sys.stderr)
            if failed:
                return 1
            for s in [s for s in p.skipped if s.name == args.sample][:1]:
                print(f"harness: {s.name} is skipped: {s.reason}"
                      + (f" (install: {s.hint}; every optional toolchain: make deps)"
                         if s.hint else ""), file=sys.stderr)
                return 0
        with TracesFolder(args.traces).locked():
            _run(p, args, doing)
            return _report(Path(args.traces), args, args.sample)


# -- diff -------------------------------------------------------------------------------------

def cmd_diff(args: argparse.Namespace) -> int:
    from harness.diff import main

    with _stoppable(args):
        return main(args)


# -- new --------------------------------------------------------------------------------------

def cmd_new(args: argparse.Namespace) -> int:
    from pathlib import Path

    from harness.tools.scaffold import languages, new_sample, wrap_program

    if args.list:
        print("languages with a template: " + ", ".join(languages()))
        return 0
    if not args.name or not args.language:
        raise BadArguments("usage: harness new NAME --language LANG (languages: "
                           f"{', '.join(languages())}, or any other for a manifest alone)")
    if args.from_program:
        if args.role == "both":
            raise BadArguments("harness new --from wraps one program: --role server or "
                               "--role client")
        made = wrap_program(Path(args.samples), args.name, args.language,
                            Path(args.from_program), args.role, args.scenario)
        print(f"made {made.folders[0]}/ with {made.programs[0].name}, copied unchanged")
        print(f"it runs with no arguments: read {made.folders[0]}/manifest.yaml, and give it "
              "{host} {port} {message} there if it takes them")
    else:
        roles = ("server", "client") if args.role in (None, "both") else (args.role,)
        made = new_sample(Path(args.samples), args.name, args.language, roles, args.scenario)
        for folder in made.folders:
            print(f"made {folder}/")
        if made.known:
            print("fill in the TODOs of:")
            for path in made.programs:
                print(f"  {path}")
        else:
            print(f"no template for {args.language!r} (templates: {', '.join(languages())}): "
                  f"write the programs and fill in the manifests' requires, build and run")
    asked = list(dict.fromkeys(args.scenario or ["tcp"]))
    only = f" SCENARIO={asked[0]}" if len(asked) == 1 else ""
    print(f"then: make verify SAMPLE={args.name}{only}")
    return 0


# -- bench ------------------------------------------------------------------------------------

def cmd_bench(args: argparse.Namespace) -> int:
    from harness.tools import bench

    return bench.main(runs=args.runs, n=args.n, cpu=args.cpu, mem_n=tuple(args.mem_n))
