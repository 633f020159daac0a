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


ENTRY_FLAG = 0x8000  # in a seccomp stop's data: the call's entry must be read (entry_when)


def seccomp_filter(rules: list[tuple[Any, ...]]) -> bytes:
    """A classic-BPF program: SECCOMP_RET_TRACE (with the syscall number as data) for the
    given x86_64 syscalls, SECCOMP_RET_ALLOW for everything else, other ABIs included.

    Each rule is (number, conditions): when every condition (argument index, value) holds,
    the call is allowed without a stop (an *at call on AT_FDCWD, an anonymous mmap). Only
    the low 32 bits of the argument are compared: fds are ints. Every jump is short (to the
    next rule, or to a return inside the rule's own block), so the program can hold any
    number of syscalls (classic BPF jumps at most 255 instructions ahead).

    A rule's third item, when not None, is an argument whose being non-zero (all 64 bits) the
    stop's data says with ENTRY_FLAG: the tracer reads such a call's entry only then."""
    insns: list[tuple[int, int, int, int]] = [
        (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARCH),
        (BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),  # x86_64: skip the ALLOW
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
        (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_NR),
        (BPF_JGE_K, 0, 1, X32_SYSCALL_BIT),  # an x32 call: ALLOW
        (BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    ]
    for nr, conditions, *flagged in rules:
        flag_arg = flagged[0] if flagged else None
        # if A != nr: skip this block; else check the conditions, return TRACE or ALLOW
        block: list[tuple[int, int, int, int]] = []
        if flag_arg is not None:
            # low half non-zero, or high half non-zero: TRACE with the flag; else TRACE
            block += [(BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARGS + 8 * flag_arg),
                      (BPF_JEQ_K, 0, 2, 0),
                      (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARGS + 8 * flag_arg + 4),
                      (BPF_JEQ_K, 1, 0, 0),
                      (BPF_RET_K, 0, 0, SECCOMP_RET_TRACE | nr | ENTRY_FLAG)]
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


# -- a tracee's socket, seen from the tracer -----------------------------------------------

SYS_PIDFD_GETFD = 438  # x86_64
SOL_SOCKET = 1
SO_TYPE = 3
SO_DOMAIN = 39


def socket_inode(pid: int, fd: int) -> int | None:
    """The inode of the socket fd refers to in process pid (`socket:[N]`, as strace -y
    shows it); 0 when fd is open but no socket, None when it is not open (or gone)."""
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None
    if target.startswith("socket:["):
        return int(target[8:-1])
    return 0


def fd_cloexec(pid: int, fd: int) -> bool:
    """Whether fd has FD_CLOEXEC in process pid (/proc/PID/fdinfo/FD: O_CLOEXEC in flags)."""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", "rb") as f:
            for line in f:
                if line.startswith(b"flags:"):
                    return bool(int(line.split()[1], 8) & 0o2000000)
    except (OSError, ValueError):
        pass
    return False


def socket_fds(pid: int, inode: int) -> list[int]:
    """The fds of process pid that refer to socket inode."""
    want = f"socket:[{inode}]"
    out = []
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for name in names:
        try:
            if os.readlink(f"/proc/{pid}/fd/{name}") == want:
                out.append(int(name))
        except OSError:
            continue
    return sorted(out)


def peek_socket(pid: int, fd: int) -> tuple[int, int, bytes | None, bytes | None] | None:
    """(domain, type, local sockaddr, peer sockaddr) of a tracee's socket, asked of the kernel
    through a copy of its fd (pidfd_getfd: the tracer may, as it may ptrace the process). The
    copy is closed at once, so the tracee's socket is as it was. None when it cannot be had."""
    libc = _libc()
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return None
    try:
        mine = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    finally:
        os.close(pidfd)
    if mine < 0:
        return None
    try:
        value = ctypes.c_int(0)
        size = ctypes.c_uint32(4)
        if libc.getsockopt(mine, SOL_SOCKET, SO_DOMAIN, ctypes.byref(value),
                           ctypes.byref(size)) != 0:
            return None
        domain = value.value
        size.value = 4
        if libc.getsockopt(mine, SOL_SOCKET, SO_TYPE, ctypes.byref(value),
                           ctypes.byref(size)) != 0:
            return None
        typ = value.value
        names = []
        for call in (libc.getsockname, libc.getpeername):
            buf = ctypes.create_string_buffer(128)
            size.value = 128
            names.append(buf.raw[:min(size.value, 128)]
                         if call(mine, buf, ctypes.byref(size)) == 0 else None)
        return domain, typ, names[0], names[1]
    finally:
        os.close(mine)
