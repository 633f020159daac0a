"""The data that flows between stages: traces and their events.

Everything here is a frozen dataclass of plain values (str, int, lists, dicts of those), so that a
trace written to YAML or JSON and read back gives equal objects. See docs/trace-format.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the schema version of trace files is defined with the versions still read and the trace files'
# other constants, in a module the tracer's writer imports (it never imports this one)
from harness.formats.trace_base import SCHEMA_VERSION

# An address as decoded from a sockaddr: {"family": "AF_INET", "address": ..., "port": ...}.
Address = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SocketIdentity:
    """What the tracer knows about the socket an fd refers to, at the time of one event."""

    fd: int  # the fd number in that process
    family: str | int  # AF_INET, AF_INET6, AF_UNIX, ... (int when unknown to the tables)
    type: str | int  # SOCK_STREAM, SOCK_DGRAM, ... (without the type flags)
    local: Address | None = None  # bound or learned local address; None until known
    peer: Address | None = None  # connected or accepted peer; None until known
    # the socket's id in its trace (1, 2, ...: the same for every fd, process and thread that
    # holds it); None in traces of schema versions 1 and 2
    id: int | None = None
    # the kernel's identity of the socket: N of `socket:[N]` in /proc/PID/fd/FD (what
    # `strace -y` prints); None in traces of schema versions 1 to 3, or when it was not read
    inode: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"fd": self.fd, "family": self.family, "type": self.type,
             "local": self.local, "peer": self.peer}
        if self.id is not None:
            d["id"] = self.id
        if self.inode is not None:
            d["inode"] = self.inode
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SocketIdentity:
        return cls(fd=d["fd"], family=d["family"], type=d["type"],
                   local=d.get("local"), peer=d.get("peer"), id=d.get("id"),
                   inode=d.get("inode"))


# -- the shapes of decoded arguments (docs/trace-format.md), checked when a trace is read ----

@dataclass(frozen=True, slots=True)
class AddressShape:
    """A decoded sockaddr (only for checking: addresses stay dicts in events)."""

    family: str | int
    address: str = ""
    port: int = 0
    path: str = ""
    abstract: str = ""
    flowinfo: int = 0
    scope_id: int = 0
    v4mapped: str = ""


@dataclass(frozen=True, slots=True)
class PollFdShape:
    """One entry of a poll's `fds`."""

    fd: int
    events: list[str | int] = field(default_factory=list)
    revents: list[str | int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReadyShape:
    """One entry of an epoll wait's `ready` (fd null when its data matched no registration)."""

    fd: int | None
    events: list[str | int] = field(default_factory=list)


Name = str | int  # a symbolic value: its name, or its integer when the tables lack it
Flags = list[str | int] | int | None  # a flag set: names (and leftover bits as one hex text)

# argument name -> the type every event's value of it must have; names not listed may hold
# anything (the normalizer reads only these)
ARG_TYPES: dict[str, Any] = {
    **dict.fromkeys(("fd", "oldfd", "newfd", "epfd", "fd_in", "fd_out", "in_fd", "out_fd",
                     "first", "last", "child", "backlog", "data_len", "maxevents", "nfds",
                     "user_data", "code", "vlen", "iovcnt", "controllen", "count", "length",
                     "len", "offset", "size", "optlen"), int | None),
    **dict.fromkeys(("domain", "type", "protocol", "level", "optname", "request", "cmd", "op",
                     "how", "whence", "signal"), Name),
    **dict.fromkeys(("flags", "type_flags", "events", "result_flags"), Flags),
    "addr": AddressShape | None,
    "data": str,
    "data_truncated": bool,
    "thread": bool,
    "off_in": bool,
    "off_out": bool,
    "path": str | None,
    "exe": str | None,
    "argv": list[str],
    "timeout_ms": int | float | None,
    "fds": list[PollFdShape],
    "ready": list[int | ReadyShape],
    "watching": list[int],
    "sockets": list[int],
    **dict.fromkeys(("readfds", "writefds", "exceptfds"), list[int] | None),
}


@dataclass(frozen=True, slots=True)
class SyscallEvent:
    """One recorded syscall (kind "syscall") or process event (kind "process")."""

    seq: int  # 1, 2, ... in the order the tracer saw events
    ts_ns: int  # CLOCK_MONOTONIC nanoseconds when the call finished
    pid: int  # thread group id
    tid: int  # thread id
    syscall: str  # syscall name as the kernel knows it (accept4, recvfrom, ...)
    args: dict[str, Any]  # decoded arguments, by name (docs/trace-format.md)
    result: int | None  # raw return value; None when the call never returned
    errno: str | None = None  # errno name when the call failed
    kind: str = "syscall"  # "syscall" or "process"
    fds: tuple[int, ...] = ()  # fds this call created
    sock: SocketIdentity | None = None  # the socket the call worked on
    # (fd, socket id) of every socket the call named or created, when that is more than its
    # `sock` (an accept's listener, a poll's sockets, a dup2, a socketpair's two ends)
    ids: tuple[tuple[int, int], ...] = ()
    # ids of the sockets whose last reference this event released (schema 4): no traced
    # process holds an fd of them afterwards (a close, a dup2 over one, an exec's
    # close-on-exec fds, a process's exit)
    released: tuple[int, ...] = ()
    dur_ns: int | None = None  # time spent in the call, when the trace timed calls (-T, -c)

    @property
    def failed(self) -> bool:
        return self.errno is not None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"seq": self.seq, "ts_ns": self.ts_ns, "pid": self.pid,
                             "tid": self.tid, "syscall": self.syscall, "args": self.args,
                             "result": self.result}
        if self.errno is not None:
            d["errno"] = self.errno
        if self.kind != "syscall":
            d["kind"] = self.kind
        if self.fds:
            d["fds"] = list(self.fds)
        if self.sock is not None:
            d["sock"] = self.sock.to_dict()
        if self.ids:
            d["ids"] = [list(pair) for pair in self.ids]
        if self.released:
            d["released"] = list(self.released)
        if self.dur_ns is not None:
            d["dur_ns"] = self.dur_ns
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SyscallEvent:
        sock = d.get("sock")
        return cls(seq=d["seq"], ts_ns=d["ts_ns"], pid=d["pid"], tid=d["tid"],
                   syscall=d["syscall"], args=dict(d.get("args") or {}), result=d["result"],
                   errno=d.get("errno"), kind=d.get("kind", "syscall"),
                   fds=tuple(d.get("fds") or ()),
                   sock=SocketIdentity.from_dict(sock) if sock else None,
                   ids=tuple((int(fd), int(i)) for fd, i in d.get("ids") or ()),
                   released=tuple(int(i) for i in d.get("released") or ()),
                   dur_ns=d.get("dur_ns"))


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One traced process (thread group)."""

    pid: int  # thread group id
    parent: int | None  # pid of the traced process that created it; None for the first
    exe: str | None  # executable after the last exec (None if never seen)
    argv: list[str] = field(default_factory=list)  # argv of the last exec
    threads: list[int] = field(default_factory=list)  # every tid seen in this process
    exit_code: int | None = None  # exit status when it exited normally
    exit_signal: str | None = None  # signal name when a signal killed it

    def to_dict(self) -> dict[str, Any]:
        return {"pid": self.pid, "parent": self.parent, "exe": self.exe, "argv": self.argv,
                "threads": self.threads, "exit_code": self.exit_code,
                "exit_signal": self.exit_signal}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProcessInfo:
        return cls(pid=d["pid"], parent=d.get("parent"), exe=d.get("exe"),
                   argv=list(d.get("argv") or []), threads=list(d.get("threads") or []),
                   exit_code=d.get("exit_code"), exit_signal=d.get("exit_signal"))


@dataclass(frozen=True, slots=True)
class TracerInfo:
    """How the trace was taken."""

    mode: str  # "seccomp" or "all-syscalls"
    data_bytes: int  # bytes of each data buffer kept
    fallback_reason: str | None = None  # why seccomp was not used although asked for

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "data_bytes": self.data_bytes,
                "fallback_reason": self.fallback_reason}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TracerInfo:
        return cls(mode=d["mode"], data_bytes=d["data_bytes"],
                   fallback_reason=d.get("fallback_reason"))


@dataclass(frozen=True, slots=True)
class Trace:
    """Everything one traced command produced."""

    command: list[str]  # argv as started
    cwd: str  # working directory of the command
    started_at: str  # ISO 8601 wall-clock time of the start
    tracer: TracerInfo  # how it was traced
    exit_status: int | None  # exit code of the first process, 128+signal if killed
    processes: tuple[ProcessInfo, ...]  # every process seen, in order of appearance
    events: tuple[SyscallEvent, ...]  # every recorded event, in order
    schema_version: int = SCHEMA_VERSION  # of the file it was read from
    # False for a trace cut off before its end was written (a crash of the harness): the
    # events are the ones written up to there, the exit status and processes unknown
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": self.schema_version, "command": self.command,
                "cwd": self.cwd, "started_at": self.started_at,
                "tracer": self.tracer.to_dict(), "exit_status": self.exit_status,
                "processes": [p.to_dict() for p in self.processes],
                "events": [e.to_dict() for e in self.events], "complete": self.complete}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trace:
        return cls(schema_version=d["schema_version"], command=list(d["command"]),
                   cwd=d["cwd"], started_at=d["started_at"],
                   tracer=TracerInfo.from_dict(d["tracer"]), exit_status=d.get("exit_status"),
                   processes=tuple(ProcessInfo.from_dict(p) for p in d.get("processes") or ()),
                   events=tuple(SyscallEvent.from_dict(e) for e in d.get("events") or ()),
                   complete=bool(d.get("complete", True)))


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of a server/client pair in one scenario: written as run.yaml beside the traces."""

    scenario: str  # tcp, ...
    server: str  # server sample name
    client: str  # client sample name
    host: str  # address the server bound
    port: int  # port of this run
    message: str  # what the client was asked to send
    outcome: str  # ok | echo-mismatch | server-failed | client-failed | timeout | error
    detail: str | None = None  # one line saying what went wrong, when it did
    server_exit: int | None = None  # exit status (128+signal when killed); None if not started
    client_exit: int | None = None  # same for the client
    client_stdout: str = ""  # what the client printed (the echo; its first 1000 characters)
    server_stderr: str = ""  # last part of the server's stderr
    client_stderr: str = ""  # last part of the client's stderr
    server_trace: str | None = "server.jsonl"  # file name, relative to the run folder
    client_trace: str | None = "client.jsonl"  # file name, relative to the run folder
    duration_s: float = 0.0  # wall time of the whole run
    path: str | None = None  # unix scenario: the socket path of this run
    sizes: list[int] = field(default_factory=list)  # tcp-session: the message sizes
    expected_len: int | None = None  # bytes the client had to print (when not the message)
    wire_trace: str | None = None  # the run's captured packets (wire.jsonl), when there are
    wire_note: str | None = None  # why there is no capture, or what is missing from it
    # what the client had to print (its manifest's `expect`): echo | any | text
    expect: str = "echo"
    expect_text: str | None = None  # expect text: that text
    # where the port came from when the harness did not pick it: server (its manifest's
    # `port: N`), client (the client's), learned (`port: own`: the server's traced listen,
    # or bind for UDP); None: a free port the harness picked and passed as {port}
    port_from: str | None = None
    # the server serves forever (a `while True: accept` loop): the harness stopped it once its
    # client was done, blocked in accept (or, `serves: forever`, waiting for the next peer)
    server_stopped: bool = False
    # the addresses this machine's host name resolved to when the run was made
    # (socket.gethostname(): 127.0.1.1 on Debian and Ubuntu): a bind or a connect to one of
    # them is "the host name's address"
    host_addresses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunRecord:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True, slots=True)
