"""normalize() on whole hand-built traces: levels, the runtimes of the field notes, attributes."""

from __future__ import annotations

from pathlib import Path

import fixtures_traces as ft
import pytest

from harness.formats.model import Trace
from harness.render import attribute_rows as words
from harness.normalize.sockets import walk_sockets
from harness.normalize.syscalls import load_syscall_table
from harness.normalize import (LEVELS, NormalizeError, declare_own_options, format_call,
                               load_rules, normalize)

SERVER_CANONICAL = ["listener = socket()", "bind(listener, 127.0.0.1:PORT)", "listen(listener)",
                    "conn = accept(listener)", "recv(conn)", "send(conn)", "close(conn)",
                    "close(listener)"]
CLIENT_CANONICAL = ["sock = socket()", "connect(sock, 127.0.0.1:PORT)", "send(sock)",
                    "recv(sock)", "close(sock)"]


def labels(trace, name: str, role: str, level: str = "canonical") -> list[str]:
    return [s.label for s in normalize(trace, ft.run_record(name, name), role, level).steps]


@pytest.mark.parametrize("name", ["python-stdlib", "c", "python-asyncio", "java"])
def test_servers_reduce_to_the_canonical_sequence(name: str) -> None:
    assert labels(ft.SERVERS[name](ft.PORT), name, "server") == SERVER_CANONICAL


@pytest.mark.parametrize("name", ["python-stdlib", "c", "python-asyncio"])
def test_clients_reduce_to_the_canonical_sequence(name: str) -> None:
    assert labels(ft.CLIENTS[name](ft.PORT), name, "client") == CLIENT_CANONICAL


def test_node_keeps_its_half_close() -> None:
    got = labels(ft.node_server(), "node", "server")
    assert got == SERVER_CANONICAL[:6] + ["shutdown(conn, SHUT_WR)", "recv(conn) → EOF"] + \
        SERVER_CANONICAL[6:]


def test_dialects_of_the_canonical_steps() -> None:
    n = normalize(ft.python_asyncio_client(), ft.run_record("a", "a"), "client")
    assert [s.dialect for s in n.steps] == ["socket(SOCK_CLOEXEC)", "connect(EINPROGRESS)+SO_ERROR",
                                            "sendto", "recvfrom", "close"]
    n = normalize(ft.node_client(), ft.run_record("n", "n"), "client")
    assert [s.dialect for s in n.steps] == ["socket(SOCK_NONBLOCK|SOCK_CLOEXEC)",
                                            "connect(EINPROGRESS)+SO_ERROR", "write", "read x2",
                                            "shutdown(SHUT_WR)", "read", "close"]


def test_levels() -> None:
    trace = ft.python_asyncio_server()
    run = ft.run_record("a", "a")
    raw = normalize(trace, run, "server", "raw")
    sock = normalize(trace, run, "server", "socket")
    canon = normalize(trace, run, "server", "canonical")
    assert len(raw.steps) == len(trace.events)
    assert raw.steps[0].fd == "" and raw.steps[0].syscall == "epoll_create1"
    # the socket view: only the echo's sockets, names, PORT; the self-pipe set aside
    assert {s.fd.split(",")[0] for s in sock.steps} == {"listener", "conn"}
    assert all(s.aside is not None and s.aside.family == "AF_UNIX" for s in sock.unrelated)
    assert sock.steps == sock.socket_view == canon.socket_view
    bind = next(s for s in sock.steps if s.syscall == "bind")
    assert format_call(bind) == "bind(listener, addr=127.0.0.1:PORT) = 0"
    # the attributes do not depend on the level
    assert raw.attributes == sock.attributes == canon.attributes
    assert len(canon.steps) == 8


def test_unknown_level_and_role() -> None:
    trace, run = ft.c_server(), ft.run_record("c", "c")
    with pytest.raises(ValueError, match="unknown level 'fancy'"):
        normalize(trace, run, "server", "fancy")
    with pytest.raises(ValueError, match="unknown role"):
        normalize(trace, run, "proxy", "raw")
    assert LEVELS == ("raw", "socket", "canonical")


