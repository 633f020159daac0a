"""The seccomp filter program, run by a small classic-BPF interpreter: which calls stop."""

from __future__ import annotations

import struct

from harness.tracer import kernel_seccomp
from harness.tracer.tables import load_syscalls

ALLOW, TRACE = kernel_seccomp.SECCOMP_RET_ALLOW, kernel_seccomp.SECCOMP_RET_TRACE
X86_64 = kernel_seccomp.AUDIT_ARCH_X86_64


def run(program: bytes, nr: int, args: tuple[int, ...] = (0,) * 6, arch: int = X86_64) -> int:
    """What the kernel would return for one call (struct seccomp_data as the data)."""
    data = struct.pack("=iIQ6Q", nr, arch, 0, *[a & (1 << 64) - 1 for a in args])
    insns = [struct.unpack_from("=HBBI", program, i) for i in range(0, len(program), 8)]
    assert len(insns) <= 4096
    a, pc = 0, 0
    while True:
        code, jt, jf, k = insns[pc]
        if code == kernel_seccomp.BPF_LD_W_ABS:
            a = struct.unpack_from("=I", data, k)[0]
            pc += 1
        elif code in (kernel_seccomp.BPF_JEQ_K, kernel_seccomp.BPF_JGE_K):
            taken = a == k if code == kernel_seccomp.BPF_JEQ_K else a >= k
            assert max(jt, jf) <= 255
            pc += 1 + (jt if taken else jf)
        elif code == kernel_seccomp.BPF_RET_K:
            return k
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")


def args(**at: int) -> tuple[int, ...]:
    values = [7] * 6
    for key, value in at.items():
        values[int(key[1:])] = value
    return tuple(values)


def test_traced_calls_stop_with_their_number_and_the_rest_run():
    prog = kernel_seccomp.seccomp_filter([(41, ()), (45, ()), (257, ((0, -100),))])
    assert run(prog, 41) == TRACE | 41
    assert run(prog, 45) == TRACE | 45
    assert run(prog, 44) == ALLOW
    assert run(prog, 202) == ALLOW
    assert run(prog, 41, arch=0x40000003) == ALLOW  # i386
    assert run(prog, 41 | kernel_seccomp.X32_SYSCALL_BIT) == ALLOW


def test_pass_conditions_let_calls_through_only_when_all_hold():
    prog = kernel_seccomp.seccomp_filter([(257, ((0, -100),)),
                                          (264, ((0, -100), (2, -100))), (9, ((4, -1),))])
    assert run(prog, 257, args(a0=-100)) == ALLOW  # openat(AT_FDCWD, ...)
    assert run(prog, 257, args(a0=40)) == TRACE | 257  # openat(40, ...): 40 may be a socket
    assert run(prog, 264, args(a0=-100, a2=-100)) == ALLOW
    assert run(prog, 264, args(a0=-100, a2=3)) == TRACE | 264  # renameat: either dirfd
    assert run(prog, 264, args(a0=3, a2=-100)) == TRACE | 264
    assert run(prog, 9, args(a4=-1)) == ALLOW  # anonymous mmap
    assert run(prog, 9, args(a4=3)) == TRACE | 9


def test_the_stop_says_when_an_argument_is_not_zero():
    """recvfrom's address: a stop with ENTRY_FLAG in its data when the program gave one (its
    entry is read then), a plain stop when the pointer is NULL (the short path)."""
    prog = kernel_seccomp.seccomp_filter([(45, (), 4), (44, ())])
    assert run(prog, 45, args(a4=0)) == TRACE | 45
    assert run(prog, 45, args(a4=0x7FFC0000)) == TRACE | 45 | kernel_seccomp.ENTRY_FLAG
    assert run(prog, 45, args(a4=1 << 40)) == TRACE | 45 | kernel_seccomp.ENTRY_FLAG  # high half
    assert run(prog, 44, args(a4=5)) == TRACE | 44
    assert load_syscalls().entry_when == {"recvfrom": 4}


def test_the_real_table_stops_at_every_traced_call():
    table = load_syscalls()
    prog = kernel_seccomp.seccomp_filter(table.filter_rules())
    for nr, name in table.names.items():
        flag = kernel_seccomp.ENTRY_FLAG if name in table.entry_when else 0
        assert run(prog, nr, args()) == TRACE | nr | flag, name
    for name, conditions in table.pass_when.items():
        nr = next(n for n, x in table.names.items() if x == name)
        assert run(prog, nr, args(**{f"a{i}": v for i, v in conditions})) == ALLOW, name
    untraced = set(range(0, 460)) - set(table.names)
    assert all(run(prog, nr) == ALLOW for nr in untraced)


def test_the_binding_loads_without_ptrace_errors_helpers_and_they_still_work():
    """kernel.binding() stands a light module for ptrace.error (its logging helpers cost
    milliseconds at every start); the rest of it is there on first use, PtraceError is one
    class."""
    import subprocess
    import sys

    code = ("import sys; from harness.tracer import kernel; kernel.binding(); "
            "print('logging' in sys.modules, 'traceback' in sys.modules); "
            "from ptrace.error import PtraceError, writeError, PTRACE_ERRORS; "
            "import ptrace; print(ptrace.PtraceError is PtraceError is kernel.PtraceError, "
            "callable(writeError), PTRACE_ERRORS is Exception)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False", "True", "True", "True"]


def test_the_tables_come_from_a_cache_keyed_by_the_yaml_files(tmp_path):
    """The first start parses xlat.yaml and syscalls.yaml and keeps what they hold in the
    cache folder; a later start reads that without importing YAML at all."""
    import os
    import subprocess
    import sys
    import zlib

    from harness.tracer import tables

    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    load = ("from harness.tracer.tables import load_tables, load_syscalls; "
            "t = load_tables(); s = load_syscalls(); "
            "print(t['socket_types'].name(2), s.classes['lseek'])")
    first = subprocess.run([sys.executable, "-c", load], env=env, capture_output=True,
                           text=True, check=True)
    assert first.stdout.split() == ["SOCK_DGRAM", "desc"]
    texts = [open(os.path.join(tables.HERE, n), "rb").read() for n in tables.SOURCES]
    key = zlib.crc32(b"\0".join([str(tables.CACHE_VERSION).encode(), *texts]))
    cached = tmp_path / "sockettrace-harness" / f"tracer-tables-{key:08x}.json"
    assert cached.exists()
    no_yaml = "import sys; sys.modules['yaml'] = None; " + load  # importing yaml would fail
    second = subprocess.run([sys.executable, "-c", no_yaml], env=env, capture_output=True,
                            text=True, check=True)
    assert second.stdout == first.stdout
