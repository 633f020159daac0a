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
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.formats.model import RunRecord, Trace

DEFAULT_TIMEOUT = 10.0
HOW_TO = "harness diff A B"  # what compare --from says of a folder of trace files


class DiffError(HarnessError):
    """A side that cannot be used: names it (exit status 2)."""


# -- the sides ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """One side as the command line gives it."""

    label: str  # A | B
    kind: str  # path | command
    path: str = ""
    argv: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return self.path if self.kind == "path" else shlex.join(self.argv)


@dataclass
class Side:
    """One side, read (or run) and with its run's facts."""

    spec: Spec
    kind: str  # run folder | trace file | command
    name: str  # its column's name in the tables
    record: RunRecord  # the run's facts (made up from the trace for a lone trace)
    roles: tuple[str, ...]  # the roles it has traces of (a lone trace: its one role)
    how: str = ""  # how its facts were found, one line
    traces: dict[str, Trace] = field(default_factory=dict)  # a lone trace's, by role
    store: Any = None  # a run folder: its TracesFolder
    folder: str = ""  # a run folder: scenario/server--client in that store
    notes: list[str] = field(default_factory=list)  # said on stderr


def side_specs(args: argparse.Namespace, tokens: list[str] | None = None) -> list[Spec]:
    """The sides in the order the command line gives them: the paths and the --run commands
    as they come, then the command after `--`."""
    order: list[tuple[str, str]] = []
    paths = list(args.sides or [])
    runs = list(args.run or [])
    if tokens is not None:
        takes_value = {"--role", "--scenario", "--host", "--port", "--path", "--timeout",
                       "--format", "--level", "--width", "--run", "--client"}
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "--run" and i + 1 < len(tokens):
                order.append(("command", tokens[i + 1]))
                i += 2
                continue
            if tok.startswith("--run="):
                order.append(("command", tok[len("--run="):]))
            elif tok.startswith("-") and tok != "-":
                if tok in takes_value:
                    i += 1
            else:
                order.append(("path", tok))
            i += 1
        if sorted(v for k, v in order if k == "path") != sorted(paths) or \
                [v for k, v in order if k == "command"] != runs:
            order = []  # (not what argparse read: fall back on paths, then commands)
    if not order:
        order = [("path", p) for p in paths] + [("command", r) for r in runs]
    specs: list[tuple[str, str, tuple[str, ...]]] = []
    for kind, value in order:
        if kind == "path":
            specs.append(("path", value, ()))
        else:
            try:
                argv = tuple(shlex.split(value))
            except ValueError as e:
                raise DiffError(f"--run {value!r}: {e}") from None
            if not argv:
                raise DiffError("--run: an empty command")
            specs.append(("command", "", argv))
    if getattr(args, "command", None):
        specs.append(("command", "", tuple(args.command)))
    if len(specs) != 2:
        raise DiffError(f"two sides to compare, got {len(specs)} (usage: harness diff A B, "
                        f"harness diff A -- CMD ARGS..., harness diff --run 'CMD' --run 'CMD'; "
                        f"A and B: trace files or run folders)")
    return [Spec(label, kind, path, argv) for label, (kind, path, argv) in zip("AB", specs)]


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


# -- what a lone trace says of its run ----------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    role: str
    host: str
    port: int
    path: str | None
    scenario: str
    sizes: tuple[int, ...]
    message_len: int
    how: str


def _addr_text(addr: dict[str, Any]) -> str:
    from harness.normalize.steps import format_addr

    return format_addr(addr)


def _found(walk: Any) -> tuple[str, dict[str, Any], Any, str] | None:
    """(role, address, socket, how) of the echo's socket, as the calls show it."""
    def usable(a: Any) -> bool:
        return isinstance(a, dict) and (bool(a.get("path")) or bool(a.get("port")))

    for s in walk.sockets:
        if s.listening and usable(s.bound):
            return "server", s.bound, s, f"its listening socket is bound to " \
                f"{_addr_text(s.bound)}"
    for s in walk.sockets:
        if s.datagram and usable(s.bound) and s.transfers:
            return "server", s.bound, s, f"its datagram socket is bound to " \
                f"{_addr_text(s.bound)}"
    for s in walk.sockets:
        if s.transfers and s.connects and usable(s.connects[-1]):
            return "client", s.connects[-1], s, f"it connects to " \
                f"{_addr_text(s.connects[-1])}"
    for s in walk.sockets:
        if s.transfers and s.sent_to and usable(s.sent_to[0]):
            return "client", s.sent_to[0], s, f"it sends to {_addr_text(s.sent_to[0])}"
    return None