def test_attributes_of_asyncio() -> None:
    a = normalize(ft.python_asyncio_server(), ft.run_record("a", "a"), "server").attributes
    assert words.io_model(a.io_model) == "non-blocking: ioctl(FIONBIO)"
    assert words.readiness(a.readiness) == "epoll, level-triggered (epoll_wait)"
    assert a.backlogs == (100,)
    assert [(u.api, u.waits, u.edge_triggered) for u in a.readiness] == [
        ("epoll", ("epoll_wait",), False)]
    assert a.eagain == 1
    assert [(o.fd, o.level, o.name, o.value) for o in a.options] == [
        ("listener", "SOL_SOCKET", "SO_REUSEADDR", 1), ("conn", "SOL_TCP", "TCP_NODELAY", 1)]
    assert [(words.socket_description(u.what), u.sockets) for u in a.unrelated] == [
        ("AF_UNIX SOCK_STREAM socketpair", 2)]
    assert dict(words.attribute_rows(a))["closing"] == "close"


def test_attributes_of_node_and_java() -> None:
    a = normalize(ft.node_server(), ft.run_record("n", "n"), "server").attributes
    assert words.io_model(a.io_model) == "non-blocking: SOCK_NONBLOCK, accept4(SOCK_NONBLOCK)"
    assert words.readiness(a.readiness) == "epoll, level-triggered (epoll_pwait)"
    assert dict(words.attribute_rows(a))["closing"] == "shutdown(SHUT_WR), waits for EOF, close"
    assert (a.threads, a.processes, a.socket_threads) == (7, 1, 1)
    j = normalize(ft.java_server(), ft.run_record("j", "j"), "server").attributes
    assert words.families(j) == "AF_INET6 (v4-mapped IPv4)"
    assert (j.families, j.v4_mapped, j.backlogs) == (("AF_INET6",), True, (50,))
    assert [words.socket_description(u.what) for u in j.unrelated] == [
        "AF_INET6 SOCK_DGRAM socket"]
    assert j.threads == 2


def test_edge_triggered_and_poll_readiness() -> None:
    b = ft.TraceBuilder()
    b.epoll_create(9)
    b.socket(3, flags=["SOCK_NONBLOCK"])
    b.connect(3, ft.inet(), errno="EINPROGRESS")
    b.epoll_ctl(9, "EPOLL_CTL_ADD", 3, events=["EPOLLIN", "EPOLLOUT", "EPOLLRDHUP", "EPOLLET"])
    b.epoll_wait(9, [3], ready=[3], syscall="epoll_pwait")
    b.poll([3], ready=[3])
    a = normalize(b.build(), ft.run_record("g", "g"), "client").attributes
    assert words.readiness(a.readiness) == "epoll, edge-triggered (epoll_pwait); poll"
    # the waits only (epoll_pwait, poll): epoll_ctl registers the socket, it does not wait
    assert a.readiness_calls == 2


def test_declared_options_hook() -> None:
    a = normalize(ft.python_asyncio_server(), ft.run_record("a", "a"), "server").attributes
    assert {o.origin for o in a.options} == {"unknown"}
    declared = declare_own_options(a, ["TCP_NODELAY"])
    assert [(o.name, o.origin) for o in declared.options] == [("SO_REUSEADDR", "runtime"),
                                                              ("TCP_NODELAY", "sample")]
    assert "by the runtime" in words.option(declared.options[0])


def test_a_failing_rule_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- {id: strip, level: canonical, kind: strip_flags, args: [flags], "
                    "flags: [X]}\n")
    rules = load_rules(path)
    bad = ft.TraceBuilder()
    # a trace file with a flags list the tracer never writes (a mapping in it)
    bad.call("sendto", {"fd": 3, "flags": [{"odd": 1}]}, result=1)
    trace = bad.build()
    with pytest.raises(NormalizeError, match=r"rule #1 \(strip\) \(kind strip_flags\) failed"):
        normalize(trace, ft.run_record("x", "x"), "client", "canonical", rules)


def test_empty_trace() -> None:
    n = normalize(ft.TraceBuilder().build(), ft.run_record("x", "x"), "server")
    rows = dict(words.attribute_rows(n.attributes))
    assert n.steps == () and rows["closing"] == "—" and rows["I/O model"] == "blocking"


