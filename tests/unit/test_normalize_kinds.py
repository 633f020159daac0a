"""One or more tests per rule kind, on hand-built events and steps."""

from __future__ import annotations

from typing import Any

import pytest
from fixtures_traces import (HOST, HOST6, PORT, RUN_DIR, UNIX_PATH, TraceBuilder, inet, inet6,
                             inet6_mapped, run_record, unix)

from harness.formats.model import RunRecord, SyscallEvent, Trace
from harness.normalize.kinds import KINDS
from harness.normalize.kinds.transfers import Messages
from harness.normalize.rules import Context, Rule, RuleError, default_rules, parse_rule
from harness.normalize.steps import Step, step_from_event
from harness.render.attribute_rows import socket_description

TABLE = default_rules().syscalls


def make_rule(kind: str, level: str = "canonical", **params: Any) -> Rule:
    return parse_rule({"id": f"test-{kind}", "kind": kind, "level": level, **params}, 1,
                      "test-rules.yaml", TABLE)


def context(trace: Trace | None = None, message: str = "hello",
            run: RunRecord | None = None) -> Context:
    trace = trace or TraceBuilder().build()
    if run is None:
        run = run_record("s", "s")
        run = type(run)(**{**run.to_dict(), "message": message})
    return Context(trace=trace, run=run, role="server", syscalls=TABLE,
                   events={e.seq: e for e in trace.events})


def apply(kind: str, steps: tuple[Step, ...], ctx: Context | None = None,
          level: str = "canonical", **params: Any) -> tuple[Step, ...]:
    rule = make_rule(kind, level, **params)
    return KINDS[kind].function(steps, rule, ctx or context())


def step(syscall: str, fd: str = "conn", args: dict[str, Any] | None = None, result: int = 0,
         errno: str | None = None, name: str | None = None, seq: int = 1, **kw: Any) -> Step:
    kw.setdefault("outcome", errno or "")
    return Step(seqs=(seq,), pid=1, tid=1, syscall=syscall, name=name or syscall,
                args=args or {}, result=result, errno=errno, fd=fd, **kw)


def raw_steps(trace: Trace) -> tuple[Step, ...]:
    return tuple(step_from_event(e) for e in trace.events)


def test_every_kind_has_a_test_here() -> None:
    tested = {"echo_sockets", "mask_ports", "mark_eof", "drop", "alias", "strip_flags",
              "show_arg", "qualify", "fold_v4mapped", "fold_pending_connect", "merge_transfers",
              "mask_paths", "fold_interleaved", "alias_by_end", "mark_unfinished",
              "fold_local_address",
              # tested in test_effects.py, on hand-built traces of the habits they serve
              "drop_retried", "fold_references", "split_messages", "fold_into_creator"}
    assert set(KINDS) == tested


# -- echo_sockets ------------------------------------------------------------------------------

def test_echo_sockets_names_listener_and_conn_and_sets_other_sockets_aside() -> None:
    b = TraceBuilder()
    b.socketpair((3, 4))
    b.socket(5, flags=["SOCK_CLOEXEC"])
    b.bind(5, inet())
    b.listen(5, 128)
    b.accept(5, 6, flags=["SOCK_CLOEXEC"])
    b.recv(6, "hello")
    b.close(6)
    b.close(5)
    b.close(3)
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    kept = [(s.syscall, s.fd, s.creates) for s in out if not s.aside]
    assert kept == [("socket", "listener", "listener"), ("bind", "listener", ""),
                    ("listen", "listener", ""), ("accept4", "listener", "conn"),
                    ("recvfrom", "conn", ""), ("close", "conn", ""), ("close", "listener", "")]
    aside = [s for s in out if s.aside]
    assert [s.syscall for s in aside] == ["socketpair", "close"]
    assert socket_description(aside[0].aside) == "AF_UNIX SOCK_STREAM socketpair"
    # the fd argument is rewritten to the symbolic name
    assert [s.args.get("fd") for s in out if s.syscall == "recvfrom"] == ["conn"]


