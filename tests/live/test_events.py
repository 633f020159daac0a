"""The exact events the tracer records for small programs written for it: names in order,
decoded arguments, results and errnos, fds created, socket identities, data capture."""

from __future__ import annotations

import os

import pytest

from livehelp import (brief, calls, check_calls, inet, inet6, names, printed_ints,
                      python_program, sock, trace)

pytestmark = pytest.mark.live


def test_tcp_flags_options_and_errnos(cbin, scratch):
    t = trace([cbin["tcp_flags"]], cwd=scratch, stdout=scratch / "out")
    assert t.exit_status == 0
    (p,) = t.processes
    assert names(t, p.pid) == [
        "+execve", "socket", "setsockopt", "bind", "listen", "getsockname", "accept4",
        "socket", "fcntl", "fcntl", "connect", "poll", "getsockopt", "setsockopt", "poll",
        "accept4", "recvfrom", "sendto", "poll", "recvfrom", "ioctl", "shutdown", "poll",
        "read", "close", "close", "close", "+exit"]
    ev = calls(t, p.pid)
    port = ev[4].args["addr"]["port"]
    peer_port = ev[14].args["addr"]["port"]
    assert [port, peer_port] == printed_ints(scratch / "out")
    check_calls(ev, [
        ("socket", {"domain": "AF_INET", "type": "SOCK_STREAM",
                    "type_flags": ["SOCK_NONBLOCK", "SOCK_CLOEXEC"], "protocol": "IPPROTO_IP"},
         3, None),
        ("setsockopt", {"fd": 3, "level": "SOL_SOCKET", "optname": "SO_REUSEADDR", "value": 1,
                        "optlen": 4}, 0, None),
        ("bind", {"fd": 3, "addr": inet(0)}, 0, None),
        ("listen", {"fd": 3, "backlog": 8}, 0, None),
        ("getsockname", {"fd": 3, "addr": inet(port)}, 0, None),
        ("accept4", {"fd": 3, "addr": None, "flags": ["SOCK_CLOEXEC"]}, -11, "EAGAIN"),
        ("socket", {"domain": "AF_INET", "type": "SOCK_STREAM", "type_flags": [],
                    "protocol": "IPPROTO_TCP"}, 4, None),
        ("fcntl", {"fd": 4, "cmd": "F_GETFL", "arg": None, "result_flags": ["O_RDWR"]}, 2, None),
        ("fcntl", {"fd": 4, "cmd": "F_SETFL", "arg": ["O_RDWR", "O_NONBLOCK"]}, 0, None),
        ("connect", {"fd": 4, "addr": inet(port)}, -115, "EINPROGRESS"),
        ("poll", {"fds": [{"fd": 4, "events": ["POLLOUT"], "revents": ["POLLOUT"]}],
                  "timeout_ms": 5000}, 1, None),
        ("getsockopt", {"fd": 4, "level": "SOL_SOCKET", "optname": "SO_ERROR", "value": 0,
                        "optlen": 4}, 0, None),
        ("setsockopt", {"fd": 4, "level": "SOL_TCP", "optname": "TCP_NODELAY", "value": 1,
                        "optlen": 4}, 0, None),
        ("poll", {"fds": [{"fd": 3, "events": ["POLLIN"], "revents": ["POLLIN"]}],
                  "timeout_ms": 5000}, 1, None),
        ("accept4", {"fd": 3, "addr": inet(peer_port), "flags": ["SOCK_NONBLOCK"]}, 5, None),
        ("recvfrom", {"fd": 5, "size": 64, "flags": []}, -11, "EAGAIN"),
        ("sendto", {"fd": 4, "size": 5, "flags": ["MSG_DONTWAIT", "MSG_NOSIGNAL"],
                    "data": "hello", "data_len": 5}, 5, None),
        ("poll", {"fds": [{"fd": 5, "events": ["POLLIN"], "revents": ["POLLIN"]}],
                  "timeout_ms": 5000}, 1, None),
        ("recvfrom", {"fd": 5, "size": 64, "flags": [], "data": "hello", "data_len": 5}, 5, None),
        ("ioctl", {"fd": 5, "request": "FIONBIO", "arg": 1}, 0, None),
        ("shutdown", {"fd": 4, "how": "SHUT_WR"}, 0, None),
        ("poll", {"fds": [{"fd": 5, "events": ["POLLIN"], "revents": ["POLLIN"]}],
                  "timeout_ms": 5000}, 1, None),
        ("read", {"fd": 5, "size": 64, "data_len": 0}, 0, None),
        ("close", {"fd": 5}, 0, None),
        ("close", {"fd": 4}, 0, None),
        ("close", {"fd": 3}, 0, None),
    ])
    # fds created, and what the tracer knows about each socket as the calls go by
    assert [e.fds for e in ev if e.fds] == [(3,), (4,), (5,)]
    listener = sock(3, "AF_INET", "SOCK_STREAM", local=inet(port), id=1)
    client = sock(4, "AF_INET", "SOCK_STREAM", peer=inet(port), id=2)
    conn = sock(5, "AF_INET", "SOCK_STREAM", local=inet(port), peer=inet(peer_port), id=3)
    assert ev[0].sock == sock(3, "AF_INET", "SOCK_STREAM", id=1)
    assert ev[2].sock == sock(3, "AF_INET", "SOCK_STREAM", local=inet(0), id=1)
    # the accept names the listener too: (fd, socket id) of both
    assert ev[14].ids == ((3, 1), (5, 3)) and ev[5].ids == ()
    assert ev[5].sock == ev[25].sock == listener
    assert ev[9].sock == ev[16].sock == ev[20].sock == ev[24].sock == client
    assert ev[14].sock == ev[15].sock == ev[22].sock == ev[23].sock == conn
    assert all(e.sock is None for e in ev if e.syscall == "poll")
    assert all(e.pid == e.tid == p.pid for e in t.events)
    assert [e.seq for e in t.events] == list(range(1, len(t.events) + 1))
    assert all(a.ts_ns <= b.ts_ns for a, b in zip(t.events, t.events[1:]))


