"""The event loop: spawn commands under ptrace, follow every task, record socket syscalls.

One Tracer can trace several commands at once (the runner traces a server and its client in the
same loop); each spawned command is a Root, and everything it forks belongs to it.

The loop is a plain `waitpid(-1, __WALL)`: no polling. In seccomp mode the child installs, before
exec, a filter that sends only the syscalls of interest to the tracer; the tracer then sees a
seccomp stop at each such call's entry and asks for its exit with PTRACE_SYSCALL. In
all-syscalls mode (`--no-seccomp`, or when the kernel refuses the filter) it stops at every
syscall's entry and exit.

The Tracer is made of parts, one module each: spawn.py (starting and attaching), loop.py (the
wait loop and a syscall's stops), tasks.py (threads and processes coming and going),
transfers.py (the data transfers' short path), effects.py (what a call does to the socket
table), fdtable.py (the sockets behind fds), rings.py (io_uring), records.py (events, roots and
their trace files), stopping.py (timeouts, detach, kill). This module ties them together:
`Tracer`, and `TraceError`, are what the rest of the harness imports.
"""

from __future__ import annotations

from collections.abc import Callable
import signal

TYPE_CHECKING = False

from harness.tracer import kernel
from harness.tracer.decode import Decoder
from harness.tracer.effects import EffectsMixin
from harness.tracer.fdtable import FdTableMixin
from harness.tracer.loop import LoopMixin
from harness.tracer.records import RecordingMixin, Root
from harness.tracer.rings import RingsMixin
from harness.tracer.spawn import SpawnMixin, TraceError
from harness.tracer.state import Proc
from harness.tracer.stopping import NEVER, StoppingMixin
from harness.tracer.tables import load_syscalls, load_tables
from harness.tracer.tasks import Task, TasksMixin
from harness.tracer.transfers import TransfersMixin

if TYPE_CHECKING:
    from harness.formats.model import SyscallEvent


class Tracer(SpawnMixin, LoopMixin, TasksMixin, TransfersMixin, EffectsMixin, FdTableMixin,
             RingsMixin, RecordingMixin, StoppingMixin):
    """Traces commands; see the module docstring."""

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
        self.filter = kernel.seccomp_filter(self.syscalls.filter_rules())
        kernel._libc()  # loaded here, not in each forked child
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
        self._mask: set[signal.Signals] = set()  # the signal mask from before a spawn
        self.seq = 0
        self.live_roots = 0  # roots with a process still running
        self.deadlines_pending = False  # some live root has a deadline: keep a timer armed
        self._timer_armed = False
        self._timer_at = NEVER  # monotonic ns the armed timer fires at
        # monotonic ns by which the events kept for a sink are to be written (0: none kept):
        # a timer writes them while the loop waits, if no event came to do it
        self._flush_due = 0
        self._waiting = False  # the loop is blocked in waitpid: a timer may write events


__all__ = ["Root", "TraceError", "Tracer"]
