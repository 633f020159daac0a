"""The two ways of stopping (seccomp filter, every syscall) record the same events, and the
socket calls recorded are the ones strace sees."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from livehelp import normalized, python_program, strace_sequences, trace

pytestmark = pytest.mark.live

# strace's %network class, which is the tracer's `net` class
NETWORK = {"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect",
           "shutdown", "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto",
           "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg"}


def command(cbin, scratch, name):
    if name.endswith(".py"):
        return python_program(name)
    args = {"addrs": [scratch / "s", scratch / "d", f"harness-modes-{scratch.name}"],
            "fds": [scratch / "file"], "execfd": [scratch / "file"]}
    return [cbin[name], *args.get(name, [])]


@pytest.mark.parametrize("name", ["tcp_flags", "addrs", "fds", "execfd", "forksrv",
                                  "threaded.py", "spawn.py"])
def test_seccomp_and_all_syscalls_give_the_same_events(cbin, scratch, name):
    argv = command(cbin, scratch, name)
    fast = trace(argv, cwd=scratch, seccomp=True)
    slow = trace(argv, cwd=scratch, seccomp=False)
    assert (fast.tracer.mode, fast.tracer.fallback_reason) == ("seccomp", None)
    assert (slow.tracer.mode, slow.tracer.fallback_reason) == ("all-syscalls", None)
    assert fast.exit_status == slow.exit_status == 0
    assert len(fast.processes) == len(slow.processes)
    # what select had left of its timeout differs from run to run (and is tested apart,
    # in test_events.py): leave it out here
    drop = ("pselect6.timeout_ms", "select.timeout_ms")
    assert normalized(fast, drop) == normalized(slow, drop)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("name", ["tcp_flags", "addrs", "forksrv", "threaded.py"])
def test_same_socket_calls_as_strace(cbin, scratch, name):
    """Per task, the names of the socket-family calls in order, as strace lists them."""
    argv = [str(a) for a in command(cbin, scratch, name)]
    t = trace(argv, cwd=scratch)
    assert t.exit_status == 0
    ours: dict[int, list[str]] = {}
    for e in t.events:
        if e.kind == "syscall" and e.syscall in NETWORK:
            ours.setdefault(e.tid, []).append(e.syscall)
    log = scratch / "strace.log"
    r = subprocess.run(["strace", "-f", "-qq", "-e", "trace=%network", "-o", str(log), *argv],
                       cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    assert r.returncode == 0, r.stderr
    theirs = strace_sequences(log.read_text())
    assert sorted(ours.values()) == sorted(theirs)