def test_addresses_ipv6_v4mapped_refused_unix(cbin, scratch):
    path, dgram, abstract = scratch / "s", scratch / "d", f"harness-test-{os.getpid()}"
    t = trace([cbin["addrs"], path, dgram, abstract], cwd=scratch, stdout=scratch / "out")
    assert t.exit_status == 0
    (p,) = t.processes
    assert names(t, p.pid) == [
        "+execve",
        "socket", "setsockopt", "bind", "listen", "getsockname",
        "socket", "connect", "accept", "close", "close", "close",
        "socket", "bind", "listen", "getsockname",
        "socket", "connect", "accept", "close", "close", "close",
        "socket", "bind", "getsockname", "socket", "connect", "close", "close",
        "socket", "bind", "listen", "socket", "connect", "accept4", "close", "close", "close",
        "socket", "bind", "listen", "socket", "connect", "accept4", "close", "close", "close",
        "socket", "bind", "socket", "sendto", "recvfrom", "close", "close",
        "+exit"]
    ev = calls(t, p.pid)
    p6, q6 = ev[4].args["addr"]["port"], ev[7].args["addr"]["port"]
    p4, q4 = ev[14].args["addr"]["port"], ev[17].args["addr"]["port"]
    p_refused = ev[23].args["addr"]["port"]
    assert [p6, q6, p4, q4, p_refused] == printed_ints(scratch / "out")
    mapped = inet6(p4, "::ffff:127.0.0.1", v4mapped="127.0.0.1")
    unix_path = {"family": "AF_UNIX", "path": str(path)}
    unix_abstract = {"family": "AF_UNIX", "abstract": abstract}
    unix_dgram = {"family": "AF_UNIX", "path": str(dgram)}
    unnamed = {"family": "AF_UNIX"}
    stream6 = {"domain": "AF_INET6", "type": "SOCK_STREAM", "type_flags": [],
               "protocol": "IPPROTO_IP"}
    stream4 = {**stream6, "domain": "AF_INET"}
    unix = {"domain": "AF_UNIX", "type": "SOCK_STREAM", "type_flags": [], "protocol": 0}
    unix_cloexec = {**unix, "type_flags": ["SOCK_CLOEXEC"]}
    closes = [("close", {"fd": 5}, 0, None), ("close", {"fd": 4}, 0, None),
              ("close", {"fd": 3}, 0, None)]
    check_calls(ev, [
        ("socket", stream6, 3, None),
        ("setsockopt", {"fd": 3, "level": "SOL_IPV6", "optname": "IPV6_V6ONLY", "value": 1,
                        "optlen": 4}, 0, None),
        ("bind", {"fd": 3, "addr": inet6(0)}, 0, None),
        ("listen", {"fd": 3, "backlog": 4}, 0, None),
        ("getsockname", {"fd": 3, "addr": inet6(p6)}, 0, None),
        ("socket", stream6, 4, None),
        ("connect", {"fd": 4, "addr": inet6(p6)}, 0, None),
        ("accept", {"fd": 3, "addr": inet6(q6)}, 5, None),
        *closes,
        ("socket", stream4, 3, None),
        ("bind", {"fd": 3, "addr": inet(0)}, 0, None),
        ("listen", {"fd": 3, "backlog": 4}, 0, None),
        ("getsockname", {"fd": 3, "addr": inet(p4)}, 0, None),
        ("socket", stream6, 4, None),
        ("connect", {"fd": 4, "addr": mapped}, 0, None),
        ("accept", {"fd": 3, "addr": inet(q4)}, 5, None),
        *closes,
        ("socket", stream4, 3, None),
        ("bind", {"fd": 3, "addr": inet(0)}, 0, None),
        ("getsockname", {"fd": 3, "addr": inet(p_refused)}, 0, None),
        ("socket", stream4, 4, None),
        ("connect", {"fd": 4, "addr": inet(p_refused)}, -111, "ECONNREFUSED"),
        ("close", {"fd": 4}, 0, None),
        ("close", {"fd": 3}, 0, None),
        ("socket", unix, 3, None),
        ("bind", {"fd": 3, "addr": unix_path}, 0, None),
        ("listen", {"fd": 3, "backlog": 4}, 0, None),
        ("socket", unix_cloexec, 4, None),
        ("connect", {"fd": 4, "addr": unix_path}, 0, None),
        ("accept4", {"fd": 3, "addr": unnamed, "flags": ["SOCK_CLOEXEC"]}, 5, None),
        *closes,
        ("socket", unix, 3, None),
        ("bind", {"fd": 3, "addr": unix_abstract}, 0, None),
        ("listen", {"fd": 3, "backlog": 4}, 0, None),
        ("socket", unix_cloexec, 4, None),
        ("connect", {"fd": 4, "addr": unix_abstract}, 0, None),
        ("accept4", {"fd": 3, "addr": unnamed, "flags": ["SOCK_CLOEXEC"]}, 5, None),
        *closes,
        ("socket", {**unix, "type": "SOCK_DGRAM"}, 3, None),
        ("bind", {"fd": 3, "addr": unix_dgram}, 0, None),
        ("socket", {**unix, "type": "SOCK_DGRAM"}, 4, None),
        ("sendto", {"fd": 4, "size": 5, "flags": [], "addr": unix_dgram, "data": "dgram",
                    "data_len": 5}, 5, None),
        # the sender is unbound: the kernel hands back a zero-length address
        ("recvfrom", {"fd": 3, "size": 16, "flags": [], "addr": None, "data": "dgram",
                      "data_len": 5}, 5, None),
        ("close", {"fd": 4}, 0, None),
        ("close", {"fd": 3}, 0, None),
    ])
    # the accepted sockets: family of the listener, local address of the listener
    assert ev[7].sock == sock(5, "AF_INET6", "SOCK_STREAM", inet6(p6), inet6(q6), id=3)
    assert ev[17].sock == sock(5, "AF_INET", "SOCK_STREAM", inet(p4), inet(q4), id=6)
    assert ev[16].sock == sock(4, "AF_INET6", "SOCK_STREAM", peer=mapped, id=5)
    # a refused connect leaves the socket without a peer
    assert ev[25].sock == ev[26].sock == sock(4, "AF_INET", "SOCK_STREAM", id=8)
    assert ev[34].sock == sock(5, "AF_UNIX", "SOCK_STREAM", unix_path, unnamed, id=11)
    assert ev[43].sock == sock(5, "AF_UNIX", "SOCK_STREAM", unix_abstract, unnamed, id=14)
    assert ev[49].sock == sock(4, "AF_UNIX", "SOCK_DGRAM", id=16)
    assert ev[50].sock == ev[52].sock == sock(3, "AF_UNIX", "SOCK_DGRAM", local=unix_dgram,
                                              id=15)


