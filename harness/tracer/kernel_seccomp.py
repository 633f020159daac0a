"""Seccomp for the traced child: the classic-BPF program that stops it only at the calls the
tracer decodes (SECCOMP_RET_TRACE, with ENTRY_FLAG where a call's entry must be read), its
`struct sock_fprog` (a packet socket's filter is one too: harness/wire/capture.py), and its
installation in the child before exec (no_new_privs, then PR_SET_SECCOMP).
"""

from __future__ import annotations

import ctypes
import struct

from harness.tracer.kernel_proc import _prctl
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

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
