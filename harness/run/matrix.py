"""Which pairs run in which scenario, and running them all with a progress line each."""

from __future__ import annotations

import datetime
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness.common.errors import HarnessError
from harness.common.escape import visible
from harness.formats.model import FailedSample, MatrixIndex, RunRecord, SkippedSample
from harness.run.options import RunOptions
from harness.run.runner import run_pair
from harness.tables.scenario import Scenario, load_scenarios
from harness.formats.store import StoreError, TracesFolder
from harness.run.build import BuildError, build
from harness.run.manifest import (ManifestError, Sample, discover, sample_folders,
                                  missing_requirement)


class UnknownName(HarnessError, LookupError):
    """A scenario or sample asked for that does not exist (the message lists those that do)."""


@dataclass(frozen=True)
class RunPair:
    """One planned run: a scenario, its server and its client."""

    scenario: Scenario
    server: Sample
    client: Sample

    @property
    def folder(self) -> str:
        return f"{self.scenario.name}/{self.server.name}--{self.client.name}"


@dataclass
class Plan:
    pairs: list[RunPair] = field(default_factory=list)
    skipped: list[SkippedSample] = field(default_factory=list)
    failed: list[FailedSample] = field(default_factory=list)  # toolchain here, build failed
    build_dirs: dict[tuple[str, str], Path | None] = field(default_factory=dict)
    # role -> sample -> the scenarios its manifest lists (the report's "n/a" cells)
    implements: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def plan(roots: list[Path], *, scenarios: list[str] | None, reference: str, cross: bool,
         only: str | None, build_cache: Path, log: Callable[[str], None]) -> Plan:
    """Discover samples, skip those whose toolchain is missing, build the rest, pair them.

    Default pairing: each server with the client of the same name; a sample with no partner of
    its name pairs with the reference's, and so does one whose partner lacks a scenario it has
    (in that scenario). `cross`: every client with every server. `only`: the
    named sample's pair(s) plus the reference pair, for `verify`."""
    found = discover(*roots, names=None if only is None else {only, reference})
    result = Plan()
    usable: dict[str, dict[str, Sample]] = {"server": {}, "client": {}}
    for role, samples in found.items():
        for name, sample in samples.items():
            req = missing_requirement(sample)
            if req is not None:
                result.skipped.append(SkippedSample(name=name, role=role,
                                                    reason=f"{req.command} not found on PATH",
                                                    hint=req.hint))
                continue
            try:
                result.build_dirs[(role, name)] = build(sample, build_cache, log)
            except BuildError as e:
                if e.missing is not None:  # a toolchain missing: skipped, not failed
                    result.skipped.append(SkippedSample(name=name, role=role, reason=str(e)))
                else:
                    result.failed.append(FailedSample(name=name, role=role, reason=str(e),
                                                      output=e.output))
                continue
            usable[role][name] = sample
    servers, clients = usable["server"], usable["client"]
    known_scenarios = load_scenarios()
    for of_role in found.values():
        for sample in of_role.values():
            for name in sample.scenarios:
                if name not in known_scenarios:
                    raise ManifestError(f"{sample.manifest}: unknown scenario {name!r} in "
                                        f"'scenarios' (known: {', '.join(known_scenarios)})")
    for name in scenarios or ():
        if name not in known_scenarios:
            raise UnknownName(f"no scenario named {name!r} (known: "
                              f"{', '.join(known_scenarios)})")
    wanted = scenarios or list(known_scenarios)
    if only is not None and only not in servers and only not in clients:
        if only in found["server"].keys() | found["client"].keys():
            return result  # skipped: the caller reports it
        known = {folder.name for _, folder in sample_folders(*roots)}
        raise UnknownName(f"no sample named {only!r} (known: {', '.join(sorted(known))})")
    names: list[tuple[str, str]] = []
    if cross:
        names = [(s, c) for s in servers for c in clients]
    else:
        for s in servers:
            names.append((s, s if s in clients else reference))
        for c in clients:
            if c not in servers:
                names.append((reference, c))
    if only is not None:
        names = [(s, c) for s, c in names if only in (s, c) or (s, c) == (reference, reference)]
    shown = {name for pair in names for name in pair} | {s.name for s in result.skipped} \
        | {f.name for f in result.failed}
    if only is not None:
        shown = {only, reference}
    result.implements = {role: {name: list(sample.scenarios) for name, sample in
                                samples.items() if name in shown}
                         for role, samples in found.items()}
    for scenario in wanted:
        if known_scenarios[scenario].kernel_served:  # the kernel answers every client
            kernel = kernel_server(known_scenarios[scenario])
            users = [c for c in dict.fromkeys(c for _, c in names)
                     if c in clients and clients[c].implements(scenario)]
            result.pairs += [RunPair(known_scenarios[scenario], kernel, clients[c])
                             for c in users]
            if users:
                result.implements.setdefault("server", {}).setdefault(
                    kernel.name, []).append(scenario)
            continue
        done: set[tuple[str, str]] = set()
        for s, c in names:
            if not cross and s == c:  # its own partner lacks the scenario: the reference's
                if s in servers and c in clients and servers[s].implements(scenario) \
                        and not clients[c].implements(scenario):
                    c = reference
                elif s in servers and c in clients and clients[c].implements(scenario) \
                        and not servers[s].implements(scenario):
                    s = reference
            if (s, c) not in done and s in servers and c in clients \
                    and servers[s].implements(scenario) and clients[c].implements(scenario):
                done.add((s, c))
                result.pairs.append(RunPair(known_scenarios[scenario], servers[s], clients[c]))
    return result