def test_fd_copies_files_and_readiness(cbin, scratch):
    """dup/dup2/dup3/F_DUPFD of a socket are sockets; files and pipes next to them are not
    recorded, even on an fd number that was a socket; select/poll/epoll are recorded with
    the socket fds they watch, and not at all when they watch only a pipe."""
    t = trace([cbin["fds"], scratch / "file"], cwd=scratch)
    assert t.exit_status == 0
    (p,) = t.processes
    assert names(t, p.pid) == [
        "+execve", "socketpair", "dup", "dup2", "fcntl", "dup3",
        "write", "write", "sendto", "write", "read", "close", "close", "close", "close",
        "write", "pselect6", "poll", "epoll_create1", "epoll_ctl", "epoll_wait", "read",
        "epoll_ctl", "close", "close", "+exit"]
    ev = calls(t, p.pid)
    pair = sock(3, "AF_UNIX", "SOCK_STREAM", {"family": "AF_UNIX"}, {"family": "AF_UNIX"}, id=1)

    def as_fd(fd):  # every copy of the socket at fd 3 is socket 1; the other end, fd 4, is 2
        return sock(fd, pair.family, pair.type, pair.local, pair.peer, id=2 if fd == 4 else 1)

    assert brief(ev[0]) == ("socketpair", {"domain": "AF_UNIX", "type": "SOCK_STREAM",
                                           "type_flags": [], "protocol": 0}, 0, None)
    assert ev[0].fds == (3, 4) and ev[0].sock == pair and ev[0].ids == ((3, 1), (4, 2))
    check_calls(ev[1:5], [
        ("dup", {"oldfd": 3}, 5, None),
        ("dup2", {"oldfd": 3, "newfd": 10}, 10, None),
        ("fcntl", {"fd": 3, "cmd": "F_DUPFD", "arg": 20}, 20, None),
        ("dup3", {"oldfd": 3, "newfd": 11, "flags": ["O_CLOEXEC"]}, 11, None),
    ])
    assert [e.fds for e in ev[1:5]] == [(5,), (10,), (20,), (11,)]
    assert all(e.sock == pair for e in ev[1:5])
    check_calls(ev[5:15], [
        ("write", {"fd": 5, "size": 1, "data": "a", "data_len": 1}, 1, None),
        ("write", {"fd": 10, "size": 1, "data": "b", "data_len": 1}, 1, None),
        ("sendto", {"fd": 20, "size": 1, "flags": [], "data": "c", "data_len": 1}, 1, None),
        ("write", {"fd": 11, "size": 1, "data": "d", "data_len": 1}, 1, None),
        ("read", {"fd": 4, "size": 16, "data": "abcd", "data_len": 4}, 4, None),
        ("close", {"fd": 5}, 0, None),
        ("close", {"fd": 10}, 0, None),
        ("close", {"fd": 11}, 0, None),
        ("close", {"fd": 20}, 0, None),
        ("write", {"fd": 3, "size": 1, "data": "x", "data_len": 1}, 1, None),
    ])
    assert [e.sock for e in ev[5:15]] == [as_fd(fd) for fd in (5, 10, 20, 11, 4, 5, 10, 11, 20, 3)]

    select = ev[15]
    assert select.syscall == "pselect6" and select.result == 1
    assert {k: select.args[k] for k in ("nfds", "readfds", "writefds", "exceptfds", "ready")} \
        == {"nfds": 7, "readfds": [4, 6], "writefds": None, "exceptfds": None, "ready": [4]}
    check_calls(ev[16:], [
        ("poll", {"fds": [{"fd": 6, "events": ["POLLIN"], "revents": []},
                          {"fd": 4, "events": ["POLLIN"], "revents": ["POLLIN"]}],
                  "timeout_ms": 5000}, 1, None),
        ("epoll_create1", {"flags": ["EPOLL_CLOEXEC"]}, 8, None),
        ("epoll_ctl", {"epfd": 8, "op": "EPOLL_CTL_ADD", "fd": 4,
                       "events": ["EPOLLIN", "EPOLLET"], "user_data": 0x1234}, 0, None),
        ("epoll_wait", {"epfd": 8, "maxevents": 4, "timeout_ms": 5000,
                        "ready": [{"fd": 4, "events": ["EPOLLIN"]}], "watching": [4]}, 1, None),
        ("read", {"fd": 4, "size": 16, "data": "x", "data_len": 1}, 1, None),
        ("epoll_ctl", {"epfd": 8, "op": "EPOLL_CTL_DEL", "fd": 4, "events": None}, 0, None),
        ("close", {"fd": 3}, 0, None),
        ("close", {"fd": 4}, 0, None),
    ])
    assert ev[17].fds == (8,)
    assert ev[17].ts_ns <= ev[18].ts_ns