def test_echo_sockets_follows_fd_reuse() -> None:
    """fd 3 is a probe socket, closed, then reused by the echo socket."""
    b = TraceBuilder()
    b.socket(3, domain="AF_INET6", type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.close(3)
    b.socket(3)
    b.connect(3, inet())
    b.close(3)
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    assert [(s.syscall, s.fd, bool(s.aside)) for s in out] == [
        ("socket", "other1", True), ("close", "other1", True), ("socket", "sock", False),
        ("connect", "sock", False), ("close", "sock", False)]


def test_echo_sockets_numbers_a_second_connection() -> None:
    b = TraceBuilder()
    for _ in range(2):
        b.socket(3)
        b.connect(3, inet())
        b.close(3)
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    assert [s.fd for s in out] == ["sock", "sock", "sock", "sock2", "sock2", "sock2"]


def test_echo_sockets_forked_child_shares_the_sockets() -> None:
    """A forking server: the child's fd 4 is the parent's connection, the child closes its copy
    of the listener; process records are dropped."""
    b = TraceBuilder(pid=100)
    b.socket(3)
    b.bind(3, inet())
    b.listen(3, 5)
    b.accept(3, 4, flags=None)
    b.fork(101)
    b.close(3, pid=101, tid=101)
    b.recv(4, "hello", pid=101, tid=101)
    b.send(4, "hello", pid=101, tid=101)
    b.close(4, pid=101, tid=101)
    b.close(4)
    b.close(3)
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    assert [(s.pid, s.syscall, s.fd) for s in out] == [
        (100, "socket", "listener"), (100, "bind", "listener"), (100, "listen", "listener"),
        (100, "accept", "listener"), (101, "close", "listener"), (101, "recvfrom", "conn"),
        (101, "sendto", "conn"), (101, "close", "conn"), (100, "close", "conn"),
        (100, "close", "listener")]


def test_echo_sockets_dup_keeps_the_name() -> None:
    b = TraceBuilder()
    b.socket(3)
    b.connect(3, inet())
    b.dup(3, 7)
    b.send(7, "hello")
    b.close(7)
    b.close(3)
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    assert [s.fd for s in out] == ["sock"] * 6


def test_echo_sockets_matches_a_v4_mapped_and_a_wildcard_bind() -> None:
    for addr in (inet6_mapped(), {"family": "AF_INET", "address": "0.0.0.0", "port": PORT}):
        b = TraceBuilder()
        b.socket(3, domain=addr["family"])
        b.bind(3, addr)
        trace = b.build()
        out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
        assert [s.fd for s in out] == ["listener", "listener"]


def test_echo_sockets_ignores_another_port() -> None:
    b = TraceBuilder()
    b.socket(3)
    b.connect(3, inet(HOST, PORT + 1))
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    assert all(s.aside for s in out)
    assert "connected to 127.0.0.1:40124" in socket_description(out[0].aside)  # type: ignore


def test_echo_sockets_readiness_call_named_by_its_echo_fds() -> None:
    b = TraceBuilder()
    b.epoll_create(9)
    b.socketpair((3, 4))
    b.socket(5)
    b.connect(5, inet())
    b.epoll_wait(9, [3, 5], ready=[5])
    b.epoll_wait(9, [3], ready=[3])
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    # epoll_create1 makes no socket: dropped
    assert [s.syscall for s in out] == ["socketpair", "socket", "connect", "epoll_wait",
                                        "epoll_wait"]
    assert out[3].fd == "sock" and not out[3].aside
    assert out[3].args["watching"] == ["other1", "sock"]
    assert out[4].aside  # watching only the self-pipe


def test_echo_sockets_custom_names() -> None:
    b = TraceBuilder()
    b.socket(3)
    b.connect(3, inet())
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket",
                names={"sock": "client"})
    assert {s.fd for s in out} == {"client"}


# -- mask_ports --------------------------------------------------------------------------------

def test_mask_ports_run_port_and_ephemeral_ports() -> None:
    s = step("accept4", "listener", {"fd": "listener", "addr": inet(HOST, 52940)})
    b = step("bind", "listener", {"fd": "listener", "addr": inet(HOST, PORT)})
    z = step("bind", "other1", {"fd": "other1", "addr": inet(HOST, 0)})
    out = apply("mask_ports", (s, b, z), level="socket")
    assert out[0].args["addr"]["port"] == "*"
    assert out[1].args["addr"]["port"] == "PORT"
    assert out[2].args["addr"]["port"] == 0


# -- mark_eof ----------------------------------------------------------------------------------

def test_mark_eof_only_on_receives_returning_zero() -> None:
    steps = (step("read", result=0), step("read", result=5), step("write", result=0),
             step("recvfrom", result=-1, errno="EAGAIN"))
    out = apply("mark_eof", steps, level="socket", when={"class": "recv_like"})
    assert [s.outcome for s in out] == ["EOF", "", "", "EAGAIN"]


# -- drop --------------------------------------------------------------------------------------

def test_drop_by_errno_group() -> None:
    steps = (step("accept4", errno="EAGAIN", result=-1), step("accept4", result=4),
             step("connect", errno="ECONNREFUSED", result=-1))
    out = apply("drop", steps, when={"errno": "would_block"})
    assert [s.errno for s in out] == [None, "ECONNREFUSED"]


def test_drop_by_class_and_by_argument() -> None:
    steps = (step("epoll_wait"), step("poll"), step("ioctl", args={"request": "FIONBIO"}),
             step("ioctl", args={"request": "FIONREAD"}), step("recvfrom"))
    out = apply("drop", steps, when={"class": "readiness"})
    assert [s.syscall for s in out] == ["ioctl", "ioctl", "recvfrom"]
    out = apply("drop", out, when={"syscall": "ioctl", "args": {"request": "FIONBIO"}})
    assert [s.args.get("request") for s in out] == ["FIONREAD", None]


