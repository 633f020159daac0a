"""The records a trace is made of, and their writing: a Root (one spawned or attached command,
its processes, the events it keeps and the header and footer of its trace file), the tuples
the loop records events as (cheaper to build than SyscallEvent objects, which are made only
when someone reads them), a data transfer's Deferred decoding, and the Tracer's part that
records an event and hands a root's events to its sink when enough are kept or they have
waited long enough (harness/tracer/core.py ties the parts of the Tracer together)."""

from __future__ import annotations

import time
from collections.abc import Callable

from harness.formats.trace_base import SocketRecords
from harness.tracer.base import TracerBase
from harness.tracer.decode import Decoder
from harness.tracer.decode_mem import Snapshot
from harness.tracer.state import Proc, SockState, Task

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    from harness.formats.model import SyscallEvent, Trace

    class TraceSink(Protocol):
        """Where a root's events go while it runs (harness.formats.tracefile.TraceWriter): the
        header once the command has started, events in batches, the footer when it is
        done."""

        def start(self, header: dict[str, Any]) -> None: ...
        def write(self, events: list[dict[str, Any]]) -> None: ...
        def finish(self, footer: dict[str, Any]) -> None: ...


FLUSH_EVERY = 2048  # events a root keeps before it hands them to its sink
# nor does it keep one longer than this: a harness killed with SIGKILL loses at most the
# events of the last 100 ms (kept in memory; the sink writes what it is handed at once)
FLUSH_AFTER_NS = 100_000_000


class Root:
    """One spawned command and every process it made."""

    def __init__(self, argv: list[str], cwd: str, label: str,
                 on_event: Callable[[Root, SyscallEvent], None] | None = None,
                 sink: TraceSink | None = None, data_bytes: int = 64):
        self.argv = argv  # command as started
        self.cwd = cwd  # its working directory
        self.label = label  # name for messages (server, client, ...)
        self.on_event = on_event  # called after each of its events
        # with a sink, events are written as they come and not kept (constant memory)
        self.sink = sink
        self.data_bytes = data_bytes  # bytes of each buffer kept (for the trace's header)
        self.closed = False  # the sink has its footer
        self.deadline: float | None = None  # time.monotonic() after which it is killed
        self.pid = 0  # first process
        self.started_at = ""  # ISO time
        self.start_ns = 0  # monotonic start
        self.end_ns = 0  # monotonic end (last process gone)
        self.procs: list[Proc] = []  # every process, in order of appearance
        self.records: list[tuple[Any, ...]] = []  # events, as cheap tuples
        self.durations: dict[int, int] | None = None  # the tracer's, when it times calls
        self.live = 0  # processes still running
        self.exit_status: int | None = None  # first process: code, or 128+signal
        self.exec_error: str | None = None  # why the command could not be executed
        self.timed_out = False
        self.mode = "seccomp"  # seccomp | all-syscalls
        self.fallback_reason: str | None = None  # why seccomp was not used though asked for
        self.report_fd: int | None = None  # read end of the child's pre-exec error pipe
        self.decoder: Decoder | None = None  # decodes deferred events
        # attached to a running process (-p): detached, not killed, when the trace ends
        self.attached = False
        self.attached_sockets: list[dict[str, Any]] = []  # its open sockets at the attach
        self.sockets = 0  # sockets met so far: the last id given
        self.by_inode: dict[int, SockState] = {}  # the kernel's socket inode -> its state
        self.socket_records = SocketRecords()  # the identities its trace file has written

    def new_socket(self, family: str | int, type: str | int, local: Any = None,
                   peer: Any = None, inode: int | None = None, made: bool = True) -> SockState:
        """A socket met for the first time (made, accepted, or found by its inode)."""
        if inode:
            known = self.by_inode.get(inode)
            if known is not None:
                return known
        self.sockets += 1
        sock = SockState(family, type, local=local, peer=peer, id=self.sockets, inode=inode,
                         made=made)
        if inode:
            self.by_inode[inode] = sock
        return sock

    @property
    def done(self) -> bool:
        return self.live == 0

    @property
    def events(self) -> list[SyscallEvent]:
        """The recorded events (built from the tuples the loop keeps, which is cheaper).
        With a sink, only those not yet written."""
        return [_event(r, self.decoder) for r in self.records]

    def header(self) -> dict[str, Any]:
        header = {"command": list(self.argv), "cwd": self.cwd, "started_at": self.started_at,
                  "tracer": {"mode": self.mode, "data_bytes": self.data_bytes,
                             "fallback_reason": self.fallback_reason}}
        if self.attached:
            header["attached"] = {"pid": self.pid, "sockets": self.attached_sockets}
        return header

    def footer(self) -> dict[str, Any]:
        return {"exit_status": self.exit_status,
                "processes": [{"pid": p.pid, "parent": p.parent, "exe": p.exe,
                               "argv": list(p.argv), "threads": list(p.threads),
                               "exit_code": p.exit_code, "exit_signal": p.exit_signal}
                              for p in self.procs]}

    def flush(self) -> None:
        """Hand the events kept so far to the sink (in seccomp mode the tracees run on while
        this encodes; nobody waits on a stop)."""
        if self.sink is not None and self.records:
            decoder = self.decoder
            changed = self.socket_records.changed
            events = []
            for r in self.records:
                sock = r[10]
                if sock is not None:
                    rec = changed(*sock)
                    if rec is not None:
                        events.append(rec)
                events.append(event_dict(r, decoder))
            if self.durations is not None:  # timed: each call's time, once written
                for d in events:
                    if "seq" not in d:
                        continue  # a socket record
                    dur = self.durations.pop(d["seq"], None)
                    if dur is not None:
                        d["dur_ns"] = dur
            self.sink.write(events)
            self.records.clear()

    def close(self) -> None:
        """The command is done: the last events and the footer to the sink."""
        if self.sink is not None and not self.closed:
            self.closed = True
            self.flush()
            self.sink.finish(self.footer())

    def trace(self, data_bytes: int) -> Trace:
        from harness.formats.model import ProcessInfo, Trace, TracerInfo

        if self.sink is not None:
            raise RuntimeError("a root with a sink keeps no events: read its trace file")
        return Trace(
            command=list(self.argv), cwd=self.cwd, started_at=self.started_at,
            tracer=TracerInfo(mode=self.mode, data_bytes=data_bytes,
                              fallback_reason=self.fallback_reason),
            exit_status=self.exit_status,
            processes=tuple(ProcessInfo(pid=p.pid, parent=p.parent, exe=p.exe,
                                        argv=list(p.argv), threads=list(p.threads),
                                        exit_code=p.exit_code, exit_signal=p.exit_signal)
                            for p in self.procs),
            events=tuple(self.events))