@pytest.mark.parametrize("seccomp", [True, False])
def test_select_timeout_is_the_one_asked_for(cbin, scratch, seccomp):
    """select was asked to wait 5 s: that is its timeout_ms, in both modes. (The kernel
    writes the time left back into the timeval; that differs from run to run.)"""
    t = trace([cbin["fds"], scratch / "file"], cwd=scratch, seccomp=seccomp)
    (select,) = [e for e in t.events if e.syscall == "pselect6"]
    assert select.args["timeout_ms"] == 5000


def test_sockets_across_exec(cbin, scratch):
    """CLOEXEC sockets (by flag, F_SETFD or dup3) are gone after exec, the others are kept
    with what was known about them; fds reused by files after exec are not sockets."""
    exe = cbin["execfd"]
    t = trace([exe, scratch / "file"], cwd=scratch)
    assert t.exit_status == 0
    (p,) = t.processes
    assert names(t, p.pid) == [
        "+execve", "socket", "socketpair", "socket", "fcntl", "socket", "fcntl", "dup2",
        "+execve", "write", "read", "fcntl", "fcntl", "close", "close", "close", "close",
        "+exit"]
    execs = [e for e in t.events if e.syscall == "execve"]
    assert [brief(e) for e in execs] == [
        ("execve", {"exe": exe, "argv": [exe, str(scratch / "file")]}, 0, None),
        ("execve", {"exe": exe, "argv": [exe, str(scratch / "file"), "exec'd"]}, 0, None)]
    assert all(e.kind == "process" for e in execs)
    assert (p.exe, p.argv) == (exe, [exe, str(scratch / "file"), "exec'd"])
    after = calls(t, p.pid)[7:]
    pair = ({"family": "AF_UNIX"}, {"family": "AF_UNIX"})
    check_calls(after, [
        ("write", {"fd": 4, "size": 9, "data": "inherited", "data_len": 9}, 9, None),
        ("read", {"fd": 5, "size": 16, "data": "inherited", "data_len": 9}, 9, None),
        ("fcntl", {"fd": 7, "cmd": "F_GETFD", "arg": None, "result_flags": []}, 0, None),
        ("fcntl", {"fd": 8, "cmd": "F_GETFD", "arg": None, "result_flags": []}, 0, None),
        ("close", {"fd": 4}, 0, None),
        ("close", {"fd": 5}, 0, None),
        ("close", {"fd": 7}, 0, None),
        ("close", {"fd": 8}, 0, None),
    ])
    # the sockets kept across exec keep their ids (the dup2'd one at 8 is socket 1)
    assert [e.sock for e in after] == [
        sock(4, "AF_UNIX", "SOCK_STREAM", *pair, id=2),
        sock(5, "AF_UNIX", "SOCK_STREAM", *pair, id=3),
        sock(7, "AF_INET6", "SOCK_DGRAM", id=5), sock(8, "AF_INET", "SOCK_STREAM", id=1),
        sock(4, "AF_UNIX", "SOCK_STREAM", *pair, id=2),
        sock(5, "AF_UNIX", "SOCK_STREAM", *pair, id=3),
        sock(7, "AF_INET6", "SOCK_DGRAM", id=5), sock(8, "AF_INET", "SOCK_STREAM", id=1)]


