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

from harness.formats import store
from harness.formats.model import RunRecord, SyscallEvent
from harness.run.manifest import OWN_PORT, Expect, Sample, base_values, expand
from harness.tables.scenario import Scenario, load_scenarios  # noqa: F401  (load_scenarios: callers)
from harness.formats.store import TRACE_FILES

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
    from harness.common.safefile import read_tail

    data, size = read_tail(path, STDERR_TAIL)
    text = data.decode("utf-8", errors="replace")
    if size > len(data):
        return f"… ({_size(size)}, the last {_size(len(data))} kept)\n" + text
    return text


def _stdout(path: Path, expected: bytes) -> tuple[bytes, int]:
    """(the start of what the client printed: enough to compare with what it had to print,
    and its whole size)."""
    from harness.common.safefile import read_head

    return read_head(path, max(len(expected), STDOUT_KEPT) + 1)


def _kept_stdout(data: bytes, size: int) -> str:
    text = data[:STDOUT_KEPT].decode("utf-8", errors="replace")
    if size > STDOUT_KEPT:
        return f"{text}… ({_size(size)}, the first {_size(STDOUT_KEPT)} kept)"
    return text


def _shown(data: bytes, size: int) -> str:
    """What a client printed, quoted in a detail line: short, whatever it printed; as text
    when it is UTF-8 ('你好'), else as bytes (b'\\xff')."""
    if size <= SHOWN_BYTES:
        return quoted(data)
    return f"{quoted(data[:SHOWN_BYTES], cut=True)}… ({_size(size)})"


def quoted(data: bytes, cut: bool = False) -> str:
    """data quoted as text when it is UTF-8 (cut: its end may stop inside a character,
    which is left out), else as bytes."""
    for end in range(len(data), max(len(data) - (3 if cut else 0), 0) - 1, -1):
        try:
            return repr(data[:end].decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return repr(data)


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


def learned_port(ev: SyscallEvent, scenario: Scenario) -> int | None:
    """The port a server that chooses its own (`port: own`) is ready on: its `ready` call
    (listen; bind for UDP) succeeded on an IP socket of the scenario's kind; the port from
    the socket's address, or, for a listener never bound (the kernel gave it one), from the
    kernel's socket table by its inode."""
    if ev.syscall != scenario.ready or ev.result != 0 or ev.sock is None:
        return None
    if ev.sock.family not in ("AF_INET", "AF_INET6") or \
            ev.sock.type != ("SOCK_DGRAM" if scenario.port == "udp" else "SOCK_STREAM"):
        return None
    local = ev.sock.local or {}
    port = local.get("port") if ev.syscall == "listen" else \
        (ev.args.get("addr") or {}).get("port") or local.get("port")
    if isinstance(port, int) and port > 0:
        return port
    if ev.sock.inode:
        from harness.run.ports import port_of_inode

        return port_of_inode(ev.sock.inode, scenario.port or "tcp")
    return None


ACCEPTS = frozenset({"accept", "accept4"})


class Waiting:
    """What a server does once its client is done: is it waiting for the next peer (a
    `while True: accept` loop), so that the harness may stop it? Known from the tracer's
    calls in flight (a call whose exit it waits for) and the connections the server's
    events say it holds (accepted, their last reference not released)."""

    def __init__(self, forever: bool):
        self.forever = forever  # its manifest says `serves: forever`
        self.conns: set[int] = set()  # ids of the accepted sockets it holds
        self.calls: tuple[str, ...] = ()  # its calls in flight, at the last look
        self.looked = False

    def event(self, ev: SyscallEvent) -> None:
        if ev.syscall in ACCEPTS and not ev.failed and ev.sock is not None \
                and ev.sock.id is not None:
            self.conns.add(ev.sock.id)
        for i in ev.released:
            self.conns.discard(i)

    def look(self, tracer: Any, root: Any) -> bool:
        """Note the server's calls in flight (not once it is being killed: they are then
        the ones it was killed in); whether it waits for the next peer and holds no
        connection."""
        if root.done or root.timed_out:
            return False
        self.calls = tuple(tracer.names.get(t.nr, "?") for t in list(tracer.tasks.values())
                           if t.proc.root is root and t.nr >= 0)
        self.looked = True
        return self.waiting and not self.conns

    @property
    def waiting(self) -> bool:
        """Blocked in accept (or, `serves: forever`, every call in flight a wait for the next
        peer: an accept, a readiness wait, a datagram receive)."""
        if not self.calls:
            return False
        if not self.forever:
            return any(c in ACCEPTS for c in self.calls)
        from harness.normalize.syscalls import default_table

        table = default_table()
        return all(c in ACCEPTS or table.in_class(c, "readiness") or
                   table.in_class(c, "recv_like") for c in self.calls)


def _run_once(server: Sample, client: Sample, scenario: Scenario, out_dir: Path,
              build_dirs: dict[tuple[str, str], Path | None], options: RunOptions, host: str,
              port: int, port_from: str | None = None
              ) -> tuple[RunRecord, tuple[int, str] | None]:
    """One run on one port (port_from "learned": the port the server's listen got): its
    record, and, when the server's bind found the port taken, the port and who held it
    (harness.run.ports.port_holder)."""
    from harness.run.ports import host_addresses, port_holder
    from harness.tracer.core import TraceError, Tracer

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
    roots: dict[str, object] = {}
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
            duration_s=round(time.monotonic() - start, 3),
            expect=expect.kind, expect_text=expect.text if expect.kind == "text" else None,
            port_from=port_from, server_stopped=stopped,
            host_addresses=list(host_addresses()) if scenario.port else [])
    unwritten = [sink.reason for sink in sinks.values() if sink.reason]
    if unwritten:  # a full disk: the run went on to its end, its traces are lost
        raise store.StoreError(f"{out_dir}: cannot write the run's traces: {unwritten[0]}")
    outcome, detail = judge(record, srv, cli, errors, options, stdout, expected, stdout_size,
                            expect=expect, stopped=stopped, elsewhere=elsewhere)
    return RunRecord(**{**record.to_dict(), "outcome": outcome, "detail": detail}), port_taken


