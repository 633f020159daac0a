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
from typing import Any

from harness import store
from harness.model import RunRecord, SyscallEvent
from harness.samples import Sample, base_values, expand
from harness.scenario import Scenario, load_scenarios  # noqa: F401  (load_scenarios: callers)
from harness.store import TRACE_FILES

DEFAULT_MESSAGE = "hello, sockets"
STDERR_TAIL = 2000  # bytes of the end of each stderr kept in run.yaml
STDOUT_KEPT = 1000  # bytes of the start of the client's stdout kept in run.yaml
SHOWN_BYTES = 60  # bytes of what a client printed quoted in a run's detail
# the longest message: one argv item of a program (the kernel's MAX_ARG_STRLEN, less its NUL)
MAX_MESSAGE_BYTES = 32 * 4096 - 1
SERVER_GRACE = 2.0  # seconds a server gets to exit after its client has finished
PORT_ATTEMPTS = 3  # runs on fresh ports when another program takes the chosen one first


@dataclass(frozen=True)
class RunOptions:
    timeout: float = 10.0  # seconds each of server and client may run
    message: str = DEFAULT_MESSAGE
    seccomp: bool = True
    data_bytes: int = 64
    capture: bool = True  # capture the run's packets (the wire view) where allowed


def free_port(host: str, kind: str = "tcp") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    stype = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
    with socket.socket(family, stype) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ready_event(ev: SyscallEvent, scenario: Scenario, port: int, path: str | None) -> bool:
    """The server is ready once its `ready` call (listen, or bind for UDP) succeeded on the
    run's address (or on a socket whose address the tracer has not learned)."""
    if ev.syscall != scenario.ready or ev.result != 0:
        return False
    local = ev.sock.local if ev.sock is not None else None
    if not local:
        return True
    if path is not None:
        return local.get("path") == path
    return local.get("port") in (port, 0) if ev.syscall == "listen" else local.get("port") == port


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _tail(path: Path) -> str:
    """The end of a program's stderr as run.yaml keeps it: the last STDERR_TAIL bytes, after
    a line saying where it was cut when it was longer (read from the end: a program that
    printed gigabytes costs no memory)."""
    from harness.safefile import read_tail

    data, size = read_tail(path, STDERR_TAIL)
    text = data.decode("utf-8", errors="replace")
    if size > len(data):
        return f"… ({_size(size)}, the last {_size(len(data))} kept)\n" + text
    return text


def _stdout(path: Path, expected: bytes) -> tuple[bytes, int]:
    """(the start of what the client printed: enough to compare with what it had to print,
    and its whole size)."""
    from harness.safefile import read_head

    return read_head(path, max(len(expected), STDOUT_KEPT) + 1)


def _kept_stdout(data: bytes, size: int) -> str:
    text = data[:STDOUT_KEPT].decode("utf-8", errors="replace")
    if size > STDOUT_KEPT:
        return f"{text}… ({_size(size)}, the first {_size(STDOUT_KEPT)} kept)"
    return text


def _shown(data: bytes, size: int) -> str:
    """What a client printed, quoted in a detail line: short, whatever it printed."""
    if size <= SHOWN_BYTES:
        return repr(data)
    return f"{data[:SHOWN_BYTES]!r}… ({_size(size)})"


def message_problem(message: str) -> str | None:
    """Why message cannot be a run's message (None when it can)."""
    try:
        n = len(message.encode("utf-8"))
    except UnicodeEncodeError:
        return "--message: not UTF-8 text (the echo is checked as UTF-8)"
    if n > MAX_MESSAGE_BYTES:
        return (f"--message: {n:,} bytes, more than the {MAX_MESSAGE_BYTES:,} one argument "
                f"of a program may be")
    if "\0" in message:
        return "--message: holds a NUL byte, which no argument of a program may"
    return None


def run_pair(server: Sample, client: Sample, scenario: Scenario, out_dir: Path,
             build_dirs: dict[tuple[str, str], Path | None], options: RunOptions) -> RunRecord:
    """Run one pair in one scenario; write server.jsonl, client.jsonl and run.yaml in out_dir.
    The port is one the kernel had free a moment before; when something else took it
    before the server's bind (EADDRINUSE), the run is made again on another one."""
    host = scenario.host or ""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port(host, scenario.port) if scenario.port else 0
        record, port_taken = _run_once(server, client, scenario, out_dir, build_dirs, options,
                                       host, port)
        if not (port_taken and record.outcome != "ok") or attempt == PORT_ATTEMPTS:
            break
    if port_taken and record.outcome != "ok":
        record = RunRecord(**{**record.to_dict(), "detail": f"{record.detail} (the port was "
                              f"taken by another program at each of {PORT_ATTEMPTS} tries)"})
    store.write_run_file(out_dir, record)
    return record


