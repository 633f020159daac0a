"""The border with python-ptrace and the kernel: ptrace calls, registers, syscall numbers.
Nothing from python-ptrace leaves this module: callers get ints and tuples.

python-ptrace is imported on first use, not when this module is imported, and its C library
lookup (which runs `ldconfig -p`) is replaced by a direct load of the C library
(kernel_proc._libc).

The rest of the tracer's border with the kernel is in two siblings, imported from directly:
kernel_seccomp.py builds and installs the seccomp filter, kernel_proc.py holds the C library,
prctl and what /proc and pidfd_getfd tell about a tracee's descriptors.
"""

from __future__ import annotations

import ctypes
import operator
import os
import sys
import types
from functools import cache

from harness.tracer.kernel_proc import _libc
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any


# ptrace requests and options (linux/ptrace.h); python-ptrace lacks the newer ones.
PTRACE_SYSCALL = 24
PTRACE_CONT = 7
PTRACE_GETEVENTMSG = 0x4201
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208
PTRACE_GET_SYSCALL_INFO = 0x420E
PTRACE_EVENT_STOP = 128  # a seized tracee's group-stop (or its first stop)
PTRACE_O_TRACESYSGOOD = 0x1
PTRACE_O_TRACEFORK = 0x2
PTRACE_O_TRACEVFORK = 0x4
PTRACE_O_TRACECLONE = 0x8
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_SECCOMP = 7

WALL = 0x40000000  # __WALL: wait for threads too

_binding: Any = None


class PtraceError(Exception):
    """python-ptrace's error class (ptrace.error.PtraceError): a message, errno and pid."""

    def __init__(self, message: str, errno: int | None = None, pid: int | None = None):
        super().__init__(message)
        self.errno = errno
        self.pid = pid


