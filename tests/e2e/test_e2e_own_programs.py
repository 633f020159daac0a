"""Programs as tutorials write them (issue 19): a port and an address of their own, a reply
that is not the echo, a server that serves forever. Each runs beside the reference pair and is
explained as `verify` explains it."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from harness.compare.analyze import analyze
from harness.run.matrix import plan, run_all
from harness.formats.model import RunRecord
from harness.run.ports import host_addresses
from harness.render.explain import explain
from harness.run.options import RunOptions
from harness.run.runner import SERVER_GRACE

from e2ehelp import REPO, SampleTree

REFERENCE = "python-stdlib"


def verify(samples: SampleTree, name: str, tmp: Path,
           **options) -> tuple[RunRecord, list[RunRecord], str]:
    """Run the sample's pair and the reference pair in tcp: (the sample's run, every run,
    the explanation of the sample)."""
    p = plan([samples.root, REPO], scenarios=["tcp"], reference=REFERENCE, cross=False,
             only=name, build_cache=tmp / "build", log=lambda line: None)
    records = run_all(p, tmp / "traces", RunOptions(**options), REFERENCE,
                      log=lambda line: None)
    mine = next(r for r in records if name in (r.server, r.client))
    return mine, records, explain(analyze(tmp / "traces"), name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manifest(name: str, role: str, run: str, extra: str = "") -> str:
    return (f"name: {name}\nrole: {role}\nlanguage: Python\nrun: {run}\nscenarios: [tcp]\n"
            + extra)


# a tutorial's server: its own port, every interface, backlog 5, one connection
FIXED_SERVER = """
    import socket
    s = socket.socket()
    s.bind(("0.0.0.0", {port}))
    s.listen(5)
    c, _ = s.accept()
    c.sendall(c.recv(128))
    c.close()
    s.close()
"""


def test_a_server_with_a_port_of_its_own_runs_on_it_and_binds_every_interface(
        samples, tmp_path) -> None:
    port = free_port()
    samples.add("server", "fixed", FIXED_SERVER.format(port=port), manifest=manifest(
        "fixed", "server", '["{python}", "prog.py"]', f"port: {port}\n"))
    record, _, text = verify(samples, "fixed", tmp_path)
    assert record.outcome == "ok", record
    assert (record.port, record.port_from) == (port, "server")
    first = text.splitlines()[0]
    assert first.startswith("fixed (server), scenario tcp, run tcp/fixed--python-stdlib: "
                            "identical"), text
    assert "bind(0.0.0.0:PORT)" in text  # the dialect shows the address named
    assert "address: binds every interface (0.0.0.0) (reference: the run's address)" in text
    assert "binds every interface: A socket bound to 0.0.0.0 (INADDR_ANY)" in text


def test_a_busy_port_says_which_process_holds_it(samples, tmp_path) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    samples.add("server", "fixed", FIXED_SERVER.format(port=port), manifest=manifest(
        "fixed", "server", '["{python}", "prog.py"]', f"port: {port}\n"))
    try:
        record, _, _ = verify(samples, "fixed", tmp_path)
    finally:
        holder.close()
    assert record.outcome == "server-failed"
    assert f"port {port} is held by pid {__import__('os').getpid()} (" in record.detail
    assert f"listening on 127.0.0.1:{port})" in record.detail


def test_a_port_in_time_wait_is_said_to_be(samples, tmp_path) -> None:
    # a connection whose server side closed first: its port stays in TIME_WAIT
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = listener.accept()
        conn.close()
        time.sleep(0.1)
        client.close()
    samples.add("server", "fixed", FIXED_SERVER.format(port=port), manifest=manifest(
        "fixed", "server", '["{python}", "prog.py"]', f"port: {port}\n"))
    record, _, _ = verify(samples, "fixed", tmp_path)
    assert record.outcome == "server-failed"
    assert f"port {port} is in TIME_WAIT: a connection on it closed less than a minute " \
           "ago" in record.detail


# the host name's address on Debian: a loopback address that needs no /etc/hosts here
OWN_SERVER = """
    import socket
    with socket.socket() as s:
        s.bind(("127.0.1.1", 0))
        s.listen()
        c, _ = s.accept()
        with c:
            c.sendall(c.recv(4096))
"""
OWN_CLIENT = """
    import socket, sys
    with socket.create_connection(("127.0.1.1", int(sys.argv[1]))) as s:
        s.sendall(sys.argv[2].encode())
        data = s.recv(4096)
    sys.stdout.write(data.decode())