def _message_len(trace: Trace, walk: Any, roles: dict[int, str], table: Any) -> int:
    """The bytes of the first transfers one way on the echo's sockets, up to the first the
    other way: the client's message (a server's first receives)."""
    from harness.normalize.sockets import direction

    total, way = 0, None
    for ev in trace.events:
        if ev.kind != "syscall" or ev.failed or not any(i in roles for i in
                                                         walk.touched.get(ev.seq, ())):
            continue
        d = direction(ev, table)
        if d is None:
            continue
        if table.counts_messages(ev.syscall):
            n = sum(m.get("data_len") or 0 for m in ev.args.get("msgs") or ()
                    if isinstance(m, dict))
        else:
            n = ev.result if isinstance(ev.result, int) and ev.result > 0 else 0
        if not n:
            continue
        if way is not None and d != way:
            break
        way = d
        total += n
    return total


def infer(trace: Trace, source: str, args: argparse.Namespace, scenarios: dict[str, Any],
          table: Any) -> Facts:
    """A lone trace's run facts: from the options where given, else from its calls."""
    from harness.normalize import sockets as sk

    walk = sk.walk_sockets(trace, table)
    found = _found(walk)
    hows: list[str] = []
    family = typ = None
    if args.path:
        host, port, path = "", 0, args.path
        hows.append(f"path {args.path} (--path)")
    elif args.port:
        port, path = args.port, None
        host = args.host or (found[1].get("v4mapped") or found[1].get("address")
                             if found and found[1].get("port") == args.port else None) \
            or "127.0.0.1"
        hows.append(f"port {port} (--port)" + (" and host (--host)" if args.host else ""))
    elif found is not None:
        addr = found[1]
        path = addr.get("path") or None
        port = 0 if path else int(addr.get("port") or 0)
        host = "" if path else str(addr.get("v4mapped") or addr.get("address") or "")
        if host in sk.WILDCARDS:
            host = "::1" if host == "::" else "127.0.0.1"
        if args.host and not path:
            host = args.host
        hows.append(found[3])
    else:
        raise DiffError(f"{source}: no socket of it listened, or connected or sent to an "
                        f"address and moved data: give its address (--port PORT [--host "
                        f"HOST], or --path PATH)")
    if found is not None:
        family, typ = found[1].get("family"), found[2].type
        if found[1].get("v4mapped"):
            family = "AF_INET"
    role = args.role or (found[0] if found is not None else "client")
    if args.role:
        hows.insert(0, f"a {role} (--role)")
    else:
        hows.insert(0, f"a {role}")
    if args.scenario:
        scenario = args.scenario
    elif path or family == "AF_UNIX":
        scenario = "unix"
    elif typ == "SOCK_DGRAM":
        scenario = "udp"
    elif family == "AF_INET6" or ":" in host:
        scenario = "tcp6"
    else:
        scenario = "tcp"
    sizes = tuple(scenarios[scenario].sizes) if scenario in scenarios else ()
    roles = sk.echo_roles(walk, host, port, path)
    n = 0 if sizes else _message_len(trace, walk, roles, table)
    hows.append(f"scenario {scenario}" + (" (--scenario)" if args.scenario else ""))
    hows.append(f"messages of {', '.join(map(str, sizes))} bytes" if sizes else
                f"a message of {n} bytes (its first {'receives' if role == 'server' else 'sends'})"
                if n else "no message seen")
    return Facts(role=role, host=host, port=port, path=path, scenario=scenario, sizes=sizes,
                 message_len=n, how="; ".join(hows))


# -- reading and running the sides --------------------------------------------------------------

