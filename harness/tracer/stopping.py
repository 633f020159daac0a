"""Ending traces: the Tracer's part that keeps one timer (ITIMER_REAL) for the roots' deadlines
and the timed flush of the events kept for a sink, kills a root that timed out (its blocked
call's arguments read from /proc first), detaches from an attached process, and kills and
reaps every tracee when the harness stops (a part of harness.tracer.core.Tracer)."""

from __future__ import annotations

import os
import signal
import time

from harness.tracer import kernel
from harness.tracer.base import HELD_SIGNALS, NEVER
from harness.tracer.records import FLUSH_AFTER_NS, Root
from harness.tracer.tasks import SIGTRAP, SYSCALL_TRAP, Tasks

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Stopping(Tasks):
    """Timeouts, detaching, killing (a part of harness.tracer.core.Tracer)."""

    def detach(self, root: Root) -> None:
        """Let an attached process run on untraced: each of its threads is stopped
        (PTRACE_INTERRUPT) and detached, a signal it was about to get delivered."""
        tids = [t.tid for t in self.tasks.values() if t.proc.root is root]
        pending = set()
        for tid in tids:
            try:  # a thread in a stop already (the loop was stopped before it ran on) goes now
                self.pt.resume(kernel.PTRACE_DETACH, tid)
                self.tasks.pop(tid, None)
                continue
            except OSError:
                pass
            try:  # a running one is stopped first
                self.pt.resume(kernel.PTRACE_INTERRUPT, tid)
                pending.add(tid)
            except OSError:
                pass
        while pending:
            got = _wait_any()
            if got is None:
                break
            tid, status = got
            task = self.tasks.get(tid)
            if status & 0xFF != 0x7F:
                self._on_gone(tid, status)
                pending.discard(tid)
                continue
            if task is None or task.proc.root is not root:
                if task is not None:
                    self._resume(task)
                continue
            stop = status >> 8
            sig = stop & 0xFF
            # a signal on its way to the process (not a ptrace stop of ours): it gets it
            deliver = sig if stop >> 8 == 0 and sig not in (SIGTRAP, SYSCALL_TRAP) else 0
            try:
                self.pt.resume(kernel.PTRACE_DETACH, tid, deliver)
            except OSError:
                pass
            self.tasks.pop(tid, None)
            pending.discard(tid)
        for proc in root.procs:
            if proc.alive:
                proc.alive = False
                self.procs.pop(proc.pid, None)
                if proc.mem is not None:
                    proc.mem.close()
        if root.live:
            root.live = 0
            self.live_roots -= 1
        root.end_ns = root.end_ns or time.monotonic_ns()
        root.close()

    def _arm_timer(self) -> None:
        """One timer (ITIMER_REAL) for the nearest of the roots' deadlines and the time the
        events kept for a sink are due to be written."""
        deadlines = [int(r.deadline * 1e9) for r in self.roots if r.deadline is not None
                     and not r.done and not r.timed_out]
        if not deadlines:
            self.deadlines_pending = False
        if self._flush_due:
            deadlines.append(self._flush_due)
        if not deadlines:
            if self._timer_armed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self._timer_armed = False
                self._timer_at = NEVER
            return
        target = min(deadlines)
        if self._timer_armed and self._timer_at <= target:
            return
        signal.setitimer(signal.ITIMER_REAL,
                         max(0.001, (target - time.monotonic_ns()) / 1e9))
        self._timer_armed = True
        self._timer_at = target

    def _on_alarm(self, signum: int, frame: Any) -> None:
        self._timer_armed = False
        self._timer_at = NEVER
        now_ns = time.monotonic_ns()
        if self._flush_due and now_ns >= self._flush_due:
            if self._waiting:  # the loop is blocked in waitpid, with nothing half done
                self._flush_due = 0
                for root in self.roots:
                    if root.sink is not None and root.records and not root.closed:
                        root.flush()
            else:  # the next event writes them, or the next look
                self._flush_due = now_ns + FLUSH_AFTER_NS // 10
        now = now_ns / 1e9
        for root in self.roots:
            if root.deadline is not None and now >= root.deadline and not root.done:
                root.timed_out = True
                self.kill(root)
        self._arm_timer()

    def kill(self, root: Root) -> None:
        """SIGKILL every live process of root (their exits are reaped by the loop). A task
        blocked in a call keeps it: its arguments are taken from /proc first, so the call
        is recorded as unfinished."""
        for task in list(self.tasks.values()):
            if task.proc.root is root and task.nr >= 0 and not task.args:
                task.args = _blocked_call_args(task.tid, task.nr)
        for proc in root.procs:
            if proc.alive:
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def kill_all(self) -> None:
        """Kill every tracee and reap them all: nothing is left behind (a second Ctrl-C
        waits until this is done)."""
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            self._kill_all()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _kill_all(self) -> None:
        for root in self.roots:
            if root.attached and not root.done:
                self.detach(root)
        for root in self.roots:
            if not root.attached:
                self.kill(root)
        for tid in list(self.tasks):
            try:
                os.kill(tid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while self.tasks:  # only as long as tracees remain: other children are not ours
            got = _wait_any()
            if got is None:
                break
            tid, status = got
            if status & 0xFF != 0x7F:
                self._on_gone(tid, status)
        for root in self.roots:
            if root.end_ns == 0:
                root.end_ns = time.monotonic_ns()
            root.close()

    def set_deadline(self, root: Root, timeout: float) -> None:
        root.deadline = time.monotonic() + timeout
        self.deadlines_pending = True
        if self._timer_armed:  # re-aim the timer at the nearest deadline
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._timer_armed = False
            self._timer_at = NEVER


def _blocked_call_args(tid: int, nr: int) -> tuple[int, ...]:
    """The six arguments of the call a running task is blocked in (/proc/TID/syscall),
    or () when it is not in that call any more."""
    try:
        with open(f"/proc/{tid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return ()
    if len(fields) < 7 or not fields[0].isdigit() or int(fields[0]) != nr:
        return ()
    return tuple(int(x, 16) for x in fields[1:7])


def _wait_any() -> tuple[int, int] | None:
    """The next stop or end of any child (its tid and status), None when none is left."""
    while True:
        try:
            return os.waitpid(-1, kernel.WALL)
        except ChildProcessError:
            return None
        except InterruptedError:
            continue
