"""io_uring: a program that does its socket work through a ring is traced for what it does.
The ring's submissions are read at each io_uring_enter's entry and its completions at the
exit, and every socket operation is an event of kind `uring` with the plain call's
arguments, its result, and the socket it worked on (by inode, as any other event). strace
shows only the io_uring_enter calls: every call strace shows on the sockets is there too."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.tracer import trace_command
from livehelp import REPO, covers, strace_socket_calls, traced_socket_calls

pytestmark = pytest.mark.live

HABITS = REPO / "tests" / "habits" / "servers"


@pytest.fixture(scope="module")
def uring_bin(tmp_path_factory) -> dict[str, str]:
    cc = shutil.which("cc")
    if cc is None or not Path("/usr/include/liburing.h").exists():
        pytest.skip("no C compiler or no liburing (apt-get install gcc liburing-dev)")
    out = tmp_path_factory.mktemp("uring")
    built = {}
    for name in ("uring-echo", "uring-socket", "uring-sqpoll"):
        exe = out / name
        subprocess.run([cc, "-O2", "-o", str(exe), str(HABITS / name / "server.c"), "-luring"],
                       check=True)
        built[name] = str(exe)
    return built


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    want = f":{port:04X} 00000000:0000 0A"
    return want in Path("/proc/net/tcp").read_text()


def with_client(run, port: int):
    """Run `run()` (which serves on port) while the reference client talks to it once the
    port listens; the client's output."""
    out: list[bytes] = []

    def client() -> None:
        deadline = time.monotonic() + 10
        while not listening(port) and time.monotonic() < deadline:
            time.sleep(0.01)
        r = subprocess.run([sys.executable, str(REPO / "clients/python-stdlib/client.py"),
                            "127.0.0.1", str(port), "hello"], capture_output=True, timeout=10)
        out.append(r.stdout)

    thread = threading.Thread(target=client)
    thread.start()
    result = run()
    thread.join()
    return result, out[0] if out else b""


def trace_server(exe: str):
    port = free_port()
    with open(os.devnull, "rb") as devnull, open(os.devnull, "wb") as null:
        return with_client(lambda: trace_command([exe, "127.0.0.1", str(port)], timeout=15,
                                                 stdin=devnull.fileno(),
                                                 stdout=null.fileno()), port)


@pytest.mark.parametrize("name", ["uring-echo", "uring-socket", "uring-sqpoll"])
def test_ring_operations_are_events_on_their_sockets(uring_bin, name):
    t, printed = trace_server(uring_bin[name])
    assert t.exit_status == 0 and printed == b"hello"
    ops = [e for e in t.events if e.kind == "uring"]
    names = [e.syscall for e in ops]
    expected = ["IORING_OP_ACCEPT", "IORING_OP_RECV", "IORING_OP_SEND", "IORING_OP_CLOSE"]
    if name == "uring-socket":
        expected = ["IORING_OP_SOCKET", *expected]
    assert names == expected
    accept = next(e for e in ops if e.syscall == "IORING_OP_ACCEPT")
    conn = accept.sock
    assert conn.family == "AF_INET" and conn.type == "SOCK_STREAM" and conn.inode
    assert accept.result == conn.fd and accept.fds == (conn.fd,)
    recv, send, close = ops[-3:]
    assert recv.args["data"] == send.args["data"] == "hello"
    assert recv.result == send.result == 5 and close.result == 0
    assert {e.sock.id for e in (recv, send, close)} == {conn.id}
    assert close.released == (conn.id,)  # the ring's close released the connection
    listener = next(e for e in t.events if e.syscall == "listen").sock
    assert dict(accept.ids)[listener.fd] == listener.id
    if name == "uring-socket":  # the listener itself made by the ring
        assert ops[0].sock.id == listener.id and ops[0].args["domain"] == "AF_INET"
    setup = next(e for e in t.events if e.syscall == "io_uring_setup")
    assert ("IORING_SETUP_SQPOLL" in setup.args["flags"]) == (name == "uring-sqpoll")
    enters = [e for e in t.events if e.syscall == "io_uring_enter"]
    assert sum(e.args["completed"] for e in enters) == len(ops)


def test_everything_strace_shows_on_the_sockets_is_traced(uring_bin, tmp_path):
    """strace -f -y sees the listener's calls and never the connection (only
    io_uring_enter): each of its calls on a socket is in the trace, on the same socket."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    port = free_port()
    log = tmp_path / "strace.log"
    with_client(lambda: subprocess.run(["strace", "-f", "-y", "-qq", "-o", str(log),
                                        uring_bin["uring-echo"], "127.0.0.1", str(port)],
                                       stdin=subprocess.DEVNULL, timeout=20), port)
    theirs = strace_socket_calls(log.read_text())
    t, _ = trace_server(uring_bin["uring-echo"])
    ours = traced_socket_calls(t)
    assert len(theirs) == 1  # the listener; the connection is never named to strace
    assert covers(ours, theirs)
    conn = next(e for e in t.events if e.syscall == "IORING_OP_ACCEPT").sock.inode
    assert [c[0] for c in ours[conn]] == ["IORING_OP_RECV", "IORING_OP_SEND",
                                          "IORING_OP_CLOSE"]