def _run_folder(spec: Spec, p: Path) -> Side:
    from harness.formats.store import RUN_FILE, TracesFolder

    p = p.resolve() if not p.name else p
    if not (p / RUN_FILE).is_file():
        if (p / "index.yaml").is_file():
            raise DiffError(f"{spec.path}: a traces folder, not a run: give one of its run "
                            f"folders (<scenario>/<server>--<client>/), or compare it with "
                            f"harness compare --from {spec.path}")
        raise DiffError(f"{spec.path}: not a run folder (no {RUN_FILE}) nor a trace file")
    store = TracesFolder(p.parent.parent)
    folder = f"{p.parent.name}/{p.name}"
    record = store.read_run(folder)  # (a folder not named scenario/server--client: refused)
    name = record.server if record.server == record.client else \
        f"{record.server}--{record.client}"
    return Side(spec=spec, kind="run folder", name=name, record=record,
                roles=("server", "client"), store=store, folder=folder,
                how=f"run folder: scenario {record.scenario}, server {record.server}, "
                    f"client {record.client} (its run.yaml)")


PORT_PLACEHOLDER = "{port}"  # in a command side's (and --client's) arguments: a free port
SERVER_GRACE = 2.0  # seconds a server side gets to exit by itself once its client is done


def _with_port(argv: list[str], port: int) -> list[str]:
    return [a.replace(PORT_PLACEHOLDER, str(port)) for a in argv]


def _client_ready(ev: Any) -> bool:
    """The server side is ready for its client: a listen, or a bind to a port (datagrams)."""
    if ev.result != 0 or ev.errno is not None:
        return False
    if ev.syscall == "listen":
        return True
    addr = ev.args.get("addr") if ev.syscall == "bind" else None
    return isinstance(addr, dict) and bool(addr.get("port")) and \
        ev.sock is not None and ev.sock.type == "SOCK_DGRAM"


@dataclass(frozen=True)
class Ran:
    """What running a command side gave."""

    traces: dict[str, Path]  # role -> its trace file (the command's role is found later: "")
    outcome: str
    detail: str


def _run_command(spec: Spec, args: argparse.Namespace, tmp: str) -> Ran:
    """Run a side's command under the tracer, its output on stderr; with --client, the client
    too, started once the command listens (or binds a datagram socket to a port), and the
    command stopped SERVER_GRACE seconds after its client is done. `{port}` in the arguments
    of either is a port free a moment before."""
    import time

    from harness.formats import tracefile
    from harness.commands import _past_shim
    from harness.run.runner import free_port
    from harness.tracer.core import TraceError, Tracer

    argv, client_argv = list(spec.argv), None
    if getattr(args, "client", None):
        try:
            client_argv = shlex.split(args.client)
        except ValueError as e:
            raise DiffError(f"--client {args.client!r}: {e}") from None
    if any(PORT_PLACEHOLDER in a for a in argv + (client_argv or [])):
        port = free_port("127.0.0.1")
        argv = _with_port(argv, port)
        client_argv = _with_port(client_argv, port) if client_argv else None
    role = "server" if client_argv else ""
    out = {role: Path(tmp) / f"{spec.label}.jsonl"}
    sinks = {role: tracefile.TraceWriter(out[role])}
    if client_argv:
        out["client"] = Path(tmp) / f"{spec.label}-client.jsonl"
        sinks["client"] = tracefile.TraceWriter(out["client"])
    argv = _past_shim(argv)
    tracer = Tracer(seccomp=not args.no_seccomp)
    devnull = os.open(os.devnull, os.O_RDONLY)
    roots: dict[str, Any] = {}
    errors: list[str] = []
    stopped = False  # the command served on after its client was done: stopped, no failure

    def start_client(root: Any, ev: Any) -> None:
        if client_argv is None or "client" in roots or not _client_ready(ev):
            return
        try:
            roots["client"] = tracer.spawn(_past_shim(client_argv), stdin=devnull, stdout=2,
                                           stderr=2, label="client", timeout=args.timeout,
                                           sink=sinks["client"])
        except TraceError as e:
            errors.append(f"--client ({args.client}): {e}")

    try:
        try:
            roots[role] = tracer.spawn(argv, stdin=devnull, stdout=2, stderr=2,
                                       label=spec.label, timeout=args.timeout,
                                       sink=sinks[role], on_event=start_client)
        except TraceError as e:
            raise DiffError(f"{spec.label} ({spec.source}): {e}") from None
        main = roots[role]
        if client_argv is None:
            tracer.run()
        else:
            tracer.run(until=lambda: "client" in roots and roots["client"].done)
            if not main.done and not main.timed_out:  # (a server that serves forever)
                left = (main.deadline or 0) - time.monotonic()
                tracer.set_deadline(main, max(0.0, min(left, SERVER_GRACE)))
                tracer.run()
                stopped = main.timed_out
    finally:
        tracer.kill_all()
        os.close(devnull)
    for sink in sinks.values():
        if sink.error is not None:
            raise DiffError(sink.error)
    if errors:
        raise DiffError(errors[0])
    for who, root in roots.items():
        if root.exec_error:
            raise DiffError(f"{spec.label} ({spec.source if who == role else args.client}): "
                            f"{root.argv[0]}: {root.exec_error}")
    cli = roots.get("client")
    if client_argv is not None and cli is None:
        return Ran({role: out[role]}, "server-failed", "never listened: its client never ran")
    if cli is not None and cli.timed_out:
        return Ran(out, "timeout", f"its client was killed after {args.timeout:g} s (--timeout)")
    if main.timed_out and not stopped:
        return Ran(out, "timeout", f"killed after {args.timeout:g} s (--timeout)")
    details = [] if stopped or not main.exit_status else [f"exit status {main.exit_status}"]
    if stopped:
        details.append("stopped once its client was done")
    if cli is not None and cli.exit_status:
        details.append(f"client exit status {cli.exit_status}")
    return Ran(out, "ok", "; ".join(details))


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


