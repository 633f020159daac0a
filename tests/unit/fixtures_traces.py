"""Hand-built traces for the tests of normalize, compare and render.

`TraceBuilder` writes events the way the tracer does (docs/trace-format.md): `fds` on calls
that create fds, `sock` identities that learn their addresses, escaped `data`. The sample
builders below follow what real runtimes do for one TCP echo (shared FIELD-NOTES): C, Python
socket, Python asyncio, a Node-like runtime, a Java-like one, and the negative controls; then
the other scenarios (tcp6, unix, udp, tcp-session) as the Python socket module and C make them,
with their negative controls (a UDP client that never waits for the reply, a unix server that
never listens and echoes over a socketpair, a tcp-session client that sends every message
before reading any). `write_trace_set` lays a set out on disk as the runner does (index.yaml,
run.yaml, traces).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functools import cache

from harness.formats import tracefile
from harness.formats.model import (MatrixIndex, ProcessInfo, RunRecord, SkippedSample, SocketIdentity,
                                   SyscallEvent, Trace, TracerInfo)

from harness.normalize.sockets_walk import named_fds
from harness.normalize.syscalls import SyscallTable, default_table

HOST = "127.0.0.1"
HOST6 = "::1"
PORT = 40123
MESSAGE = "hello"
# the unix scenario's socket path: a fresh temporary folder per run, as the runner makes it
RUN_DIR = "/tmp/harness-run-q7x2k9"
UNIX_PATH = f"{RUN_DIR}/echo.sock"
# tcp-session: the runner's message and sizes (scenarios.yaml)
SESSION_MESSAGE = "hello, sockets"
SIZES = [14, 1000, 100000]
DATA_BYTES = 64  # bytes of each buffer the tracer keeps (its default)
INODE_BASE = 50000  # a socket's inode is this plus its id


@cache
def _table() -> SyscallTable:
    return default_table()


def inet(host: str = HOST, port: int = PORT) -> dict[str, Any]:
    return {"family": "AF_INET", "address": host, "port": port}


def inet6_mapped(host: str = HOST, port: int = PORT) -> dict[str, Any]:
    return {"family": "AF_INET6", "address": f"::ffff:{host}", "port": port, "flowinfo": 0,
            "scope_id": 0, "v4mapped": host}


def inet6(host: str = HOST6, port: int = PORT) -> dict[str, Any]:
    return {"family": "AF_INET6", "address": host, "port": port, "flowinfo": 0, "scope_id": 0}


def unix(path: str = UNIX_PATH) -> dict[str, Any]:
    return {"family": "AF_UNIX", "path": path}


def session_message(size: int) -> str:
    """Message k of a tcp-session run: the message repeated and cut to its size."""
    return (SESSION_MESSAGE * (size // len(SESSION_MESSAGE) + 1))[:size]


def run_record(server: str, client: str, port: int = PORT, outcome: str = "ok",
               scenario: str = "tcp", **kw: Any) -> RunRecord:
    """A run as the runner records it; each scenario's own fields (tcp6's host, unix's path,
    tcp-session's message and sizes) filled in from the scenario."""
    # the hand-built sets keep their traces as YAML (the export), easy to edit in a test
    fields: dict[str, Any] = {"host": HOST, "port": port, "message": MESSAGE,
                              "server_trace": "server.yaml", "client_trace": "client.yaml"}
    if scenario == "tcp6":
        fields["host"] = HOST6
    elif scenario == "unix":
        fields.update(host="", port=0, path=UNIX_PATH)
    elif scenario == "tcp-session":
        expected = "".join(session_message(n) for n in SIZES)
        fields.update(message=SESSION_MESSAGE, sizes=list(SIZES), expected_len=len(expected))
    fields.update(kw)
    if "client_stdout" not in fields and outcome == "ok":
        fields["client_stdout"] = ("".join(session_message(n) for n in fields["sizes"])[:1000]
                                   if fields.get("sizes") else fields["message"])
    return RunRecord(scenario=scenario, server=server, client=client, outcome=outcome,
                     **fields)


