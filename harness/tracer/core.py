"""The event loop: spawn commands under ptrace, follow every task, record socket syscalls.

One Tracer can trace several commands at once (the runner traces a server and its client in the
same loop); each spawned command is a Root, and everything it forks belongs to it.

The loop is a plain `waitpid(-1, __WALL)`: no polling. In seccomp mode the child installs, before
exec, a filter that sends only the syscalls of interest to the tracer; the tracer then sees a
seccomp stop at each such call's entry and asks for its exit with PTRACE_SYSCALL. In
all-syscalls mode (`--no-seccomp`, or when the kernel refuses the filter) it stops at every
syscall's entry and exit.

The Tracer is a chain of parts, one module each, each a class over the one below it: base.py
(the state, resuming a task), records.py (events, roots and their trace files), fdtable.py
(the sockets behind fds), rings.py (io_uring), transfers.py (the data transfers' short path),
effects.py (what a call does to the socket table), tasks.py (threads and processes coming and
going), stopping.py (timeouts, detach, kill), spawn.py (starting and attaching), loop.py (the
wait loop and a syscall's stops). `Tracer`, `Root` and `TraceError` are what the rest of the
harness imports, from here.
"""

from __future__ import annotations

from harness.tracer.loop import Loop
from harness.tracer.records import Root
from harness.tracer.spawn import TraceError


class Tracer(Loop):
    """Traces commands; see the module docstring."""


__all__ = ["Root", "TraceError", "Tracer"]