def test_drop_any_of_a_list_of_conditions() -> None:
    steps = (step("getsockname"), step("fcntl"), step("send"))
    out = apply("drop", steps, when=[{"syscall": "getsockname"}, {"syscall": "fcntl"}])
    assert [s.syscall for s in out] == ["send"]


# -- alias -------------------------------------------------------------------------------------

def test_alias_folds_dialects_and_keeps_the_recorded_name() -> None:
    steps = tuple(step(n) for n in ("accept4", "read", "recvmsg", "readv", "write", "sendmsg",
                                    "writev", "sendto", "shutdown"))
    out = apply("alias", steps)
    assert [s.name for s in out] == ["accept", "recv", "recv", "recv", "send", "send", "send",
                                     "send", "shutdown"]
    assert [s.dialect for s in out][:2] == ["accept4", "read"]


def test_alias_only_some_groups() -> None:
    out = apply("alias", (step("accept4"), step("read")), only=["recv"])
    assert [s.name for s in out] == ["accept4", "recv"]


def test_alias_by_end_names_a_splice_by_its_socket_end() -> None:
    """Out of the socket (fd_in) a receive, into it (fd_out) a send; the pipe's fd stays a
    number; a step the condition leaves out, or whose socket is at no named end, keeps its
    name."""
    steps = (step("splice", args={"fd_in": "conn", "fd_out": 7}),
             step("splice", args={"fd_in": 6, "fd_out": "conn"}),
             step("sendfile", args={"out_fd": "conn", "in_fd": 5}),
             step("splice", fd="other", args={"fd_in": "conn", "fd_out": 7}))
    out = apply("alias_by_end", steps, when={"syscall": "splice"},
                ends={"fd_in": "recv", "fd_out": "send"})
    assert [s.name for s in out] == ["recv", "send", "sendfile", "splice"]
    assert [s.dialect for s in out][:2] == ["splice", "splice"]
    with pytest.raises(RuleError, match="mapping of argument -> name"):
        make_rule("alias_by_end", "canonical", ends=["fd_in"])


# -- strip_flags -------------------------------------------------------------------------------

def test_strip_flags_moves_them_to_the_dialect() -> None:
    steps = (step("accept4", args={"flags": ["SOCK_CLOEXEC"]}),
             step("sendto", args={"flags": ["MSG_NOSIGNAL", "MSG_PEEK"]}),
             step("socket", args={"type_flags": []}))
    out = apply("strip_flags", steps, args=["flags", "type_flags"],
                flags=["SOCK_CLOEXEC", "SOCK_NONBLOCK", "MSG_NOSIGNAL", "MSG_DONTWAIT"])
    assert [s.dialect for s in out] == ["accept4(SOCK_CLOEXEC)", "sendto(MSG_NOSIGNAL)", "socket"]
    assert out[1].args["flags"] == ["MSG_PEEK"]


# -- show_arg ----------------------------------------------------------------------------------

def test_show_arg_in_the_dialect_not_the_key() -> None:
    a = step("listen", "listener", {"backlog": 128})
    b = step("listen", "listener", {"backlog": 5})
    out = apply("show_arg", (a, b), when={"syscall": "listen"}, arg="backlog")
    assert [s.dialect for s in out] == ["listen(128)", "listen(5)"]
    assert out[0].key == out[1].key


def test_show_arg_hides_the_usual_value() -> None:
    steps = (step("socket", args={"domain": "AF_INET"}), step("socket", args={"domain": "AF_INET6"}))
    out = apply("show_arg", steps, arg="domain", hide=["AF_INET"])
    assert [s.dialect for s in out] == ["socket", "socket(AF_INET6)"]


# -- qualify -----------------------------------------------------------------------------------

def test_qualify_makes_an_argument_part_of_the_key() -> None:
    a = step("shutdown", args={"how": "SHUT_WR"})
    b = step("shutdown", args={"how": "SHUT_RDWR"})
    out = apply("qualify", (a, b), when={"name": "shutdown"}, arg="how")
    assert out[0].label == "shutdown(conn, SHUT_WR)"
    assert out[0].key != out[1].key


def test_qualify_formats_addresses_and_skips_empty_flags() -> None:
    a = step("bind", "listener", {"addr": inet(HOST, "PORT")})  # type: ignore[arg-type]
    b = step("recv", args={"flags": []})
    out = apply("qualify", (a, b), arg="addr")
    assert out[0].qualifiers == ("127.0.0.1:PORT",)
    out = apply("qualify", (b,), arg="flags")
    assert out[0].qualifiers == ()


def test_qualify_hides_the_usual_value_and_shows_in_the_dialect() -> None:
    stream = step("socket", "listener", {"type": "SOCK_STREAM"}, creates="listener")
    dgram = step("socket", "sock", {"type": "SOCK_DGRAM"}, creates="sock")
    out = apply("qualify", (stream, dgram), arg="type", hide=["SOCK_STREAM"], show=True)
    assert [(s.label, s.dialect) for s in out] == [
        ("listener = socket()", "socket"), ("sock = socket(SOCK_DGRAM)", "socket(SOCK_DGRAM)")]
    plain = apply("qualify", (dgram,), arg="type")
    assert plain[0].dialect == "socket" and plain[0].qualifiers == ("SOCK_DGRAM",)