@dataclass
class TraceBuilder:
    """Appends events with growing seq and ts; keeps each fd's socket identity."""

    pid: int = 4242
    command: list[str] = field(default_factory=lambda: ["/usr/bin/python3.11", "server.py"])
    threads: list[int] = field(default_factory=list)
    events: list[SyscallEvent] = field(default_factory=list)
    socks: dict[tuple[int, int], SocketIdentity] = field(default_factory=dict)
    extra_processes: list[ProcessInfo] = field(default_factory=list)
    last_id: int = 0  # the id of the last socket made

    # -- the primitive -----------------------------------------------------------------------
    def call(self, syscall: str, args: dict[str, Any], result: int | None = 0,
             errno: str | None = None, fds: Iterable[int] = (), fd: int | None = None,
             tid: int | None = None, pid: int | None = None, kind: str = "syscall",
             sock: SocketIdentity | None = None, released: Iterable[int] = ()
             ) -> SyscallEvent:
        """One event. Like the tracer (trace schema 5), it names the socket each fd argument
        refers to: `sock` for the one the call works on, `ids` for every other socket it
        named or created (an accept's listener, a poll's sockets)."""
        pid = pid or self.pid
        if sock is None and fd is not None:
            sock = self.socks.get((pid, fd))
        ids: dict[int, int] = {}
        if kind == "syscall":
            probe = SyscallEvent(seq=0, ts_ns=0, pid=pid, tid=pid, syscall=syscall, args=args,
                                 result=result)
            for n in (*named_fds(probe, _table()), *fds):
                named = self.socks.get((pid, n))
                if named is not None and named.id is not None:
                    ids[n] = named.id
        if sock is not None and sock.id is not None and ids.items() <= {(sock.fd, sock.id)}:
            ids = {}  # the one socket is the event's `sock`
        ev = SyscallEvent(seq=len(self.events) + 1, ts_ns=1_000_000 * (len(self.events) + 1),
                          pid=pid, tid=tid or pid, syscall=syscall, args=args, result=result,
                          errno=errno, kind=kind, fds=tuple(fds), sock=sock,
                          ids=tuple(ids.items()), released=tuple(released))
        self.events.append(ev)
        return ev

    def _ident(self, fd: int, pid: int | None = None, new: bool = False,
               **changes: Any) -> SocketIdentity:
        """The identity of the socket `fd` refers to, with `changes`; `new`: a socket of its
        own (a socket, an accept, a socketpair's end), with the next id."""
        pid = pid or self.pid
        old = self.socks.get((pid, fd)) or SocketIdentity(fd=fd, family="AF_INET",
                                                          type="SOCK_STREAM")
        sid = old.id
        if new or sid is None:
            self.last_id += 1
            sid = self.last_id
        new_ident = SocketIdentity(fd=fd, family=changes.get("family", old.family),
                                   type=changes.get("type", old.type),
                                   local=changes.get("local", old.local),
                                   peer=changes.get("peer", old.peer), id=sid,
                                   inode=INODE_BASE + sid)
        for key, held in self.socks.items():  # every fd of the socket learns the change
            if held.id == sid and key != (pid, fd):
                self.socks[key] = SocketIdentity(held.fd, new_ident.family, new_ident.type,
                                                 new_ident.local, new_ident.peer, sid,
                                                 new_ident.inode)
        self.socks[(pid, fd)] = new_ident
        return new_ident

    def before_trace(self, fd: int, family: str = "unknown", type: str = "unknown",
                     pid: int | None = None) -> SocketIdentity:
        """A socket the trace never saw made (inherited, made before the tracer attached),
        as the tracer learns it from its inode on the first call that names it: an id of its
        own, and the family and type the kernel told ("unknown" when it told nothing)."""
        return self._ident(fd, pid, new=True, family=family, type=type, local=None, peer=None)

    def dup(self, old: int, new: int, **kw: Any) -> None:
        """dup(old) returning new: a second fd of the same socket."""
        pid = kw.get("pid") or self.pid
        held = self.socks.get((pid, old))
        if held is not None:
            self.socks[(pid, new)] = SocketIdentity(new, held.family, held.type, held.local,
                                                    held.peer, held.id, held.inode)
        self.call("dup", {"oldfd": old}, result=new, fds=(new,), fd=old, **kw)

    # -- socket calls ------------------------------------------------------------------------
    def socket(self, fd: int, domain: str = "AF_INET", flags: Iterable[str] = (),
               type: str = "SOCK_STREAM", protocol: Any = "IPPROTO_TCP", **kw: Any) -> None:
        sock = self._ident(fd, family=domain, type=type, local=None, peer=None,
                           pid=kw.get("pid"), new=True)
        self.call("socket", {"domain": domain, "type": type, "type_flags": list(flags),
                             "protocol": protocol}, result=fd, fds=(fd,), sock=sock, **kw)

    def socketpair(self, fds: tuple[int, int], flags: Iterable[str] = ("SOCK_CLOEXEC",),
                   **kw: Any) -> None:
        for fd in fds:
            self._ident(fd, family="AF_UNIX", type="SOCK_STREAM", local={"family": "AF_UNIX"},
                        peer={"family": "AF_UNIX"}, new=True)
        self.call("socketpair", {"domain": "AF_UNIX", "type": "SOCK_STREAM",
                                 "type_flags": list(flags), "protocol": 0}, fds=fds,
                  fd=fds[0], **kw)

    def bind(self, fd: int, addr: dict[str, Any], **kw: Any) -> None:
        self._ident(fd, local=addr)
        self.call("bind", {"fd": fd, "addr": addr}, fd=fd, **kw)

    def listen(self, fd: int, backlog: int, **kw: Any) -> None:
        self.call("listen", {"fd": fd, "backlog": backlog}, fd=fd, **kw)

    def accept(self, lfd: int, newfd: int, flags: Iterable[str] | None = None,
               peer_port: int = 52940, errno: str | None = None, **kw: Any) -> None:
        syscall = "accept" if flags is None else "accept4"
        local = (self.socks.get((self.pid, lfd)) or SocketIdentity(lfd, "AF_INET",
                                                                   "SOCK_STREAM")).local
        fam = local.get("family", "AF_INET") if local else "AF_INET"
        if fam == "AF_UNIX":
            peer: dict[str, Any] = {"family": "AF_UNIX"}  # the client's unnamed socket
        elif fam == "AF_INET6" and local and not local.get("v4mapped"):
            peer = inet6(local.get("address", HOST6), peer_port)
        else:
            peer = inet(HOST, peer_port) if fam == "AF_INET" else inet6_mapped(HOST, peer_port)
        args: dict[str, Any] = {"fd": lfd, "addr": None if errno else peer}
        if flags is not None:
            args["flags"] = list(flags)
        if errno:
            self.call(syscall, args, result=-1, errno=errno, fd=lfd, **kw)
            return
        sock = self._ident(newfd, family=fam, type="SOCK_STREAM", local=local, peer=peer,
                           new=True)
        self.call(syscall, args, result=newfd, fds=(newfd,), sock=sock, **kw)

    def connect(self, fd: int, addr: dict[str, Any] | None = None, errno: str | None = None,
                **kw: Any) -> None:
        addr = addr or inet()
        if errno not in ("ECONNREFUSED",):
            if addr["family"] == "AF_UNIX":
                local: dict[str, Any] = {"family": "AF_UNIX"}
            elif addr["family"] == "AF_INET6":
                local = inet6(addr["address"], 52940)
            else:
                local = inet(HOST, 52940)
            self._ident(fd, peer=addr, local=local)
        self.call("connect", {"fd": fd, "addr": addr}, result=-1 if errno else 0, errno=errno,
                  fd=fd, **kw)

    @staticmethod
    def _data(args: dict[str, Any], data: str) -> None:
        """The buffer as the tracer keeps it: its first DATA_BYTES bytes."""
        args.update({"data": data[:DATA_BYTES], "data_len": len(data)})
        if len(data) > DATA_BYTES:
            args["data_truncated"] = True

    def recv(self, fd: int, data: str, syscall: str = "recvfrom", flags: Iterable[str] = (),
             size: int = 4096, errno: str | None = None, addr: dict[str, Any] | None = None,
             **kw: Any) -> None:
        """A receive; `addr` is the sender's address a recvfrom/recvmsg asked for (UDP)."""
        args: dict[str, Any] = {"fd": fd, "size": size}
        if syscall in ("recvfrom", "recvmsg"):
            args["flags"] = list(flags)
        if errno:
            self.call(syscall, args, result=-1, errno=errno, fd=fd, **kw)
            return
        if addr is not None:
            args["addr"] = addr
        self._data(args, data)
        self.call(syscall, args, result=len(data), fd=fd, **kw)

    def send(self, fd: int, data: str, syscall: str = "sendto", flags: Iterable[str] = (),
             result: int | None = None, errno: str | None = None,
             addr: dict[str, Any] | None = None, **kw: Any) -> None:
        """A send of `data` taking `result` bytes (all by default); `addr` is the destination
        a sendto/sendmsg names (UDP)."""
        n = len(data) if result is None else result
        args: dict[str, Any] = {"fd": fd, "size": len(data)}
        if syscall in ("sendto", "sendmsg"):
            args["flags"] = list(flags)
            if addr is not None:
                args["addr"] = addr
        if errno:
            self.call(syscall, args, result=-1, errno=errno, fd=fd, **kw)
            return
        self._data(args, data[:n])
        self.call(syscall, args, result=n, fd=fd, **kw)

    def shutdown(self, fd: int, how: str = "SHUT_WR", **kw: Any) -> None:
        self.call("shutdown", {"fd": fd, "how": how}, fd=fd, **kw)

    def close(self, fd: int, **kw: Any) -> None:
        """A close; it releases the socket when no traced process holds another fd of it."""
        key = (kw.get("pid") or self.pid, fd)
        held = self.socks.get(key)
        last = held is not None and not any(
            other.id == held.id for k, other in self.socks.items() if k != key)
        self.call("close", {"fd": fd}, fd=fd, released=(held.id,) if last and held and
                  held.id is not None else (), **kw)
        self.socks.pop(key, None)

    def setsockopt(self, fd: int, level: str, name: str, value: Any = 1, **kw: Any) -> None:
        self.call("setsockopt", {"fd": fd, "level": level, "optname": name, "value": value,
                                 "optlen": 4}, fd=fd, **kw)

    def getsockopt(self, fd: int, level: str, name: str, value: Any = 0, **kw: Any) -> None:
        self.call("getsockopt", {"fd": fd, "level": level, "optname": name, "value": value,
                                 "optlen": 4}, fd=fd, **kw)

    def getsockname(self, fd: int, **kw: Any) -> None:
        sock = self.socks.get((self.pid, fd))
        self.call("getsockname", {"fd": fd, "addr": sock.local if sock else None}, fd=fd, **kw)

    def getpeername(self, fd: int, **kw: Any) -> None:
        sock = self.socks.get((self.pid, fd))
        self.call("getpeername", {"fd": fd, "addr": sock.peer if sock else None}, fd=fd, **kw)

    def ioctl_fionbio(self, fd: int, on: int = 1, **kw: Any) -> None:
        self.call("ioctl", {"fd": fd, "request": "FIONBIO", "arg": on}, fd=fd, **kw)

    def fcntl(self, fd: int, cmd: str, arg: Any = None, result: int = 0, **kw: Any) -> None:
        args: dict[str, Any] = {"fd": fd, "cmd": cmd, "arg": arg}
        if cmd == "F_GETFL":
            args["result_flags"] = ["O_RDWR"]
        self.call("fcntl", args, result=result, fd=fd, **kw)

    def epoll_create(self, epfd: int, **kw: Any) -> None:
        self.call("epoll_create1", {"flags": ["EPOLL_CLOEXEC"]}, result=epfd, fds=(epfd,), **kw)

    def epoll_ctl(self, epfd: int, op: str, fd: int, events: Iterable[str] | None = ("EPOLLIN",),
                  **kw: Any) -> None:
        args: dict[str, Any] = {"epfd": epfd, "op": op, "fd": fd,
                                "events": list(events) if events is not None else None}
        if events is not None:
            args["user_data"] = fd  # the epoll cookie, as the tracer names it
        self.call("epoll_ctl", args, **kw)

    def epoll_wait(self, epfd: int, watching: list[int], ready: Iterable[int] = (),
                   syscall: str = "epoll_wait", timeout: int | None = None,
                   events: str = "EPOLLIN", **kw: Any) -> None:
        ready = list(ready)
        self.call(syscall, {"epfd": epfd, "maxevents": len(watching) + 1, "timeout_ms": timeout,
                            "ready": [{"fd": f, "events": [events]} for f in ready],
                            "watching": list(watching)}, result=len(ready), **kw)

    def poll(self, fds: list[int], ready: Iterable[int] = (), **kw: Any) -> None:
        ready = set(ready)
        self.call("poll", {"fds": [{"fd": f, "events": ["POLLIN"],
                                    "revents": ["POLLIN"] if f in ready else []} for f in fds],
                           "timeout_ms": None}, result=len(ready), **kw)

    def clone_thread(self, tid: int, **kw: Any) -> None:
        self.threads.append(tid)
        self.call("clone", {"child": tid, "thread": True}, result=tid, kind="process", **kw)

    def fork(self, child: int, **kw: Any) -> None:
        self.call("fork", {"child": child, "thread": False}, result=child, kind="process", **kw)
        self.extra_processes.append(ProcessInfo(pid=child, parent=self.pid, exe=self.command[0],
                                                argv=list(self.command), threads=[child],
                                                exit_code=0))
        for (pid, fd), ident in list(self.socks.items()):
            if pid == self.pid:
                self.socks[(child, fd)] = ident

    def build(self, exit_status: int = 0, cwd: str = "/work/main/servers/sample") -> Trace:
        proc = ProcessInfo(pid=self.pid, parent=None, exe=self.command[0],
                           argv=list(self.command), threads=[self.pid] + self.threads,
                           exit_code=exit_status)
        return Trace(command=list(self.command), cwd=cwd, started_at="2026-11-23T18:40:00+00:00",
                     tracer=TracerInfo(mode="seccomp", data_bytes=64), exit_status=exit_status,
                     processes=(proc, *self.extra_processes), events=tuple(self.events))


