"""The wait loop: the Tracer's part that waits for the tasks' stops (a plain
`waitpid(-1, __WALL)`) and handles a syscall's entry and exit (in seccomp mode a seccomp stop
at the entry of each call of interest, then PTRACE_SYSCALL for its exit; in all-syscalls mode
both stops of every call), resuming each task as it goes (a part of
harness.tracer.core.Tracer)."""

from __future__ import annotations

import gc
import os
import signal
import time
from collections.abc import Callable

from harness.tracer import kernel, kernel_seccomp
from harness.tracer.base import ESRCH, FAILED, NEVER
from harness.tracer.decode_mem import signed, signed32
from harness.tracer.spawn import Spawn
from harness.tracer.state import Task
from harness.tracer.tasks import SECCOMP_TRAP, SYSCALL_TRAP

GETEVENTMSG = kernel.PTRACE_GETEVENTMSG
PTRACE_SYSCALL = kernel.PTRACE_SYSCALL
ENTRY_FLAG = kernel_seccomp.ENTRY_FLAG


class Loop(Spawn):
    """The loop and a syscall's stops (a part of harness.tracer.core.Tracer)."""

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Handle stops until every root is done (or `until()` is true)."""
        waitpid = os.waitpid
        wall = kernel.WALL
        on_syscall = self._on_syscall_stop
        tasks = self.tasks
        raw = self.pt._raw
        msg = self.pt._msg
        msg_addr = self.pt._msg_addr
        exit_always = self.exit_always
        # transfers on seccomp roots: their exit takes the short path
        fast_exits = self.transfer_nrs
        timing = self.timing
        old_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        # the loop makes no reference cycles; the collector would only walk the growing list
        # of records again and again, at the cost of the tracee's time
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            while self.live_roots:
                if until is not None and until():
                    return
                if self.deadlines_pending or self._flush_due and \
                        self._timer_at > self._flush_due:
                    self._arm_timer()
                self._waiting = True
                try:
                    tid, status = waitpid(-1, wall)
                except ChildProcessError:
                    break
                finally:
                    self._waiting = False
                if status & 0xFF == 0x7F:  # stopped
                    stop = status >> 8
                    task = tasks.get(tid)
                    if task is None:
                        self._new_task(tid, early=True)
                        continue
                    if stop == SECCOMP_TRAP:
                        # a call's entry; the filter's data is the syscall number
                        if raw(GETEVENTMSG, tid, 0, msg_addr) == FAILED:
                            self._ptrace_failed()
                            continue
                        nr = msg.value & 0xFFFF
                        if timing:
                            task.t0 = time.monotonic_ns()
                        if nr in exit_always:  # the usual case, kept short
                            task.nr = nr
                            if raw(PTRACE_SYSCALL, tid, 0, 0) == FAILED:
                                self._ptrace_failed()
                            continue
                        try:
                            self._syscall_entry(task, nr)
                        except OSError as e:
                            if e.errno != ESRCH:
                                raise
                            continue
                        self._resume(task)
                    elif stop == SYSCALL_TRAP:
                        if task.quiet and task.nr in fast_exits:
                            self._transfer_exit(task)
                        else:
                            on_syscall(task)
                    else:
                        self._on_other_stop(task, stop)
                else:
                    self._on_gone(tid, status)
        finally:
            if gc_was_enabled:
                gc.enable()
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._timer_armed = False
            self._timer_at = NEVER
            signal.signal(signal.SIGALRM, old_alarm)

    def _on_syscall_stop(self, task: Task) -> None:
        try:
            if task.proc.root.mode == "seccomp":  # only exits are asked for
                self._syscall_exit(task)
            elif not task.sure:  # attached: is this the entry or the exit of a call?
                task.sure = True
                if self.pt.syscall_stop_op(task.tid) == 2:  # a call made before the attach
                    task.in_syscall = False
                else:
                    task.in_syscall = True
                    self._syscall_entry(task, self.pt.peekuser(task.tid,
                                                               self.pt.orig_rax_offset))
            elif not task.in_syscall:
                task.in_syscall = True
                if self.timing:
                    task.t0 = time.monotonic_ns()
                self._syscall_entry(task, self.pt.peekuser(task.tid, self.pt.orig_rax_offset))
            else:
                task.in_syscall = False
                if task.nr >= 0:
                    self._syscall_exit(task)
        except OSError as e:
            if e.errno != ESRCH:
                raise
            return  # killed under us: waitpid reports it
        self._resume(task)

    def _syscall_entry(self, task: Task, nr: int) -> None:
        """At a call's entry: decide whether its exit is worth a stop. Arguments are read at
        the exit (x86_64 keeps them in their registers), except for calls that overwrite
        what they were given (select's fd sets)."""
        flagged = nr & ENTRY_FLAG  # the filter says: read this call's entry
        nr &= ENTRY_FLAG - 1
        name = self.names.get(nr)
        if name is None:
            return
        fd_args = self.fd_args.get(name)
        if fd_args is not None and name != "close_range":
            peek = self.pt.peekuser
            proc = task.proc
            socks = proc.socks
            # fd calls also keep the epoll fds known (a dup or a close of one)
            epolls = proc.epolls if self.classes[name] == "fd" else ()
            for i in fd_args:
                fd = signed32(peek(task.tid, self.pt.arg_offsets[i]))
                if fd in socks or fd in epolls or fd in proc.rings:
                    break
                # an fd the tracer did not see made: the kernel says what it is, once
                if fd >= 0 and fd not in proc.notsock and self._resolve(proc, fd) is not None:
                    break
            else:
                replaced = self.syscalls.forgets.get(name)
                if replaced is not None:  # its number may next be a socket's
                    proc.notsock.discard(signed32(peek(task.tid, self.pt.arg_offsets[replaced])))
                return
        task.nr = nr
        if name == "io_uring_enter":
            regs = self.pt.getregs(task.tid)
            task.entry = self._uring_entry(task.proc, (regs.rdi, regs.rsi, regs.rdx, regs.r10))
            return
        when = self.syscalls.entry_when.get(name)
        if name in self.syscalls.read_at_entry or (when is not None and (
                flagged or (task.proc.root.mode != "seccomp"
                            and self.pt.peekuser(task.tid, self.pt.arg_offsets[when])))):
            regs = self.pt.getregs(task.tid)
            a = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
            task.entry = self.decoder.read_entry(task.proc.mem, a, name)

    def _syscall_exit(self, task: Task) -> None:
        nr = task.nr
        task.nr = -1
        if self.timing:
            task.dur = time.monotonic_ns() - task.t0
        regs = self.pt.call_regs(task.tid)
        self._finish(task, self.names[nr], regs[:6], signed(regs[6]))
        task.entry = None
        task.args = ()