def kernel_server(scenario: Scenario) -> Sample:
    """The server side of a scenario the kernel serves (icmp-echo): no program, shown as
    `kernel` in the grid; the runner starts no server for it and records no server trace."""
    from harness.tables.scenario import KERNEL

    return Sample(name=KERNEL, role="server", folder=Path("/"), language="Linux kernel",
                  api="the kernel's own answer (no server program)", run=["true"],
                  scenarios=[scenario.name])


def stopped_record(pair: RunPair, out_dir: Path, options: RunOptions,
                   why: BaseException) -> RunRecord:
    """The record of a run the harness was stopped in: its traces are whole (the tracer
    ended them when it killed the programs), its outcome an error saying what stopped it."""
    from harness.formats.store import TRACE_FILES
    from harness.run.stopping import stop_signal

    signum = stop_signal(why)
    what = signal.Signals(signum).name if signum is not None else \
        f"{type(why).__name__}: {why}"
    traces = {role: name if (out_dir / name).exists() else None
              for role, name in TRACE_FILES.items()}
    return RunRecord(scenario=pair.scenario.name, server=pair.server.name,
                     client=pair.client.name, host=pair.scenario.host or "", port=0,
                     message=options.message, outcome="error",
                     detail=f"the harness was stopped ({what}) before the run finished",
                     server_trace=traces["server"], client_trace=traces["client"])


def run_all(p: Plan, traces: Path, options: RunOptions, reference: str,
            log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
            jobs: int = 1) -> list[RunRecord]:
    """Run every pair, writing each run's files and the index as soon as it ends. jobs > 1:
    that many runs at a time, each in a worker process of its own, their progress lines and
    the index in the plan's order all the same (harness.run.parallel)."""
    index = MatrixIndex(reference=reference,
                        scenarios=list(dict.fromkeys(x.scenario.name for x in p.pairs)),
                        runs=[],
                        skipped=p.skipped, implements=p.implements, failed=p.failed,
                        started_at=datetime.datetime.now(datetime.timezone.utc).isoformat())
    for s in p.skipped:
        log(f"skip  {s.role} {s.name}: {s.reason}" + (f" (install: {s.hint}; every optional "
                                                      f"toolchain: make deps)" if s.hint else ""))
    for f in p.failed:  # (a build's output, as the runs' details, shown escaped)
        log(visible(f"FAIL  {f.role} {f.name}: {f.reason}", lines=False))
        for line in f.output.splitlines()[-5:]:
            log(f"      {visible(line, lines=False)}")
    store = TracesFolder(traces)
    records: list[RunRecord] = []
    width = len(str(len(p.pairs)))

    def start(i: int) -> Path:
        pair = p.pairs[i]
        out_dir = store.prepare_run(pair.folder)
        # listed before it runs: a harness killed during the run leaves it listed without its
        # run.yaml (the run did not finish), and its traces readable as far as they went
        index.runs.append(pair.folder)
        store.write_index(index)
        return out_dir

    def release(i: int, record: RunRecord) -> None:
        records.append(record)
        label = f"[{i + 1:>{width}}/{len(p.pairs)}] {p.pairs[i].folder}"
        verdict = "ok" if record.ok else f"{record.outcome}: {record.detail}"
        log(visible(f"{label} {verdict} ({record.duration_s:.2f} s)", lines=False))

    if jobs > 1 and len(p.pairs) > 1:
        from harness.run.parallel import claim_of, open_stop_signals, run_ordered

        def work(i: int) -> dict[str, object]:
            """In a worker: the run of pair i, its record as a dict (it crosses a pipe)."""
            pair = p.pairs[i]
            return run_one(store, pair, store.run_folder(pair.folder), p.build_dirs, options,
                           ready=open_stop_signals).to_dict()

        _warm_up(ports=any(x.scenario.port for x in p.pairs))
        run_ordered(len(p.pairs), work, jobs=jobs,
                    claim=lambda i: claim_of(p.pairs[i].server, p.pairs[i].client,
                                             p.pairs[i].scenario),
                    start=start,
                    release=lambda i, d: release(i, RunRecord.from_dict(d)))
    else:
        for i, pair in enumerate(p.pairs):
            out_dir = start(i)
            release(i, run_one(store, pair, out_dir, p.build_dirs, options))
    if not p.pairs:  # nothing ran: the index still says what was skipped or failed
        store.write_index(index)
    return records


def run_one(store: TracesFolder, pair: RunPair, out_dir: Path,
            build_dirs: dict[tuple[str, str], Path | None], options: RunOptions,
            ready: Callable[[], None] = lambda: None) -> RunRecord:
    """One pair's run, its record written; a run the harness was stopped in (Ctrl-C,
    SIGTERM) gets a record that says so. `ready` is called first, where a stop may land."""
    try:
        ready()
        return run_pair(pair.server, pair.client, pair.scenario, out_dir, build_dirs, options)
    except BaseException as e:  # stopped (Ctrl-C, SIGTERM): say so in its record
        try:
            store.write_run(pair.folder, stopped_record(pair, out_dir, options, e))
        except StoreError:
            pass  # (the disk that failed the run fails its record too)
        if isinstance(e, OSError):  # a trace that could not be written: a full disk
            raise StoreError(f"{out_dir}: cannot write the run's traces: "
                             f"{e.strerror or e}") from None
        raise


def _warm_up(ports: bool) -> None:
    """What every run imports, imported once before the workers are forked (each would
    import it again otherwise), and the host's addresses, looked up once (runs on ports)."""
    import harness.tracer.core  # noqa: F401
    import harness.wire.capture  # noqa: F401
    import harness.wire.wirefile  # noqa: F401
    from harness.run.ports import host_addresses

    if ports:
        host_addresses()  # (cached: the workers have it)
