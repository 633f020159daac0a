"""Helpers shared by the live tracer tests: running commands under the tracer (in this
process or through the CLI), picking events apart, checking /proc for leftovers."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.formats.model import SocketIdentity, SyscallEvent, Trace

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
REPO = HERE.parents[1]
PYTHON = sys.executable  # the real interpreter: `python3` on PATH may be a forking shim

# -- running ------------------------------------------------------------------------------


def trace(argv: list[str], *, cwd: Path | str | None = None, seccomp: bool = True,
          data_bytes: int = 64, timeout: float = 10.0, stdout: Path | None = None) -> Trace:
    """Run argv under the tracer in this process, stdin from /dev/null, stdout to a file
    when one is given."""
    from harness.tracer import trace_command

    with open(os.devnull, "rb") as devnull, open(stdout or os.devnull, "wb") as out:
        t = trace_command([str(a) for a in argv], seccomp=seccomp, data_bytes=data_bytes,
                          timeout=timeout, cwd=str(cwd) if cwd else None,
                          stdin=devnull.fileno(), stdout=out.fileno())
    return without_inodes(t)


def without_inodes(t: Trace) -> Trace:
    """The trace with its socket inodes left out, once they are checked: every socket an
    event names has one, and one inode is one socket id (the inodes change from run to run;
    the ids the tests name do not)."""
    if all(e.sock is None or e.sock.inode is None for e in t.events):
        return t  # stripped already
    by_id: dict[int, int] = {}
    for ev in t.events:
        if ev.sock is not None:
            assert isinstance(ev.sock.inode, int) and ev.sock.inode > 0, ev
            assert by_id.setdefault(ev.sock.id, ev.sock.inode) == ev.sock.inode, ev
    assert len(set(by_id.values())) == len(by_id), by_id
    return replace(t, events=tuple(replace(e, sock=replace(e.sock, inode=None))
                                   if e.sock is not None else e for e in t.events))


def printed_ints(path: Path) -> list[int]:
    """The numbers a test program printed (ports it learned, for instance)."""
    return [int(x) for x in path.read_text().split()]


def harness_cli(args: list[str], *, cwd: Path | str | None = None, timeout: float = 20.0,
                wrap: list[str] | None = None,
                preexec: Any = None) -> subprocess.CompletedProcess[str]:
    """`python -m harness ARGS` as a child process (run from the repository root so that
    the package is importable), with SIGINT at its default so that Ctrl-C semantics hold
    even when the test run itself ignores SIGINT."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [*(wrap or []), PYTHON, "-m", "harness", *map(str, args)]
    return subprocess.run(cmd, cwd=cwd or REPO, env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout,
                          preexec_fn=preexec or default_sigint)


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def python_program(name: str) -> list[str]:
    return [PYTHON, str(PROGRAMS / name)]


# -- looking at traces --------------------------------------------------------------------


def label(ev: SyscallEvent) -> str:
    """The syscall name, with a leading + for process records."""
    return ("+" if ev.kind == "process" else "") + ev.syscall


def names(t: Trace, pid: int | None = None, tid: int | None = None) -> list[str]:
    """Labels of the events of one process (or one thread), in trace order."""
    return [label(e) for e in t.events
            if (pid is None or e.pid == pid) and (tid is None or e.tid == tid)]


def calls(t: Trace, pid: int | None = None) -> list[SyscallEvent]:
    """The syscall events (not process records) of one process, in order."""
    return [e for e in t.events if e.kind == "syscall" and (pid is None or e.pid == pid)]


def brief(ev: SyscallEvent) -> tuple[str, dict[str, Any], int | None, str | None]:
    return (ev.syscall, ev.args, ev.result, ev.errno)


def inet(port: int, address: str = "127.0.0.1") -> dict[str, Any]:
    return {"family": "AF_INET", "address": address, "port": port}


def inet6(port: int, address: str = "::1", **extra: Any) -> dict[str, Any]:
    return {"family": "AF_INET6", "address": address, "port": port, "flowinfo": 0,
            "scope_id": 0, **extra}


def sock(fd: int, family: str, type_: str, local: Any = None, peer: Any = None,
         id: int | None = None) -> SocketIdentity:
    """A socket as an event names it; `id` is the tracer's socket id (1, 2, ... in the order
    the trace met the sockets)."""
    return SocketIdentity(fd=fd, family=family, type=type_, local=local, peer=peer, id=id)


def check_calls(got: list[SyscallEvent], expected: list[tuple]) -> None:
    """Compare events with (syscall, args, result, errno) tuples one by one, so that a
    failure names the first event that differs."""
    assert [e.syscall for e in got] == [x[0] for x in expected]
    for i, (ev, want) in enumerate(zip(got, expected)):
        assert brief(ev) == tuple(want), f"event {i} ({ev.syscall}) differs"