class SkippedSample:
    """A sample that could not run here, and what to install so that it can."""

    name: str  # sample name
    role: str  # server | client
    reason: str  # e.g. "php not found on PATH"
    hint: str | None = None  # install hint from the manifest

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "reason": self.reason, "hint": self.hint}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SkippedSample:
        return cls(name=d["name"], role=d["role"], reason=d["reason"], hint=d.get("hint"))


@dataclass(frozen=True, slots=True)
class FailedSample:
    """A sample whose toolchain is here but whose build failed: a failure, not a skip."""

    name: str  # sample name
    role: str  # server | client
    reason: str  # one line: "build failed (cc -O2 ... server.c): exit status 1"
    output: str = ""  # the last lines of what the build printed (stdout and stderr)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "reason": self.reason,
                "output": self.output}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FailedSample:
        return cls(name=d["name"], role=d["role"], reason=d["reason"],
                   output=d.get("output") or "")


@dataclass(frozen=True, slots=True)
class MatrixIndex:
    """traces/index.yaml: what one `compare` run did, so that `compare --from` can re-render."""

    reference: str  # name of the reference sample (python-stdlib unless asked otherwise)
    scenarios: list[str]  # scenarios that were run
    runs: list[str]  # run folders, relative to the traces folder: "tcp/c--c"
    skipped: list[SkippedSample] = field(default_factory=list)  # samples that could not run
    started_at: str = ""  # ISO 8601 time the matrix started
    # role -> sample name -> the scenarios its manifest lists, for every sample found (skipped
    # ones too): what tells "n/a" (not implemented) from "not run" in the report. Empty when
    # unknown (an index written before this field): then a sample without a run is "n/a".
    implements: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    failed: list[FailedSample] = field(default_factory=list)  # samples whose build failed

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "scenarios": self.scenarios, "runs": self.runs,
                "skipped": [s.to_dict() for s in self.skipped], "started_at": self.started_at,
                "implements": self.implements, "failed": [f.to_dict() for f in self.failed]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MatrixIndex:
        implements = {str(role): {str(name): [str(x) for x in scenarios or ()]
                                  for name, scenarios in (samples or {}).items()}
                      for role, samples in (d.get("implements") or {}).items()}
        return cls(reference=d["reference"], scenarios=list(d["scenarios"]),
                   runs=list(d["runs"]),
                   skipped=[SkippedSample.from_dict(s) for s in d.get("skipped") or ()],
                   started_at=d.get("started_at", ""), implements=implements,
                   failed=[FailedSample.from_dict(f) for f in d.get("failed") or ()])