# -- servers -----------------------------------------------------------------------------------

def c_server(port: int = PORT) -> Trace:
    """C: socket, bind, listen(5), accept, recvfrom, sendto, close, close."""
    b = TraceBuilder(pid=5001, command=["/tmp/build/c/server", HOST, str(port)])
    b.socket(3, protocol="IPPROTO_IP")
    b.setsockopt(3, "SOL_SOCKET", "SO_REUSEADDR", 1)
    b.bind(3, inet(HOST, port))
    b.listen(3, 5)
    b.accept(3, 4, flags=None)
    b.recv(4, MESSAGE)
    b.send(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def python_stdlib_server(port: int = PORT, addr: dict[str, Any] | None = None,
                         domain: str = "AF_INET") -> Trace:
    """Python socket module: accept4(SOCK_CLOEXEC), getsockname... (CPython's accept); bound
    to the run's address, or to `addr`."""
    b = TraceBuilder(pid=5101, command=["/usr/bin/python3.11", "server.py", HOST, str(port)])
    b.socket(3, domain=domain, flags=["SOCK_CLOEXEC"])
    b.bind(3, addr or inet(HOST, port))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, MESSAGE)
    b.send(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def python_asyncio_server(port: int = PORT) -> Trace:
    """asyncio: self-pipe socketpair, FIONBIO, epoll, EAGAIN accept, TCP_NODELAY, backlog 100."""
    b = TraceBuilder(pid=5201, command=["/usr/bin/python3.11", "server.py", HOST, str(port)])
    b.epoll_create(3)
    b.socketpair((4, 5))
    b.ioctl_fionbio(4)
    b.ioctl_fionbio(5)
    b.epoll_ctl(3, "EPOLL_CTL_ADD", 4)
    b.epoll_wait(3, [4], timeout=0)
    b.socket(6, flags=["SOCK_CLOEXEC"])
    b.setsockopt(6, "SOL_SOCKET", "SO_REUSEADDR", 1)
    b.bind(6, inet(HOST, port))
    b.ioctl_fionbio(6)
    b.listen(6, 100)
    b.epoll_ctl(3, "EPOLL_CTL_ADD", 6)
    b.epoll_wait(3, [4, 6], timeout=0)
    b.epoll_wait(3, [4, 6], ready=[6])
    b.accept(6, 7, flags=["SOCK_CLOEXEC"])
    b.getsockname(7)
    b.ioctl_fionbio(7)
    b.accept(6, -1, flags=["SOCK_CLOEXEC"], errno="EAGAIN")
    b.epoll_wait(3, [4, 6], timeout=0)
    b.getsockname(7)
    b.setsockopt(7, "SOL_TCP", "TCP_NODELAY", 1)
    b.epoll_ctl(3, "EPOLL_CTL_ADD", 7)
    b.epoll_wait(3, [4, 6, 7], ready=[7])
    b.recv(7, MESSAGE, size=262144)
    b.epoll_wait(3, [4, 6, 7], timeout=0)
    b.send(7, MESSAGE)
    b.epoll_ctl(3, "EPOLL_CTL_DEL", 7, events=None)
    b.close(7)
    b.epoll_ctl(3, "EPOLL_CTL_DEL", 6, events=None)
    b.close(6)
    b.epoll_ctl(3, "EPOLL_CTL_DEL", 4, events=None)
    b.close(4)
    b.close(5)
    return b.build()


def node_server(port: int = PORT) -> Trace:
    """Node-like: SOCK_NONBLOCK, epoll_pwait, accept4(NONBLOCK) with EAGAIN, read/write,
    shutdown(SHUT_WR) then waits for EOF before close, 7 threads, backlog 511."""
    b = TraceBuilder(pid=5301, command=["/usr/bin/node", "server.js", HOST, str(port)])
    for tid in range(5302, 5308):
        b.clone_thread(tid)
    b.epoll_create(17)
    b.socket(19, flags=["SOCK_NONBLOCK", "SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.setsockopt(19, "SOL_SOCKET", "SO_REUSEADDR", 1)
    b.bind(19, inet(HOST, port))
    b.listen(19, 511)
    b.epoll_ctl(17, "EPOLL_CTL_ADD", 19)
    b.epoll_wait(17, [19], ready=[19], syscall="epoll_pwait")
    b.accept(19, 20, flags=["SOCK_NONBLOCK", "SOCK_CLOEXEC"])
    b.accept(19, -1, flags=["SOCK_NONBLOCK", "SOCK_CLOEXEC"], errno="EAGAIN")
    b.epoll_ctl(17, "EPOLL_CTL_ADD", 20)
    b.epoll_wait(17, [19, 20], ready=[20], syscall="epoll_pwait")
    b.recv(20, MESSAGE, syscall="read", size=65536)
    b.send(20, MESSAGE, syscall="write")
    b.shutdown(20, "SHUT_WR")
    b.epoll_wait(17, [19, 20], ready=[20], syscall="epoll_pwait")
    b.recv(20, "", syscall="read", size=65536)
    b.epoll_ctl(17, "EPOLL_CTL_DEL", 20, events=None)
    b.close(20)
    b.epoll_ctl(17, "EPOLL_CTL_DEL", 19, events=None)
    b.close(19)
    return b.build()


def java_server(port: int = PORT) -> Trace:
    """Java-like: a probe socket first, AF_INET6 dual stack with ::ffff:127.0.0.1, work on a
    second thread, read/write, backlog 50."""
    b = TraceBuilder(pid=5401, command=["/usr/bin/java", "Server", HOST, str(port)])
    b.clone_thread(5402)
    b.socket(4, domain="AF_INET6", type="SOCK_DGRAM", protocol="IPPROTO_IP", tid=5402)
    b.close(4, tid=5402)
    b.socket(5, domain="AF_INET6", protocol="IPPROTO_IP", tid=5402)
    b.setsockopt(5, "SOL_IPV6", "IPV6_V6ONLY", 0, tid=5402)
    b.setsockopt(5, "SOL_SOCKET", "SO_REUSEADDR", 1, tid=5402)
    b.bind(5, inet6_mapped(HOST, port), tid=5402)
    b.listen(5, 50, tid=5402)
    b.accept(5, 6, flags=None, tid=5402)
    b.recv(6, MESSAGE, syscall="read", size=4096, tid=5402)
    b.send(6, MESSAGE, syscall="write", tid=5402)
    b.close(6, tid=5402)
    b.close(5, tid=5402)
    return b.build()


def echo_twice_server(port: int = PORT) -> Trace:
    """Negative control: the Python server that sends the echo twice."""
    b = TraceBuilder(pid=5501, command=["/usr/bin/python3.11", "server.py", HOST, str(port)])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, inet(HOST, port))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, MESSAGE)
    b.send(4, MESSAGE)
    b.send(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def close_before_echo_server(port: int = PORT) -> Trace:
    """Negative control: receives, then closes without sending."""
    b = TraceBuilder(pid=5601, command=["/usr/bin/python3.11", "server.py", HOST, str(port)])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, inet(HOST, port))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def python_stdlib_server_empty_connection(port: int = PORT) -> Trace:
    """The reference server when the client connects and closes at once (connect-twice):
    recv returns 0 (end of file), sendall(b"") still makes one sendto of 0 bytes."""
    b = TraceBuilder(pid=5701, command=["/usr/bin/python3.11", "server.py", HOST, str(port)])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, inet(HOST, port))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, "")
    b.send(4, "")
    b.close(4)
    b.close(3)
    return b.build()


