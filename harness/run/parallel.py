"""Running the matrix's pairs several at a time: a pool of worker processes, each running whole
runs, the results handed back and released in the plan's order.

A tracer is the thread that attached, and a waitpid(-1) from any thread of a process may reap
another thread's tracees: runs at the same time must be processes of their own. Each worker
is forked once, before the first run (the plan, the builds and the options are in its memory
then), in a process group of its own (a terminal's Ctrl-C reaches the harness alone, which
passes the signal on: each run is stopped once, as one run is when the harness runs them one
by one), and dies with the harness (the parent death signal, SIGKILL: its tracees die with it,
PTRACE_O_EXITKILL, and leave what a harness killed mid-run leaves). The workers are not pinned
to CPUs, though a ptrace stop costs more when a tracee and its tracer sit on different CPUs:
what a runtime starts follows the CPUs it may use (a JVM's threads, Go's GOMAXPROCS), and the
traces would differ from those of the runs made one after another.

The parent hands out the items in order, as soon as a worker is free and what the next item
holds is not held by a running one (`Claim`: a pair whose port is fixed, or one that must run
alone); it calls `start(i)` just before item i goes to a worker and `release(i, value)` in the
items' order, whatever order they end in. An error of item i (raised in its worker, or by
`start(i)`) is raised when i's turn comes, after the items before it are released; nothing
starts after it. A stop (Ctrl-C, SIGTERM, SIGHUP) of the parent is passed on to the running
workers, whose work ends its run as stopped; the parent waits for them, then raises it.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import socket
import struct
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.common.errors import HarnessError
from harness.run.manifest import Sample
from harness.run.runner import own_port
from harness.run.stopping import Terminated, stop_signal
from harness.tables.scenario import Scenario
from harness.tracer import kernel_proc

# the signals that stop the harness (harness/run/stopping.py, and Ctrl-C): held in a worker
# but while it runs an item, and in the parent while it stops its workers
STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
STOP_GRACE = 20.0  # seconds a stopped worker gets to end its run and say so, then SIGKILL
EXIT_GRACE = 5.0  # seconds an idle worker gets to exit once told to
ALONE = "alone"  # a claim no other run may be running beside
_LENGTH = struct.Struct("!I")

Claim = frozenset[str]


class WorkerLost(HarnessError):
    """A worker process ended without saying how its run went."""


class RemoteTraceback(Exception):
    """The traceback of an error raised in a worker (shown as the cause of the error)."""


# -- which runs may run together ---------------------------------------------------------------

def ephemeral_ports(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> range:
    """The ports the kernel hands out to a bind to port 0 and to a connect without bind."""
    try:
        with open(path) as f:
            low, high = (int(x) for x in f.read().split()[:2])
        return range(low, high + 1)
    except (OSError, ValueError):
        return range(32768, 61000)


def claim_of(server: Sample, client: Sample, scenario: Scenario) -> Claim:
    """What a run holds that no run beside it may: nothing for a run on a port the harness
    picks (a free one, per run) or a unix socket (a path in a folder of its own); `port N` for
    a port fixed by a manifest (`port: 1234`); ALONE for a scenario the kernel serves (a raw
    ICMP socket reads every ICMP packet of the machine, another run's too), for `port: own`
    (the port is known only once the server listens), and for a fixed port among those the
    kernel hands out (another run's client or free port could take it before the bind)."""
    if getattr(scenario, "kernel_served", False):
        return frozenset({ALONE})
    port, _source = own_port(server, client, scenario)
    if port is None:
        return frozenset()
    if not isinstance(port, int) or port in ephemeral_ports():
        return frozenset({ALONE})
    return frozenset({f"port {port}"})


def fits(claim: Claim, running: Iterable[Claim]) -> bool:
    """Whether a run with this claim may start beside the runs holding `running`."""
    held = list(running)
    return not held or ALONE not in claim and all(ALONE not in other and not other & claim
                                                  for other in held)


# -- the messages between the parent and a worker ----------------------------------------------

def _send(sock: socket.socket, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _recv(sock: socket.socket) -> Any:
    """One message (EOFError: the other end is gone)."""
    head = sock.recv(_LENGTH.size, socket.MSG_WAITALL)
    (n,) = _LENGTH.unpack(head) if len(head) == _LENGTH.size else (-1,)
    data = sock.recv(n, socket.MSG_WAITALL) if n >= 0 else b""
    if n < 0 or len(data) < n:
        raise EOFError
    return pickle.loads(data)


def _stop(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def open_stop_signals() -> None:
    """Let the stop signals in: a worker's work calls it where a stop may land (it holds
    them until then; in the harness's own process they are not held and this changes
    nothing)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _outcome_of(work: Callable[[int], Any], i: int) -> tuple[Any, ...]:
    """In a worker: run item i; ("ok", value), ("stopped", signum) or ("raised", error,
    its traceback as text). The stop signals are held again as soon as it ends."""
    try:
        return ("ok", work(i))
    except BaseException as e:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        signum = stop_signal(e)
        if signum is not None:
            return ("stopped", signum)
        try:
            error = pickle.loads(pickle.dumps(e))
        except Exception:  # an error that does not cross a pipe: its message does
            error = HarnessError(f"{type(e).__name__}: {e}")
        return ("raised", error, "".join(traceback.format_exception(e)))
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def _worker(sock: socket.socket, others: list[socket.socket], work: Callable[[int], Any],
            parent: int) -> None:
    """A worker's life: take an item, run it, say how it went, until told to end (None) or
    the parent is gone. Never returns (os._exit: nothing of the parent's runs here twice)."""
    code = 0
    try:
        for other in others:  # the parent's ends: a worker's end is seen by the parent alone
            other.close()
        os.setpgid(0, 0)
        kernel_proc.parent_death_signal(signal.SIGKILL, parent)
        while True:
            try:
                i = _recv(sock)
            except (EOFError, OSError):
                break
            if i is None:
                break
            _send(sock, _outcome_of(work, i))
    except BaseException:
        code = 1
    finally:
        os._exit(code)


@dataclass
class _Worker:
    pid: int
    sock: socket.socket
    item: int | None = None  # the item it runs
    alive: bool = True


class Pool:
    """Worker processes, each forked once, running one item at a time."""

    def __init__(self, work: Callable[[int], Any]):
        self.work = work
        self.workers: list[_Worker] = []

    def fork(self, jobs: int) -> None:
        """Start the workers (each known here before a stop may land)."""
        import sys

        sys.stdout.flush()  # (nothing buffered is written twice)
        sys.stderr.flush()
        parent = os.getpid()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for _ in range(jobs):
                mine, theirs = socket.socketpair()
                pid = os.fork()
                if pid == 0:  # the worker
                    _worker(theirs, [w.sock for w in self.workers] + [mine], self.work, parent)
                theirs.close()
                self.workers.append(_Worker(pid, mine))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def idle(self) -> _Worker | None:
        return next((w for w in self.workers if w.alive and w.item is None), None)

    def busy(self) -> list[_Worker]:
        return [w for w in self.workers if w.alive and w.item is not None]

    def give(self, worker: _Worker, i: int) -> bool:
        """Hand item i to an idle worker; False when the worker is gone."""
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # (busy iff given)
        try:
            _send(worker.sock, i)
            worker.item = i
        except OSError:
            worker.alive = False
            self._reap(worker, EXIT_GRACE)
            return False
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return True

    def wait(self, timeout: float | None = None) -> tuple[int, tuple[Any, ...]] | None:
        """The next item to end and its outcome (None: none ended within timeout). A worker
        that ends without an outcome is lost: its item's outcome says so."""
        busy = self.busy()
        if not busy:
            raise WorkerLost("no worker process is left to run the pairs")
        ready, _, _ = select.select([w.sock for w in busy], [], [], timeout)
        if not ready:
            return None
        worker = next(w for w in busy if w.sock is ready[0])
        i = worker.item
        assert i is not None
        worker.item = None
        try:
            return i, _recv(worker.sock)
        except (EOFError, OSError, pickle.UnpicklingError):
            worker.alive = False
            how = self._reap(worker, EXIT_GRACE)
            return i, ("raised", WorkerLost(f"a worker process ended ({how}) before it said "
                                            f"how its run went"), "")

    def stop(self, signum: int | None) -> None:
        """Pass a stop on to the running workers (None: let them end their items), and wait
        until each has said how its item ended (what their work wrote is on disk)."""
        for w in self.busy():
            if signum is not None:
                try:
                    os.kill(w.pid, signum)
                except ProcessLookupError:
                    pass
        deadline = None if signum is None else time.monotonic() + STOP_GRACE
        while self.busy():
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if left == 0.0 or self.wait(left) is None:
                for w in self.busy():  # (its tracees die with it)
                    self._kill(w)
                break

    def close(self) -> None:
        """End every worker and reap it: none is left behind."""
        for w in self.workers:
            try:
                w.sock.close()  # an idle worker reads the end and exits
            except OSError:
                pass
        for w in self.workers:
            if w.alive:
                if w.item is not None:
                    self._kill(w)
                else:
                    w.alive = False
                    self._reap(w, EXIT_GRACE)

    def _kill(self, w: _Worker) -> None:
        try:
            os.kill(w.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        w.alive = False
        w.item = None
        self._reap(w, None)

    def _reap(self, w: _Worker, grace: float | None) -> str:
        """Wait for the worker's exit (SIGKILL after grace seconds); how it ended."""
        deadline = time.monotonic() + (grace or 0.0)
        try:
            pid, status = os.waitpid(w.pid, os.WNOHANG)
            while not pid and grace is not None and time.monotonic() < deadline:
                time.sleep(0.01)
                pid, status = os.waitpid(w.pid, os.WNOHANG)
            if not pid:
                if grace is not None:
                    os.kill(w.pid, signal.SIGKILL)
                pid, status = os.waitpid(w.pid, 0)
        except ChildProcessError:
            return "gone"
        if os.WIFSIGNALED(status):
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exit status {os.WEXITSTATUS(status)}"


def run_ordered(count: int, work: Callable[[int], Any], *, jobs: int,
                claim: Callable[[int], Claim], start: Callable[[int], object],
                release: Callable[[int, Any], None]) -> None:
    """Run work(0) ... work(count - 1) in up to `jobs` worker processes. work runs in a
    worker with the stop signals held (it lets them in, open_stop_signals, where a stop may
    land) and returns a value that pickles; start and release run here (the module's
    docstring says when)."""
    if count == 0:
        return
    holds = [claim(i) for i in range(count)]
    pool = Pool(work)
    outcomes: dict[int, tuple[Any, ...]] = {}
    claims: dict[int, Claim] = {}  # the running items'
    next_start = next_release = 0
    halted = False  # an item failed: nothing more starts
    try:
        pool.fork(max(1, min(jobs, count)))
        while next_release < count:
            while not halted and next_start < count:
                worker = pool.idle()
                if worker is None or not fits(holds[next_start], claims.values()):
                    break
                i, next_start = next_start, next_start + 1
                try:
                    start(i)
                except Exception as e:  # (a stop is no item's error: it stops them all)
                    outcomes[i] = ("raised", e, "")
                    halted = True
                    break
                if not pool.give(worker, i):
                    outcomes[i] = ("raised", WorkerLost("a worker process ended while idle"),
                                   "")
                    halted = True
                    break
                claims[i] = holds[i]
            if next_release not in outcomes:
                ended = pool.wait()
                if ended is None:
                    continue
                i, outcome = ended
                claims.pop(i, None)
                outcomes[i] = outcome
                if outcome[0] == "stopped":  # a worker was stopped: so is everything
                    raise _stop(outcome[1])
                halted = halted or outcome[0] != "ok"
            while next_release in outcomes:
                i, next_release = next_release, next_release + 1
                outcome = outcomes.pop(i)
                if outcome[0] == "raised":
                    error, text = outcome[1], outcome[2]
                    if text and not isinstance(error, HarnessError):
                        raise error from RemoteTraceback(text)
                    raise error
                release(i, outcome[1])
    except BaseException as e:
        signum = stop_signal(e)
        # stopping: a second stop waits until the workers are stopped and reaped
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS if signum else ())
        try:
            _wind_down(pool, signum)
        finally:
            pool.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        raise
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)  # (every worker is reaped)
    try:
        pool.close()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _wind_down(pool: Pool, signum: int | None) -> None:
    """The running items, once the parent stops: stopped with it (signum), or, after an
    error, let end as they would have (a stop while they end stops them)."""
    try:
        pool.stop(signum)
    except BaseException as again:
        again_signum = stop_signal(again)
        if again_signum is None:
            raise
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        pool.stop(again_signum)
        raise
