"""Run a server and a client under one tracer and write their traces.

The server starts first; the client starts the moment the server's traced listen() succeeds
(never a probe connection: it would use up the server's one accept). Both are timed out and
killed on timeout; their output is kept; the echo is checked byte for byte. The traces and the
run's record are written as soon as the run ends, atomically. (What the server's events say
is read by harness.run.serverwatch; the run's outcome is judged by harness.run.outcome.)
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.formats import store
from harness.formats.model import RunRecord, SyscallEvent
from harness.run.argv import base_values, expand
from harness.run.manifest import OWN_PORT, Sample
from harness.run.options import RunOptions
from harness.run.outcome import _kept_stdout, _stdout, _tail, expected_output, judge
from harness.run.serverwatch import Waiting, learned_port, ready_event
from harness.tables.scenario import Scenario
from harness.formats.store import TRACE_FILES

SERVER_GRACE = 2.0  # seconds a server gets to exit after its client has finished
PORT_ATTEMPTS = 3  # runs on fresh ports when another program takes the chosen one first


def free_port(host: str, kind: str = "tcp") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    stype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    with socket.socket(family, stype) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def run_pair(server: Sample, client: Sample, scenario: Scenario, out_dir: Path,
             build_dirs: dict[tuple[str, str], Path | None], options: RunOptions) -> RunRecord:
    """Run one pair in one scenario; write server.jsonl, client.jsonl and run.yaml in out_dir.
    The port is one the kernel had free a moment before; when something else took it
    before the server's bind (EADDRINUSE), the run is made again on another one."""
    host = scenario.host or ""
    own, port_from = own_port(server, client, scenario)
    attempts = PORT_ATTEMPTS if port_from is None else 1  # a port of its own: no other one
    for attempt in range(1, attempts + 1):
        port = own if isinstance(own, int) else \
            free_port(host, scenario.port) if scenario.port and port_from is None else 0
        record, port_taken = _run_once(server, client, scenario, out_dir, build_dirs, options,
                                       host, port, port_from)
        if not (port_taken and record.outcome != "ok") or attempt == attempts:
            break
    if port_taken and record.outcome != "ok":
        taken, holder = port_taken
        if attempts > 1:  # ports the harness picked, each taken before the server's bind
            said = (f"the port was taken at each of {attempts} tries; port {taken}, the "
                    f"last, was {holder}")
        else:
            said = f"port {taken} is {holder}"
        record = RunRecord(**{**record.to_dict(), "detail": f"{record.detail} ({said})"})
    store.write_run_file(out_dir, record)
    return record


def own_port(server: Sample, client: Sample,
             scenario: Scenario) -> tuple[int | str | None, str | None]:
    """(the run's port when the harness does not choose it, where it comes from): the
    server's own (`port: 1234`, or `port: own`: learned from its traced listen), else the
    client's (`port: 1234`: it connects there whatever it is given); (None, None) when the
    harness picks a free one."""
    if not scenario.port or getattr(scenario, "kernel_served", False):
        return None, None
    mine = server.port_for(scenario.name)
    if mine == OWN_PORT:
        return OWN_PORT, "learned"
    if isinstance(mine, int):
        return mine, "server"
    theirs = client.port_for(scenario.name)
    if isinstance(theirs, int):
        return theirs, "client"
    return None, None