# -- clients -----------------------------------------------------------------------------------

def c_client(port: int = PORT) -> Trace:
    b = TraceBuilder(pid=6001, command=["/tmp/build/c/client", HOST, str(port), MESSAGE])
    b.socket(3, protocol="IPPROTO_IP")
    b.connect(3, inet(HOST, port))
    b.send(3, MESSAGE)
    b.recv(3, MESSAGE)
    b.close(3)
    return b.build()


def python_stdlib_client(port: int = PORT, addr: dict[str, Any] | None = None) -> Trace:
    """The reference client, connecting to the run's address, or to `addr`."""
    b = TraceBuilder(pid=6101, command=["/usr/bin/python3.11", "client.py", HOST, str(port),
                                        MESSAGE])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.connect(3, addr or inet(HOST, port))
    b.send(3, MESSAGE)
    b.recv(3, MESSAGE)
    b.close(3)
    return b.build()


def python_asyncio_client(port: int = PORT) -> Trace:
    """asyncio: connect EINPROGRESS + getsockopt(SO_ERROR), epoll, TCP_NODELAY, self-pipe."""
    b = TraceBuilder(pid=6201, command=["/usr/bin/python3.11", "client.py", HOST, str(port),
                                        MESSAGE])
    b.epoll_create(3)
    b.socketpair((4, 5))
    b.ioctl_fionbio(4)
    b.ioctl_fionbio(5)
    b.epoll_ctl(3, "EPOLL_CTL_ADD", 4)
    b.socket(6, flags=["SOCK_CLOEXEC"])
    b.ioctl_fionbio(6)
    b.connect(6, inet(HOST, port), errno="EINPROGRESS")
    b.epoll_ctl(3, "EPOLL_CTL_ADD", 6, events=["EPOLLOUT"])
    b.epoll_wait(3, [4, 6], ready=[6], events="EPOLLOUT")
    b.getsockopt(6, "SOL_SOCKET", "SO_ERROR", 0)
    b.epoll_ctl(3, "EPOLL_CTL_DEL", 6, events=None)
    b.ioctl_fionbio(6)
    b.getsockname(6)
    b.getpeername(6)
    b.setsockopt(6, "SOL_TCP", "TCP_NODELAY", 1)
    b.epoll_ctl(3, "EPOLL_CTL_ADD", 6)
    b.send(6, MESSAGE)
    b.epoll_wait(3, [4, 6], ready=[6])
    b.recv(6, MESSAGE, size=262144)
    b.epoll_ctl(3, "EPOLL_CTL_DEL", 6, events=None)
    b.close(6)
    b.epoll_ctl(3, "EPOLL_CTL_DEL", 4, events=None)
    b.close(4)
    b.close(5)
    return b.build()