class _LazyErrorModule(types.ModuleType):
    """Stands for ptrace.error, which the binding imports for PtraceError only: the rest of
    that module (logging and traceback helpers, whose imports cost more than the whole
    tracer's) is loaded on first use of any other name, with PtraceError kept as the one
    class."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        import importlib.machinery
        import importlib.util

        import ptrace

        spec = importlib.machinery.PathFinder.find_spec("ptrace.error", ptrace.__path__)
        assert spec is not None and spec.loader is not None
        real = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(real)
        for key, value in vars(real).items():
            if not key.startswith("__") and key != "PtraceError":
                setattr(self, key, value)
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'ptrace.error' has no attribute {name!r}") from None


def binding() -> Any:
    """python-ptrace's binding module, imported on first use without running ldconfig (its
    C library lookup is given the library kernel_proc loads) nor loading its logging helpers
    (see _LazyErrorModule)."""
    global _binding
    if _binding is None:
        if "ptrace.ctypes_libc" not in sys.modules:
            shim = types.ModuleType("ptrace.ctypes_libc")
            shim.LIBC_FILENAME = "libc.so.6"  # type: ignore[attr-defined]
            shim.libc = _libc()  # type: ignore[attr-defined]
            sys.modules["ptrace.ctypes_libc"] = shim
        if "ptrace.error" not in sys.modules:
            lazy = _LazyErrorModule("ptrace.error")
            lazy.PtraceError = PtraceError  # type: ignore[attr-defined]
            sys.modules["ptrace.error"] = lazy
        import ptrace.binding.func as func

        _binding = func
    return _binding


@cache
def syscall_numbers() -> dict[str, int]:
    """name -> x86_64 syscall number, from python-ptrace's table.

    That table also holds the x32 numbers (512 and up) under the same names: keep < 512."""
    check_arch()
    from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES

    return {name: nr for nr, name in SYSCALL_NAMES.items() if nr < 512}


def check_arch() -> None:
    machine = os.uname().machine
    if machine != "x86_64":
        raise OSError(f"the tracer decodes x86_64 registers; this machine is {machine}")


class Ptrace:
    """The few ptrace operations the event loop needs, bound once for speed.

    resume and peekuser call python-ptrace's ctypes binding of ptrace(2) directly: its
    Python wrapper costs a microsecond per call and, for peeks, does not clear errno first
    (a word that reads as -1 then raises with a stale errno)."""

    def __init__(self) -> None:
        b = binding()
        self._raw = b._ptrace  # ctypes function: (request, pid, addr, data) -> c_ulong
        regs_t = b.ptrace_registers_t
        self._regs = regs_t()  # one buffer, reused by every getregs
        self._regs_addr = ctypes.addressof(self._regs)
        # the six argument registers and rax, in one C call on the same buffer
        words = memoryview(self._regs).cast("B").cast("Q")
        pick = operator.itemgetter(*(getattr(regs_t, name).offset // 8 for name in
                                     ("rdi", "rsi", "rdx", "r10", "r8", "r9", "rax")))
        self._pick, self._words = pick, words
        self.setoptions = b.ptrace_setoptions  # (pid, options)
        self.rax_offset = regs_t.rax.offset
        self.orig_rax_offset = regs_t.orig_rax.offset
        # the offsets of the six argument registers, in argument order
        self.arg_offsets = tuple(getattr(regs_t, r).offset
                                 for r in ("rdi", "rsi", "rdx", "r10", "r8", "r9"))
        self._msg = ctypes.c_ulong()
        self._msg_addr = ctypes.addressof(self._msg)

    def resume(self, request: int, tid: int, sig: int = 0) -> None:
        if self._raw(request, tid, 0, sig) == _FAILED:
            err = ctypes.get_errno()
            raise OSError(err, f"ptrace({request}, {tid}): {os.strerror(err)}")

    def getregs(self, tid: int) -> Any:
        """The task's registers (python-ptrace's user_regs_struct). The buffer is reused:
        read what you need before the next call."""
        if self._raw(12, tid, 0, self._regs_addr) == _FAILED:  # PTRACE_GETREGS
            err = ctypes.get_errno()
            raise OSError(err, f"ptrace(GETREGS, {tid}): {os.strerror(err)}")
        return self._regs

    def call_regs(self, tid: int) -> tuple[int, ...]:
        """(arg1, ..., arg6, rax) of a task stopped at a syscall (x86_64 keeps the arguments
        in their registers through the call)."""
        if self._raw(12, tid, 0, self._regs_addr) == _FAILED:  # PTRACE_GETREGS
            err = ctypes.get_errno()
            raise OSError(err, f"ptrace(GETREGS, {tid}): {os.strerror(err)}")
        return self._pick(self._words)

    def peekuser(self, tid: int, offset: int) -> int:
        ctypes.set_errno(0)
        value = self._raw(3, tid, offset, 0)  # PTRACE_PEEKUSER
        if value == _FAILED:
            err = ctypes.get_errno()
            if err:
                raise OSError(err, f"ptrace(PEEKUSER, {tid}): {os.strerror(err)}")
        return value

    def seize(self, pid: int, options: int) -> int:
        """PTRACE_SEIZE with these options; 0 or the errno. A seized tracee reports a
        group-stop (SIGSTOP, SIGTSTP...) as such, so that it can be left stopped with
        PTRACE_LISTEN until a SIGCONT, as without a tracer; its children are seized too."""
        if self._raw(PTRACE_SEIZE, pid, 0, options) == _FAILED:
            return ctypes.get_errno() or 1
        return 0

    def syscall_stop_op(self, tid: int) -> int:
        """At a syscall stop: 1 at an entry, 2 at an exit (PTRACE_GET_SYSCALL_INFO's op);
        0 when the kernel cannot say."""
        buf = ctypes.create_string_buffer(88)
        if self._raw(PTRACE_GET_SYSCALL_INFO, tid, 88, ctypes.addressof(buf)) == _FAILED:
            return 0
        return buf.raw[0]

    def eventmsg(self, tid: int) -> int:
        if self._raw(PTRACE_GETEVENTMSG, tid, 0, self._msg_addr) == _FAILED:
            err = ctypes.get_errno()
            raise OSError(err, f"ptrace(GETEVENTMSG, {tid}): {os.strerror(err)}")
        return self._msg.value


_FAILED = (1 << 64) - 1  # -1 as the binding's unsigned long