def _run_once(server: Sample, client: Sample, scenario: Scenario, out_dir: Path,
              build_dirs: dict[tuple[str, str], Path | None], options: RunOptions, host: str,
              port: int, port_from: str | None = None
              ) -> tuple[RunRecord, tuple[int, str] | None]:
    """One run on one port (port_from "learned": the port the server's listen got): its
    record, and, when the server's bind found the port taken, the port and who held it
    (harness.run.ports.port_holder)."""
    from harness.run.ports import host_addresses, port_holder
    from harness.tracer.core import Root, TraceError, Tracer

    start = time.monotonic()
    expect = client.expect_for(scenario.name)
    expected = expected_output(scenario, options.message, expect)
    learn = port_from == "learned"
    port_taken: tuple[int, str] | None = None
    elsewhere: list[int] = []  # ports the server got ready on that were not the run's
    waiting = Waiting(forever=server.serves == "forever")
    stopped = False  # the server served forever: stopped once its client was done
    out_dir.mkdir(parents=True, exist_ok=True)
    tracer = Tracer(seccomp=options.seccomp, data_bytes=options.data_bytes)
    # each trace is written as it is taken (constant memory), whole once its command is done
    # (a scenario the kernel serves runs its client alone: there is no server trace)
    sinks = {role: store.trace_writer_in(out_dir, role) for role in TRACE_FILES
             if role == "client" or not scenario.kernel_served}
    # the run's packets wait in the capture socket's buffer until the run is over
    capture = _open_capture(scenario, port, options) if not learn else \
        "no packets: the server never listened on a port of its own"
    roots: dict[str, Root] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="harness-run-") as tmp:
        path = os.path.join(tmp, "echo.sock") if scenario.path else None
        values = scenario.placeholders(host, port, options.message, path)
        sv = {**base_values(server, build_dirs.get(("server", server.name))), **values}
        cv = {**base_values(client, build_dirs.get(("client", client.name))), **values,
              **scenario.client_placeholders()}
        server_argv = expand(server.run_for(scenario.name), sv)
        client_argv = expand(client.run_for(scenario.name), cv)

        def learned(ev: SyscallEvent) -> None:
            """port: own: the run's port is the one the server's ready call got."""
            nonlocal port, client_argv, capture
            got = learned_port(ev, scenario)
            if got:
                port = got
                cv.update({**scenario.placeholders(host, port, options.message, path),
                           **scenario.client_placeholders()})
                client_argv = expand(client.run_for(scenario.name), cv)
                capture = _open_capture(scenario, port, options)

        files = {name: Path(tmp) / name for name in
                 ("server.out", "server.err", "client.out", "client.err")}
        handles = {name: os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                   for name, path in files.items()}
        devnull = os.open(os.devnull, os.O_RDONLY)

        def start_client(root: object, ev: SyscallEvent | None) -> None:
            nonlocal port_taken
            if ev is not None:
                waiting.event(ev)
                if ev.syscall == "bind" and ev.errno == "EADDRINUSE" and port_taken is None:
                    taken = (ev.args.get("addr") or {}).get("port")
                    if taken and (taken == port or learn):  # who holds it, while it does
                        port_taken = (taken, port_holder(taken, scenario.port or "tcp"))
                if learn and not port and "client" not in roots:
                    learned(ev)
            if "client" in roots or (ev is not None
                                     and not ready_event(ev, scenario, port, path)):
                if ev is not None and "client" not in roots and port and \
                        ev.syscall == scenario.ready and ev.result == 0:
                    other = learned_port(ev, scenario)
                    if other and other != port and other not in elsewhere:
                        elsewhere.append(other)
                return
            try:
                roots["client"] = tracer.spawn(
                    client_argv, cwd=str(client.folder), env=_env(client), stdin=devnull,
                    stdout=handles["client.out"], stderr=handles["client.err"],
                    label="client", timeout=options.timeout, sink=sinks["client"])
            except TraceError as e:
                errors.append(f"client: {e}")

        try:
            if scenario.kernel_served:  # no server program: the client starts at once
                start_client(None, None)
                if "client" in roots:
                    tracer.run()
            else:
                try:
                    roots["server"] = tracer.spawn(
                        server_argv, cwd=str(server.folder), env=_env(server), stdin=devnull,
                        stdout=handles["server.out"], stderr=handles["server.err"],
                        label="server", on_event=start_client, timeout=options.timeout,
                        sink=sinks["server"])
                except TraceError as e:
                    errors.append(f"server: {e}")
                if "server" in roots:
                    srv = roots["server"]
                    tracer.run(until=lambda: "client" in roots and roots["client"].done)
                    if not srv.done and not srv.timed_out:
                        # the client is done: the server gets a short grace to exit by itself
                        left = (srv.deadline or 0) - time.monotonic()
                        tracer.set_deadline(srv, max(0.0, min(left, SERVER_GRACE)))
                        cli = roots.get("client")
                        if cli is not None and cli.exit_status == 0 and not cli.timed_out:
                            # a server that serves forever is stopped as soon as it waits
                            # for the next peer, holding no connection
                            tracer.run(until=lambda: waiting.look(tracer, srv))
                            if not srv.done and not srv.timed_out and waiting.waiting:
                                tracer.kill(srv)
                                stopped = True
                        tracer.run()
                        # (or at the end of the grace: killed while it waited for the next
                        # peer, holding a connection it never closed)
                        stopped = stopped or (srv.timed_out and cli is not None
                                              and cli.exit_status == 0 and waiting.waiting)
        finally:
            tracer.kill_all()
            for fd in (*handles.values(), devnull):
                os.close(fd)
            wire_trace, wire_note = _end_capture(capture, out_dir, scenario, port)
        server_root = roots.get("server")
        cli = roots.get("client")
        stdout, stdout_size = _stdout(files["client.out"], expected)
        record = RunRecord(
            scenario=scenario.name, server=server.name, client=client.name, host=host,
            port=port, message=options.message, outcome="ok", path=path,
            sizes=list(scenario.sizes),
            expected_len=len(expected) if scenario.sizes else None,
            server_exit=server_root.exit_status if server_root else None,
            client_exit=cli.exit_status if cli else None,
            client_stdout=_kept_stdout(stdout, stdout_size),
            server_stderr=_tail(files["server.err"]),
            client_stderr=_tail(files["client.err"]),
            server_trace=TRACE_FILES["server"] if server_root else None,
            client_trace=TRACE_FILES["client"] if cli else None,
            wire_trace=wire_trace, wire_note=wire_note,
            duration_s=round(time.monotonic() - start, 3),
            expect=expect.kind, expect_text=expect.text if expect.kind == "text" else None,
            port_from=port_from, server_stopped=stopped,
            host_addresses=list(host_addresses()) if scenario.port else [])
    unwritten = [sink.reason for sink in sinks.values() if sink.reason]
    if unwritten:  # a full disk: the run went on to its end, its traces are lost
        raise store.StoreError(f"{out_dir}: cannot write the run's traces: {unwritten[0]}")
    outcome, detail = judge(record, server_root, cli, errors, options, stdout, expected,
                            stdout_size, expect=expect, stopped=stopped, elsewhere=elsewhere)
    return RunRecord(**{**record.to_dict(), "outcome": outcome, "detail": detail}), port_taken