# -- comparing ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Diff:
    """The two sides and what comparing them gave."""

    sides: tuple[Side, Side]
    roles: tuple[str, ...]  # the roles compared
    scenario: str
    analysis: Any  # harness.compare.analyze.Analysis
    compared: tuple[tuple[str, Any], ...]  # (A | B, its SampleResult) of each role compared

    @property
    def same(self) -> bool:
        return all(r.matches for _, r in self.compared)

    @property
    def exit_code(self) -> int:
        return 0 if self.same else 1


def _roles(a: Side, b: Side, forced: str | None) -> tuple[str, ...]:
    if forced:
        return (forced,)
    common = tuple(r for r in ("server", "client") if r in a.roles and r in b.roles)
    if common:
        return common
    # two lone traces that look like different roles (a run folder has both)
    role = a.roles[0]
    b.notes.append(f"B looks like a {b.roles[0]}, A like a {role}: compared as {role}s "
                   f"(--role chooses)")
    return (role,)


def build(a: Side, b: Side, level: str, role: str | None = None) -> Diff:
    """Normalize both sides and compare B with A, with compare's machinery."""
    from harness.compare import analyze as an
    from harness.formats.model import MatrixIndex
    from harness.normalize.engine import ROLES, normalize
    from harness.normalize.rules import default_rules

    rules = default_rules()
    lvl = an.Level(level)
    roles = _roles(a, b, role)
    scenario = a.record.scenario
    if b.record.scenario != scenario:
        b.notes.append(f"B's scenario is {b.record.scenario}, A's {scenario}: compared in "
                       f"{scenario}'s tables")
    sides: dict[tuple[str, str], an._Side] = {}
    wires: dict[str, tuple[Any, Any]] = {}
    for s in (a, b):
        run = s.spec.source
        of_run = []
        for r in ROLES:
            trace_file, normalized, times = None, None, {}
            if s.store is not None:
                trace_file, normalized, times = an._normalize_side(s.store, s.folder,
                                                                   s.record, r, lvl, rules)
                trace_file = str(s.store.root / trace_file) if trace_file else None
            elif r in roles and (r in s.traces or len(s.traces) == 1):
                # a lone trace, as the role it is compared as
                trace = s.traces.get(r) or next(iter(s.traces.values()))
                trace_file = s.spec.source + (" (--client)" if r == "client" and
                                              len(s.traces) == 2 else "")
                normalized = normalize(trace, s.record, r, lvl, rules)
                times = {e.seq: e.ts_ns for e in trace.events}
            of_run.append(an._Side(folder=run, record=an._masked(s.record), role=r,
                                   sample=s.name, scenario=scenario, trace_file=trace_file,
                                   normalized=normalized, times=times))
        for side in of_run:
            sides[(s.spec.label, side.role)] = side
        if s.store is not None:
            wires[s.spec.label] = an._wire_view(s.store, s.folder, s.record, lvl, of_run)
        else:
            wires[s.spec.label] = (None, f"no packets: a {s.kind} has none "
                                         f"(a run folder of compare has)")
    books = rules.textbooks if lvl == an.Level.CANONICAL else None
    results: dict[tuple[str, str], an.SampleResult] = {}
    tables = []
    for r in ROLES:
        ref = sides[("A", r)] if r in roles else None
        for label in "AB":
            s = sides[(label, r)]
            view = wires[label][0]
            results[(label, r)] = an.SampleResult(
                sample=s.sample, role=r, scenario=scenario, run=s.folder, record=s.record,
                trace_file=s.trace_file, normalized=s.normalized,
                verdict=an._verdict(s, ref, a.name),
                wire=view.sides.get(r) if view is not None and view.connected else None,
                wire_facts=view.facts.get(r) if view is not None else None)
        if r in roles:
            book = books.get(scenario, r) if books is not None else None
            tables.append(an._table(scenario, r, a.name,
                                    [results[("A", r)], results[("B", r)]], book, rules))
    runs = tuple(an.RunResult(folder=sides[(label, "server")].folder,
                              record=sides[(label, "server")].record,
                              server=results[(label, "server")],
                              client=results[(label, "client")],
                              wire=wires[label][0], wire_note=wires[label][1])
                 for label in "AB")
    note = ""
    if books is not None:
        book = books.get(scenario, "server") or books.get(scenario, "client")
        note = book.note if book is not None else ""
    sc = an.ScenarioResult(name=scenario, runs=runs, tables=tuple(tables), note=note)
    index = MatrixIndex(reference=a.name, scenarios=[scenario], runs=[])
    analysis = an.Analysis(traces_dir="", reference=a.name, level=lvl, started_at="",
                           scenarios=(sc,), skipped=(), grid=an.verdict_grid([sc], index,
                                                                             a.name))
    compared = tuple((label, results[(label, r)]) for r in roles for label in "AB")
    return Diff(sides=(a, b), roles=roles, scenario=scenario, analysis=analysis,
                compared=compared)


