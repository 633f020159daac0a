"""The Tracer's state and its ptrace primitives: what every part of the Tracer (harness/tracer/
core.py) stands on. The parts are a chain of classes, each adding one concern to the one below
it: records, fdtable, rings, transfers, effects, tasks, stopping, spawn, loop; a part calls
only what is below it, and what several parts need from higher up (resuming a task, the quiet
short path, a ptrace failure, a child's report) is here."""

from __future__ import annotations

import errno
import os
import signal
from collections.abc import Callable

from harness.tracer import kernel, kernel_proc, kernel_seccomp
from harness.tracer.decode import Decoder
from harness.tracer.state import Proc, Task
from harness.tracer.tables import load_syscalls, load_tables

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.formats.model import SyscallEvent
    from harness.tracer.records import Root

NEVER = 1 << 62  # a time no timer is set for
# the signals that stop the harness: held while a child is being started and while the
# tracees are killed, so that a stop never lands half way through either
HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
ESRCH = errno.ESRCH  # a task killed under us
FAILED = (1 << 64) - 1  # -1 from the ptrace binding's unsigned long


class TracerBase:
    """The state every part reads, and the primitives below them all."""

    def __init__(self, *, seccomp: bool = True, data_bytes: int = 64,
                 echo: Callable[[SyscallEvent], None] | None = None, timing: bool = False):
        self.want_seccomp = seccomp
        self.data_bytes = data_bytes
        self.echo = echo
        # time each call (-T, -c): a call's entry is stamped, and its event gets `dur_ns`
        self.timing = timing
        self.durations: dict[int, int] = {}  # event seq -> ns spent in the call
        kernel.check_arch()
        self.pt = kernel.Ptrace()
        self.syscalls = load_syscalls()
        self.decoder = Decoder(load_tables(), data_bytes)
        self.filter = kernel_seccomp.seccomp_filter(self.syscalls.filter_rules())
        kernel_proc._libc()  # loaded here, not in each forked child
        self.names = self.syscalls.names
        self.classes = self.syscalls.classes
        self.fd_args = self.syscalls.fd_args
        # calls whose exit is always wanted and that need nothing read at entry
        # data transfers whose decoding is deferred (`transfer` in harness/tables/syscalls.yaml);
        # the io ones are recorded only on sockets
        self.transfers = self.syscalls.transfers
        self.io_transfers = frozenset(n for n in self.transfers if self.classes[n] == "io")
        self.transfer_nrs = frozenset(nr for nr, name in self.names.items()
                                      if name in self.transfers)
        self.exit_always = frozenset(
            nr for nr, name in self.names.items()
            if self.classes[name] in ("net", "readiness", "epoll_new", "new_fd")
            and name not in self.syscalls.read_at_entry)
        self.tasks: dict[int, Task] = {}
        self.procs: dict[int, Proc] = {}
        self.roots: list[Root] = []
        self._mask: set[int | signal.Signals] = set()  # the signal mask from before a spawn
        self.seq = 0
        self.live_roots = 0  # roots with a process still running
        self.deadlines_pending = False  # some live root has a deadline: keep a timer armed
        self._timer_armed = False
        self._timer_at = NEVER  # monotonic ns the armed timer fires at
        # monotonic ns by which the events kept for a sink are to be written (0: none kept):
        # a timer writes them while the loop waits, if no event came to do it
        self._flush_due = 0
        self._waiting = False  # the loop is blocked in waitpid: a timer may write events

    def _quiet(self, root: Root) -> bool:
        return self.echo is None and root.on_event is None and root.mode == "seccomp"

    @staticmethod
    def _ptrace_failed() -> None:
        """A ptrace call failed: ESRCH means the task was killed under us (waitpid reports
        it); anything else is a bug."""
        import ctypes

        err = ctypes.get_errno()
        if err != ESRCH:
            raise OSError(err, f"ptrace: {os.strerror(err)}")

    def _resume(self, task: Task, sig: int = 0) -> None:
        """PTRACE_SYSCALL when we need the next syscall stop, else PTRACE_CONT."""
        req = kernel.PTRACE_CONT
        if task.nr >= 0 or task.proc.root.mode != "seccomp":
            req = kernel.PTRACE_SYSCALL
        try:
            self.pt.resume(req, task.tid, sig)
        except OSError as e:  # a task killed under us: its exit is reported by waitpid
            if e.errno != ESRCH:
                raise

    @staticmethod
    def _read_report(fd: int, raw: bool = False) -> str:
        try:
            data = os.read(fd, 64).decode()
        except (BlockingIOError, OSError):
            return ""
        if raw or not data:
            return data
        if data.startswith("P"):
            return ptrace_refused_message(int(data[1:]))
        if data.startswith("E"):
            return os.strerror(int(data[1:]))
        return data


def ptrace_refused_message(err: int) -> str:
    """One line naming why ptrace was refused."""
    causes = []
    try:
        scope = open("/proc/sys/kernel/yama/ptrace_scope").read().strip()
        if scope == "3":
            causes.append("kernel.yama.ptrace_scope is 3 (ptrace disabled)")
    except OSError:
        pass
    try:
        for line in open("/proc/self/status"):
            if line.startswith("TracerPid:") and line.split()[1] != "0":
                causes.append(f"the harness is itself traced (TracerPid {line.split()[1]})")
            if line.startswith("CapEff:") and not int(line.split()[1], 16) >> 19 & 1:
                causes.append("the CAP_SYS_PTRACE capability is missing")
    except OSError:
        pass
    cause = "; ".join(causes) or "a security policy forbids it"
    return f"ptrace not permitted ({os.strerror(err)}): {cause}"