# -- the other scenarios -----------------------------------------------------------------------

UNIX_SERVER = [s.replace("127.0.0.1:PORT", "unix:PATH") for s in SERVER_CANONICAL]
UNIX_CLIENT = [s.replace("127.0.0.1:PORT", "unix:PATH") for s in CLIENT_CANONICAL]
TCP6_SERVER = [s.replace("127.0.0.1:PORT", "[::1]:PORT") for s in SERVER_CANONICAL]
TCP6_CLIENT = [s.replace("127.0.0.1:PORT", "[::1]:PORT") for s in CLIENT_CANONICAL]
UDP_SERVER = ["sock = socket(SOCK_DGRAM)", "bind(sock, 127.0.0.1:PORT)", "recv(sock)", "send(sock)",
              "close(sock)"]
UDP_CLIENT = ["sock = socket(SOCK_DGRAM)", "send(sock)", "recv(sock)", "close(sock)"]
SESSION_SERVER = SERVER_CANONICAL[:4] + ["recv(conn)", "send(conn)"] * 3 + [
    "recv(conn) → EOF", "close(conn)", "close(listener)"]
SESSION_CLIENT = CLIENT_CANONICAL[:2] + ["send(sock)", "recv(sock)"] * 3 + ["close(sock)"]


def scenario_steps(trace, scenario: str, role: str, level: str = "canonical"):
    return normalize(trace, ft.run_record("x", "x", scenario=scenario), role, level)


@pytest.mark.parametrize("scenario,builder,role,expected", [
    ("tcp6", ft.python_stdlib_server6, "server", TCP6_SERVER),
    ("tcp6", ft.python_stdlib_client6, "client", TCP6_CLIENT),
    ("tcp6", ft.c_client6, "client", TCP6_CLIENT),
    ("unix", lambda port: ft.python_stdlib_server_unix(), "server", UNIX_SERVER),
    ("unix", lambda port: ft.python_stdlib_client_unix(), "client", UNIX_CLIENT),
    ("udp", ft.python_stdlib_server_udp, "server", UDP_SERVER),
    ("udp", ft.c_server_udp, "server", UDP_SERVER),
    ("udp", ft.python_stdlib_client_udp, "client", UDP_CLIENT),
    ("tcp-session", ft.python_stdlib_server_session, "server", SESSION_SERVER),
    ("tcp-session", ft.c_server_session, "server", SESSION_SERVER),
    ("tcp-session", ft.python_stdlib_client_session, "client", SESSION_CLIENT),
    ("tcp-session", ft.c_client_session, "client", SESSION_CLIENT),
])
def test_scenarios_reduce_to_their_canonical_sequence(scenario, builder, role, expected) -> None:
    n = scenario_steps(builder(ft.PORT), scenario, role)
    assert [s.label for s in n.steps] == expected


def test_udp_dialects_say_which_call_and_which_address() -> None:
    server = scenario_steps(ft.python_stdlib_server_udp(), "udp", "server")
    assert [s.dialect for s in server.steps][2:4] == ["recvfrom(127.0.0.1:*)",
                                                      "sendto(127.0.0.1:*)"]
    client = scenario_steps(ft.python_stdlib_client_udp(), "udp", "client")
    assert [s.dialect for s in client.steps][1:3] == ["sendto(127.0.0.1:PORT)",
                                                      "recvfrom(127.0.0.1:PORT)"]
    connected = scenario_steps(ft.c_client_udp_connected(), "udp", "client")
    assert [(s.label, s.dialect) for s in connected.steps] == [
        ("sock = socket(SOCK_DGRAM)", "socket(SOCK_DGRAM)"),
        ("connect(sock, 127.0.0.1:PORT)", "connect"),
        ("send(sock)", "sendto"), ("recv(sock)", "recvfrom"), ("close(sock)", "close")]


