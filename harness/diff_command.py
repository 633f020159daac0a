"""A command side of `harness diff` (`--run 'CMD'`, or `-- CMD ARGS...`) run here under the
tracer, its trace in a temporary folder; with `--client 'CMD'`, its client too, started once
the command listens, and the command stopped once its client is done. `{port}` in either's
arguments is a free port.
"""

from __future__ import annotations

import argparse
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.diff_sides import DiffError, Spec

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
    from harness.commands_trace import _past_shim
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

