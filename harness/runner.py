"""Run a server and a client under one tracer and write their traces.

The server starts first; the client starts the moment the server's traced listen() succeeds
(never a probe connection: it would use up the server's one accept). Both are timed out and
killed on timeout; their output is kept; the echo is checked byte for byte. The traces and the
run's record are written as soon as the run ends, atomically.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness import tracefile
from harness.model import RunRecord, SyscallEvent
from harness.samples import Sample, base_values, expand

DEFAULT_MESSAGE = "hello, sockets"
STDERR_TAIL = 2000  # characters of stderr kept in run.yaml
SERVER_GRACE = 2.0  # seconds a server gets to exit after its client has finished


@dataclass(frozen=True)
class RunOptions:
    timeout: float = 10.0  # seconds each of server and client may run
    message: str = DEFAULT_MESSAGE
    host: str = "127.0.0.1"
    seccomp: bool = True
    data_bytes: int = 64


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ready_event(ev: SyscallEvent) -> bool:
    """The server is ready once its listen() succeeded."""
    return ev.syscall == "listen" and ev.result == 0


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-STDERR_TAIL:].decode("utf-8", errors="replace")


def run_pair(server: Sample, client: Sample, scenario: str, out_dir: Path,
             build_dirs: dict[tuple[str, str], Path | None], options: RunOptions) -> RunRecord:
    """Run one pair in one scenario; write server.yaml, client.yaml and run.yaml in out_dir."""
    from harness.tracer.core import TraceError, Tracer

    start = time.monotonic()
    port = free_port(options.host)
    values = {"host": options.host, "port": str(port), "message": options.message, "path": ""}
    sv = {**base_values(server, build_dirs.get(("server", server.name))), **values}
    cv = {**base_values(client, build_dirs.get(("client", client.name))), **values}
    server_argv = expand(server.run, sv)
    client_argv = expand(client.run, cv)

    out_dir.mkdir(parents=True, exist_ok=True)
    tracer = Tracer(seccomp=options.seccomp, data_bytes=options.data_bytes)
    roots: dict[str, object] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="harness-run-") as tmp:
        files = {name: Path(tmp) / name for name in
                 ("server.out", "server.err", "client.out", "client.err")}
        handles = {name: os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                   for name, path in files.items()}
        devnull = os.open(os.devnull, os.O_RDONLY)

        def start_client(root: object, ev: SyscallEvent) -> None:
            if "client" in roots or not ready_event(ev):
                return
            try:
                roots["client"] = tracer.spawn(
                    client_argv, cwd=str(client.folder), env=_env(client), stdin=devnull,
                    stdout=handles["client.out"], stderr=handles["client.err"],
                    label="client", timeout=options.timeout)
            except TraceError as e:
                errors.append(f"client: {e}")

        try:
            try:
                roots["server"] = tracer.spawn(
                    server_argv, cwd=str(server.folder), env=_env(server), stdin=devnull,
                    stdout=handles["server.out"], stderr=handles["server.err"],
                    label="server", on_event=start_client, timeout=options.timeout)
            except TraceError as e:
                errors.append(f"server: {e}")
            if "server" in roots:
                srv = roots["server"]
                tracer.run(until=lambda: "client" in roots and roots["client"].done)
                if not srv.done and not srv.timed_out:
                    # the client is done: the server gets a short grace to exit by itself
                    left = (srv.deadline or 0) - time.monotonic()
                    tracer.set_deadline(srv, max(0.0, min(left, SERVER_GRACE)))
                    tracer.run()
        finally:
            tracer.kill_all()
            for fd in (*handles.values(), devnull):
                os.close(fd)
        srv = roots.get("server")
        cli = roots.get("client")
        if srv is not None:
            tracefile.save(srv.trace(options.data_bytes), out_dir / "server.yaml")
        if cli is not None:
            tracefile.save(cli.trace(options.data_bytes), out_dir / "client.yaml")
        client_stdout = files["client.out"].read_bytes().decode("utf-8", errors="replace")
        record = RunRecord(
            scenario=scenario, server=server.name, client=client.name, host=options.host,
            port=port, message=options.message, outcome="ok",
            server_exit=srv.exit_status if srv else None,
            client_exit=cli.exit_status if cli else None,
            client_stdout=client_stdout, server_stderr=_tail(files["server.err"]),
            client_stderr=_tail(files["client.err"]),
            server_trace="server.yaml" if srv else None,
            client_trace="client.yaml" if cli else None,
            duration_s=round(time.monotonic() - start, 3))
    outcome, detail = judge(record, srv, cli, errors, options)
    record = RunRecord(**{**record.to_dict(), "outcome": outcome, "detail": detail})
    tracefile.write_atomic(out_dir / "run.yaml", _yaml(record.to_dict()))
    return record


def judge(record: RunRecord, srv: object | None, cli: object | None, errors: list[str],
          options: RunOptions) -> tuple[str, str | None]:
    """The outcome of a run, and one line saying what went wrong."""
    if errors:
        return "error", "; ".join(errors)
    assert srv is not None
    if srv.exec_error:  # type: ignore[attr-defined]
        return "server-failed", f"server could not start: {srv.exec_error}"  # type: ignore
    if cli is None:
        if srv.timed_out:  # type: ignore[attr-defined]
            return "timeout", f"server never listened within {options.timeout:g} s (killed)"
        return "server-failed", (f"server exited with status {record.server_exit} before "
                                 "listening")
    if cli.exec_error:  # type: ignore[attr-defined]
        return "client-failed", f"client could not start: {cli.exec_error}"  # type: ignore
    if cli.timed_out:  # type: ignore[attr-defined]
        return "timeout", f"client did not finish within {options.timeout:g} s (killed)"
    if srv.timed_out:  # type: ignore[attr-defined]
        return "timeout", "server did not exit after its client finished (killed)"
    if record.client_exit != 0:
        return "client-failed", f"client exited with status {record.client_exit}"
    if record.server_exit != 0:
        return "server-failed", f"server exited with status {record.server_exit}"
    if record.client_stdout != record.message:
        return "echo-mismatch", (f"client printed {record.client_stdout!r}, expected "
                                 f"{record.message!r}")
    return "ok", None


def _env(sample: Sample) -> dict[str, str] | None:
    if not sample.env:
        return None
    return {**os.environ, **sample.env}


def _yaml(doc: dict) -> str:
    import yaml

    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, width=100)
