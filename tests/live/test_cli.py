"""`python -m harness trace`: exit statuses, messages for bad input, trace files."""

from __future__ import annotations

import os
import re
import subprocess
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from harness.formats import tracefile
from harness.formats.model import Trace
from livehelp import PYTHON, REPO, harness_cli, names, normalized, python_program, trace

pytestmark = pytest.mark.live


def one_line(text: str) -> str:
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


# -- exit statuses and what is printed ----------------------------------------------------


def test_events_on_stderr_and_exit_status(cbin, scratch):
    r = harness_cli(["trace", "--", cbin["tcp_flags"]], cwd=scratch)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 28, r.stderr  # 26 calls, the exec and the exit
    assert all(line.startswith("[") for line in lines)
    assert "accept4(fd=3, addr=NULL, flags=SOCK_CLOEXEC) = -1 EAGAIN" in lines[6]
    r = harness_cli(["trace", "--", PYTHON, "-c", "raise SystemExit(3)"], cwd=scratch)
    assert r.returncode == 3


@pytest.mark.parametrize("prog", ["no-such-program-for-harness", "./no/such/program"])
def test_program_not_found(scratch, prog):
    r = harness_cli(["trace", "--", prog, "arg"], cwd=scratch)
    assert r.returncode == 127
    assert prog in one_line(r.stderr)
    assert r.stdout == ""


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_ptrace_not_permitted(scratch):
    """Under strace -f the harness's child is already traced: PTRACE_TRACEME fails, the
    program never starts, and one line says why."""
    marker = scratch / "ran"
    r = harness_cli(["trace", "--", "touch", marker], cwd=scratch,
                    wrap=["strace", "-f", "-qq", "-o", os.devnull])
    assert r.returncode != 0
    assert "ptrace not permitted" in one_line(r.stderr)
    assert not marker.exists()


@pytest.mark.parametrize("where", ["no-such-folder", "a-folder", "under-a-file"])
def test_unwritable_output_fails_before_the_program_starts(scratch, where):
    out = {"no-such-folder": Path("/nonexistent/dir/t.yaml"),
           "a-folder": scratch,
           "under-a-file": scratch / "file" / "t.yaml"}[where]
    (scratch / "file").write_text("")
    marker = scratch / "ran"
    r = harness_cli(["trace", "-o", out, "--", "touch", marker], cwd=scratch)
    assert r.returncode != 0
    one_line(r.stderr)
    assert not marker.exists()


def test_read_only_output_folder(tmp_path):
    """A folder the user cannot write to (as root, run the harness as nobody)."""
    wrap: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to be refused a folder")
        wrap = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    base = Path(tempfile.mkdtemp(dir="/tmp", prefix="harness-ro-"))
    try:
        base.chmod(0o777)
        ro = base / "ro"
        ro.mkdir(mode=0o555)
        ro.chmod(0o555)
        marker = base / "ran"
        r = harness_cli(["trace", "-o", ro / "t.yaml", "--", "touch", marker], cwd=base,
                        wrap=wrap)
        assert r.returncode != 0
        assert "not writable" in one_line(r.stderr)
        assert not marker.exists()
        assert list(ro.iterdir()) == []
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_output_to_a_device_node_does_not_replace_it(scratch):
    """`-o /dev/null` (here: a copy of it) must not turn the device into a regular file."""
    null = scratch / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    r = harness_cli(["trace", "-o", null, "--", PYTHON, "-c", "pass"], cwd=scratch)
    kind = os.lstat(null).st_mode
    assert stat.S_ISCHR(kind), f"{null} became {stat.filemode(kind)} (exit {r.returncode})"
    assert sorted(p.name for p in scratch.iterdir()) == ["null"]


# -- trace files ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_trace_file_round_trip(cbin, scratch, fmt):
    """What trace_command returns, saved and loaded back, is equal to itself: floats, big
    integers, None, escaped data, several processes."""
    traces = [trace([cbin["fds"], scratch / "file"], cwd=scratch),
              trace([cbin["forksrv"]], cwd=scratch),
              trace(python_program("data.py"), cwd=scratch, data_bytes=16)]
    for i, t in enumerate(traces):
        path = scratch / f"t{i}.{fmt}"
        tracefile.save(t, path)
        back = tracefile.load(path)
        assert back == t
        assert isinstance(back, Trace) and back.to_dict() == t.to_dict()
    leftovers = sorted(p.name for p in scratch.iterdir() if p.name.startswith("."))
    assert leftovers == []


