"""The border with python-ptrace and the kernel: ptrace calls, registers, syscall numbers,
seccomp. Nothing from python-ptrace leaves this module: callers get ints and tuples.

python-ptrace is imported on first use, not when this module is imported, and its C library
lookup (which runs `ldconfig -p`) is replaced by a direct load of the C library.
"""

from __future__ import annotations

import ctypes
import operator
import os
import struct
import sys
import types
from functools import cache
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

# ptrace requests and options (linux/ptrace.h); python-ptrace lacks the newer ones.
PTRACE_SYSCALL = 24
PTRACE_CONT = 7
PTRACE_GETEVENTMSG = 0x4201
PTRACE_O_TRACESYSGOOD = 0x1
PTRACE_O_TRACEFORK = 0x2
PTRACE_O_TRACEVFORK = 0x4
PTRACE_O_TRACECLONE = 0x8
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000
PR_SET_PDEATHSIG = 1

PTRACE_EVENT_FORK = 1
PTRACE_EVENT_VFORK = 2
PTRACE_EVENT_CLONE = 3
PTRACE_EVENT_EXEC = 4
PTRACE_EVENT_SECCOMP = 7

WALL = 0x40000000  # __WALL: wait for threads too

# seccomp (linux/seccomp.h, linux/filter.h, linux/audit.h)
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_TRACE = 0x7FF00000
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
BPF_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
BPF_LD_H_ABS = 0x28  # BPF_LD | BPF_H | BPF_ABS
BPF_LD_B_ABS = 0x30  # BPF_LD | BPF_B | BPF_ABS
BPF_LD_H_IND = 0x48  # BPF_LD | BPF_H | BPF_IND
BPF_LDX_MSH = 0xB1  # BPF_LDX | BPF_B | BPF_MSH: x = 4 * (packet[k] & 0xf)
BPF_JEQ_K = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
BPF_JGE_K = 0x35  # BPF_JMP | BPF_JGE | BPF_K
BPF_JSET_K = 0x45  # BPF_JMP | BPF_JSET | BPF_K
BPF_RET_K = 0x06  # BPF_RET | BPF_K
# offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (little-endian u64)
SECCOMP_DATA_NR = 0
SECCOMP_DATA_ARCH = 4
SECCOMP_DATA_ARGS = 16

_binding: Any = None


@cache
def _libc() -> ctypes.CDLL:
    """The C library, loaded once (and before fork, so that the child does not load it)."""
    return ctypes.CDLL("libc.so.6", use_errno=True)


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
    C library lookup is given the library this module loads) nor loading its logging helpers
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

    def eventmsg(self, tid: int) -> int:
        if self._raw(PTRACE_GETEVENTMSG, tid, 0, self._msg_addr) == _FAILED:
            err = ctypes.get_errno()
            raise OSError(err, f"ptrace(GETEVENTMSG, {tid}): {os.strerror(err)}")
        return self._msg.value


_FAILED = (1 << 64) - 1  # -1 as the binding's unsigned long


def seccomp_filter(rules: list[tuple[int, tuple[tuple[int, int], ...]]]) -> bytes:
    """A classic-BPF program: SECCOMP_RET_TRACE (with the syscall number as data) for the
    given x86_64 syscalls, SECCOMP_RET_ALLOW for everything else, other ABIs included.

    Each rule is (number, conditions): when every condition (argument index, value) holds,
    the call is allowed without a stop (an *at call on AT_FDCWD, an anonymous mmap). Only
    the low 32 bits of the argument are compared: fds are ints. Every jump is short (to the
    next rule, or to a return inside the rule's own block), so the program can hold any
    number of syscalls (classic BPF jumps at most 255 instructions ahead)."""
    insns: list[tuple[int, int, int, int]] = [
        (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARCH),
        (BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),  # x86_64: skip the ALLOW
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_NR),
        (BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),  # an x32 call: ALLOW
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ]
    for nr, conditions in rules:
        # if A != nr: skip this block; else check the conditions, return TRACE or ALLOW
        block: list[tuple[int, int, int, int]] = []
        for k, (arg, value) in enumerate(conditions):
            left = len(conditions) - k - 1  # conditions after this one
            block.append((BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARGS + 8 * arg))
            # equal: go on to the next condition (or to ALLOW); else to RET TRACE
            block.append((BPF_JEQ_K, 0, 2 * left + 1, value & 0xFFFFFFFF))
        if conditions:
            block.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
        block.append((BPF_RET_K, 0, 0, SECCOMP_RET_TRACE | nr))
        insns.append((BPF_JEQ_K, 0, len(block), nr))
        insns += block
    insns.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    return b"".join(struct.pack("=HBBI", code, jt, jf, k) for code, jt, jf, k in insns)


def sock_fprog(program: bytes) -> tuple[bytes, Any]:
    """struct sock_fprog { unsigned short len; struct sock_filter *filter; } for a classic
    BPF program (seccomp's, a packet socket's), and the buffer it points into: keep the
    buffer alive as long as the struct is used."""
    buf = ctypes.create_string_buffer(program, len(program))
    return struct.pack("=HxxxxxxQ", len(program) // 8, ctypes.addressof(buf)), buf


@cache
def _prctl() -> Any:
    prctl = _libc()["prctl"]  # a function object of its own, with its own argtypes
    prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                      ctypes.c_ulong)
    return prctl


def install_seccomp(program: bytes) -> int:
    """In the child, before exec: no_new_privs, then the filter. Returns 0 or an errno."""
    prctl = _prctl()
    if prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return ctypes.get_errno()
    fprog, _program = sock_fprog(program)
    fbuf = ctypes.create_string_buffer(fprog, len(fprog))
    if prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fbuf), 0, 0) != 0:
        return ctypes.get_errno()
    return 0


def parent_death_signal(signum: int, parent: int) -> bool:
    """prctl(PR_SET_PDEATHSIG): signum to this process when its parent, `parent` (its pid,
    read before the call), ends; sent at once if it ended already. False where the kernel
    refuses. The harness itself (stopped with make), a traced child before it is traced (a
    harness killed before PTRACE_O_EXITKILL is set leaves no stopped child) and a build
    command use it."""
    if _prctl()(PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # it ended already
        os.kill(os.getpid(), signum)
    return True


def traceme() -> int:
    """In the child: PTRACE_TRACEME through the C library. Returns 0 or an errno."""
    ptrace = _libc()["ptrace"]  # a function object of its own: the binding's stays as it is
    ptrace.argtypes = (ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong)
    ptrace.restype = ctypes.c_long
    if ptrace(0, 0, 0, 0) == -1:
        return ctypes.get_errno()
    return 0
