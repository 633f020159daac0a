"""`harness diff A B`: two traces normalized and compared, step by step, with the tables,
attributes and notes `compare` shows, whatever programs they come from.

A side is one of:
- a trace file (`harness trace -o FILE`): one traced command, a server, a client, or a
  program that is both;
- a run folder (`traces/<scenario>/<server>--<client>/`, as `compare` writes it): its run.yaml
  gives the run's facts, its server.jsonl and client.jsonl both roles;
- a command (`--run 'CMD ARGS'`, or `-- CMD ARGS...` last), run here under the tracer; with
  `--client 'CMD'`, a server whose client is run against it once it listens: both traced,
  both roles (`{port}` in either's arguments: a free port, one per side).

A is the base: B is compared with it, as a sample with the reference. Normalizing needs the
facts of a run (harness/formats/model.py RunRecord): the address the echo's sockets use, the message
sizes. A run folder has them; of a lone trace they are read from its calls (`infer`), unless
options give them:

- the role: a server if a socket of it listened (or, for datagrams, was bound to a port and
  received), else a client;
- the address: the one its listening socket (or its datagram socket) was bound to, else the
  one its socket connected or sent to and moved data through; a bind to 0.0.0.0 or [::] is
  taken as its loopback address (what a client of it connects to);
- the scenario: from that socket's family and type (unix, tcp6, udp, else tcp);
- the message: the bytes of its first sends (or, for a server, its first receives) on the
  echo's sockets, up to its first transfer the other way; tcp-session's sizes are the
  scenario's.

The roles compared are the roles both sides have: two run folders (or commands with their
client), both; a run folder and a
lone trace, the lone trace's; two lone traces, A's role (B is compared as one whatever it
looks like; --role chooses).

Exit status: 0 when B makes the same calls as A in every role compared (and both ran to
their end), 1 when not, 2 on a side that cannot be used (one line naming it).

This module reads the sides (a run folder; a trace file or a command, harness/diff_command.py
running it, with its facts from harness/diff_infer.py) and prints what comparing them gave
(harness/diff_report.py); the sides as the command line gives them are harness/diff_sides.py.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.diff_command import _run_command
from harness.diff_infer import infer
from harness.diff_report import build, render
from harness.diff_sides import DiffError, Side, Spec, side_specs
from harness.formats.model import RunRecord

DEFAULT_TIMEOUT = 10.0
HOW_TO = "harness diff A B"  # what compare --from says of a folder of trace files


# -- the sides' names -------------------------------------------------------------------------

_SAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def _name(spec: Spec) -> str:
    if spec.kind == "path":
        p = Path(spec.path.rstrip("/") or "/")
        name = p.name if p.is_dir() else p.name.split(".")[0] or p.name
    else:
        # the program, or the first argument after it that names a file (a script)
        name = next((os.path.basename(a) for a in spec.argv[1:]
                     if not a.startswith("-") and os.path.isfile(a)),
                    os.path.basename(spec.argv[0]))
    return _SAFE.sub("_", name).strip("_") or spec.label


def _folder_name(side: Side) -> str:
    """A trace file's name by its folder: a run folder's sample of its role (server.yaml of
    tcp/c--php: c), else FOLDER.NAME."""
    if side.kind != "trace file":
        return side.name
    parent = Path(side.spec.path).resolve().parent.name
    server, sep, client = parent.partition("--")
    if sep and side.name in ("server", "client"):
        return _SAFE.sub("_", server if side.name == "server" else client) or side.name
    return _SAFE.sub("_", f"{parent}.{side.name}")


# -- reading the sides --------------------------------------------------------------------------

def _run_folder(spec: Spec, p: Path) -> Side:
    from harness.formats.store import RUN_FILE, TracesFolder

    if not (p / RUN_FILE).is_file():
        if (p / "index.yaml").is_file():
            raise DiffError(f"{spec.path}: a traces folder, not a run: give one of its run "
                            f"folders (<scenario>/<server>--<client>/), or compare it with "
                            f"harness compare --from {spec.path}")
        raise DiffError(f"{spec.path}: not a run folder (no {RUN_FILE}) nor a trace file")
    store, folder = TracesFolder.of_run(p)
    record = store.read_run(folder)  # (a folder not named scenario/server--client: refused)
    name = record.server if record.server == record.client else \
        f"{record.server}--{record.client}"
    return Side(spec=spec, kind="run folder", name=name, record=record,
                roles=("server", "client"), store=store, folder=folder,
                how=f"run folder: scenario {record.scenario}, server {record.server}, "
                    f"client {record.client} (its run.yaml)")


def _lone(spec: Spec, paths: dict[str, Path], kind: str, args: argparse.Namespace,
          scenarios: dict[str, Any], table: Any, outcome: str = "ok", detail: str = "",
          shown: str | None = None) -> Side:
    """A side of one trace (its role read from it), or of a command and its client (both)."""
    from harness.formats import tracefile

    traces = {role: tracefile.load(p) for role, p in paths.items()}  # (no trace: one line)
    main = traces.get("server") or traces[""]
    try:
        facts = infer(main, shown or spec.path, args, scenarios, table)
    except DiffError as e:
        if not main.exit_status:
            raise
        raise DiffError(f"{e} (it exited with status {main.exit_status}"
                        + (f": {detail}" if detail and "exit status" not in detail else "")
                        + ")") from None
    if "" in traces:
        traces = {facts.role: traces[""]}
    name = _name(spec)
    if not detail and main.exit_status:
        detail = f"exit status {main.exit_status}"
    exits = {role: t.exit_status for role, t in traces.items()}
    record = RunRecord(
        scenario=facts.scenario, server=name, client=name, host=facts.host, port=facts.port,
        message="x" * facts.message_len, outcome=outcome, detail=detail or None,
        server_exit=exits.get("server"), client_exit=exits.get("client"),
        server_trace="server" if "server" in traces else None,
        client_trace="client" if "client" in traces else None,
        path=facts.path, sizes=list(facts.sizes))
    how = facts.how if len(traces) == 1 else \
        facts.how.replace("a server", "a server, with the client of --client", 1)
    return Side(spec=spec, kind=kind, name=name, record=record, roles=tuple(traces),
                how=f"{kind}: {how}", traces=traces)


def lone_trace(path: Path, args: argparse.Namespace, scenarios: dict[str, Any],
               table: Any) -> Side:
    """One trace file as a side (its facts read from its calls where the options `role`,
    `scenario`, `host`, `port`, `path` do not give them): what `harness normalize TRACE`
    normalizes."""
    if os.path.isdir(path):
        raise DiffError(f"{path}: a folder, not a trace file")
    return _lone(Spec("A", "path", str(path)), {"": path}, "trace file", args, scenarios, table)


def read_side(spec: Spec, args: argparse.Namespace, tmp: str, scenarios: dict[str, Any],
              table: Any) -> Side:
    if spec.kind == "command":
        ran = _run_command(spec, args, tmp)
        return _lone(spec, ran.traces, "command", args, scenarios, table, ran.outcome,
                     ran.detail, shown=spec.source)
    p = Path(spec.path)
    if not os.path.lexists(p):
        raise DiffError(f"{spec.path}: no such file or folder")
    if p.is_dir() and not p.is_symlink():
        return _run_folder(spec, p)
    return _lone(spec, {"": p}, "trace file", args, scenarios, table)


# -- the command ------------------------------------------------------------------------------

def main(args: argparse.Namespace) -> int:
    """`harness diff`: read or run both sides, compare, print; the exit status."""
    import tempfile

    from harness.normalize.rules import default_rules
    from harness.tables.scenario import load_scenarios

    specs = side_specs(args, getattr(args, "tokens", None))
    if getattr(args, "client", None) and not any(s.kind == "command" for s in specs):
        raise DiffError("--client is run against the sides that are commands (--run, or after "
                        "--): none is")
    scenarios = load_scenarios()
    if args.scenario and args.scenario not in scenarios:
        raise DiffError(f"--scenario {args.scenario}: no such scenario (scenarios: "
                        f"{', '.join(scenarios)})")
    table = default_rules().syscalls
    with tempfile.TemporaryDirectory(prefix="harness-diff-") as tmp:
        a, b = (read_side(spec, args, tmp, scenarios, table) for spec in specs)
        if a.name == b.name:  # (server.yaml of two run folders: by their folders' names)
            a.name, b.name = (_folder_name(s) for s in (a, b))
        if a.name == b.name:
            a.name, b.name = f"A:{a.name}", f"B:{b.name}"
            for s in (a, b):
                s.record = replace(s.record, server=s.name, client=s.name)
        d = build(a, b, args.level, args.role)
    for s in d.sides:
        for line in s.notes:
            print(f"harness diff: {line}", file=sys.stderr)
    print(render(d, args.format, args.width), end="")
    return d.exit_code


def not_a_traces_folder(folder: str) -> str | None:
    """Why `compare --from` cannot read a folder that has no index.yaml and no run folders
    (one line, saying how to compare trace files instead); None when it can be read."""
    from harness.formats.store import INDEX_FILE, RUN_FILE

    root = Path(folder)
    if not root.is_dir() or (root / INDEX_FILE).exists() or any(root.glob(f"*/*/{RUN_FILE}")):
        return None
    if (root / RUN_FILE).exists():
        return (f"{folder}: a run folder, not a traces folder (no {INDEX_FILE}): to compare "
                f"it with another run or a trace file: {HOW_TO}")
    traces = sorted(p.name for p in root.iterdir()
                    if p.is_file() and p.suffix in (".jsonl", ".json", ".yaml", ".yml"))
    example = (f" (harness diff {root / traces[0]} {root / traces[1]})"
               if len(traces) >= 2 else "")
    return (f"{folder}: not a traces folder (no {INDEX_FILE}, no run folders): to compare "
            f"two trace files: {HOW_TO}{example}")
