"""Trace files are written while the trace is taken: a long trace's events reach the disk
before the program ends, the file gets its name only when whole, and a harness killed in the
middle (SIGKILL: nothing can clean up) leaves a `.partial` file that reads as far as it goes,
marked incomplete, with no tracee left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from harness.formats import tracefile
from livehelp import PYTHON, REPO, leftover_tracees, python_program

pytestmark = pytest.mark.live


def start(args: list[str], cwd) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen([PYTHON, "-m", "harness", *map(str, args)], cwd=cwd, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for(check, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_a_killed_harness_leaves_a_partial_trace_that_reads_as_far_as_it_goes(scratch):
    out = scratch / "t.jsonl"
    partial = scratch / "t.jsonl.partial"
    h = start(["trace", "-o", out, "--", *python_program("chatter.py"), 3000], scratch)
    try:
        # 6000 socket calls: the first batches are on disk while the program sleeps
        wait_for(lambda: partial.exists() and partial.stat().st_size > 100_000)
        assert not out.exists()  # never a file under its name before it is whole
        h.send_signal(signal.SIGKILL)
        h.wait(timeout=10)
    finally:
        if h.poll() is None:
            h.kill()
            h.wait()
    time.sleep(0.2)
    assert leftover_tracees() == []  # the tracees died with their tracer (EXITKILL)
    t = tracefile.load(partial)
    assert not t.complete and t.exit_status is None and t.processes == ()
    assert len(t.events) >= 100  # the 100 KB waited for, written by batch or by age
    assert [e.seq for e in t.events] == list(range(1, len(t.events) + 1))
    assert {e.syscall for e in t.events[-100:]} <= {"sendto", "recvfrom"}
    assert not out.exists()


def test_a_whole_trace_has_its_name_and_its_footer(scratch):
    out = scratch / "t.jsonl"
    h = start(["trace", "-o", out, "--", *python_program("chatter.py"), 3000], scratch)
    try:
        assert h.stdout is not None and h.stdout.readline() == "done\n"
        h.send_signal(signal.SIGTERM)  # the harness stops like on Ctrl-C: the trace is whole
        assert h.wait(timeout=20) == 128 + signal.SIGTERM
    finally:
        if h.poll() is None:
            h.kill()
            h.wait()
    assert sorted(p.name for p in scratch.iterdir()) == ["t.jsonl"]
    t = tracefile.load(out)
    assert t.complete and t.exit_status == 128 + signal.SIGKILL
    lines = out.read_text().splitlines()
    footer = tracefile.json.loads(lines[-1])
    records = [line for line in lines if line.startswith('{"type":"socket"')]
    assert len(records) == 2  # the socketpair's two ends, each written once
    assert footer["type"] == "footer"
    assert footer["events"] == len(t.events) == len(lines) - 2 - len(records)
    sends = [e for e in t.events if e.syscall == "sendto"]
    assert len(sends) == 3000 and sends[-1].args["data"] == "8 bytes!"


def test_a_sockets_identity_is_written_once_and_again_when_it_changes(scratch):
    """Schema 5: each socket's identity is a socket record written before the first event on
    it, and again only when it changes (a bind, a connect, an accepted peer); events name it
    `[fd, id]`. Read back, every event carries the identity the tracer held when it
    recorded the event: the same events as the ones it handed out while tracing."""
    from harness.tracer.core import Tracer

    path = scratch / "t.jsonl"
    seen: list = []
    tracer = Tracer()
    try:
        root = tracer.spawn([*python_program("passfd.py")], cwd=str(scratch),
                            sink=tracefile.TraceWriter(path, follow=False),
                            on_event=lambda _root, ev: seen.append(ev))
        tracer.run()
    finally:
        tracer.kill_all()
    assert root.exit_status == 0
    t = tracefile.load(path)
    assert t.events == tuple(seen)
    lines = [tracefile.json.loads(line) for line in path.read_text().splitlines()[1:-1]]
    written: dict[int, dict] = {}
    changes = 0
    for d in lines:
        if d.get("type") == "socket":
            sock = d["socket"]
            assert written.get(sock["id"]) != sock  # never the same identity twice in a row
            written[sock["id"]] = sock
            changes += 1
        elif "sock" in d:
            fd, sid = d["sock"]
            assert sid in written  # its record came first
    ids = {e.sock.id for e in seen if e.sock is not None}
    identities = {(e.sock.id, e.sock.family, e.sock.type, str(e.sock.local), str(e.sock.peer),
                   e.sock.inode) for e in seen if e.sock is not None}
    assert set(written) == ids and changes == len(identities)
    # the listener, its connection's two ends, the socketpair's two: five sockets
    assert len(ids) == 5 and changes > len(ids)  # some learned an address after their start
