"""`harness compare` and `harness verify`: build the samples, run every pair of the plan (or
the pairs of one sample) under the tracer, and print the report, written too as report.md with
each run's packets as pcapng beside its wire.jsonl; `compare --from` reports on a traces folder
already written. The exit statuses are harness/commands.py's.
"""

from __future__ import annotations

import argparse
import sys

from harness.commands import BadArguments, _stoppable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from harness.compare.results import Analysis
    from harness.formats.store import TracesFolder
    from harness.run.matrix import Plan

BUILD_TAIL = 10  # lines of a failed build's output printed by verify


def terminal_width(asked: int | None) -> int | None:
    """The width tables fit (--width; 0: none), else the terminal's."""
    if asked is not None:
        return asked or None
    import shutil

    return shutil.get_terminal_size((160, 24)).columns


# where the samples' builds are kept, under the folder the harness runs in: a name of its own
# (`build/` is where Python's packaging tools put theirs)
BUILD_CACHE = "sample-builds"


def _sample_folders(args: argparse.Namespace) -> list[Path]:
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


def _check_message(args: argparse.Namespace) -> None:
    """A --message no program could be given, or a --jobs below 1, is refused before
    anything is built or run."""
    from harness.run.options import message_problem

    problem = message_problem(args.message) if args.message is not None else None
    if problem:
        raise BadArguments(problem)
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise BadArguments(f"--jobs: must be 1 or more, got {jobs}")


def _jobs(args: argparse.Namespace) -> int:
    """Runs at a time: --jobs, else one per CPU this process may use."""
    import os

    jobs = getattr(args, "jobs", None)
    return jobs if jobs is not None else len(os.sched_getaffinity(0))


def _run(p: Plan, args: argparse.Namespace, doing: list[str]) -> None:
    """Run every pair of the plan (the runs that finish are on disk at once)."""
    from pathlib import Path

    from harness.run.matrix import run_all
    from harness.run.options import DEFAULT_MESSAGE, RunOptions

    traces = Path(args.traces)
    options = RunOptions(timeout=args.timeout, message=args.message or DEFAULT_MESSAGE,
                         seccomp=not args.no_seccomp, capture=not args.no_wire)
    doing.append(f"running the pairs; the runs that finished are in {traces}/ "
                 f"(compare --from {traces})")
    run_all(p, traces, options, args.reference, jobs=_jobs(args))
    doing.append(f"writing the report; the runs are in {traces}/ (compare --from {traces})")


def _report(traces: Path, args: argparse.Namespace, explain_sample: str | None) -> int:
    from harness.compare.analyze import analyze, exit_code
    from harness.common.escape import visible
    from harness.render import render
    from harness.render.explain import explain
    from harness.formats.store import TracesFolder

    analysis = analyze(traces, reference=args.reference, level=args.level, steps_files=True)
    if args.format == "terminal" and not args.full:
        from harness.render.summary import SummaryRenderer

        # verify explains every difference below: its summary is the grid
        print(SummaryRenderer(terminal_width(args.width), with_differences=explain_sample is None,
                              report_file=str(traces / "report.md")).render(analysis))
    else:
        print(render(analysis, args.format, terminal_width(args.width)))
    store = TracesFolder(traces)
    written = store.write_report(render(analysis, "markdown"))
    from harness.compare.analysis_file import save

    save(analysis, written.parent / "analysis.json", follow=False)  # `harness render` reads it
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


def _write_pcapngs(store: TracesFolder, analysis: Analysis) -> None:
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
