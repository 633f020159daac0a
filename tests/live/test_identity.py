"""A socket is what the kernel says it is: every event on a socket carries its inode (the
`socket:[N]` that /proc/PID/fd/N names and `strace -y` prints), whichever way the program
came by the fd, and the trace says which event released the last reference to it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from harness.tracer import trace_command
from livehelp import (covers, python_program, same_grouping, strace_socket_calls,
                      traced_socket_calls)

pytestmark = pytest.mark.live


def raw_trace(argv, **spawn):
    """A trace with its inodes (livehelp.trace leaves them out)."""
    with open(os.devnull, "rb") as devnull, open(os.devnull, "wb") as out:
        spawn.setdefault("stdin", devnull.fileno())
        spawn.setdefault("stdout", out.fileno())
        return trace_command([str(a) for a in argv], timeout=10, **spawn)


def strace(argv, scratch):
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    log = scratch / "strace.log"
    r = subprocess.run(["strace", "-f", "-y", "-qq", "-o", str(log), *map(str, argv)],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=20)
    assert r.returncode == 0
    return strace_socket_calls(log.read_text())


def released_by(t, sid):
    return [e for e in t.events if sid in e.released]


def test_a_socket_inherited_from_an_untraced_parent_is_known_by_its_inode():
    """The program's stdin and stdout are a socket this test made: the tracer never saw it
    made, and still names it, with its family, type and the same inode as the kernel's."""
    mine, theirs = socket.socketpair()
    mine.sendall(b"ping")
    mine.shutdown(socket.SHUT_WR)
    t = raw_trace([sys.executable, "-c",
                   "import os; os.write(1, os.read(0, 16))"],
                  stdin=theirs.fileno(), stdout=theirs.fileno())
    theirs.close()
    assert mine.recv(16) == b"ping"
    inode = os.fstat(mine.fileno()).st_ino
    peer_inode = {e.sock.inode for e in t.events if e.sock is not None}
    io = [e for e in t.events if e.syscall in ("read", "write") and e.sock is not None]
    assert [(e.syscall, e.sock.fd) for e in io] == [("read", 0), ("write", 1)]
    assert len(peer_inode) == 1 and peer_inode != {inode}  # the other end of the pair
    (s,) = {(e.sock.family, e.sock.type, e.sock.id) for e in io}
    assert s[:2] == ("AF_UNIX", "SOCK_STREAM")
    # the test still holds its end: the program's exit is not said to release it
    assert not any(e.released for e in t.events)
    mine.close()


def test_inetd_style_the_connection_ends_with_the_last_holder(scratch):
    """dup2(conn, 0); dup2(conn, 1); close(conn); exec cat: cat's reads and writes are on the
    accepted connection, and only the last of its fds to go releases it; the server's own
    close of it, before the echo, releases nothing."""
    t = raw_trace(python_program("inetd.py"), cwd=scratch)
    assert t.exit_status == 0
    server, client, handler = [p.pid for p in t.processes]
    conn = next(e for e in t.events if e.syscall == "accept4").sock.id
    cat = [e for e in t.events if e.pid == handler and e.syscall in ("read", "write")]
    assert cat and {e.sock.id for e in cat} == {conn}
    (last,) = released_by(t, conn)
    assert last.pid == handler and last.seq > max(e.seq for e in cat)
    closes = [e for e in t.events if e.syscall == "close" and e.sock and e.sock.id == conn]
    assert [e.pid for e in closes if not e.released][:1] == [server]
    assert same_grouping(strace(python_program("inetd.py"), scratch), traced_socket_calls(t))