# -- fold_v4mapped -----------------------------------------------------------------------------

def test_fold_v4mapped_makes_the_address_ipv4() -> None:
    mapped = step("bind", "listener", {"addr": inet6_mapped(HOST, "PORT")})  # type: ignore[arg-type]
    plain = step("bind", "listener", {"addr": inet(HOST, "PORT")})  # type: ignore[arg-type]
    out = apply("fold_v4mapped", (mapped, plain))
    assert out[0].args["addr"] == inet(HOST, "PORT")  # type: ignore[arg-type]
    assert out[0].dialect == "bind(v4-mapped)"
    assert out[1].dialect == "bind"


# -- fold_local_address ------------------------------------------------------------------------

def test_fold_local_address_makes_another_address_of_this_machine_the_runs() -> None:
    """On the run's port: a bind of every interface or of the host name's address, a connect
    to another loopback address, is the run's address's step; its dialect shows the address
    named. A connect to a wildcard, or to an address elsewhere, and another port, stay."""
    run = run_record("s", "s", host_addresses=["127.0.1.1", "10.1.2.3"])
    ctx = context(run=run)
    steps = (step("bind", "listener", {"addr": inet("0.0.0.0", "PORT")}),  # type: ignore
             step("bind", "listener", {"addr": inet6("::", "PORT")}),  # type: ignore
             step("bind", "listener", {"addr": inet("127.0.1.1", "PORT")}),  # type: ignore
             step("connect", "sock", {"addr": inet("127.0.0.2", "PORT")}),  # type: ignore
             step("connect", "sock", {"addr": inet("10.1.2.3", "PORT")}),  # type: ignore
             step("connect", "sock", {"addr": inet("0.0.0.0", "PORT")}),  # type: ignore
             step("connect", "sock", {"addr": inet("192.0.2.1", "PORT")}),  # type: ignore
             step("bind", "listener", {"addr": inet("0.0.0.0", "*")}),  # type: ignore
             step("bind", "listener", {"addr": inet(HOST, "PORT")}))  # type: ignore
    out = apply("fold_local_address", steps, ctx, when={"name": ["bind", "connect"]})
    assert [s.args["addr"]["address"] for s in out] == [
        HOST, HOST, HOST, HOST, HOST, "0.0.0.0", "192.0.2.1", "0.0.0.0", HOST]
    assert [s.dialect for s in out[:5]] == [
        "bind(0.0.0.0:PORT)", "bind([::]:PORT)", "bind(127.0.1.1:PORT)",
        "connect(127.0.0.2:PORT)", "connect(10.1.2.3:PORT)"]
    assert out[1].args["addr"] == inet(HOST, "PORT")  # type: ignore[arg-type]
    assert [s.dialect for s in out[5:]] == ["connect", "connect", "bind", "bind"]
    # a connect that failed reached nothing there: it keeps its address (a client trying
    # [::1] first, refused, then the run's 127.0.0.1)
    tries = (step("connect", "sock", {"addr": inet6("::1", "PORT")},  # type: ignore
                  result=-111, errno="ECONNREFUSED"),
             step("connect", "sock2", {"addr": inet6("::1", "PORT")}))  # type: ignore
    out = apply("fold_local_address", tries, ctx, when={"name": ["bind", "connect"]})
    assert [s.args["addr"]["address"] for s in out] == ["::1", HOST]
    assert [s.dialect for s in out] == ["connect", "connect([::1]:PORT)"]
    # a unix run has no host to fold into
    unix_run = run_record("s", "s", scenario="unix")
    assert apply("fold_local_address", steps[:1], context(run=unix_run)) == steps[:1]


# -- fold_pending_connect ----------------------------------------------------------------------

PENDING = dict(check={"syscall": "getsockopt", "args": {"optname": "SO_ERROR"}},
               until=[{"name": "connect"}, {"class": ["send_like", "recv_like", "close_like"]}])


def test_fold_pending_connect_with_so_error_zero() -> None:
    steps = (step("connect", "sock", errno="EINPROGRESS", result=-1),
             step("epoll_wait", "sock"),
             step("getsockopt", "sock", {"level": "SOL_SOCKET", "optname": "SO_ERROR",
                                         "value": 0}, seq=3),
             step("sendto", "sock"))
    out = apply("fold_pending_connect", steps, **PENDING)
    assert [s.syscall for s in out] == ["connect", "epoll_wait", "sendto"]
    assert out[0].dialect == "connect(EINPROGRESS)+SO_ERROR"
    assert (out[0].errno, out[0].outcome) == (None, "")
    assert out[0].seqs == (1, 3)


