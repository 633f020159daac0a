"""Threads, forks, execs and deaths: which process and thread each event belongs to, the
process records, exit statuses, and that nothing survives the tracer."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from livehelp import (PYTHON, REPO, brief, calls, check_calls, default_sigint, harness_cli,
                      inet, names, python_program, sock, state, trace, traced_stopped)

pytestmark = pytest.mark.live


def test_threaded_client(scratch):
    t = trace(python_program("threaded.py"), cwd=scratch)
    assert t.exit_status == 0
    (p,) = t.processes
    assert len(p.threads) == 2 and p.threads[0] == p.pid
    worker = p.threads[1]
    assert worker != p.pid
    assert names(t, tid=p.pid) == [
        "+execve", "socket", "bind", "listen", "getsockname", "+clone", "accept4",
        "getsockname", "recvfrom", "sendto", "close", "close", "+exit"]
    assert names(t, tid=worker) == ["socket", "connect", "sendto", "recvfrom", "close"]
    assert all(e.pid == p.pid for e in t.events)
    clone = next(e for e in t.events if e.syscall == "clone")
    assert (clone.kind, clone.tid, clone.args, clone.result) == (
        "process", p.pid, {"child": worker, "thread": True}, worker)
    # the worker's calls come after the clone that made it
    assert all(e.seq > clone.seq for e in t.events if e.tid == worker)
    port = t.events[4].args["addr"]["port"]
    mine = [e for e in calls(t) if e.tid == worker]
    assert mine[0].fds == (4,) and [e.args["fd"] for e in mine[1:]] == [4] * 4
    assert brief(mine[1]) == ("connect", {"fd": 4, "addr": inet(port)}, 0, None)
    assert mine[2].args["data"] == "ping" and mine[3].args["data"] == "ping"
    assert mine[4].sock == sock(4, "AF_INET", "SOCK_STREAM", peer=inet(port), id=2)
    accept = next(e for e in t.events if e.syscall == "accept4")
    assert accept.tid == p.pid and accept.fds == (5,)


def test_forking_server(cbin, scratch):
    """fork after accept: the handler child's events carry its own pid and it knows the
    connection it inherited is a socket, and which one."""
    t = trace([cbin["forksrv"]], cwd=scratch)
    assert t.exit_status == 0
    root, client, handler = t.processes
    assert (root.parent, client.parent, handler.parent) == (None, root.pid, root.pid)
    assert len({root.pid, client.pid, handler.pid}) == 3
    assert [(p.exit_code, p.exit_signal) for p in t.processes] == [(0, None)] * 3
    assert client.exe == handler.exe == root.exe == cbin["forksrv"]
    assert names(t, root.pid) == ["+execve", "socket", "bind", "listen", "getsockname", "+fork",
                                  "accept", "+fork", "close", "close", "+exit"]
    assert names(t, client.pid) == ["socket", "connect", "sendto", "recvfrom", "close", "+exit"]
    assert names(t, handler.pid) == ["close", "recvfrom", "sendto", "close", "+exit"]
    assert all(e.tid == e.pid for e in t.events)
    forks = [e for e in t.events if e.syscall == "fork"]
    assert [(e.pid, e.kind, e.args, e.result) for e in forks] == [
        (root.pid, "process", {"child": client.pid, "thread": False}, client.pid),
        (root.pid, "process", {"child": handler.pid, "thread": False}, handler.pid)]
    r = calls(t, root.pid)
    port = r[3].args["addr"]["port"]
    peer_port = r[4].args["addr"]["port"]
    listener = sock(3, "AF_INET", "SOCK_STREAM", local=inet(port), id=1)
    conn = sock(4, "AF_INET", "SOCK_STREAM", local=inet(port), peer=inet(peer_port), id=3)
    assert brief(r[4]) == ("accept", {"fd": 3, "addr": inet(peer_port)}, 4, None)
    assert r[4].fds == (4,) and r[4].sock == conn
    assert [e.sock for e in r[5:]] == [conn, listener]
    h = calls(t, handler.pid)
    check_calls(h, [
        ("close", {"fd": 3}, 0, None),
        ("recvfrom", {"fd": 4, "size": 16, "flags": [], "data": "ping", "data_len": 4}, 4, None),
        ("sendto", {"fd": 4, "size": 4, "flags": [], "data": "ping", "data_len": 4}, 4, None),
        ("close", {"fd": 4}, 0, None),
    ])
    assert [e.sock for e in h] == [listener, conn, conn, conn]
    c = calls(t, client.pid)
    assert brief(c[1]) == ("connect", {"fd": 4, "addr": inet(port)}, 0, None)
    assert c[3].args["flags"] == ["MSG_WAITALL"]
    exits = [e for e in t.events if e.syscall == "exit"]
    assert sorted((e.pid, e.kind, e.args, e.result) for e in exits) == sorted(
        (p.pid, "process", {"code": 0}, 0) for p in t.processes)
    assert exits[-1].pid == root.pid  # it waits for both children


def test_exec_of_another_program(scratch):
    """subprocess (vfork + exec) runs a second interpreter, which writes to the socket it
    inherited: the child's exec record, its own events, the parent's view of the spawn."""
    t = trace(python_program("spawn.py"), cwd=scratch)
    assert t.exit_status == 0
    parent, child = t.processes
    real = os.path.realpath(PYTHON)
    argv = [PYTHON, "-c", "import os; os.write(3, b'hi')"]
    assert (child.parent, child.exe, child.argv) == (parent.pid, real, argv)
    assert names(t, parent.pid) == [
        "+execve", "socketpair", "getsockname", "getsockname", "ioctl", "+vfork", "recvfrom",
        "close", "close", "+exit"]
    assert names(t, child.pid) == ["+execve", "write", "+exit"]
    spawn, = [e for e in t.events if e.syscall == "vfork"]
    assert (spawn.kind, spawn.args, spawn.result) == (
        "process", {"child": child.pid, "thread": False}, child.pid)
    ex, write, end = [e for e in t.events if e.pid == child.pid]
    assert brief(ex) == ("execve", {"exe": real, "argv": argv}, 0, None)
    pair = ({"family": "AF_UNIX"}, {"family": "AF_UNIX"})
    assert brief(write) == ("write", {"fd": 3, "size": 2, "data": "hi", "data_len": 2}, 2, None)
    assert write.sock == sock(3, "AF_UNIX", "SOCK_STREAM", *pair, id=1)
    assert brief(end) == ("exit", {"code": 0}, 0, None)
    ioctl = calls(t, parent.pid)[3]
    assert brief(ioctl) == ("ioctl", {"fd": 3, "request": "FIONCLEX", "arg": 0}, 0, None)


@pytest.mark.parametrize("how, sig", [("term", "SIGTERM"), ("kill", "SIGKILL")])
def test_killed_by_signal(cbin, scratch, how, sig):
    t = trace([cbin["killed"], how], cwd=scratch)
    (p,) = t.processes
    number = signal.Signals[sig].value
    assert t.exit_status == 128 + number
    assert (p.exit_code, p.exit_signal) == (None, sig)
    assert names(t, p.pid) == ["+execve", "socket", "+exit"]
    last = t.events[-1]
    assert (last.kind, last.args, last.result, last.errno) == (
        "process", {"signal": sig}, 128 + number, None)
    r = harness_cli(["trace", "--", cbin["killed"], how], cwd=scratch)
    assert r.returncode == 128 + number, r.stderr


def test_killed_inside_a_call(cbin, scratch):
    """A process killed (from outside the harness) while blocked in accept: the call is
    recorded without a result and, as its arguments are read when calls return, without
    arguments. (When the harness kills it, the arguments come from /proc: see the SIGINT
    test.)"""
    t = trace([cbin["killed"], "accept"], cwd=scratch)
    assert t.exit_status == 128 + 9
    root, child = t.processes
    assert names(t, root.pid) == ["+execve", "socket", "bind", "listen", "+fork", "accept",
                                  "+exit"]
    accept = calls(t, root.pid)[-1]
    assert (accept.syscall, accept.result, accept.errno, accept.args) == (
        "accept", None, None, {})
    assert (root.exit_signal, child.exit_code) == ("SIGKILL", 0)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_to_the_tracer_leaves_nothing_behind(cbin, scratch, signum, status):
    """Ctrl-C (SIGINT to the harness alone), or SIGTERM, while the tracee and its child
    block: the harness exits 130 (143) and neither tracee is left, running or stopped."""
    h = subprocess.Popen([PYTHON, "-m", "harness", "trace", "--", cbin["block"]], cwd=REPO,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint,
                         env=dict(os.environ, PYTHONPATH=str(REPO)))
    guard = threading.Timer(15, h.kill)  # never hang the test run on a stuck harness
    guard.start()
    try:
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = h.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "listen(" in line:
                break
        text = "".join(seen)
        pids = {int(x) for x in re.findall(r"^\[(\d+)", text, re.M)}
        pids |= {int(x) for x in re.findall(r"child=(\d+)", text)}
        assert len(pids) == 2, text
        time.sleep(0.2)  # let both reach their blocking calls
        assert all(state(pid) not in (None, "Z") for pid in pids)
        h.send_signal(signum)
        rest = h.stderr.read()
        got = h.wait(timeout=10)
    finally:
        guard.cancel()
        if h.poll() is None:
            h.kill()
            h.wait()
    assert got == status, rest
    # gone, or at most a zombie waiting for init to reap it; never running nor stopped
    assert {pid: state(pid) for pid in pids if state(pid) not in (None, "Z")} == {}
    stopped = traced_stopped()
    assert not [pid for pid in stopped if pid in pids], stopped
    # each blocked call is recorded as unfinished, then each process's death
    assert re.search(r"accept\(fd=\d+, addr=NULL\) = \?", rest), rest
    assert re.search(r"recvfrom\(fd=\d+, .*\) = \?", rest), rest
    assert rest.count("exit(signal=SIGKILL)") == 2, rest


def test_a_stop_while_a_child_is_started_waits_until_it_is_adopted(scratch):
    """Ctrl-C landing inside spawn (here: while its trace file is opened) is held until the
    child is registered and its trace started: then kill_all ends both, the trace whole."""
    from harness.formats import tracefile
    from harness.tracer.core import Tracer

    class InterruptedAtStart(tracefile.TraceWriter):
        def start(self, header):
            os.kill(os.getpid(), signal.SIGINT)  # as if Ctrl-C came now
            super().start(header)

    tracer = Tracer()
    path = scratch / "t.jsonl"
    interrupted = False
    # Ctrl-C raises KeyboardInterrupt here, whatever the test runner's process does with it
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        tracer.spawn([PYTHON, "-c", "import time; time.sleep(30)"],
                     sink=InterruptedAtStart(path, follow=False))
        tracer.run()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        tracer.kill_all()
        signal.signal(signal.SIGINT, before)
    assert interrupted
    trace = tracefile.load(path)
    assert trace.complete and trace.processes[0].exit_signal == "SIGKILL"
    assert not list(scratch.glob("*.partial"))


def test_a_process_that_stops_itself_stays_stopped_until_sigcont(scratch):
    """A group-stop is the tracee's own: the tracer leaves it stopped (PTRACE_LISTEN), as
    strace does, instead of running it on; SIGCONT wakes it."""
    out = scratch / "out"
    t = trace(python_program("selfstop.py"), cwd=scratch, stdout=out)
    assert t.exit_status == 0
    state, resumed = out.read_text().splitlines()
    assert state.split(":")[1].strip() in ("t", "T")
    assert float(resumed.split()[-1]) >= 0.4