@pytest.mark.parametrize("out, option, fmt", [("t.yaml", [], "yaml"), ("t.json", [], "json"),
                                              ("t.yaml", ["--format", "json"], "json")])
def test_cli_writes_trace_files(cbin, scratch, out, option, fmt):
    folder = scratch / "out"
    folder.mkdir()
    path = folder / out
    r = harness_cli(["trace", "-o", path, *option, "--", cbin["forksrv"]], cwd=scratch)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # events go to the file, not to the terminal
    assert [p.name for p in folder.iterdir()] == [out]  # no temporary file left
    text = path.read_text()
    assert text.lstrip().startswith("{") == (fmt == "json")
    t = tracefile.load(path)  # by its suffix; JSON in a .yaml file reads as YAML
    assert t.schema_version == tracefile.SCHEMA_VERSION and t.complete
    assert t.command == [cbin["forksrv"]]
    assert t.cwd == str(scratch)
    assert (t.tracer.mode, t.tracer.data_bytes, t.tracer.fallback_reason) == ("seccomp", 64, None)
    assert t.exit_status == 0 and len(t.processes) == 3
    assert names(t, t.processes[2].pid) == ["close", "recvfrom", "sendto", "close", "+exit"]


def test_cli_no_seccomp_and_data_options(scratch):
    a, b = scratch / "a.yaml", scratch / "b.yaml"
    r = harness_cli(["trace", "-o", a, "--data", "4", "--", *python_program("data.py")],
                    cwd=scratch)
    assert r.returncode == 0, r.stderr
    r = harness_cli(["trace", "-o", b, "--no-seccomp", "--data", "4", "--",
                     *python_program("data.py")], cwd=scratch)
    assert r.returncode == 0, r.stderr
    fast, slow = tracefile.load(a), tracefile.load(b)
    assert (fast.tracer.mode, slow.tracer.mode) == ("seccomp", "all-syscalls")
    assert fast.tracer.data_bytes == slow.tracer.data_bytes == 4
    send = next(e for e in fast.events if e.syscall == "sendto")
    assert {k: send.args[k] for k in ("data", "data_len", "data_truncated")} == {
        "data": "line", "data_len": 100, "data_truncated": True}
    assert normalized(fast) == normalized(slow)


def test_trace_imports_only_the_tracer(scratch):
    """`harness trace` is what a traced program waits for to start: it imports neither the
    compare stack, nor YAML, nor the model classes (a short trace needs no msgspec either)."""
    code = ("import sys; from harness import cli; "
            f"status = cli.main(['trace', '-o', {str(scratch / 't.jsonl')!r}, '--', '/bin/true']); "
            "print(status, ' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('yaml', 'tabulate', 'msgspec') or m in ('harness.formats.model', 'harness.report', "
            "'harness.normalize', 'harness.run.matrix', 'harness.run.runner', 'logging'))))")
    r = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0"]
    assert tracefile.load(scratch / "t.jsonl").complete


# -- the strace user's options ---------------------------------------------------------------

def test_version_and_a_wrong_option_say_so_in_the_trace_usage(scratch):
    r = harness_cli(["--version"], cwd=scratch)
    assert r.returncode == 0 and re.fullmatch(r"harness \d+\.\d+\.\d+\n", r.stdout)
    r = harness_cli(["trace", "--bogus", "--", "true"], cwd=scratch)
    assert r.returncode == 2 and r.stderr.startswith("usage: harness trace ")
    assert "unrecognized arguments: --bogus" in r.stderr
    for bad in (["--data", "-1"], ["-s", "-1"], ["-s", "x"]):
        r = harness_cli(["trace", *bad, "--", "true"], cwd=scratch)
        assert r.returncode == 2 and "must be 0 or more" in r.stderr or "not a number" in \
            r.stderr, r.stderr