def test_fold_pending_connect_with_a_refusal() -> None:
    steps = (step("connect", "sock", errno="EINPROGRESS", result=-1),
             step("getsockopt", "sock", {"level": "SOL_SOCKET", "optname": "SO_ERROR",
                                         "value": 111}))
    out = apply("fold_pending_connect", steps, **PENDING)
    assert len(out) == 1 and out[0].outcome == "ECONNREFUSED"


def test_fold_pending_connect_unchecked_and_other_fd() -> None:
    steps = (step("connect", "sock", errno="EINPROGRESS", result=-1),
             step("getsockopt", "sock2", {"optname": "SO_ERROR", "value": 0}),
             step("write", "sock"),
             step("getsockopt", "sock", {"optname": "SO_ERROR", "value": 0}))
    out = apply("fold_pending_connect", steps, **PENDING)
    # the write ends the search: the later getsockopt stays a step of its own
    assert [s.syscall for s in out] == ["connect", "getsockopt", "write", "getsockopt"]
    assert out[0].dialect == "connect(EINPROGRESS)" and out[0].outcome == ""


# -- merge_transfers ---------------------------------------------------------------------------

def test_merge_transfers_pieces_of_one_message() -> None:
    steps = (step("read", result=3, name="recv"), step("read", result=2, name="recv"),
             step("write", result=5, name="send"))
    out = apply("merge_transfers", steps, context(message="hello"),
                when={"name": ["recv", "send"]})
    assert [(s.name, s.dialect, s.result) for s in out] == [("recv", "read x2", 5),
                                                            ("send", "write", 5)]


def test_merge_transfers_keeps_a_second_whole_message() -> None:
    steps = (step("sendto", result=5, name="send"), step("sendto", result=5, name="send"))
    out = apply("merge_transfers", steps, context(message="hello"), when={"name": "send"})
    assert len(out) == 2


def test_merge_transfers_without_split_merges_all_and_never_eof() -> None:
    steps = (step("sendto", result=5, name="send"), step("sendto", result=5, name="send"),
             step("read", result=5, name="recv"), step("read", result=0, name="recv",
                                                       outcome="EOF"))
    out = apply("merge_transfers", steps, context(message="hello"),
                when={"name": ["send", "recv"]}, split_at_message=False)
    assert [s.label for s in out] == ["send(conn)", "recv(conn)", "recv(conn) → EOF"]
    assert out[0].dialect == "sendto x2"


def test_merge_transfers_unlike_dialects() -> None:
    steps = (step("read", result=2, name="recv"), step("recvfrom", result=3, name="recv"))
    out = apply("merge_transfers", steps, context(message="hello"), when={"name": "recv"})
    assert len(out) == 1 and out[0].dialect == "read+recvfrom"


def test_merge_transfers_not_across_sockets() -> None:
    steps = (step("read", "conn", result=2, name="recv"),
             step("read", "conn2", result=3, name="recv"))
    out = apply("merge_transfers", steps, context(message="hello"), when={"name": "recv"})
    assert len(out) == 2


def test_kinds_do_not_change_their_input() -> None:
    original = (step("accept4", args={"flags": ["SOCK_CLOEXEC"]}),)
    apply("strip_flags", original, args=["flags"], flags=["SOCK_CLOEXEC"])
    assert original[0].args == {"flags": ["SOCK_CLOEXEC"]}


def test_step_event_round_trip_sanity() -> None:
    ev = SyscallEvent(seq=1, ts_ns=1, pid=1, tid=1, syscall="close", args={"fd": 3}, result=0)
    s = step_from_event(ev)
    assert (s.fd, s.name, s.dialect, s.label) == ("fd 3", "close", "close", "close(fd 3)")


@pytest.mark.parametrize("value,expected", [(0, None), (111, "ECONNREFUSED")])
def test_so_error_names(value: int, expected: str | None) -> None:
    from harness.normalize.kinds.calls import _so_error_name

    assert _so_error_name(value) == expected


def test_echo_sockets_listener_made_before_the_trace() -> None:
    """An accept on an fd never seen created: the listener is unknown, so its connection is
    not the echo's (the run's address cannot be checked); nothing fails."""
    b = TraceBuilder()
    b.before_trace(3, "AF_INET", "SOCK_STREAM")
    b.accept(3, 4, flags=None)
    b.recv(4, "hello")
    trace = b.build()
    out = apply("echo_sockets", raw_steps(trace), context(trace), level="socket")
    assert [(s.syscall, s.fd, s.creates) for s in out] == [("accept", "other1", "other2"),
                                                           ("recvfrom", "other2", "")]
    assert socket_description(out[0].aside) == "AF_INET SOCK_STREAM accepted"


# -- the other scenarios: which sockets are the echo's -------------------------------------------

def kept(trace: Trace, run: RunRecord) -> list[tuple[str, str, str]]:
    out = apply("echo_sockets", raw_steps(trace), context(trace, run=run), level="socket")
    return [(s.syscall, s.fd, socket_description(s.aside) if s.aside else "") for s in out]