def test_close_range_of_sockets_is_recorded(cbin, scratch):
    """close_range over sockets closes them (later calls on those fd numbers are file calls)
    and is itself a call on sockets, so it is recorded."""
    t = trace([cbin["closerange"], scratch / "file"], cwd=scratch)
    assert t.exit_status == 0
    (p,) = t.processes
    assert names(t, p.pid) == ["+execve", "socketpair", "socket", "close_range",
                               "close_range", "+exit"]
    ev = calls(t, p.pid)
    assert (ev[2].syscall, ev[2].args["first"], ev[2].args["last"], ev[2].args["flags"],
            ev[2].result) == ("close_range", 5, 5, ["CLOSE_RANGE_CLOEXEC"], 0)
    assert (ev[3].syscall, ev[3].args["first"], ev[3].args["last"], ev[3].args["flags"],
            ev[3].result) == ("close_range", 3, 0xFFFFFFFF, [], 0)


@pytest.mark.parametrize("data_bytes", [16, 0, 200])
def test_data_capture(scratch, data_bytes):
    t = trace(python_program("data.py"), cwd=scratch, data_bytes=data_bytes)
    assert t.exit_status == 0
    assert t.tracer.data_bytes == data_bytes
    (p,) = t.processes
    assert names(t, p.pid) == ["+execve", "socketpair", "getsockname", "getsockname",
                               "sendto", "recvfrom", "sendmsg", "recvmsg", "close", "close",
                               "+exit"]
    ev = calls(t, p.pid)
    assert ev[0].fds == (3, 4)
    assert ev[0].args["type_flags"] == ["SOCK_CLOEXEC"]
    whole = "line\\n\\x00\\\\tail" + "x" * 89
    if data_bytes == 16:
        big = {"data": "line\\n\\x00\\\\tailxxxxx", "data_len": 100, "data_truncated": True}
        small = {"data": "abcd", "data_len": 4}
    elif data_bytes == 0:
        big = {"data_len": 100}
        small = {"data_len": 4}
    else:
        big = {"data": whole, "data_len": 100}
        small = {"data": "abcd", "data_len": 4}
    assert brief(ev[3]) == ("sendto", {"fd": 3, "size": 100, "flags": [], **big}, 100, None)
    assert brief(ev[4]) == ("recvfrom", {"fd": 4, "size": 4096, "flags": [], **big}, 100, None)
    assert brief(ev[5]) == ("sendmsg", {"fd": 3, "flags": [], "iovcnt": 2, "controllen": 0,
                                        "size": 4, **small}, 4, None)
    assert brief(ev[6]) == ("recvmsg", {"fd": 4, "flags": [], "addr": None, "iovcnt": 1,
                                        "controllen": 0, "size": 16, **small}, 4, None)