class Deferred:
    """A data transfer's raw arguments and the memory it touched, decoded when the event is
    built rather than while the tracee waits (the hot path of an echo loop)."""

    __slots__ = ("a", "result", "regions", "entry")

    def __init__(self, a: tuple[int, ...], result: int, regions: list[tuple[int, bytes]],
                 entry: dict[str, Any] | None = None):
        self.a = a  # raw arguments
        self.result = result  # raw result (-4095 for a call that never returned)
        self.regions = regions  # (address, bytes) copied at the stop
        self.entry = entry  # what was read at its entry (an address's room), if anything

    def decode(self, decoder: Decoder, name: str) -> dict[str, Any]:
        if self.entry is None:
            return decoder.decoders[name](Snapshot(self.regions), self.a, self.result)
        return decoder.decoders[name](Snapshot(self.regions), self.a, self.result,
                                      entry=self.entry)


def event_dict(r: tuple[Any, ...], decoder: Decoder | None) -> dict[str, Any]:
    """A record as the trace file writes it: SyscallEvent.to_dict() without the object, its
    socket named by `[fd, id]` (Root.flush writes the socket's identity before it)."""
    seq, ts_ns, pid, tid, name, args, result, errno, kind, fds, sock, ids, released = r
    if type(args) is Deferred:
        assert decoder is not None
        args = args.decode(decoder, name)
    d: dict[str, Any] = {"seq": seq, "ts_ns": ts_ns, "pid": pid, "tid": tid,
                         "syscall": name, "args": args, "result": result}
    if errno is not None:
        d["errno"] = errno
    if kind != "syscall":
        d["kind"] = kind
    if fds:
        d["fds"] = list(fds)
    if sock is not None:  # its identity: the socket record written before it (flush)
        d["sock"] = [sock[0], sock[5]]
    if ids:
        d["ids"] = [list(pair) for pair in ids]
    if released:
        d["released"] = list(released)
    return d


def _event(r: tuple[Any, ...], decoder: Decoder | None) -> SyscallEvent:
    from harness.formats.model import SocketIdentity, SyscallEvent

    sock = r[10]
    args = r[5]
    if type(args) is Deferred:
        assert decoder is not None  # (a root records deferred events once it has one)
        args = args.decode(decoder, r[4])
    return SyscallEvent(seq=r[0], ts_ns=r[1], pid=r[2], tid=r[3], syscall=r[4], args=args,
                        result=r[6], errno=r[7], kind=r[8], fds=r[9],
                        sock=SocketIdentity(*sock) if sock is not None else None, ids=r[11],
                        released=r[12])


class Records(TracerBase):
    """The Tracer's part that records events (a part of harness.tracer.core.Tracer)."""

    def _record(self, task: Task, name: str, args: dict[str, Any], res: int | None,
                fds: tuple[int, ...] = (), sock: tuple[Any, ...] | None = None,
                kind: str = "syscall", ts_ns: int | None = None,
                ids: tuple[tuple[int, int], ...] = (), released: tuple[int, ...] = ()) -> None:
        self.seq += 1
        errno = None
        if res is not None and res < 0 and kind != "process":
            errno = self.decoder.errno_name(res)
        self._store(task, (self.seq, ts_ns or time.monotonic_ns(), task.proc.pid, task.tid,
                           name, args, res, errno, kind, fds, sock, ids, released))

    def _store(self, task: Task, rec: tuple[Any, ...]) -> None:
        """Keep a record, and show it to whoever asked to see events as they come."""
        root = task.proc.root
        records = root.records
        records.append(rec)
        if self.timing and rec[8] == "syscall" and task.dur:
            self.durations[rec[0]] = task.dur
            task.dur = 0
        if root.sink is not None:
            if len(records) >= FLUSH_EVERY or rec[1] - records[0][1] >= FLUSH_AFTER_NS:
                root.flush()
            elif not self._flush_due:
                self._flush_due = rec[1] + FLUSH_AFTER_NS
        if self.echo is not None or root.on_event is not None:
            ev = _event(rec, self.decoder)
            if self.echo is not None:
                self.echo(ev)
            if root.on_event is not None:
                root.on_event(root, ev)