def test_echo_sockets_unix_by_the_run_path() -> None:
    b = TraceBuilder()
    b.socket(3, domain="AF_UNIX", protocol=0)
    b.bind(3, unix("/tmp/elsewhere.sock"))  # another path: not the echo's
    b.socket(4, domain="AF_UNIX", protocol=0)
    b.bind(4, unix())
    b.listen(4, 128)
    b.accept(4, 5, flags=["SOCK_CLOEXEC"])
    b.recv(5, "hello")
    b.socket(6, domain="AF_UNIX", protocol=0)
    b.connect(6, unix())
    trace = b.build()
    got = kept(trace, run_record("s", "s", scenario="unix"))
    assert [(c, fd) for c, fd, aside in got if not aside] == [
        ("socket", "listener"), ("bind", "listener"), ("listen", "listener"),
        ("accept4", "listener"), ("recvfrom", "conn"), ("socket", "sock"), ("connect", "sock")]
    assert got[1][2] == "AF_UNIX SOCK_STREAM socket bound to unix:/tmp/elsewhere.sock"


def test_echo_sockets_unix_run_has_no_port_to_match() -> None:
    """A unix run has port 0: a socket bound to port 0 is not the echo's."""
    b = TraceBuilder()
    b.socket(3, type="SOCK_DGRAM")
    b.bind(3, inet(HOST, 0))
    trace = b.build()
    got = kept(trace, run_record("s", "s", scenario="unix"))
    assert all(aside for _c, _fd, aside in got)
    assert "bound to 127.0.0.1:0" in got[0][2]