# -- saying it -----------------------------------------------------------------------------------

def verdict_line(d: Diff) -> str:
    """One line: the same, or where each role differs."""
    from harness.render import words

    a, b = d.sides
    if d.same:
        return (f"same: {b.name} (B) makes the calls {a.name} (A) makes, as "
                f"{' and '.join(r + 's' for r in d.roles)}")
    parts = []
    for label, r in d.compared:
        what = "" if r.verdict.status == "reference" else words.verdict_summary(r.verdict)
        if r.run_failed:
            what += ("; " if what else "") + f"its run: {r.record.outcome}" + \
                (f" ({r.record.detail})" if r.record.detail else "")
        elif r.incomplete:
            what += ("; " if what else "") + "its trace is incomplete"
        if what:
            parts.append(f"{r.role} {r.sample} ({label}): {what}")
    return "differ: " + "; ".join(parts)


def render(d: Diff, fmt: str, width: int | None) -> str:
    from harness.common.escape import visible
    from harness.render import render as render_analysis

    a, b = d.sides
    if fmt == "json":
        import json

        doc = json.loads(render_analysis(d.analysis, "json"))
        doc["exit_code"] = d.exit_code
        doc["diff"] = {"same": d.same, "roles": list(d.roles), "scenario": d.scenario,
                       "sides": [{"label": s.spec.label, "source": s.spec.source,
                                  "kind": s.kind, "name": s.name, "roles": list(s.roles),
                                  "host": s.record.host, "port": s.record.port,
                                  "path": s.record.path, "how": s.how} for s in d.sides]}
        return visible(json.dumps(doc, indent=1, ensure_ascii=False), json=True) + "\n"
    sides = [f"{s.spec.label}: {s.spec.source} — {s.name}, {s.how}" for s in d.sides]
    if fmt == "markdown":
        head = ["# Two traces compared", "", *(f"- {line}" for line in sides), "",
                f"**{verdict_line(d)}**", ""]
        body = render_analysis(d.analysis, "markdown")
        return visible("\n".join(head)) + "\n" + body
    from harness.render.explain import explain

    head = ["Two traces compared", "===================", "", *sides, ""]
    body = render_analysis(d.analysis, "terminal", width)
    why = explain(d.analysis, b.name) if not d.same else ""
    tail = visible(verdict_line(d))
    return visible("\n".join(head)) + "\n" + body + ("\n" + visible(why) if why else "") + \
        "\n" + tail + "\n"


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
