"""The seccomp filter program, run by a small classic-BPF interpreter: which calls stop."""

from __future__ import annotations

import struct

from harness.tracer import kernel
from harness.tracer.tables import load_syscalls

ALLOW, TRACE = kernel.SECCOMP_RET_ALLOW, kernel.SECCOMP_RET_TRACE
X86_64 = kernel.AUDIT_ARCH_X86_64


def run(program: bytes, nr: int, args: tuple[int, ...] = (0,) * 6, arch: int = X86_64) -> int:
    """What the kernel would return for one call (struct seccomp_data as the data)."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, *[a & (1 << 64) - 1 for a in args])
    insns = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    assert len(insns) <= 4096
    a, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == kernel.BPF_LD_W_ABS:
            a = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code in (kernel.BPF_JEQ_K, kernel.BPF_JGE_K):
            taken = a == k if code == kernel.BPF_JEQ_K else a >= k
            assert max(jt, jf) <= 255
            pc += 1 + (jt if taken else jf)
        elif code == kernel.BPF_RET_K:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")


def args(**at: int) -> tuple[int, ...]:
    values = [7] * 6
    for key, value in at.items():
        values[int(key[1:])] = value
    return tuple(values)


def test_traced_calls_stop_with_their_number_and_the_rest_run():
    prog = kernel.seccomp_filter([(41, ()), (45, ()), (257, ((0, -100),))])
    assert run(prog, 41) == TRACE | 41
    assert run(prog, 45) == TRACE | 45
    assert run(prog, 44) == ALLOW
    assert run(prog, 202) == ALLOW
    assert run(prog, 41, arch=0x40000003) == ALLOW  # i386
    assert run(prog, 41 | kernel.X32_SYSCALL_BIT) == ALLOW


def test_pass_conditions_let_calls_through_only_when_all_hold():
    prog = kernel.seccomp_filter([(257, ((0, -100),)), (264, ((0, -100), (2, -100))),
                                  (9, ((4, -1),))])
    assert run(prog, 257, args(a0=-100)) == ALLOW  # openat(AT_FDCWD, ...)
    assert run(prog, 257, args(a0=40)) == TRACE | 257  # openat(40, ...): 40 may be a socket
    assert run(prog, 264, args(a0=-100, a2=-100)) == ALLOW
    assert run(prog, 264, args(a0=-100, a2=3)) == TRACE | 264  # renameat: either dirfd
    assert run(prog, 264, args(a0=3, a2=-100)) == TRACE | 264
    assert run(prog, 9, args(a4=-1)) == ALLOW  # anonymous mmap
    assert run(prog, 9, args(a4=3)) == TRACE | 9


def test_the_real_table_stops_at_every_traced_call():
    table = load_syscalls()
    prog = kernel.seccomp_filter(table.filter_rules())
    for nr, name in table.names.items():
        assert run(prog, nr, args()) == TRACE | nr, name
    for name, conditions in table.pass_when.items():
        nr = next(n for n, x in table.names.items() if x == name)
        assert run(prog, nr, args(**{f"a{i}": v for i, v in conditions})) == ALLOW, name
    untraced = set(range(0, 460)) - set(table.names)
    assert all(run(prog, nr) == ALLOW for nr in untraced)