def _run_once(server: Sample, client: Sample, scenario: Scenario, out_dir: Path,
              build_dirs: dict[tuple[str, str], Path | None], options: RunOptions, host: str,
              port: int) -> tuple[RunRecord, bool]:
    """One run on one port: its record, and whether the server's bind found the port taken."""
    from harness.tracer.core import TraceError, Tracer

    start = time.monotonic()
    expected = scenario.expected_output(options.message)
    port_taken = False
    out_dir.mkdir(parents=True, exist_ok=True)
    tracer = Tracer(seccomp=options.seccomp, data_bytes=options.data_bytes)
    # each trace is written as it is taken (constant memory), whole once its command is done
    sinks = {role: store.trace_writer_in(out_dir, role) for role in TRACE_FILES}
    # the run's packets wait in the capture socket's buffer until the run is over
    capture = _open_capture(scenario, port, options)
    roots: dict[str, object] = {}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="harness-run-") as tmp:
        path = os.path.join(tmp, "echo.sock") if scenario.path else None
        values = scenario.placeholders(host, port, options.message, path)
        sv = {**base_values(server, build_dirs.get(("server", server.name))), **values}
        cv = {**base_values(client, build_dirs.get(("client", client.name))), **values}
        server_argv = expand(server.run_for(scenario.name), sv)
        client_argv = expand(client.run_for(scenario.name), cv)
        files = {name: Path(tmp) / name for name in
                 ("server.out", "server.err", "client.out", "client.err")}
        handles = {name: os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                   for name, path in files.items()}
        devnull = os.open(os.devnull, os.O_RDONLY)

        def start_client(root: object, ev: SyscallEvent) -> None:
            nonlocal port_taken
            if ev.syscall == "bind" and ev.errno == "EADDRINUSE" and port:
                port_taken = True
            if "client" in roots or not ready_event(ev, scenario, port, path):
                return
            try:
                roots["client"] = tracer.spawn(
                    client_argv, cwd=str(client.folder), env=_env(client), stdin=devnull,
                    stdout=handles["client.out"], stderr=handles["client.err"],
                    label="client", timeout=options.timeout, sink=sinks["client"])
            except TraceError as e:
                errors.append(f"client: {e}")

        try:
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
                    tracer.run()
        finally:
            tracer.kill_all()
            for fd in (*handles.values(), devnull):
                os.close(fd)
            wire_trace, wire_note = _end_capture(capture, out_dir, scenario, port)
        srv = roots.get("server")
        cli = roots.get("client")
        stdout, stdout_size = _stdout(files["client.out"], expected)
        record = RunRecord(
            scenario=scenario.name, server=server.name, client=client.name, host=host,
            port=port, message=options.message, outcome="ok", path=path,
            sizes=list(scenario.sizes),
            expected_len=len(expected) if scenario.sizes else None,
            server_exit=srv.exit_status if srv else None,
            client_exit=cli.exit_status if cli else None,
            client_stdout=_kept_stdout(stdout, stdout_size),
            server_stderr=_tail(files["server.err"]),
            client_stderr=_tail(files["client.err"]),
            server_trace=TRACE_FILES["server"] if srv else None,
            client_trace=TRACE_FILES["client"] if cli else None,
            wire_trace=wire_trace, wire_note=wire_note,
            duration_s=round(time.monotonic() - start, 3))
    unwritten = [sink.reason for sink in sinks.values() if sink.reason]
    if unwritten:  # a full disk: the run went on to its end, its traces are lost
        raise store.StoreError(f"{out_dir}: cannot write the run's traces: {unwritten[0]}")
    outcome, detail = judge(record, srv, cli, errors, options, stdout, expected, stdout_size)
    return RunRecord(**{**record.to_dict(), "outcome": outcome, "detail": detail}), port_taken


def _open_capture(scenario: Scenario, port: int, options: RunOptions) -> Any:
    """A capture of the run's packets, or why there is none (a text)."""
    if not options.capture:
        return "not captured (--no-wire)"
    if not port or scenario.port is None:
        return "no packets: the scenario's sockets are AF_UNIX"
    from harness.wire.capture import open_capture

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
    write_wire(out_dir / store.WIRE_FILE, port, scenario.port or "tcp", frames, dropped,
               capture.offset_ns)
    note = f"{dropped} packets dropped by the kernel: the view is partial" if dropped else None
    return store.WIRE_FILE, note


def judge(record: RunRecord, srv: object | None, cli: object | None, errors: list[str],
          options: RunOptions, stdout: bytes, expected: bytes,
          stdout_size: int | None = None) -> tuple[str, str | None]:
    """The outcome of a run, and one line saying what went wrong. stdout: what the client
    printed, or its start when it printed more (stdout_size: how much)."""
    size = len(stdout) if stdout_size is None else stdout_size
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
    for role, root in (("client", cli), ("server", srv)):
        left = _outlived(root)
        if left:  # its first process exited; what it started did not (a daemon)
            status = root.exit_status  # type: ignore[attr-defined]
            return "timeout", (f"{role} exited with status {status}, but {left} process"
                               f"{'es' if left > 1 else ''} it started kept running (killed)")
    if cli.timed_out:  # type: ignore[attr-defined]
        return "timeout", f"client did not finish within {options.timeout:g} s (killed)"
    if srv.timed_out:  # type: ignore[attr-defined]
        return "timeout", "server did not exit after its client finished (killed)"
    if record.client_exit != 0:
        return "client-failed", f"client exited with status {record.client_exit}"
    if record.server_exit != 0:
        return "server-failed", f"server exited with status {record.server_exit}"
    if size != len(expected) or stdout[:len(expected)] != expected:
        if len(expected) > 80:
            return "echo-mismatch", (f"client printed {size} bytes, expected "
                                     f"{len(expected)}" + _first_difference(stdout, expected))
        return "echo-mismatch", (f"client printed {_shown(stdout, size)}, expected "
                                 f"{expected!r}")
    return "ok", None


def _outlived(root: Any) -> int:
    """How many processes of a timed-out command the harness killed after its first process
    had exited by itself (0 when the first process was the one killed)."""
    if not root.timed_out or root.exit_status is None or not root.procs:
        return 0
    first = root.procs[0]
    if first.exit_signal is not None:
        return 0
    return sum(1 for p in root.procs[1:] if p.exit_signal == "SIGKILL")


def _first_difference(got: bytes, want: bytes) -> str:
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            return f"; first difference at byte {i}"
    return ""


def _env(sample: Sample) -> dict[str, str] | None:
    if not sample.env:
        return None
    return {**os.environ, **sample.env}