def node_client(port: int = PORT) -> Trace:
    """Node-like: SOCK_NONBLOCK connect EINPROGRESS + SO_ERROR, write, read in two pieces,
    shutdown(SHUT_WR), read EOF, close."""
    b = TraceBuilder(pid=6301, command=["/usr/bin/node", "client.js", HOST, str(port), MESSAGE])
    for tid in range(6302, 6308):
        b.clone_thread(tid)
    b.epoll_create(17)
    b.socket(19, flags=["SOCK_NONBLOCK", "SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.setsockopt(19, "SOL_TCP", "TCP_NODELAY", 1)
    b.connect(19, inet(HOST, port), errno="EINPROGRESS")
    b.epoll_ctl(17, "EPOLL_CTL_ADD", 19, events=["EPOLLOUT"])
    b.epoll_wait(17, [19], ready=[19], syscall="epoll_pwait", events="EPOLLOUT")
    b.getsockopt(19, "SOL_SOCKET", "SO_ERROR", 0)
    b.send(19, MESSAGE, syscall="write")
    b.epoll_wait(17, [19], ready=[19], syscall="epoll_pwait")
    b.recv(19, MESSAGE[:3], syscall="read", size=65536)
    b.recv(19, "", syscall="read", size=65536, errno="EAGAIN")
    b.epoll_wait(17, [19], ready=[19], syscall="epoll_pwait")
    b.recv(19, MESSAGE[3:], syscall="read", size=65536)
    b.shutdown(19, "SHUT_WR")
    b.epoll_wait(17, [19], ready=[19], syscall="epoll_pwait")
    b.recv(19, "", syscall="read", size=65536)
    b.epoll_ctl(17, "EPOLL_CTL_DEL", 19, events=None)
    b.close(19)
    return b.build()


def python_stdlib_client_no_echo(port: int = PORT) -> Trace:
    """The reference client against a server that closes without echoing: end of file."""
    b = TraceBuilder(pid=6501, command=["/usr/bin/python3.11", "client.py", HOST, str(port),
                                        MESSAGE])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.connect(3, inet(HOST, port))
    b.send(3, MESSAGE)
    b.recv(3, "")
    b.close(3)
    return b.build()


def connect_twice_client(port: int = PORT) -> Trace:
    """Negative control: a first connection closed at once, then a second that is refused."""
    b = TraceBuilder(pid=6401, command=["/usr/bin/python3.11", "client.py", HOST, str(port),
                                        MESSAGE])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.connect(3, inet(HOST, port))
    b.close(3)
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.connect(3, inet(HOST, port), errno="ECONNREFUSED")
    b.close(3)
    return b.build(exit_status=1)


# -- tcp6 ----------------------------------------------------------------------------------------

def python_stdlib_server6(port: int = PORT) -> Trace:
    """The reference server over ::1: an AF_INET6 socket, otherwise as for tcp."""
    b = TraceBuilder(pid=7101, command=["/usr/bin/python3.11", "server.py", HOST6, str(port)])
    b.socket(3, domain="AF_INET6", flags=["SOCK_CLOEXEC"])
    b.bind(3, inet6(HOST6, port))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, MESSAGE)
    b.send(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def python_stdlib_client6(port: int = PORT) -> Trace:
    b = TraceBuilder(pid=7201, command=["/usr/bin/python3.11", "client.py", HOST6, str(port),
                                        MESSAGE])
    b.socket(3, domain="AF_INET6", flags=["SOCK_CLOEXEC"])
    b.connect(3, inet6(HOST6, port))
    b.send(3, MESSAGE)
    b.recv(3, MESSAGE)
    b.close(3)
    return b.build()


def c_server6(port: int = PORT) -> Trace:
    """C over ::1, with a server that binds the IPv6 wildcard (::) instead of ::1."""
    b = TraceBuilder(pid=7301, command=["/tmp/build/c/server", HOST6, str(port)])
    b.socket(3, domain="AF_INET6", protocol="IPPROTO_IP")
    b.bind(3, inet6("::", port))
    b.listen(3, 5)
    b.accept(3, 4, flags=None)
    b.recv(4, MESSAGE)
    b.send(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def c_client6(port: int = PORT) -> Trace:
    b = TraceBuilder(pid=7401, command=["/tmp/build/c/client", HOST6, str(port), MESSAGE])
    b.socket(3, domain="AF_INET6", protocol="IPPROTO_IP")
    b.connect(3, inet6(HOST6, port))
    b.send(3, MESSAGE)
    b.recv(3, MESSAGE)
    b.close(3)
    return b.build()


# -- unix ----------------------------------------------------------------------------------------

def python_stdlib_server_unix(path: str = UNIX_PATH) -> Trace:
    b = TraceBuilder(pid=7501, command=["/usr/bin/python3.11", "server_unix.py", path])
    b.socket(3, domain="AF_UNIX", flags=["SOCK_CLOEXEC"], protocol=0)
    b.bind(3, unix(path))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, MESSAGE)
    b.send(4, MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def python_stdlib_client_unix(path: str = UNIX_PATH) -> Trace:
    b = TraceBuilder(pid=7601, command=["/usr/bin/python3.11", "client_unix.py", path, MESSAGE])
    b.socket(3, domain="AF_UNIX", flags=["SOCK_CLOEXEC"], protocol=0)
    b.connect(3, unix(path))
    b.send(3, MESSAGE)
    b.recv(3, MESSAGE)
    b.close(3)
    return b.build()


def no_listen_server_unix(path: str = UNIX_PATH) -> Trace:
    """Negative control: binds the path but never listens (nor accepts); echoes the message
    to itself over a socketpair instead."""
    b = TraceBuilder(pid=7701, command=["/usr/bin/python3.11", "server_unix.py", path])
    b.socket(3, domain="AF_UNIX", flags=["SOCK_CLOEXEC"], protocol=0)
    b.bind(3, unix(path))
    b.socketpair((4, 5))
    b.send(4, MESSAGE)
    b.recv(5, MESSAGE)
    b.close(4)
    b.close(5)
    b.close(3)
    return b.build()


# -- udp -----------------------------------------------------------------------------------------

PEER_PORT = 52940  # the UDP client's ephemeral port, as the server sees it


def python_stdlib_server_udp(port: int = PORT) -> Trace:
    """recvfrom a 65536-byte buffer, sendto the sender's address, close."""
    b = TraceBuilder(pid=7801, command=["/usr/bin/python3.11", "server_udp.py", HOST, str(port)])
    b.socket(3, type="SOCK_DGRAM", flags=["SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.bind(3, inet(HOST, port))
    b.recv(3, MESSAGE, size=65536, addr=inet(HOST, PEER_PORT))
    b.send(3, MESSAGE, addr=inet(HOST, PEER_PORT))
    b.close(3)
    return b.build()


def python_stdlib_client_udp(port: int = PORT) -> Trace:
    """sendto the run's address, recvfrom the reply, close."""
    b = TraceBuilder(pid=7901, command=["/usr/bin/python3.11", "client_udp.py", HOST, str(port),
                                        MESSAGE])
    b.socket(3, type="SOCK_DGRAM", flags=["SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.send(3, MESSAGE, addr=inet(HOST, port))
    b.recv(3, MESSAGE, size=65536, addr=inet(HOST, port))
    b.close(3)
    return b.build()


def c_server_udp(port: int = PORT) -> Trace:
    b = TraceBuilder(pid=8001, command=["/tmp/build/c/server_udp", HOST, str(port)])
    b.socket(3, type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.bind(3, inet(HOST, port))
    b.recv(3, MESSAGE, size=65536, addr=inet(HOST, PEER_PORT))
    b.send(3, MESSAGE, addr=inet(HOST, PEER_PORT))
    b.close(3)
    return b.build()


def c_client_udp_connected(port: int = PORT) -> Trace:
    """The other idiom: connect the datagram socket, then send() and recv() (libc makes them
    sendto and recvfrom with no address)."""
    b = TraceBuilder(pid=8101, command=["/tmp/build/c/client_udp", HOST, str(port), MESSAGE])
    b.socket(3, type="SOCK_DGRAM", protocol="IPPROTO_IP")
    b.connect(3, inet(HOST, port))
    b.send(3, MESSAGE)
    b.recv(3, MESSAGE, size=65536)
    b.close(3)
    return b.build()


def no_wait_client_udp(port: int = PORT) -> Trace:
    """Negative control: sends the datagram and closes without waiting for the reply."""
    b = TraceBuilder(pid=8201, command=["/usr/bin/python3.11", "client_udp.py", HOST, str(port),
                                        MESSAGE])
    b.socket(3, type="SOCK_DGRAM", flags=["SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.send(3, MESSAGE, addr=inet(HOST, port))
    b.close(3)
    return b.build(exit_status=0)


# -- tcp-session ---------------------------------------------------------------------------------

def _pieces(total: int, piece: int) -> list[int]:
    return [piece] * (total // piece) + ([total % piece] if total % piece else [])


def python_stdlib_server_session(port: int = PORT, big_pieces: tuple[int, ...] = (65483, 34517)
                                 ) -> Trace:
    """recv(65536) and sendall what came, until end of file: the 100000-byte message arrives
    in pieces (as many as TCP makes), each echoed before the next receive."""
    b = TraceBuilder(pid=8301, command=["/usr/bin/python3.11", "server.py", HOST, str(port)])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, inet(HOST, port))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    for size in SIZES:
        pieces = list(big_pieces) if size == SIZES[-1] else [size]
        offset = 0
        for n in pieces:
            data = session_message(size)[offset:offset + n]
            b.recv(4, data, size=65536)
            b.send(4, data)
            offset += n
    b.recv(4, "", size=65536)
    b.close(4)
    b.close(3)
    return b.build()


def python_stdlib_client_session(port: int = PORT, read_piece: int = 16384) -> Trace:
    """For each message: sendall it, then recv until its echo is whole."""
    b = TraceBuilder(pid=8401, command=["/usr/bin/python3.11", "client.py", HOST, str(port),
                                        SESSION_MESSAGE, ",".join(map(str, SIZES))])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.connect(3, inet(HOST, port))
    for size in SIZES:
        message = session_message(size)
        b.send(3, message)
        offset = 0
        for n in _pieces(size, read_piece):
            b.recv(3, message[offset:offset + n], size=min(65536, size - offset))
            offset += n
    b.close(3)
    return b.build()


def c_server_session(port: int = PORT) -> Trace:
    """C with read/write and a 32768-byte buffer: other pieces than Python's, same echo."""
    b = TraceBuilder(pid=8501, command=["/tmp/build/c/server", HOST, str(port)])
    b.socket(3, protocol="IPPROTO_IP")
    b.bind(3, inet(HOST, port))
    b.listen(3, 5)
    b.accept(3, 4, flags=None)
    for size in SIZES:
        offset = 0
        for n in _pieces(size, 32768):
            data = session_message(size)[offset:offset + n]
            b.recv(4, data, syscall="read", size=32768)
            b.send(4, data, syscall="write")
            offset += n
    b.recv(4, "", syscall="read", size=32768)
    b.close(4)
    b.close(3)
    return b.build()


def c_client_session(port: int = PORT) -> Trace:
    """C with send() in a loop: the kernel takes the 100000-byte message in two calls (a
    partial send); reads with a 4096-byte buffer."""
    b = TraceBuilder(pid=8601, command=["/tmp/build/c/client", HOST, str(port),
                                        SESSION_MESSAGE, ",".join(map(str, SIZES))])
    b.socket(3, protocol="IPPROTO_IP")
    b.connect(3, inet(HOST, port))
    for size in SIZES:
        message = session_message(size)
        if size > 65536:
            b.send(3, message, result=65536)
            b.send(3, message[65536:])
        else:
            b.send(3, message)
        offset = 0
        for n in _pieces(size, 4096):
            b.recv(3, message[offset:offset + n], size=4096)
            offset += n
    b.close(3)
    return b.build()


def batch_client_session(port: int = PORT) -> Trace:
    """Negative control: sends every message, then reads all the echoes; the first read gets
    the echoes of messages 1 and 2 at once (TCP is a stream, not messages)."""
    b = TraceBuilder(pid=8701, command=["/usr/bin/python3.11", "client.py", HOST, str(port),
                                        SESSION_MESSAGE, ",".join(map(str, SIZES))])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.connect(3, inet(HOST, port))
    echoed = "".join(session_message(n) for n in SIZES)
    for size in SIZES:
        b.send(3, session_message(size))
    offset = 0
    for n in (SIZES[0] + SIZES[1], 65536, sum(SIZES) - SIZES[0] - SIZES[1] - 65536):
        b.recv(3, echoed[offset:offset + n], size=65536)
        offset += n
    b.close(3)
    return b.build()


SERVERS: dict[str, Callable[[int], Trace]] = {
    "python-stdlib": python_stdlib_server, "c": c_server, "python-asyncio": python_asyncio_server,
    "node": node_server, "java": java_server, "echo-twice": echo_twice_server,
    "close-before-echo": close_before_echo_server,
}
CLIENTS: dict[str, Callable[[int], Trace]] = {
    "python-stdlib": python_stdlib_client, "c": c_client, "python-asyncio": python_asyncio_client,
    "node": node_client, "connect-twice": connect_twice_client,
}


# -- trace sets on disk ------------------------------------------------------------------------

@dataclass
class PlannedRun:
    """One run of a set: its record and the traces to write (None: the file is missing)."""

    record: RunRecord
    server: Trace | None
    client: Trace | None


def write_trace_set(root: Path, runs: list[PlannedRun], reference: str = "python-stdlib",
                    skipped: Iterable[SkippedSample] = (), with_index: bool = True,
                    implements: dict[str, dict[str, list[str]]] | None = None) -> Path:
    """Lay runs out as the runner does, through the store: traces/<scenario>/<server>--
    <client>/...; the index lists the scenarios in the order of the runs."""
    from harness.formats.store import TracesFolder

    store = TracesFolder(root)
    root.mkdir(parents=True, exist_ok=True)
    folders = []
    for run in runs:
        rec = run.record
        folder = f"{rec.scenario}/{rec.server}--{rec.client}"
        folders.append(folder)
        path = root / folder
        path.mkdir(parents=True, exist_ok=True)
        if run.server is not None and rec.server_trace:
            tracefile.save(run.server, path / rec.server_trace)
        if run.client is not None and rec.client_trace:
            tracefile.save(run.client, path / rec.client_trace)
        store.write_run(folder, rec)
    if with_index:
        index = MatrixIndex(reference=reference,
                            scenarios=list(dict.fromkeys(r.record.scenario for r in runs)),
                            runs=folders, skipped=list(skipped),
                            started_at="2026-11-23T18:40:00+00:00",
                            implements=implements or {})
        store.write_index(index)
    return root


def pair_run(name: str, port: int, outcome: str = "ok", **kw: Any) -> PlannedRun:
    """A sample's server with its own client, both traced."""
    server = SERVERS[name](port) if name in SERVERS else None
    client = CLIENTS[name](port) if name in CLIENTS else None
    return PlannedRun(run_record(name, name, port, outcome=outcome, **kw), server, client)


def handbuilt_tcp(root: Path) -> Path:
    """The golden set: five pairs, one of them failed, one sample skipped."""
    runs = [pair_run("python-stdlib", 40101), pair_run("c", 40102),
            pair_run("python-asyncio", 40103), pair_run("node", 40104)]
    timeout = run_record("java", "java", 40105, outcome="timeout",
                         detail="client did not exit within 10 s", client_exit=None,
                         server_exit=137,
                         client_stderr="Exception in thread \"main\" java.net.SocketTimeout"
                                       "Exception: Read timed out\n\tat Client.main(Client.java:14)\n")
    runs.append(PlannedRun(timeout, java_server(40105), None))
    skipped = [SkippedSample(name="php", role="server", reason="php not found on PATH",
                             hint="apt-get install php-cli"),
               SkippedSample(name="php", role="client", reason="php not found on PATH",
                             hint="apt-get install php-cli")]
    return write_trace_set(root, runs, skipped=skipped)


def negative_controls(root: Path) -> Path:
    """The reference pair and the three negative controls, as a runner would record them."""
    runs = [pair_run("python-stdlib", 40201)]
    runs.append(PlannedRun(run_record("echo-twice", "python-stdlib", 40202),
                           echo_twice_server(40202), python_stdlib_client(40202)))
    runs.append(PlannedRun(run_record("close-before-echo", "python-stdlib", 40203,
                                      outcome="echo-mismatch",
                                      detail="client printed '' instead of 'hello'"),
                           close_before_echo_server(40203),
                           python_stdlib_client_no_echo(40203)))
    runs.append(PlannedRun(run_record("python-stdlib", "connect-twice", 40204,
                                      outcome="client-failed", client_exit=1,
                                      detail="client exited with 1",
                                      client_stderr="second connection failed: [Errno 111] "
                                                    "Connection refused\n"),
                           python_stdlib_server_empty_connection(40204),
                           connect_twice_client(40204)))
    return write_trace_set(root, runs)


ALL_SCENARIOS = ["tcp", "tcp-session", "udp", "unix", "tcp6"]


def scenario_runs(first_port: int = 40701) -> list[PlannedRun]:
    """Every scenario: the reference pair, C where it implements the scenario, and each
    scenario's negative control as the runner would record it."""
    unix_server = lambda port: python_stdlib_server_unix()  # noqa: E731  (no port: a path)
    unix_client = lambda port: python_stdlib_client_unix()  # noqa: E731
    no_listen = lambda port: no_listen_server_unix()  # noqa: E731
    plan: list[tuple[str, str, str, Callable[[int], Trace], Callable[[int], Trace] | None,
                     dict[str, Any]]] = [
        ("tcp", "python-stdlib", "python-stdlib", python_stdlib_server, python_stdlib_client,
         {}),
        ("tcp", "c", "c", c_server, c_client, {}),
        ("tcp-session", "python-stdlib", "python-stdlib", python_stdlib_server_session,
         python_stdlib_client_session, {}),
        ("tcp-session", "c", "c", c_server_session, c_client_session, {}),
        ("tcp-session", "python-stdlib", "batch", python_stdlib_server_session,
         batch_client_session, {}),
        ("udp", "python-stdlib", "python-stdlib", python_stdlib_server_udp,
         python_stdlib_client_udp, {}),
        ("udp", "c", "c", c_server_udp, c_client_udp_connected, {}),
        ("udp", "python-stdlib", "no-wait", python_stdlib_server_udp, no_wait_client_udp,
         {"outcome": "echo-mismatch", "detail": "client printed b'', expected b'hello'"}),
        ("unix", "python-stdlib", "python-stdlib", unix_server, unix_client, {}),
        ("unix", "no-listen", "python-stdlib", no_listen, None,
         {"outcome": "server-failed", "server_exit": 0, "client_trace": None,
          "detail": "server exited with status 0 before listening",
          "server_stderr": f"echoed over a socketpair; {UNIX_PATH} left unused\n"}),
        ("tcp6", "python-stdlib", "python-stdlib", python_stdlib_server6, python_stdlib_client6,
         {}),
        ("tcp6", "c", "c", c_server6, c_client6, {}),
    ]
    runs = []
    for port, (scenario, server, client, make_server, make_client, kw) in enumerate(
            plan, first_port):
        runs.append(PlannedRun(run_record(server, client, port, scenario=scenario, **kw),
                               make_server(port),
                               make_client(port) if make_client is not None else None))
    return runs


SCENARIO_IMPLEMENTS = {
    "server": {"python-stdlib": ALL_SCENARIOS, "c": ["tcp", "tcp-session", "udp", "tcp6"],
               "no-listen": ["unix"], "php": ["tcp"]},
    "client": {"python-stdlib": ALL_SCENARIOS, "c": ["tcp", "tcp-session", "udp", "tcp6"],
               "batch": ["tcp-session"], "no-wait": ["udp"], "php": ["tcp"]},
}


def handbuilt_scenarios(root: Path) -> Path:
    """The golden set of the five scenarios: reference and C pairs, the negative controls,
    a sample that does not implement every scenario (n/a) and one skipped."""
    skipped = [SkippedSample(name="php", role=role, reason="php not found on PATH",
                             hint="apt-get install php-cli") for role in ("server", "client")]
    return write_trace_set(root, scenario_runs(), skipped=skipped,
                           implements=SCENARIO_IMPLEMENTS)


TRACE_SETS: dict[str, Callable[[Path], Path]] = {
    "handbuilt-tcp": handbuilt_tcp,
    "negative-controls": negative_controls,
    "handbuilt-scenarios": handbuilt_scenarios,
}
