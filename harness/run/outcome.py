"""The outcome of a run: what its client had to print (the echo, its manifest's text, or
anything), what run.yaml keeps of each program's output (bounded: the end of a stderr, the
start of a stdout, read without holding it all), and the judgement, ok or what went wrong,
in one line (judge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.formats.model import RunRecord
from harness.run.manifest import Expect
from harness.run.options import RunOptions
from harness.tables.scenario import Scenario

STDERR_TAIL = 2000  # bytes of the end of each stderr kept in run.yaml
STDOUT_KEPT = 1000  # bytes of the start of the client's stdout kept in run.yaml
SHOWN_BYTES = 60  # bytes of what a client printed quoted in a run's detail


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


def expected_output(scenario: Scenario, message: str, expect: Expect) -> bytes:
    """What the client must print (`expect: any`: nothing in particular, b"")."""
    if expect.kind == "text":
        return expect.text.encode()
    if expect.kind == "any":
        return b""
    return scenario.expected_output(message)


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
