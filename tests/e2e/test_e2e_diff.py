"""`harness diff` on live commands: two self-contained programs (each a server and its client
in one process, written here), run under the tracer and compared; and a trace file made by
`harness trace -o` against a command."""

from __future__ import annotations

import json
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest

from e2ehelp import PYTHON, REPO

pytestmark = pytest.mark.live

# A server thread and a client in one process, each call handed over to the other thread
# (threading.Event: a futex, no socket call), so that the calls' order does not depend on
# the scheduler.
PROGRAM = textwrap.dedent("""\
    import socket, sys, threading
    port = int(sys.argv[1])
    srv = socket.socket()
    srv.bind(("127.0.0.1", port))
    srv.listen(5)
    accepted, sent, received = threading.Event(), threading.Event(), threading.Event()
    def serve():
        conn, _ = srv.accept()
        accepted.set()
        data = conn.recv(1024)
        conn.sendall(data.upper() if UPPER else data)
        sent.set()
        received.wait()
        HALF_CLOSE
        conn.close()
    t = threading.Thread(target=serve)
    t.start()
    c = socket.create_connection(("127.0.0.1", port))
    accepted.wait()
    c.sendall(b"hello")
    sent.wait()
    print(c.recv(1024).decode())
    received.set()
    t.join()
    c.close()
    srv.close()
    """)


def program(folder: Path, name: str, *, half_close: bool = False, upper: bool = False) -> Path:
    path = folder / name
    path.write_text(PROGRAM.replace("HALF_CLOSE", "conn.shutdown(socket.SHUT_WR)" if half_close
                                    else "pass").replace("UPPER", str(upper)))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "harness", *args], cwd=REPO, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)


def test_two_commands_the_same(tmp_path):
    """Two programs that make the same calls (one echoes, one answers in upper case: not
    an echo, the same calls): exit 0, every step identical, as servers."""
    a, b = program(tmp_path, "echo_a.py"), program(tmp_path, "upper_b.py", upper=True)
    r = harness("diff", "--format", "json", "--run", f"{PYTHON} {a} {free_port()}",
                "--", PYTHON, str(b), str(free_port()))
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["diff"]["same"] and doc["diff"]["roles"] == ["server"]
    assert [s["name"] for s in doc["diff"]["sides"]] == ["echo_a.py", "upper_b.py"]
    assert all(s["kind"] == "command" for s in doc["diff"]["sides"])
    assert "HELLO" in r.stderr and "hello" in r.stderr  # the programs' output: on stderr
    steps = [row["label"] for row in doc["scenarios"][0]["tables"][0]["rows"]]
    assert steps[:3] == ["listener = socket()", "bind(listener, 127.0.0.1:PORT)",
                         "listen(listener)"]
    assert "sock = socket()" in steps and "connect(sock, 127.0.0.1:PORT)" in steps


def test_two_commands_that_differ(tmp_path):
    a, b = program(tmp_path, "plain.py"), program(tmp_path, "half.py", half_close=True)
    r = harness("diff", "--run", f"{PYTHON} {a} {free_port()}",
                "--run", f"{PYTHON} {b} {free_port()}")
    assert r.returncode == 1, r.stdout + r.stderr
    last = r.stdout.rstrip().splitlines()[-1]
    assert last.startswith("differ: server half.py (B): differs at step") and \
        "extra shutdown(conn, SHUT_WR)" in last
    assert "why it differs:" in r.stdout and "shutdown(2)" in r.stdout


def test_a_trace_file_against_a_command(tmp_path):
    """`harness trace -o FILE` then `harness diff FILE -- CMD`."""
    a = program(tmp_path, "traced.py")
    out = tmp_path / "a.jsonl"
    r = harness("trace", "-o", str(out), "--", PYTHON, str(a), str(free_port()))
    assert r.returncode == 0, r.stderr
    r = harness("diff", str(out), "--", PYTHON, str(a), str(free_port()))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"A: {out} — a, trace file: a server; its listening socket is bound to " \
        f"127.0.0.1:" in r.stdout
    assert r.stdout.rstrip().splitlines()[-1].startswith("same: traced.py (B)")


def test_a_command_that_runs_on_is_killed(tmp_path):
    """A server that never exits: killed at --timeout, its run a timeout (exit 1)."""
    forever = tmp_path / "forever.py"
    forever.write_text("import socket, sys, time\ns = socket.socket()\n"
                       "s.bind(('127.0.0.1', int(sys.argv[1])))\ns.listen()\ntime.sleep(60)\n")
    r = harness("diff", "--timeout", "1", "--run", f"{PYTHON} {forever} {free_port()}",
                "--run", f"{PYTHON} {forever} {free_port()}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "its run: timeout (killed after 1 s (--timeout))" in r.stdout


SERVER = textwrap.dedent("""\
    import socket, sys
    s = socket.socket()
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(5)
    while True:
        c, _ = s.accept()
        data = c.recv(1024)
        c.sendall(data.upper() if UPPER else data)
        c.close()
        if ONCE:
            break
    s.close()
    """)
CLIENT = textwrap.dedent("""\
    import socket, sys
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    c.sendall(b"hello")
    print(c.recv(1024).decode())
    c.close()
    """)


def server(folder: Path, name: str, *, upper: bool = False, once: bool = True) -> Path:
    path = folder / name
    path.write_text(SERVER.replace("UPPER", str(upper)).replace("ONCE", str(once)))
    return path


def test_two_servers_with_a_client(tmp_path):
    """Two tiny servers given as commands, one client run against each (`{port}`: a free port
    per side): both roles compared; an echo and an upper-case answer make the same calls."""
    a, b = server(tmp_path, "echo.py"), server(tmp_path, "upper.py", upper=True)
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    r = harness("diff", "--format", "json", "--client", f"{PYTHON} {client} {{port}}",
                "--run", f"{PYTHON} {a} {{port}}", "--", PYTHON, str(b), "{port}")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["diff"]["roles"] == ["server", "client"]
    assert [t["role"] for t in doc["scenarios"][0]["tables"]] == ["server", "client"]
    assert "hello" in r.stderr and "HELLO" in r.stderr
    ports = [s["port"] for s in doc["diff"]["sides"]]
    assert all(ports) and ports[0] != ports[1]


def test_a_server_that_serves_forever(tmp_path):
    """A server with `while True: accept` is stopped once its client is done, not a failure;
    its last accept never returned, where the other's close(listener) is."""
    a, b = server(tmp_path, "forever.py", once=False), server(tmp_path, "once.py")
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    r = harness("diff", "--width", "0", "--client", f"{PYTHON} {client} {{port}}",
                "--run", f"{PYTHON} {a} {{port}}", "--run", f"{PYTHON} {b} {{port}}")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "stopped once its client was done" in r.stdout
    assert "accept(listener) … never returned" in r.stdout
    last = r.stdout.rstrip().splitlines()[-1]
    assert last.startswith("differ: server once.py (B)") and "timeout" not in last