def test_session_dialects_show_pieces_and_partial_sends() -> None:
    server = scenario_steps(ft.python_stdlib_server_session(), "tcp-session", "server")
    assert [s.dialect for s in server.steps][4:11] == [
        "recvfrom", "sendto", "recvfrom", "sendto", "recvfrom(interleaved) x2",
        "sendto(interleaved) x2", "recvfrom"]
    # other pieces (three instead of two), the same steps
    other = scenario_steps(ft.python_stdlib_server_session(big_pieces=(40000, 40000, 20000)),
                           "tcp-session", "server")
    assert [s.key for s in other.steps] == [s.key for s in server.steps]
    assert other.steps[8].dialect == "recvfrom(interleaved) x3"
    client = scenario_steps(ft.c_client_session(), "tcp-session", "client")
    assert [s.dialect for s in client.steps][2:8] == [
        "sendto", "recvfrom", "sendto", "recvfrom", "sendto x2", "recvfrom x25"]
    assert client.steps[6].result == 100000


def test_unix_path_never_reaches_the_steps() -> None:
    for level in ("socket", "canonical"):
        for builder, role in ((ft.python_stdlib_server_unix, "server"),
                              (ft.python_stdlib_client_unix, "client"),
                              (ft.no_listen_server_unix, "server")):
            n = scenario_steps(builder(), "unix", role, level)
            text = repr([(s.args, s.label, s.dialect) for s in n.steps + n.unrelated])
            assert ft.RUN_DIR not in text
    view = scenario_steps(ft.python_stdlib_server_unix(), "unix", "server", "socket")
    bind = next(s for s in view.steps if s.syscall == "bind")
    assert format_call(bind) == "bind(listener, addr=unix:PATH) = 0"


def test_attributes_of_the_other_scenarios() -> None:
    udp_server = scenario_steps(ft.python_stdlib_server_udp(), "udp", "server").attributes
    rows = lambda a: dict(words.attribute_rows(a))  # noqa: E731
    assert (rows(udp_server)["addressing"], rows(udp_server)["address family"],
            rows(udp_server)["listen backlog"]) == ("sendto with address", "AF_INET", "—")
    connected = scenario_steps(ft.c_client_udp_connected(), "udp", "client").attributes
    assert rows(connected)["addressing"] == "connect + send"
    no_wait = scenario_steps(ft.no_wait_client_udp(), "udp", "client").attributes
    assert rows(no_wait)["addressing"] == "sendto with address"
    tcp = scenario_steps(ft.python_stdlib_server(), "tcp", "server").attributes
    assert rows(tcp)["addressing"] == "—" and tcp.datagrams == ()
    assert words.families(scenario_steps(ft.python_stdlib_server6(), "tcp6",
                                         "server").attributes) == "AF_INET6"
    unix = scenario_steps(ft.no_listen_server_unix(), "unix", "server").attributes
    assert words.families(unix) == "AF_UNIX"
    assert [words.unrelated_short(u) for u in unix.unrelated] == [
        "AF_UNIX SOCK_STREAM socketpair: 2 sockets, 5 calls"]