def test_echo_sockets_udp_server_socket_is_sock() -> None:
    b = TraceBuilder()
    b.socket(3, type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.bind(3, inet())
    b.recv(3, "hello", addr=inet(HOST, 52940))
    b.send(3, "hello", addr=inet(HOST, 52940))
    b.close(3)
    trace = b.build()
    assert {fd for _c, fd, aside in kept(trace, run_record("s", "s", scenario="udp"))
            if not aside} == {"sock"}


def test_echo_sockets_udp_client_by_sendto_or_connect() -> None:
    b = TraceBuilder()
    b.socket(3, type="SOCK_DGRAM")  # a resolver's socket, sending elsewhere
    b.send(3, "query", addr=inet("127.0.0.53", 53))
    b.close(3)
    b.socket(4, type="SOCK_DGRAM")
    b.send(4, "hello", addr=inet())
    b.recv(4, "hello", addr=inet())
    b.close(4)
    b.socket(5, type="SOCK_DGRAM")
    b.connect(5, inet())
    b.send(5, "hello")
    trace = b.build()
    got = kept(trace, run_record("c", "c", scenario="udp"))
    assert [fd for _c, fd, aside in got if not aside] == ["sock"] * 4 + ["sock2"] * 3
    assert got[0][2] == "AF_INET SOCK_DGRAM socket sending to 127.0.0.53:53"


def test_echo_sockets_tcp6_matches_any_spelling_of_the_address() -> None:
    """Any address a socket binds on the run's port is the run's listener's (issue 19: a bind
    names an address of this machine, or every one); another port is not the run's."""
    for address in (HOST6, "0:0:0:0:0:0:0:1", "::", "::2"):
        b = TraceBuilder()
        b.socket(3, domain="AF_INET6")
        b.bind(3, inet6(address))
        trace = b.build()
        assert [fd for _c, fd, aside in kept(trace, run_record("s", "s", scenario="tcp6"))
                if not aside] == ["listener", "listener"]
    b = TraceBuilder()
    b.socket(3, domain="AF_INET6")
    b.bind(3, inet6(HOST6, PORT + 1))
    assert all(aside for *_x, aside in kept(b.build(), run_record("s", "s", scenario="tcp6")))


def test_echo_sockets_a_lookup_probe_is_not_the_echo() -> None:
    """glibc's getaddrinfo connects a datagram socket to each address it sorts, sends nothing
    and closes it: to the wildcard with the run's port (a passive lookup, gawk's server) or to
    the run's very address (a client's lookup). Neither is one of the echo's sockets; a
    datagram socket connected to the run's address that carries bytes is."""
    b = TraceBuilder()
    b.socket(3, domain="AF_INET6", type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.connect(3, inet6("::"))
    b.connect(3, {"family": "AF_UNSPEC"})
    b.connect(3, {"family": "AF_INET", "address": "0.0.0.0", "port": PORT})
    b.getsockname(3)
    b.close(3)
    b.socket(4, type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.connect(4, inet())
    b.getsockname(4)
    b.close(4)
    b.socket(5)
    b.connect(5, inet())
    b.send(5, "hello")
    b.close(5)
    got = kept(b.build(), run_record("c", "c"))
    assert [fd for _c, fd, aside in got if not aside] == ["sock"] * 4
    asides = [aside for *_x, aside in got if aside]
    assert len(asides) == 10
    assert asides[0] == ("AF_INET6 SOCK_DGRAM socket connected to [::]:PORT, AF_UNSPEC, "
                         "0.0.0.0:PORT")
    assert asides[-1] == "AF_INET SOCK_DGRAM socket connected to 127.0.0.1:PORT"
    b = TraceBuilder()
    b.socket(4, type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.connect(4, inet())
    b.send(4, "hello")
    assert [fd for _c, fd, aside in kept(b.build(), run_record("c", "c", scenario="udp"))
            if not aside] == ["sock"] * 3


def test_echo_sockets_a_wildcard_counts_only_when_bound() -> None:
    b = TraceBuilder()
    b.socket(3)
    b.connect(3, {"family": "AF_INET", "address": "0.0.0.0", "port": PORT})
    b.send(3, "hello")
    assert all(aside for *_x, aside in kept(b.build(), run_record("c", "c")))


# -- mark_unfinished ---------------------------------------------------------------------------

def test_mark_unfinished_a_call_that_never_returned() -> None:
    blocked = step("recvfrom", result=None)  # type: ignore[arg-type]
    done = step("recvfrom", result=5)
    out = apply("mark_unfinished", (blocked, done), level="socket")
    assert out[0].outcome == "never returned" and out[1].outcome == ""
    assert out[0].label == "recvfrom(conn) … never returned"
    assert out[0].key != out[1].key


# -- mask_paths --------------------------------------------------------------------------------

def test_mask_paths_run_path_and_its_folder() -> None:
    run = run_record("s", "s", scenario="unix")
    steps = (step("bind", "listener", {"fd": "listener", "addr": unix()}),
             step("bind", "sock", {"fd": "sock", "addr": unix(f"{RUN_DIR}/client.sock")}),
             step("connect", "other1", {"fd": "other1", "addr": unix("/run/dbus.sock")}),
             step("accept4", "listener", {"fd": "listener", "addr": {"family": "AF_UNIX"}}))
    out = apply("mask_paths", steps, context(run=run), level="socket")
    assert [s.args["addr"] for s in out] == [
        {"family": "AF_UNIX", "path": "PATH"}, {"family": "AF_UNIX", "path": "RUNDIR/client.sock"},
        unix("/run/dbus.sock"), {"family": "AF_UNIX"}]
    assert out[3] is steps[3]


def test_mask_paths_without_a_path_changes_nothing() -> None:
    steps = (step("bind", "listener", {"addr": unix(UNIX_PATH)}),)
    assert apply("mask_paths", steps, level="socket") == steps


def test_mask_ports_leaves_port_zero_of_a_unix_run() -> None:
    run = run_record("s", "s", scenario="unix")
    out = apply("mask_ports", (step("bind", "other1", {"addr": inet(HOST, 0)}),),
                context(run=run), level="socket")
    assert out[0].args["addr"]["port"] == 0


# -- show_arg on datagram addresses ------------------------------------------------------------

def test_show_arg_shows_a_peer_address_and_skips_null() -> None:
    steps = (step("sendto", "sock", {"addr": inet(HOST, "PORT")}, name="send"),  # type: ignore
             step("sendto", "sock", {"addr": None}, name="send"),
             step("recvfrom", "sock", {}, name="recv"))
    out = apply("show_arg", steps, when={"name": ["send", "recv"]}, arg="addr")
    assert [s.dialect for s in out] == ["sendto(127.0.0.1:PORT)", "sendto", "recvfrom"]
    assert out[0].key == out[1].key


# -- merge_transfers and fold_interleaved with the run's messages ------------------------------

SESSION = run_record("s", "s", scenario="tcp-session")  # sizes 14, 1000, 100000


def xfer(name: str, n: int, fd: str = "sock", syscall: str | None = None, seq: int = 1,
         outcome: str = "") -> Step:
    syscall = syscall or {"recv": "recvfrom", "send": "sendto"}[name]
    return step(syscall, fd, result=n, name=name, seq=seq, outcome=outcome)


def merged(kind: str, steps: tuple[Step, ...], run: RunRecord = SESSION,
           trace: Trace | None = None, **params: Any) -> list[str]:
    out = apply(kind, steps, context(trace, run=run), when={"name": ["recv", "send"]}, **params)
    return [f"{s.name} {s.dialect}" for s in out]


def test_messages_ends_and_indexes() -> None:
    m = Messages([14, 1000, 100000])
    assert [m.end(o) for o in (0, 13, 14, 1013, 1014, 101013, 101014)] == [
        14, 14, 1014, 1014, 101014, 101014, 201014]
    assert [m.index(o) for o in (0, 14, 1014, 101014)] == [1, 2, 3, None]
    assert m.fits(1014, 65536, 34464) and not m.fits(1014, 65536, 34465)
    assert not m.fits(0, 14, 1)  # message 1 is complete: the next bytes start a new step
    assert Messages([]).end(5) is None and Messages([]).fits(0, 10**6, 1)


def test_merge_transfers_a_recv_loop_per_message() -> None:
    """The reference client: each message sent, then read until whole; the big one in 7."""
    steps = (xfer("send", 14), xfer("recv", 14), xfer("send", 1000), xfer("recv", 1000),
             xfer("send", 100000), *(xfer("recv", n) for n in [16384] * 6 + [1696]))
    assert merged("merge_transfers", steps) == [
        "send sendto", "recv recvfrom", "send sendto", "recv recvfrom", "send sendto",
        "recv recvfrom x7"]


def test_merge_transfers_keeps_each_message_a_step_of_its_own() -> None:
    """The batch client: three sends in a row stay three steps (one per message); a partial
    send of the big message merges with its rest; a read spanning two echoes says so."""
    steps = (xfer("send", 14), xfer("send", 1000), xfer("send", 65536), xfer("send", 34464),
             xfer("recv", 1014), xfer("recv", 65536), xfer("recv", 34464))
    assert merged("merge_transfers", steps) == [
        "send sendto", "send sendto", "send sendto x2", "recv recvfrom(messages 1-2)",
        "recv recvfrom x2"]


def test_merge_transfers_a_peek_takes_no_bytes() -> None:
    """A recv with MSG_PEEK reads what the next recv reads again: it is no part of the
    message's bytes, so the recv after it still starts the message."""
    peek = step("recvfrom", args={"flags": ["MSG_PEEK"]}, result=3, name="recv",
                qualifiers=("MSG_PEEK",), seq=1)
    first = step("recvfrom", args={"flags": []}, result=3, name="recv", seq=2)
    rest = step("recvfrom", args={"flags": []}, result=2, name="recv", seq=3)
    ctx = context(message="hello")
    out = apply("merge_transfers", (peek, first, rest), ctx, when={"name": "recv"},
                peek={"args": {"flags": "MSG_PEEK"}})
    assert [(s.label, s.count, s.result) for s in out] == [("recv(conn, MSG_PEEK)", 1, 3),
                                                           ("recv(conn)", 2, 5)]
    blind = apply("merge_transfers", (peek, first, rest), ctx, when={"name": "recv"})
    assert [s.count for s in blind] == [1, 1, 1]  # counting the peek, the message overflows


def test_merge_transfers_never_merges_datagrams() -> None:
    b = TraceBuilder()
    b.socket(3, type="SOCK_DGRAM")
    b.send(3, "hel", addr=inet())
    b.send(3, "lo", addr=inet())
    trace = b.build()
    steps = (xfer("send", 3, seq=2), xfer("send", 2, seq=3))
    run = run_record("c", "c", scenario="udp")
    assert merged("merge_transfers", steps, run, trace) == ["send sendto", "send sendto"]
    assert merged("merge_transfers", steps, run, trace, merge_datagrams=True) == \
        ["send sendto x2"]


def test_fold_interleaved_a_message_echoed_piece_by_piece() -> None:
    """The reference server: messages 1 and 2 in one piece each, the big one in two pieces,
    each echoed as it came; then end of file."""
    steps = (xfer("recv", 14, "conn"), xfer("send", 14, "conn"), xfer("recv", 1000, "conn"),
             xfer("send", 1000, "conn"), xfer("recv", 65483, "conn"),
             xfer("send", 65483, "conn"), xfer("recv", 34517, "conn"),
             xfer("send", 34517, "conn"), xfer("recv", 0, "conn", outcome="EOF"))
    assert merged("fold_interleaved", steps) == [
        "recv recvfrom", "send sendto", "recv recvfrom", "send sendto",
        "recv recvfrom(interleaved) x2", "send sendto(interleaved) x2", "recv recvfrom"]


def test_fold_interleaved_not_across_messages_nor_for_the_one_message_echo() -> None:
    steps = (xfer("send", 14), xfer("recv", 14), xfer("send", 1000), xfer("recv", 1000))
    assert merged("fold_interleaved", steps) == ["send sendto", "recv recvfrom",
                                                 "send sendto", "recv recvfrom"]
    tcp = run_record("s", "s")  # one 5-byte message: a 3+2 piecewise echo folds too
    pieces = (xfer("recv", 3, "conn"), xfer("send", 3, "conn"), xfer("recv", 2, "conn"),
              xfer("send", 2, "conn"))
    assert merged("fold_interleaved", pieces, tcp) == ["recv recvfrom(interleaved) x2",
                                                       "send sendto(interleaved) x2"]
    # a second whole echo is not a piece of the first
    twice = (xfer("recv", 5, "conn"), xfer("send", 5, "conn"), xfer("recv", 5, "conn"),
             xfer("send", 5, "conn"))
    assert len(merged("fold_interleaved", twice, tcp)) == 4


def test_fold_interleaved_leaves_datagrams() -> None:
    b = TraceBuilder()
    b.socket(3, type="SOCK_DGRAM")
    for _ in range(2):
        b.recv(3, "hel")
        b.send(3, "hel")
    trace = b.build()
    steps = tuple(xfer(n, 3, seq=k) for k, n in zip(range(2, 6), ["recv", "send"] * 2))
    assert len(merged("fold_interleaved", steps, run_record("s", "s", scenario="udp"),
                      trace)) == 4