def test_e_trace_selects_by_name_class_and_negation(cbin, scratch):
    """strace's -e trace=: names, %network / %desc / %process classes, `!` for all but."""
    def shown(expr: str) -> set[str]:
        r = harness_cli(["trace", "-e", expr, "--", cbin["fds"], scratch / "file"], cwd=scratch)
        assert r.returncode == 0, r.stderr
        return {m.group(1) for m in re.finditer(r"^\[\d+\] (?:\+\+\+ )?(\w+)\(", r.stderr,
                                                re.M)}
    (scratch / "file").write_text("x" * 100)
    assert shown("trace=socketpair,close") == {"socketpair", "close"}
    net = shown("trace=%network")
    assert "socketpair" in net and not net & {"close", "dup", "dup2", "read", "write", "execve"}
    assert shown("%process") <= {"execve", "exit", "fork", "clone", "vfork"}
    assert "execve" in shown("%process")
    negated = shown("!%desc")
    assert "socketpair" in negated and "execve" in negated and "close" not in negated
    r = harness_cli(["trace", "-e", "trace=nosuchcall", "--", "true"], cwd=scratch)
    assert r.returncode == 2 and "'nosuchcall' is no syscall" in one_line(r.stderr)


def test_c_summarizes_and_t_options_time_the_lines(cbin, scratch):
    r = harness_cli(["trace", "-c", "--", cbin["tcp_flags"]], cwd=scratch)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    head = lines.index("% time     seconds  usecs/call     calls    errors syscall")
    rows = {line.split()[-1]: line.split() for line in lines[head + 2:-2]}
    assert "socket" in rows and lines[-1].split()[-1] == "total"
    assert int(lines[-1].split()[3]) == sum(int(r_[3]) for r_ in rows.values())
    assert not any(line.startswith("[") for line in lines)  # the table, not the events
    r = harness_cli(["trace", "-tt", "-T", "-e", "trace=socket", "--", cbin["tcp_flags"]],
                    cwd=scratch)
    first = r.stderr.splitlines()[0]
    assert re.match(r"\d\d:\d\d:\d\d\.\d{6} \[\d+\] socket\(", first), first
    assert re.search(r" <\d+\.\d{6}>$", first), first
    r = harness_cli(["trace", "-r", "-e", "trace=socket", "--", cbin["tcp_flags"]],
                    cwd=scratch)
    stamps = [float(line.split()[0]) for line in r.stderr.splitlines()]
    assert stamps[0] == 0.0 and all(s >= 0 for s in stamps)


def test_e_and_t_apply_to_the_trace_file(cbin, scratch):
    out = scratch / "t.jsonl"
    r = harness_cli(["trace", "-T", "-e", "trace=%network", "-o", out, "--", cbin["tcp_flags"]],
                    cwd=scratch)
    assert r.returncode == 0, r.stderr
    t = tracefile.load(out)
    assert t.events and {e.syscall for e in t.events} <= {
        "socket", "bind", "listen", "accept", "accept4", "connect", "getsockname",
        "getpeername", "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg",
        "shutdown", "socketpair", "sendmmsg", "recvmmsg"}
    assert all(isinstance(e.dur_ns, int) and e.dur_ns >= 0 for e in t.events)


def test_a_python_shim_is_traced_as_the_interpreter_it_runs(scratch):
    """pyenv's `python3` is a shell script in a `shims` folder that execs the interpreter:
    `harness trace -- python3 ...` traces the interpreter alone, and says so; another shim is
    traced as it is, and said to be one."""
    shims = scratch / "shims"
    shims.mkdir()
    real = os.path.realpath(PYTHON)
    for name in ("python3", "mytool"):
        (shims / name).write_text(f'#!/bin/sh\nexec "{real}" "$@"\n')
        (shims / name).chmod(0o755)
    out = scratch / "t.jsonl"
    env = dict(os.environ, PATH=f"{shims}:{os.environ['PATH']}")
    for name, resolved in (("python3", True), ("mytool", False)):
        r = subprocess.run([PYTHON, "-m", "harness", "trace", "-o", str(out), "--", name, "-c",
                            "import socket; socket.socket().close()"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stderr.startswith(f"harness trace: {name} is a shim ({shims / name})")
        t = tracefile.load(out)
        exes = [p.exe for p in t.processes]
        if resolved:
            assert "tracing the interpreter it runs" in r.stderr and exes == [real]
        else:
            assert "its own fork and exec are traced too" in r.stderr


def test_a_name_lookup_is_marked_in_the_trace_output(scratch):
    prog = ("import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n"
            "    s.connect('/var/run/nscd/socket')\nexcept OSError:\n    pass\n")
    r = harness_cli(["trace", "-e", "trace=connect", "--", PYTHON, "-c", prog], cwd=scratch)
    assert "(a name lookup: nscd, unrelated)" in r.stderr, r.stderr
