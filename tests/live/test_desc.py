"""Every call on a socket fd is recorded: the tracer's classes hold every descriptor call
strace knows (its %desc class), and the seccomp filter lets through without a stop only the
calls that cannot name a socket (AT_FDCWD, an anonymous mmap)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from livehelp import trace

pytestmark = pytest.mark.live

STRACE_CALL = re.compile(r"^\d+ +([a-z_0-9]+)\((.*)\) += ")


def strace_socket_calls(log: str) -> list[str]:
    """Names of the calls whose arguments name a socket fd (strace -y shows the socket's
    inode beside the fd: `lseek(40<socket:[1234]>, ...)`), in order."""
    out = []
    for line in log.splitlines():
        m = STRACE_CALL.match(line)
        if m and "<socket:[" in m.group(2):
            out.append(m.group(1))
    return out


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("seccomp", [True, False], ids=["seccomp", "all-syscalls"])
def test_every_descriptor_call_on_a_socket_is_recorded(cbin, scratch, seccomp):
    """desc.c makes some thirty descriptor calls (lseek, fstat, newfstatat, statx, mmap,
    openat relative to the socket...) on a socket at fd 40, then the same on a file at fd
    41: ours must be exactly strace's calls on the socket, in order, and nothing on the
    file."""
    file = scratch / "file"
    file.write_text("some bytes\n")
    argv = [cbin["desc"], str(file)]
    log = scratch / "strace.log"
    r = subprocess.run(["strace", "-f", "-qq", "-y", "-e", "trace=%desc", "-o", str(log),
                        *argv], cwd=scratch, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
    assert r.returncode == 0, r.stderr
    theirs = strace_socket_calls(log.read_text())
    assert {"lseek", "fstat", "newfstatat", "statx", "mmap", "openat", "fchdir"} <= set(theirs)
    t = trace(argv, cwd=scratch, seccomp=seccomp)
    assert t.exit_status == 0
    ours = [e for e in t.events if e.kind == "syscall" and e.syscall != "socket"]
    assert [e.syscall for e in ours] == theirs
    assert all(e.sock is not None and e.sock.type == "SOCK_STREAM" for e in ours)
    assert not [e for e in ours if 41 in e.args.values()]
    by_name = {e.syscall: e for e in ours}
    assert by_name["lseek"].args == {"fd": 40, "offset": 0, "whence": "SEEK_CUR"}
    assert by_name["lseek"].errno == "ESPIPE"
    assert by_name["newfstatat"].args == {"fd": 40, "path": "", "flags": ["AT_EMPTY_PATH"]}
    assert by_name["openat"].args == {"fd": 40, "path": "x"}
    assert by_name["openat"].errno == "ENOTDIR"
    assert by_name["mmap"].args["fd"] == 40