@pytest.mark.parametrize("when", ["", "late"])
def test_a_connection_passed_over_a_unix_socket_is_the_same_socket(scratch, when):
    """SCM_RIGHTS: the worker's fd is a new number for the accepted connection, which the
    tracer knows by its inode; the server's close after sending it releases nothing, the
    worker's close does, even when the server closes its fd before the worker has received
    the message (the connection in flight is held by the message)."""
    argv = python_program("passfd.py") + ([when] if when else [])
    t = raw_trace(argv, cwd=scratch)
    assert t.exit_status == 0
    server, client, worker = [p.pid for p in t.processes]
    accepted = next(e for e in t.events if e.syscall == "accept4").sock
    echo = [e for e in t.events if e.pid == worker and e.syscall in ("recvfrom", "sendto")
            and e.sock.family == "AF_INET"]
    assert [e.sock.inode for e in echo] == [accepted.inode] * 2
    assert {e.sock.id for e in echo} == {accepted.id}
    (last,) = released_by(t, accepted.id)
    assert (last.pid, last.syscall) == (worker, "close")
    server_close = next(e for e in t.events if e.pid == server and e.syscall == "close"
                        and e.sock.id == accepted.id)
    receive = next(e for e in t.events if e.pid == worker and e.syscall == "recvmsg")
    if when == "late":  # the program makes this order; without the delay either may come
        assert server_close.seq < receive.seq  # first (a loaded machine gives both)
    assert server_close.seq < last.seq and not server_close.released
    assert same_grouping(strace(argv, scratch), traced_socket_calls(t))


def _given_a_listener(run):  # type: ignore[no-untyped-def]
    """Run `run(listener)` (a command whose fd 0 is a listening socket this test made, as
    socket activation gives one) while a client of this test connects and echoes."""
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def client() -> None:
        with socket.create_connection(listener.getsockname(), timeout=10) as c:
            c.sendall(b"ping")
            got.append(c.recv(16))
    th = threading.Thread(target=client)
    th.start()
    try:
        return run(listener)
    finally:
        th.join(timeout=15)
        listener.close()
        assert got == [b"ping"]


def test_a_listener_never_seen_made_added_to_epoll_after_another_fd(scratch, cbin):
    """A server given its listening socket (socket activation) adds it to an epoll set with
    a second epoll_ctl, after a pipe, then waits: the tracer learns fd 0 is a socket when
    epoll_ctl names it, records the epoll_ctl, the wait as watching it (it stays in the
    interest set) and the accept as on it; strace -f -y shows the same calls on the same
    sockets (but the wait, whose watched fds it does not print). (The tracer once died here
    with a traceback: learning fd 0 took it out of the interest set being walked.)"""
    argv = [cbin["givenepoll"]]
    t = _given_a_listener(lambda ls: raw_trace(argv, stdin=ls.fileno()))
    assert t.exit_status == 0
    ctl = [e for e in t.events if e.syscall == "epoll_ctl"]
    (wait,) = [e for e in t.events if e.syscall == "epoll_wait"]
    accept = next(e for e in t.events if e.syscall.startswith("accept"))
    listener = accept.sock.id if accept.sock.fd == 0 else dict(accept.ids)[0]
    own = next(e for e in t.events if e.syscall == "socket")
    # the pipe's epoll_ctl is no socket's; the socket's own, then the listener's, are
    assert [(e.args["fd"], dict(e.ids).get(e.args["fd"])) for e in ctl] \
        == [(own.result, own.sock.id), (0, listener)]
    assert wait.args["watching"] == sorted([0, own.result])
    assert [r["fd"] for r in wait.args["ready"]] == [0]
    assert dict(wait.ids) == {0: listener, own.result: own.sock.id}

    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    log = scratch / "strace.log"

    def traced(ls: socket.socket) -> None:
        r = subprocess.run(["strace", "-f", "-y", "-qq", "-o", str(log), *argv],
                           stdin=ls.fileno(), stdout=subprocess.DEVNULL, timeout=20)
        assert r.returncode == 0
    _given_a_listener(traced)
    theirs, ours = strace_socket_calls(log.read_text()), traced_socket_calls(t)
    # (this view of ours leaves out the call that made a socket; strace's names socket's)
    theirs = {i: [c for c in calls if c[0] != "socket"] for i, calls in theirs.items()}
    assert len(theirs) == len(ours) == 3 and covers(ours, theirs)
    extra = sorted(c for calls in ours.values() for c in calls if c[0] == "epoll_wait")
    assert extra == sorted([("epoll_wait", 0), ("epoll_wait", own.result)])