def _open_capture(scenario: Scenario, port: int, options: RunOptions) -> Any:
    """A capture of the run's packets, or why there is none (a text)."""
    if not options.capture:
        return "not captured (--no-wire)"
    from harness.wire.capture import open_capture

    if scenario.kernel_served:  # ICMP to and from the host: the scenario has no port
        return open_capture(0, "icmp", host=scenario.host or "")
    if not port or scenario.port is None:
        return "no packets: the scenario's sockets are AF_UNIX"
    return open_capture(port, scenario.port)


def _end_capture(capture: Any, out_dir: Path, scenario: Scenario,
                 port: int) -> tuple[str | None, str | None]:
    """Write what the capture holds (wire.jsonl); (its file name, a note on what is missing)."""
    if isinstance(capture, str):
        return None, capture
    from harness.wire.wirefile import write_wire

    try:
        frames, dropped = capture.frames()
    finally:
        capture.close()
    protocol = "icmp" if scenario.kernel_served else scenario.port or "tcp"
    write_wire(out_dir / store.WIRE_FILE, port, protocol, frames, dropped, capture.offset_ns)
    note = f"{dropped} packets dropped by the kernel: the view is partial" if dropped else None
    return store.WIRE_FILE, note


def _env(sample: Sample) -> dict[str, str] | None:
    if not sample.env:
        return None
    return {**os.environ, **sample.env}
