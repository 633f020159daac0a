"""The stages as commands over files: `harness normalize RUN_DIR` (a run's traces and
run.yaml -> steps.json) and `harness render analysis.json` (an analysis -> terminal, Markdown
or JSON). With `harness trace` (a command -> trace.jsonl) and `harness compare --from DIR`
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
    n = sub.add_parser("normalize", help="normalize one run's traces (run.yaml beside them)",
                       description="Normalize the server's and the client's traces of one run "
                       "folder (traces/SCENARIO/SERVER--CLIENT, with its run.yaml) and write "
                       "steps.json there, or where -o says; print each side's steps.")
    n.add_argument("run_dir", metavar="RUN_DIR", help="a run folder: traces/tcp/c--c")
    n.add_argument("--level", default="canonical", choices=("raw", "socket", "canonical"))
    n.add_argument("-o", "--output", metavar="FILE", help="where to write (default "
                   "RUN_DIR/steps.json; - for stdout)")
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


def cmd_normalize(args: argparse.Namespace) -> int:
    from harness.normalize.steps_file import encode, save

    run_dir = Path(args.run_dir)
    doc, record = normalize_run(run_dir, args.level)
    if args.output == "-":
        sys.stdout.buffer.write(encode(doc))
        return 0
    out = Path(args.output) if args.output else run_dir / "steps.json"
    save(doc, out)
    for role, n in doc.sides.items():
        if n is None:
            print(f"{role}: no trace")
            continue
        print(f"{role} ({record.server if role == 'server' else record.client}), "
              f"{len(n.steps)} steps at the {args.level} level:")
        for k, step in enumerate(n.steps, 1):
            print(f"  {k:>3}  {step.label:<40} {step.dialect}")
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