@pytest.mark.parametrize("seccomp", [True, False])
def test_splice_and_sendfile_are_recorded_by_their_socket_end(cbin, scratch, seccomp):
    """splice is recorded when either end is a socket, with the socket end as its identity;
    a splice between a pipe and a file is not; sendfile into a socket names the file as
    in_fd."""
    t = trace([cbin["splice"], scratch / "file"], cwd=scratch, seccomp=seccomp)
    assert t.exit_status == 0
    (p,) = t.processes
    check_calls(calls(t, p.pid), [
        ("socketpair", {"domain": "AF_UNIX", "type": "SOCK_STREAM", "type_flags": [],
                        "protocol": 0}, 0, None),
        ("write", {"fd": 4, "size": 4, "data": "ping", "data_len": 4}, 4, None),
        ("splice", {"fd_in": 3, "fd_out": 6, "len": 4, "flags": ["SPLICE_F_MOVE"]}, 4, None),
        ("splice", {"fd_in": 5, "fd_out": 3, "len": 4,
                    "flags": ["SPLICE_F_MOVE", "SPLICE_F_MORE"]}, 4, None),
        ("read", {"fd": 4, "size": 16, "data": "ping", "data_len": 4}, 4, None),
        ("sendfile", {"out_fd": 4, "in_fd": 7, "count": 4, "offset": 0, "data_len": 4}, 4, None),
        ("read", {"fd": 3, "size": 16, "data": "file", "data_len": 4}, 4, None),
        ("close", {"fd": 4}, 0, None),
        ("splice", {"fd_in": 3, "fd_out": 6, "len": 4, "flags": []}, 0, None),
    ])
    splices = [e for e in calls(t, p.pid) if e.syscall == "splice"]
    assert [e.sock.fd for e in splices] == [3, 3, 3]
    assert {e.sock.family for e in splices} == {"AF_UNIX"}