def normalized(t: Trace, drop: tuple[str, ...] = ()) -> dict[tuple[int, int], list[tuple]]:
    """Per (process index, thread index): the events with seq, ts_ns, pid, tid removed, and
    ports and pids replaced by the order in which they first appear, so that two runs of the
    same program compare equal. `drop` names "syscall.arg" entries to leave out."""
    t = without_inodes(t)
    pids: dict[int, str] = {}
    for i, p in enumerate(t.processes):
        pids.setdefault(p.pid, f"P{i}")
        for j, tid in enumerate(p.threads):
            pids.setdefault(tid, f"P{i}.{j}")
    ports: dict[int, str] = {}

    def walk(x: Any, key: str | None = None) -> Any:
        if isinstance(x, dict):
            return {k: walk(v, k) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        if isinstance(x, SocketIdentity):
            return walk(x.to_dict())
        if key == "port" and isinstance(x, int) and x:
            return ports.setdefault(x, f"port{len(ports)}")
        if key == "child" and isinstance(x, int):
            return pids.get(x, x)
        return x

    out: dict[tuple[int, int], list[tuple]] = {}
    order = {p.pid: i for i, p in enumerate(t.processes)}
    threads = {tid: (order[p.pid], j) for p in t.processes for j, tid in enumerate(p.threads)}
    for ev in sorted(t.events, key=lambda e: (threads[e.tid], e.seq)):
        result = pids.get(ev.result, ev.result) if ev.kind == "process" and \
            ev.syscall in ("fork", "vfork", "clone") else ev.result
        args = {k: v for k, v in ev.args.items() if f"{ev.syscall}.{k}" not in drop}
        out.setdefault(threads[ev.tid], []).append(
            (ev.kind, ev.syscall, walk(args), result, ev.errno, list(ev.fds), walk(ev.sock)))
    return out


# -- strace -------------------------------------------------------------------------------

STRACE_LINE = re.compile(r"^(\d+) +([a-z_0-9]+)\(")


def strace_sequences(log: str) -> list[list[str]]:
    """Per traced task of an `strace -f -o` log: the names of the calls it made, in order
    (resumed halves of interrupted lines are not counted twice)."""
    seqs: dict[int, list[str]] = {}
    for line in log.splitlines():
        m = STRACE_LINE.match(line)
        if m:
            seqs.setdefault(int(m.group(1)), []).append(m.group(2))
    return list(seqs.values())


# -- processes ----------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, str] | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def state(pid: int) -> str | None:
    """The state letter of a process (R, S, t, Z, ...), None when it is gone."""
    st = proc_status(pid)
    return st["State"].split()[0] if st else None


def all_pids() -> Iterable[int]:
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def leftover_tracees() -> list[int]:
    """Processes this process still has as children or still traces."""
    me = str(os.getpid())
    left = []
    for pid in all_pids():
        st = proc_status(pid)
        if st and pid != os.getpid() and (st.get("PPid", "").strip() == me
                                          or st.get("TracerPid", "").strip() == me):
            left.append(pid)
    return left


def traced_stopped() -> list[int]:
    """Every process in tracing stop ('t')."""
    return [pid for pid in all_pids() if state(pid) == "t"]


STRACE_SOCKET_FD = re.compile(r"(-?\d+)<socket:\[(\d+)\]>")
STRACE_CALL = re.compile(r"^(\d+) +([a-z_0-9]+)\((.*)$")


def strace_socket_calls(log: str) -> dict[int, list[tuple[str, int]]]:
    """From `strace -f -y` output: per socket inode, the calls that named it, as (syscall,
    fd), in order. A call split by another process's line is counted once, from its
    first half."""
    out: dict[int, list[tuple[str, int]]] = {}
    for line in log.splitlines():
        m = STRACE_CALL.match(line)
        if m is None:
            continue
        name, rest = m.group(2), m.group(3)
        if name == "socketpair":  # its fds are what it made
            continue
        # the arguments only: the result may name an fd too (accept's new socket), and the
        # fds a recvmsg received are new ones (SCM_RIGHTS)
        args = rest.rsplit(") = ", 1)[0].split(" <unfinished ...>")[0]
        if name in ("recvmsg", "recvmmsg"):
            args = re.sub(r"cmsg_data=\[[^]]*\]", "", args)
        seen = set()
        for fd, inode in STRACE_SOCKET_FD.findall(args):
            if (fd, inode) not in seen:
                seen.add((fd, inode))
                out.setdefault(int(inode), []).append((name, int(fd)))
    return out


def traced_socket_calls(t: Trace) -> dict[int, list[tuple[str, int]]]:
    """The same view of a trace of ours: per socket inode, the calls whose arguments named
    one of its fds, as (syscall, fd), in order (the socket a call created is not named by
    it: accept's new fd, socketpair's two)."""
    inodes = {ev.sock.id: ev.sock.inode for ev in t.events if ev.sock is not None}
    out: dict[int, list[tuple[str, int]]] = {}
    for ev in t.events:
        if ev.kind == "process":
            continue
        pairs = dict(ev.ids)
        if ev.sock is not None:
            pairs.setdefault(ev.sock.fd, ev.sock.id)
        for fd, sid in pairs.items():
            if fd not in ev.fds:
                # a socket only ever named beside another has no identity of its own
                out.setdefault(inodes.get(sid, -sid), []).append((ev.syscall, fd))
    return out


def same_grouping(a: dict[int, list[tuple[str, int]]],
                  b: dict[int, list[tuple[str, int]]]) -> bool:
    """Whether two per-socket views hold the same calls on the same number of sockets
    (inodes differ from run to run: each socket is compared by the calls it saw)."""
    def shape(view: dict[int, list[tuple[str, int]]]) -> list[list[tuple[str, int]]]:
        return sorted(sorted(calls) for calls in view.values())
    return shape(a) == shape(b)


def covers(ours: dict[int, list[tuple[str, int]]],
           theirs: dict[int, list[tuple[str, int]]]) -> bool:
    """Whether every socket of `theirs` (strace's view) is a socket of `ours` whose calls
    hold all of its calls, in order (ours may see more: calls strace cannot, as a ring's)."""
    def within(small: list[tuple[str, int]], big: list[tuple[str, int]]) -> bool:
        it = iter(big)
        return all(call in it for call in small)
    left = list(ours.values())
    for calls in sorted(theirs.values(), key=len, reverse=True):
        match = next((c for c in left if within(calls, c)), None)
        if match is None:
            return False
        left.remove(match)
    return True