"""


def test_a_server_that_chooses_its_port_on_127_0_1_1_is_learned_and_its_steps_are_the_runs(
        samples, tmp_path) -> None:
    samples.add("server", "own", OWN_SERVER, manifest=manifest(
        "own", "server", '["{python}", "prog.py"]', "port: own\n"))
    samples.add("client", "own", OWN_CLIENT, manifest=manifest(
        "own", "client", '["{python}", "prog.py", "{port}", "{message}"]'))
    record, _, text = verify(samples, "own", tmp_path)
    assert record.outcome == "ok", record
    assert record.port_from == "learned" and record.port > 0
    assert record.host_addresses == list(host_addresses())
    lines = [line for line in text.splitlines() if line.startswith("own (")]
    assert [line.split(": ", 1)[1] for line in lines] == ["identical", "identical"], text
    what = ("the host name's address" if "127.0.1.1" in host_addresses()
            else "another loopback address")
    assert f"address: binds {what} 127.0.1.1 (reference: the run's address)" in text
    assert f"address: connects to {what} 127.0.1.1 (reference: the run's address)" in text
    # (it bound port 0: the kernel chose the port, the run's)
    assert "bind(127.0.1.1:0)" in text and "connect(127.0.1.1:PORT)" in text


def test_a_server_listening_on_a_port_of_its_own_is_told_how_to_say_so(samples,
                                                                       tmp_path) -> None:
    port = free_port()
    samples.add("server", "fixed", FIXED_SERVER.format(port=port), manifest=manifest(
        "fixed", "server", '["{python}", "prog.py"]'))
    record, _, _ = verify(samples, "fixed", tmp_path, timeout=1.5)
    assert record.outcome == "timeout"
    assert f"it listened on {port}, a port of its own: its manifest can say `port: {port}`" \
        in record.detail


# -- what the client prints ---------------------------------------------------------------------

UPPER_SERVER = """
    import socket, sys
    with socket.socket() as s:
        s.bind((sys.argv[1], int(sys.argv[2])))
        s.listen()
        c, _ = s.accept()
        with c:
            c.sendall(c.recv(4096).decode().upper().encode())
"""
UPPER_CLIENT = """
    import socket, sys
    with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as s:
        s.sendall("héllo, wörld".encode())
        data = s.recv(4096)
    print(data.decode())
"""


def test_an_upper_casing_echo_is_ok_with_its_expected_text(samples, tmp_path) -> None:
    samples.add("server", "upper", UPPER_SERVER)
    samples.add("client", "upper", UPPER_CLIENT, manifest=manifest(
        "upper", "client", '["{python}", "prog.py", "{host}", "{port}"]',
        'expect: {text: "HÉLLO, WÖRLD"}\n'))
    record, _, text = verify(samples, "upper", tmp_path)
    assert record.outcome == "ok", record
    assert (record.expect, record.expect_text) == ("text", "HÉLLO, WÖRLD")
    lines = [line for line in text.splitlines() if line.startswith("upper (")]
    assert [line.split(": ", 1)[1] for line in lines] == ["identical", "identical"], text


def test_output_other_than_the_expected_text_is_shown_as_text(samples, tmp_path) -> None:
    samples.add("server", "upper", UPPER_SERVER)
    samples.add("client", "upper", UPPER_CLIENT, manifest=manifest(
        "upper", "client", '["{python}", "prog.py", "{host}", "{port}"]',
        'expect: {text: "hi"}\n'))
    record, _, _ = verify(samples, "upper", tmp_path)
    assert record.outcome == "echo-mismatch"
    assert record.detail == ("client printed 'HÉLLO, WÖRLD\\n', expected 'hi' (its manifest's "
                             "`expect`)")


def test_expect_any_takes_any_output(samples, tmp_path) -> None:
    samples.add("server", "upper", UPPER_SERVER)
    samples.add("client", "upper", UPPER_CLIENT, manifest=manifest(
        "upper", "client", '["{python}", "prog.py", "{host}", "{port}"]', "expect: any\n"))
    record, _, _ = verify(samples, "upper", tmp_path)
    assert record.outcome == "ok", record


# -- a server that serves forever -----------------------------------------------------------------

FOREVER_SERVER = """
    import socket, sys
    s = socket.socket()
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen(5)
    while True:
        c, _ = s.accept()
        c.sendall(c.recv(4096))
        c.close()
"""


def test_a_server_that_serves_forever_is_stopped_once_its_client_is_done(samples,
                                                                         tmp_path) -> None:
    """Found without a word in its manifest: its client exited 0, and it waits in accept
    holding no connection. Stopped at once (no grace), not a failure; its last accept
    never returned."""
    samples.add("server", "forever", FOREVER_SERVER)
    record, _, text = verify(samples, "forever", tmp_path)
    assert record.outcome == "ok", record
    assert record.server_stopped and record.server_exit == 128 + 9
    assert record.duration_s < SERVER_GRACE
    assert "differs at step 8 (extra accept(listener) … never returned)" in text, text
    assert "serves forever: stopped by the harness once its client was done" in text


SELECT_SERVER = """
    import selectors, socket, sys
    sel = selectors.DefaultSelector()
    s = socket.socket()
    s.bind((sys.argv[1], int(sys.argv[2])))
    s.listen()
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            c, _ = s.accept()
            c.setblocking(True)
            c.sendall(c.recv(4096))
            c.close()
"""


def test_serves_forever_in_the_manifest_stops_an_event_loop_waiting_for_the_next_peer(
        samples, tmp_path) -> None:
    samples.add("server", "loop", SELECT_SERVER, manifest=manifest(
        "loop", "server", '["{python}", "prog.py", "{host}", "{port}"]', "serves: forever\n"))
    record, _, _ = verify(samples, "loop", tmp_path)
    assert record.outcome == "ok", record
    assert record.server_stopped and record.duration_s < SERVER_GRACE