def _server_with_a_first_call(fd: int, errno: str | None) -> Trace:
    """The reference server, with a getsockname(fd) before anything else."""
    b = ft.TraceBuilder(pid=5102, command=["/usr/bin/java", "EchoServer", ft.HOST, str(ft.PORT)])
    if errno is None:  # a socket: the tracer learns it by its inode (the kernel said no more)
        b.before_trace(fd)
    b.call("getsockname", {"fd": fd, "addr": None}, result=-1 if errno else 0, errno=errno)
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, ft.inet())
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.recv(4, ft.MESSAGE)
    b.send(4, ft.MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def test_a_socket_call_refused_on_a_non_socket_is_no_unrelated_socket() -> None:
    """The JVM asks getsockname(0) whether inetd started it: ENOTSOCK (or EBADF) shows fd 0
    is no socket; a getsockname that works on an fd the trace never saw made is a socket
    made before the trace began."""
    run = ft.run_record("j", "j")
    for errno in ("ENOTSOCK", "EBADF"):
        quiet = normalize(_server_with_a_first_call(0, errno), run, "server")
        assert quiet.attributes.unrelated == ()
        assert [s.label for s in quiet.steps] == SERVER_CANONICAL
    noisy = normalize(_server_with_a_first_call(7, None), run, "server").attributes
    assert [(words.socket_description(u.what), u.sockets) for u in noisy.unrelated] == [
        ("socket of unknown family (made before the trace)", 1)]


def test_a_splice_echo_is_recv_and_send_and_its_pipe_no_socket() -> None:
    """Go's io.Copy(conn, conn) moves the echo with splice through a pipe: out of conn a
    receive, into conn a send, the final 0 from conn an end of file. The pipe's fds, which
    the trace never saw made, are not sockets."""
    b = ft.TraceBuilder(pid=5103, command=["/srv/go-copy", ft.HOST, str(ft.PORT)])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, ft.inet())
    b.listen(3, 4096)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    n = len(ft.MESSAGE)
    b.call("splice", {"fd_in": 4, "fd_out": 8, "len": 1 << 20, "flags": ["SPLICE_F_NONBLOCK"]},
           result=n, fd=4)
    b.call("splice", {"fd_in": 7, "fd_out": 4, "len": n, "flags": ["SPLICE_F_NONBLOCK"]},
           result=n, fd=4)
    b.call("splice", {"fd_in": 4, "fd_out": 8, "len": 1 << 20, "flags": ["SPLICE_F_NONBLOCK"]},
           result=0, fd=4)
    b.close(4)
    b.close(3)
    trace = b.build()
    walk = walk_sockets(trace, load_syscall_table())
    assert [(s.family, s.fds) for s in walk.sockets] == [("AF_INET", (3,)), ("AF_INET", (4,))]
    n = normalize(trace, ft.run_record("g", "g"), "server")
    assert [s.label for s in n.steps] == SERVER_CANONICAL[:4] + [
        "recv(conn)", "send(conn)", "recv(conn) → EOF", "close(conn)", "close(listener)"]
    assert [s.dialect for s in n.steps][4:7] == ["splice(SPLICE_F_NONBLOCK)"] * 3
    assert n.attributes.unrelated == ()


def _stream_client(switch_back: bool, send_flags: tuple[str, ...] = ()) -> Trace:
    """A client made non-blocking with fcntl for its connect (PHP streams), then, or not,
    blocking again."""
    b = ft.TraceBuilder(pid=5104, command=["php", "client.php"])
    b.socket(3)
    b.fcntl(3, "F_GETFL", result=2)
    b.fcntl(3, "F_SETFL", ["O_RDWR", "O_NONBLOCK"])
    b.connect(3, errno="EINPROGRESS")
    b.poll([3], ready=[3])
    b.getsockopt(3, "SOL_SOCKET", "SO_ERROR", 0)
    if switch_back:
        b.fcntl(3, "F_SETFL", ["O_RDWR"])
    b.send(3, ft.MESSAGE, flags=send_flags)
    b.recv(3, ft.MESSAGE)
    b.close(3)
    return b.build()


def test_a_socket_non_blocking_for_its_connect_only_is_told_apart() -> None:
    run = ft.run_record("p", "p")
    io = lambda t: words.io_model(normalize(t, run, "client").attributes.io_model)  # noqa: E731
    assert io(_stream_client(True)) == "blocking (fcntl(O_NONBLOCK) around connect only)"
    # its recv, without MSG_DONTWAIT, is made in blocking mode
    assert io(_stream_client(True, ("MSG_DONTWAIT",))) == (
        "non-blocking: MSG_DONTWAIT, fcntl(O_NONBLOCK) around connect only (sock in blocking "
        "mode)")
    assert io(_stream_client(False)) == "non-blocking: fcntl(O_NONBLOCK)"


def test_a_stop_inside_a_rule_is_a_stop_not_a_rule_failure(monkeypatch) -> None:
    """SIGTERM while a rule runs (a long `compare --from`) stops the command; a rule that
    fails is named. The first must not pass for the second."""
    from harness.normalize import kinds
    from harness.run.stopping import Terminated

    def stopped(steps, rule, ctx):
        raise Terminated(15)

    def broken(steps, rule, ctx):
        raise TypeError("'>' not supported")

    trace = ft.c_server(ft.PORT)
    for fn, caught in ((stopped, Terminated), (broken, NormalizeError)):
        monkeypatch.setitem(kinds.KINDS, "echo_sockets",
                            kinds.KINDS["echo_sockets"].__class__(
                                fn, kinds.KINDS["echo_sockets"].params))
        with pytest.raises(caught):
            normalize(trace, ft.run_record("c", "c"), "server")
