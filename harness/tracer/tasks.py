"""The traced threads and what stops them besides a syscall: a Task per thread, the stop
statuses waitpid reports, and the Tracer's part that registers new tasks (through their
parent's clone event or their own first stop), handles ptrace events and signals (fork, exec,
group-stops), and records a process's exit with the sockets it released (a part of
harness.tracer.core.Tracer)."""

from __future__ import annotations

import os
import signal
import time

from harness.tracer import kernel
from harness.tracer.base import ESRCH
from harness.tracer.decode_mem import Memory
from harness.tracer.effects import Effects
from harness.tracer.state import Task

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


SIGTRAP = signal.SIGTRAP
SIGSTOP = signal.SIGSTOP
SYSCALL_TRAP = SIGTRAP | 0x80
SECCOMP_TRAP = SIGTRAP | (kernel.PTRACE_EVENT_SECCOMP << 8)
EXEC_TRAP = SIGTRAP | (kernel.PTRACE_EVENT_EXEC << 8)
CLONE_EVENTS = {kernel.PTRACE_EVENT_FORK: "fork", kernel.PTRACE_EVENT_VFORK: "vfork",
                kernel.PTRACE_EVENT_CLONE: "clone"}
EVENT_STOP = kernel.PTRACE_EVENT_STOP
GROUP_STOPS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"SIG{sig}"


class Tasks(Effects):
    """Tasks coming and going (a part of harness.tracer.core.Tracer)."""

    def _new_task(self, tid: int, early: bool,
                  parent_task: Task | None = None) -> Task | None:
        """Register a task seen for the first time, either through its parent's clone event
        or (early) through its own first stop, which may come first."""
        task = self.tasks.get(tid)
        if task is not None:
            if early:
                task.started = True
                self._resume(task)
            return task
        tgid, ppid = _status_ids(tid)
        if tgid is None:  # gone already
            return None
        proc = self.procs.get(tgid)
        if proc is None:  # a new process
            parent = self.procs.get(ppid) if ppid else None
            if parent is None and parent_task is not None:
                parent = parent_task.proc
            if parent is None:
                return None
            proc = parent.fork_copy(tgid, parent.root)
            proc.mem = Memory(tgid)
            self.procs[tgid] = proc
            proc.root.procs.append(proc)
            proc.root.live += 1
        proc.threads.append(tid)
        task = Task(tid=tid, proc=proc, started=early, quiet=self._quiet(proc.root))
        self.tasks[tid] = task
        if early:
            self._resume(task)
        return task

    def _on_other_stop(self, task: Task, stop: int) -> None:
        sig = stop & 0xFF
        event = stop >> 8
        if sig == SIGTRAP and event in CLONE_EVENTS:
            child_tid = self.pt.eventmsg(task.tid)
            child = self._new_task(child_tid, early=False, parent_task=task)
            if child is not None:
                thread = child.proc is task.proc
                self._record(task, CLONE_EVENTS[event],
                             {"child": child_tid, "thread": thread}, child_tid,
                             kind="process")
            self._resume(task)
            return
        if stop == EXEC_TRAP:
            self._on_exec(task)
            self._resume(task)
            return
        if event == EVENT_STOP:
            if not task.started:  # a new task's first stop
                task.started = True
                self._resume(task)
            elif sig in GROUP_STOPS:  # the process stops, as it would untraced, until a SIGCONT
                self._listen(task)
            else:  # woken from a group-stop (SIGCONT): it runs again
                self._resume(task)
            return
        if sig == SIGTRAP and event:  # other ptrace events: nothing to deliver
            self._resume(task)
            return
        if not task.started and sig == SIGSTOP:
            task.started = True
            self._resume(task)
            return
        self._resume(task, sig)  # a signal for the tracee: deliver it

    def _listen(self, task: Task) -> None:
        try:
            self.pt.resume(kernel.PTRACE_LISTEN, task.tid)
        except OSError as e:
            if e.errno != ESRCH:
                raise

    def _on_exec(self, task: Task) -> None:
        former = self.pt.eventmsg(task.tid)
        proc = task.proc
        if former != task.tid:  # a non-leader thread exec'd and took the leader's tid
            old = self.tasks.pop(former, None)
            if old is not None:
                task.nr, task.in_syscall = old.nr, old.in_syscall
        gone = proc.on_exec()
        released = self._released(proc.root, gone) if gone else ()
        if proc.mem is not None:
            proc.mem.reopen()
        try:
            proc.exe = os.readlink(f"/proc/{proc.pid}/exe")
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                proc.argv = [s.decode(errors="replace") for s in f.read().split(b"\0")[:-1]]
        except OSError:
            pass
        self._record(task, "execve", {"exe": proc.exe, "argv": proc.argv}, 0, kind="process",
                     released=released)

    def _on_gone(self, tid: int, status: int) -> None:
        task = self.tasks.pop(tid, None)
        if task is None:
            return
        proc = task.proc
        if task.nr >= 0:  # killed inside a call: record what it was doing
            name = self.names[task.nr]
            task.nr = -1
            if task.args:  # taken from /proc before the tracer killed it
                self._finish(task, name, task.args, None)
            else:  # killed from outside: its arguments were never read (see kill())
                self._record(task, name, {}, None)
        if tid != proc.pid:
            return
        # the thread group leader is reported last: the process is gone
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            proc.exit_signal = signal_name(sig)
            code = 128 + sig
            exit_args: dict[str, Any] = {"signal": proc.exit_signal}
        else:
            code = os.WEXITSTATUS(status)
            proc.exit_code = code
            exit_args = {"code": code}
        proc.alive = False
        # its fds went with it: the sockets it held last are released by its exit
        gone = proc.close_all()
        released = self._released(proc.root, gone) if gone else ()
        if proc.exe is not None or proc.pid != proc.root.pid:
            # (a command that never started is reported by its exec error instead)
            self._record(task, "exit", exit_args, code, kind="process", released=released)
        if proc.mem is not None:
            proc.mem.close()
        for other in [t for t in self.tasks.values() if t.proc is proc]:
            del self.tasks[other.tid]
        self.procs.pop(proc.pid, None)
        root = proc.root
        root.live -= 1
        if proc.pid == root.pid:
            root.exit_status = code
            if proc.exe is None and root.report_fd is not None:  # never exec'd: tell why
                root.exec_error = self._read_report(root.report_fd) or "could not execute"
        if root.live == 0:
            self.live_roots -= 1
            root.end_ns = time.monotonic_ns()
            if root.report_fd is not None:
                os.close(root.report_fd)
                root.report_fd = None
            root.close()


def _status_ids(tid: int) -> tuple[int | None, int | None]:
    """(Tgid, PPid) of a task from /proc; (None, None) when it is gone."""
    tgid = ppid = None
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    tgid = int(line.split()[1])
                elif line.startswith(b"PPid:"):
                    ppid = int(line.split()[1])
                    break
    except OSError:
        return None, None
    return tgid, ppid
