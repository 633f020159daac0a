"""The stages as commands over files: `harness normalize RUN_DIR` (a run's traces and
run.yaml -> steps.json; or a trace file, its run's facts read from its calls) and `harness
render analysis.json` (an analysis -> terminal, Markdown or JSON). With `harness trace` (a command -> trace.jsonl) and `harness compare --from DIR`
(a traces folder -> analysis.json and report.md), each stage starts from files on disk."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.common.errors import HarnessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.formats.model import RunRecord
    from harness.normalize.steps_file import StepsFile


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    n = sub.add_parser("normalize", help="normalize one run's traces, or one trace file",
                       description="Normalize the server's and the client's traces of one run "
                       "folder (traces/SCENARIO/SERVER--CLIENT, with its run.yaml) and write "
                       "steps.json there, or where -o says; or one trace file (harness trace "
                       "-o FILE), its run's facts (role, address, scenario, message size) read "
                       "from its calls as `harness diff` reads them, or given by the options "
                       "below, written only where -o says. Print each side's steps.")
    n.add_argument("run_dir", metavar="RUN_DIR|TRACE",
                   help="a run folder (traces/tcp/c--c) or a trace file")
    n.add_argument("--level", default="canonical", choices=("raw", "socket", "canonical"))
    n.add_argument("-o", "--output", metavar="FILE", help="where to write (default "
                   "RUN_DIR/steps.json, nowhere for a trace file; - for stdout)")
    lone = n.add_argument_group("a trace file's run (default: read from its calls)")
    lone.add_argument("--role", choices=("server", "client"),
                      help="its role (default: a server if it listened, else a client)")
    lone.add_argument("--scenario", metavar="NAME", help="its scenario (default: from its "
                      "socket: unix, udp, tcp6, else tcp)")
    lone.add_argument("--host", help="the echo's address (default: the one it bound or "
                      "connected to)")
    lone.add_argument("--port", type=int, help="the echo's port")
    lone.add_argument("--path", help="the echo's unix socket path")
    r = sub.add_parser("render", help="render an analysis.json (written by compare)",
                       description="Render the analysis.json that `harness compare` writes "
                       "beside report.md, without reading a trace again.")
    r.add_argument("analysis", metavar="ANALYSIS", help="analysis.json, or the traces folder "
                   "holding it")
    r.add_argument("--format", default="summary",
                   choices=("summary", "terminal", "markdown", "json"),
                   help="summary (what compare prints), terminal (every table), markdown "
                   "(report.md), json")
    r.add_argument("-o", "--output", metavar="FILE", help="write there instead of stdout")
    r.add_argument("--width", type=int, default=None, help="fit tables to this many columns")


class StageError(HarnessError):
    """A stage's input is not what it must be."""


def normalize_run(run_dir: Path, level: str = "canonical") -> tuple[StepsFile, RunRecord]:
    """The normalize stage: a run folder's traces and run.yaml -> both sides' steps (and the
    run, as run.yaml says)."""
    from harness.compare.run_steps import normalize_run as steps_of_run
    from harness.formats.store import RUN_FILE, TracesFolder
    from harness.normalize.rules import default_rules

    if not (run_dir / RUN_FILE).is_file():
        raise StageError(f"{run_dir}: no run.yaml: not a run folder (a folder of `harness "
                         "compare`'s traces: traces/SCENARIO/SERVER--CLIENT); a trace file "
                         "alone is normalized and compared by `harness diff A B`")
    store, folder = TracesFolder.of_run(run_dir)
    record = store.read_run(folder)
    return steps_of_run(store, folder, record, level, default_rules()), record


def normalize_trace(path: Path, args: argparse.Namespace) -> tuple[StepsFile, RunRecord, str]:
    """The normalize stage over one trace file: its run's facts read from its calls where
    the options do not give them (as `harness diff` reads a lone trace); (its steps, the run
    made up of those facts, how they were found)."""
    from harness.compare.run_steps import step_times
    from harness.diff import lone_trace
    from harness.normalize.engine import normalize
    from harness.normalize.rules import default_rules
    from harness.normalize.steps_file import FORMAT, VERSION, StepsFile
    from harness.tables.scenario import load_scenarios

    scenarios = load_scenarios()
    if args.scenario and args.scenario not in scenarios:
        raise StageError(f"--scenario {args.scenario}: no such scenario (scenarios: "
                         f"{', '.join(scenarios)})")
    rules = default_rules()
    side = lone_trace(path, args, scenarios, rules.syscalls)
    ((role, trace),) = side.traces.items()
    normalized = normalize(trace, side.record, role, args.level, rules)
    when = {e.seq: e.ts_ns for e in trace.events}
    sides = {r: normalized if r == role else None for r in ("server", "client")}
    times = {role: step_times(normalized, when)}
    return (StepsFile(FORMAT, VERSION, str(path), args.level, sides, times), side.record,
            side.how)


def cmd_normalize(args: argparse.Namespace) -> int:
    from harness.common.escape import visible
    from harness.normalize.steps_file import encode, save

    run_dir = Path(args.run_dir)
    given = [f"--{o}" for o in ("role", "scenario", "host", "port", "path")
             if getattr(args, o, None)]
    if run_dir.is_dir():
        if given:
            raise StageError(f"{' '.join(given)}: for a trace file; a run folder's run is "
                             f"its run.yaml")
        doc, record = normalize_run(run_dir, args.level)
        out: Path | None = Path(args.output) if args.output else run_dir / "steps.json"
    elif run_dir.exists():
        doc, record, how = normalize_trace(run_dir, args)
        print(f"harness normalize: {visible(how)}", file=sys.stderr)
        out = Path(args.output) if args.output else None
    else:
        raise StageError(f"{run_dir}: no such file or folder")
    if args.output == "-":
        sys.stdout.buffer.write(encode(doc))
        return 0
    if out is not None:
        save(doc, out)
    for role, n in doc.sides.items():
        if n is None:
            print(f"{role}: no trace")
            continue
        name = record.server if role == "server" else record.client
        print(visible(f"{role} ({name}), {len(n.steps)} steps at the {args.level} level:"))
        for k, step in enumerate(n.steps, 1):
            print(visible(f"  {k:>3}  {step.label:<40} {step.dialect}"))
    if out is not None:
        print(f"steps: {out}", file=sys.stderr)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from harness.commands_matrix import terminal_width
    from harness.common.escape import visible
    from harness.common.safefile import write_chunks_atomic
    from harness.compare.analysis_file import load
    from harness.render import render
    from harness.render.summary import SummaryRenderer

    path = Path(args.analysis)
    if path.is_dir():
        path = path / "analysis.json"
    analysis = load(path)
    width = terminal_width(args.width)
    if args.format == "summary":
        text = visible(SummaryRenderer(width, report_file=str(path.parent / "report.md"))
                       .render(analysis))
    else:
        text = render(analysis, args.format, None if args.format != "terminal" else width)
    if args.output:
        write_chunks_atomic(args.output, [text if text.endswith("\n") else text + "\n"])
    else:
        print(text.rstrip("\n"))
    return 0