def expected_output(scenario: Scenario, message: str, expect: Expect) -> bytes:
    """What the client must print (`expect: any`: nothing in particular, b"")."""
    if expect.kind == "text":
        return expect.text.encode()
    if expect.kind == "any":
        return b""
    return scenario.expected_output(message)


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


def judge(record: RunRecord, srv: object | None, cli: object | None, errors: list[str],
          options: RunOptions, stdout: bytes, expected: bytes,
          stdout_size: int | None = None, expect: Expect | None = None,
          stopped: bool = False, elsewhere: list[int] | None = None) -> tuple[str, str | None]:
    """The outcome of a run, and one line saying what went wrong. stdout: what the client
    printed, or its start when it printed more (stdout_size: how much); expect: what it had
    to print (the echo unless its manifest says); stopped: the server served forever and
    the harness stopped it once its client was done (not a failure); elsewhere: ports the
    server got ready on that were not the run's."""
    size = len(stdout) if stdout_size is None else stdout_size
    if errors:
        return "error", "; ".join(errors)
    if srv is None:  # the kernel served the run (icmp-echo): only the client ran
        return _judge_client(record, cli, options, stdout, expected, size, expect)
    if srv.exec_error:  # type: ignore[attr-defined]
        return "server-failed", f"server could not start: {srv.exec_error}"  # type: ignore
    if cli is None:
        if srv.timed_out and elsewhere:  # type: ignore[attr-defined]
            ports = ", ".join(map(str, elsewhere))
            return "timeout", (f"server never listened on the run's port {record.port} within "
                               f"{options.timeout:g} s (killed); it listened on {ports}, a "
                               f"port of its own: its manifest can say `port: {elsewhere[0]}` "
                               f"(or `port: own`)")
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
    if srv.timed_out and not stopped:  # type: ignore[attr-defined]
        return "timeout", "server did not exit after its client finished (killed)"
    if record.client_exit != 0:
        return "client-failed", f"client exited with status {record.client_exit}"
    if record.server_exit != 0 and not stopped:
        return "server-failed", f"server exited with status {record.server_exit}"
    return check_output(stdout, expected, size, expect or Expect())


def check_output(stdout: bytes, expected: bytes, size: int,
                 expect: Expect) -> tuple[str, str | None]:
    """Whether the client printed what it had to (its manifest's `expect`): the echo byte
    for byte, the text (or the text and one line end), or anything (`any`)."""
    if expect.kind == "any":
        return "ok", None
    if expect.kind == "text":
        if size <= len(expected) + 2 and stdout in (expected, expected + b"\n",
                                                     expected + b"\r\n"):
            return "ok", None
        return "echo-mismatch", (f"client printed {_shown(stdout, size)}, expected "
                                 f"{quoted(expected)} (its manifest's `expect`)")
    if size != len(expected) or stdout[:len(expected)] != expected:
        if len(expected) > 80:
            return "echo-mismatch", (f"client printed {size} bytes, expected "
                                     f"{len(expected)}" + _first_difference(stdout, expected))
        return "echo-mismatch", (f"client printed {_shown(stdout, size)}, expected "
                                 f"{quoted(expected)}")
    return "ok", None


def _judge_client(record: RunRecord, cli: Any, options: RunOptions, stdout: bytes,
                  expected: bytes, size: int,
                  expect: Expect | None = None) -> tuple[str, str | None]:
    """The outcome of a run with no server program: its client's alone."""
    if cli is None or cli.exec_error:
        return "client-failed", f"client could not start: {cli.exec_error if cli else '?'}"
    left = _outlived(cli)
    if left:
        return "timeout", (f"client exited with status {cli.exit_status}, but {left} process"
                           f"{'es' if left > 1 else ''} it started kept running (killed)")
    if cli.timed_out:
        return "timeout", f"client did not finish within {options.timeout:g} s (killed)"
    if record.client_exit != 0:
        return "client-failed", f"client exited with status {record.client_exit}"
    return check_output(stdout, expected, size, expect or Expect())


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
