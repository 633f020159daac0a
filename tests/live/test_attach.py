"""`harness trace -p PID`: attach to a running server, as `strace -p` does. Its open sockets
are read from the kernel at the attach (the header lists them), its calls from then on are
traced by socket, and Ctrl-C detaches it and leaves it running."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.formats import tracefile
from livehelp import PYTHON, REPO, default_sigint, python_program, state

pytestmark = pytest.mark.live


def echo(port: int, message: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(message)
        return c.recv(100)


def tracer_pid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    return -1


def test_attach_traces_a_running_server_and_ctrl_c_leaves_it_running(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*python_program("serve.py"), str(port)], stdout=subprocess.PIPE,
                              stdin=subprocess.DEVNULL)
    try:
        assert server.stdout is not None and server.stdout.readline() == b"listening\n"
        assert echo(port, b"before") == b"before"  # not traced: not in the trace
        out = tmp_path / "attached.jsonl"
        harness = subprocess.Popen([PYTHON, "-m", "harness", "trace", "-p", str(server.pid),
                                    "-o", str(out)], cwd=REPO, preexec_fn=default_sigint,
                                   stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # attached once the trace's header is written (the threads are stopped by then, and
        # run on only under the tracer)
        partial = Path(f"{out}.partial")
        deadline = time.monotonic() + 20
        while not (partial.exists() and partial.read_bytes().endswith(b"\n")) \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tracer_pid(server.pid) == harness.pid
        assert echo(port, b"traced") == b"traced"
        assert echo(port, b"again") == b"again"  # the first connection is closed by now
        harness.send_signal(signal.SIGINT)
        _, err = harness.communicate(timeout=20)
        assert harness.returncode == 130 and err == ""
        # detached and running on (not stopped, not traced), serving as before
        assert tracer_pid(server.pid) == 0 and state(server.pid) in ("S", "R")
        assert echo(port, b"after") == b"after"
    finally:
        for p in (harness, server) if "harness" in locals() else (server,):
            if p.poll() is None:
                p.kill()
            p.wait()
    t = tracefile.load(out)
    assert t.complete and t.tracer.mode == "all-syscalls"
    header = tracefile.read_stream(out)
    first = next(header)
    (listener,) = first["attached"]["sockets"]
    assert (listener["family"], listener["type"]) == ("AF_INET", "SOCK_STREAM")
    assert listener["local"]["port"] == port and first["attached"]["pid"] == server.pid
    calls = [(e.syscall, e.sock.id if e.sock else None) for e in t.events
             if e.kind == "syscall"]
    conn = next(e.sock.id for e in t.events if e.syscall == "accept4")
    assert calls[:5] == [("accept4", conn), ("getsockname", conn), ("recvfrom", conn),
                         ("sendto", conn), ("close", conn)]
    accept = next(e for e in t.events if e.syscall == "accept4")
    assert dict(accept.ids)[3] == listener["id"]
    assert not any(e.args.get("data") == "before" for e in t.events)
    assert not any(e.args.get("data") == "after" for e in t.events)


def test_attach_to_no_such_process_is_one_line(tmp_path):
    r = subprocess.run([PYTHON, "-m", "harness", "trace", "-p", "999999999"], cwd=REPO,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "no process 999999999" in r.stderr
