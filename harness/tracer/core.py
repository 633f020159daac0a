"""The event loop: spawn commands under ptrace, follow every task, record socket syscalls.

One Tracer can trace several commands at once (the runner traces a server and its client in the
same loop); each spawned command is a Root, and everything it forks belongs to it.

The loop is a plain `waitpid(-1, __WALL)`: no polling. In seccomp mode the child installs, before
exec, a filter that sends only the syscalls of interest to the tracer; the tracer then sees a
seccomp stop at each such call's entry and asks for its exit with PTRACE_SYSCALL. In
all-syscalls mode (`--no-seccomp`, or when the kernel refuses the filter) it stops at every
syscall's entry and exit.
"""

from __future__ import annotations

import gc
import os
import signal
import time
from collections.abc import Callable

TYPE_CHECKING = False

from harness.common.errors import HarnessError
from harness.tracer import kernel
from harness.tracer.decode import (ADDRLEN_ENTRY_CALLS, MAX_ADDR, Decoder, Memory, Snapshot,
                                   signed, signed32)
from harness.tracer.state import Proc, SockState
from harness.tracer.tables import load_syscalls, load_tables

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

SIGTRAP = signal.SIGTRAP
SIGSTOP = signal.SIGSTOP
SYSCALL_TRAP = SIGTRAP | 0x80
SECCOMP_TRAP = SIGTRAP | (kernel.PTRACE_EVENT_SECCOMP << 8)
EXEC_TRAP = SIGTRAP | (kernel.PTRACE_EVENT_EXEC << 8)
CLONE_EVENTS = {kernel.PTRACE_EVENT_FORK: "fork", kernel.PTRACE_EVENT_VFORK: "vfork",
                kernel.PTRACE_EVENT_CLONE: "clone"}
# the signals that stop the harness: held while a child is being started and while the
# tracees are killed, so that a stop never lands half way through either
HELD_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
OPTIONS = (kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_TRACEFORK | kernel.PTRACE_O_TRACEVFORK
           | kernel.PTRACE_O_TRACECLONE | kernel.PTRACE_O_TRACEEXEC | kernel.PTRACE_O_EXITKILL)
ESRCH = 3
GETEVENTMSG = kernel.PTRACE_GETEVENTMSG
PTRACE_SYSCALL = kernel.PTRACE_SYSCALL
FAILED = (1 << 64) - 1  # -1 from the ptrace binding's unsigned long
ENTRY_FLAG = kernel.ENTRY_FLAG
EVENT_STOP = kernel.PTRACE_EVENT_STOP
GROUP_STOPS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})


class TraceError(HarnessError):
    """The tracer could not start the command; the message is one line for the user."""

    def __init__(self, message: str, exit_status: int = 2):
        super().__init__(message)
        self.exit_status = exit_status


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"SIG{sig}"


FLUSH_EVERY = 2048  # events a root keeps before it hands them to its sink
# nor does it keep one longer than this: a harness killed with SIGKILL loses at most the
# events of the last 100 ms (kept in memory; the sink writes what it is handed at once)
FLUSH_AFTER_NS = 100_000_000
NEVER = 1 << 62  # a time no timer is set for


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
            events = [event_dict(r, decoder) for r in self.records]
            if self.durations is not None:  # timed: each call's time, once written
                for d in events:
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
    """A record as the trace file writes it: SyscallEvent.to_dict() without the object."""
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
    if sock is not None:
        d["sock"] = {"fd": sock[0], "family": sock[1], "type": sock[2], "local": sock[3],
                     "peer": sock[4], "id": sock[5], "inode": sock[6]}
    if ids:
        d["ids"] = [list(pair) for pair in ids]
    if released:
        d["released"] = list(released)
    return d


def _event(r: tuple[Any, ...], decoder: Decoder) -> SyscallEvent:
    from harness.formats.model import SocketIdentity, SyscallEvent

    sock = r[10]
    args = r[5]
    if type(args) is Deferred:
        args = args.decode(decoder, r[4])
    return SyscallEvent(seq=r[0], ts_ns=r[1], pid=r[2], tid=r[3], syscall=r[4], args=args,
                        result=r[6], errno=r[7], kind=r[8], fds=r[9],
                        sock=SocketIdentity(*sock) if sock is not None else None, ids=r[11],
                        released=r[12])


class Task:
    """One traced thread."""

    __slots__ = ("tid", "proc", "started", "in_syscall", "nr", "args", "entry", "quiet", "sure",
                 "t0", "dur")

    def __init__(self, tid: int, proc: Proc, started: bool = False, quiet: bool = False,
                 sure: bool = True):
        self.tid = tid
        self.proc = proc
        # whether in_syscall is known: a thread the tracer attached to may be inside a call
        # (its first syscall stop is asked whether it is an entry or an exit)
        self.sure = sure
        self.t0 = 0  # monotonic ns of the entry of the call in flight (when timing)
        self.dur = 0  # ns from its entry to its exit (when timing)
        # seccomp mode and nobody watching events as they come: transfers take the short path
        self.quiet = quiet
        self.started = started  # its first stop (SIGSTOP) has been seen
        self.in_syscall = False  # between entry and exit (all-syscalls mode)
        self.nr = -1  # syscall in flight, when we asked for its exit
        self.args: tuple[int, ...] = ()  # raw arguments of a call it was killed in
        self.entry: dict[str, Any] | None = None  # what had to be read at entry


class Tracer:
    """Traces commands; see the module docstring."""

    def __init__(self, *, seccomp: bool = True, data_bytes: int = 64,
                 echo: Callable[[SyscallEvent], None] | None = None, timing: bool = False):
        self.want_seccomp = seccomp
        self.data_bytes = data_bytes
        self.echo = echo
        # time each call (-T, -c): a call's entry is stamped, and its event gets `dur_ns`
        self.timing = timing
        self.durations: dict[int, int] = {}  # event seq -> ns spent in the call
        kernel.check_arch()
        self.pt = kernel.Ptrace()
        self.syscalls = load_syscalls()
        self.decoder = Decoder(load_tables(), data_bytes)
        self.filter = kernel.seccomp_filter(self.syscalls.filter_rules())
        kernel._libc()  # loaded here, not in each forked child
        self.names = self.syscalls.names
        self.classes = self.syscalls.classes
        self.fd_args = self.syscalls.fd_args
        # calls whose exit is always wanted and that need nothing read at entry
        # data transfers whose decoding is deferred (`transfer` in harness/tables/syscalls.yaml);
        # the io ones are recorded only on sockets
        self.transfers = self.syscalls.transfers
        self.io_transfers = frozenset(n for n in self.transfers if self.classes[n] == "io")
        self.transfer_nrs = frozenset(nr for nr, name in self.names.items()
                                      if name in self.transfers)
        self.exit_always = frozenset(
            nr for nr, name in self.names.items()
            if self.classes[name] in ("net", "readiness", "epoll_new", "new_fd")
            and name not in self.syscalls.read_at_entry)
        self.tasks: dict[int, Task] = {}
        self.procs: dict[int, Proc] = {}
        self.roots: list[Root] = []
        self._mask: set[signal.Signals] = set()  # the signal mask from before a spawn
        self.seq = 0
        self.live_roots = 0  # roots with a process still running
        self.deadlines_pending = False  # some live root has a deadline: keep a timer armed
        self._timer_armed = False
        self._timer_at = NEVER  # monotonic ns the armed timer fires at
        # monotonic ns by which the events kept for a sink are to be written (0: none kept):
        # a timer writes them while the loop waits, if no event came to do it
        self._flush_due = 0
        self._waiting = False  # the loop is blocked in waitpid: a timer may write events

    # -- starting commands --------------------------------------------------------------

    def spawn(self, argv: list[str], *, cwd: str | None = None,
              env: dict[str, str] | None = None, stdin: int | None = None,
              stdout: int | None = None, stderr: int | None = None, label: str = "command",
              on_event: Callable[[Root, SyscallEvent], None] | None = None,
              timeout: float | None = None, sink: TraceSink | None = None) -> Root:
        """Start argv stopped under the tracer and register it. Raises TraceError (127) when
        the program cannot be found or executed, or (1) when ptrace is not permitted."""
        cwd = os.path.abspath(cwd or os.getcwd())
        prog = argv[0]
        path = (env or os.environ).get("PATH", os.defpath)
        if "/" in prog:
            resolved = prog if os.path.isabs(prog) else os.path.join(cwd, prog)
            if not os.path.exists(resolved):
                raise TraceError(f"{prog}: no such file", 127)
        else:
            found = _which(prog, path)
            if found is None:
                raise TraceError(f"{prog}: command not found", 127)
            resolved = found
        root = Root(argv=list(argv), cwd=cwd, label=label, on_event=on_event, sink=sink,
                    data_bytes=self.data_bytes)
        root.decoder = self.decoder
        root.durations = self.durations if self.timing else None
        root.mode = "seccomp" if self.want_seccomp else "all-syscalls"
        if self.want_seccomp and not self.filter:
            root.mode = "all-syscalls"
        report_r, report_w = os.pipe2(os.O_CLOEXEC)
        go_r, go_w = os.pipe2(os.O_CLOEXEC)  # the child waits on it until it is seized
        root.started_at = _utc_now_iso()
        root.start_ns = time.monotonic_ns()
        parent = os.getpid()
        # Ctrl-C and SIGTERM wait until the child is adopted and its trace started: a stop in
        # between would leave a child no one kills, or a trace no one ends
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                os.close(go_w)
                self._child(resolved, argv, cwd, env, stdin, stdout, stderr, report_w,
                            root.mode == "seccomp", parent, go_r)
            os.close(report_w)
            os.close(go_r)
            root.report_fd = report_r
            try:
                self._seize_child(root, pid, go_w)
                self._adopt_child(root, pid)
            except BaseException:
                os.close(report_r)
                root.report_fd = None
                raise
            if sink is not None:
                sink.start(root.header())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        if timeout is not None:
            self.set_deadline(root, timeout)
        return root

    def _child(self, path: str, argv: list[str], cwd: str, env: dict[str, str] | None,
               stdin: int | None, stdout: int | None, stderr: int | None, report: int,
               use_seccomp: bool, parent: int, go: int) -> None:
        """Runs in the forked child: wait until the tracer has seized it, set up fds, filter,
        stop, exec. Failures are reported as one letter and an errno on the report pipe."""
        try:
            if os.read(go, 1) != b"g":  # the tracer could not seize it: go no further
                os._exit(126)
            os.close(go)
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)  # the program's own
            for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
                if fd is not None and fd != target:
                    os.dup2(fd, target, inheritable=True)
            # leave only 0, 1, 2 and the report pipe (close-on-exec) to the program
            os.closerange(3, report)
            os.closerange(report + 1, 1 << 20)
            os.chdir(cwd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            # SIGKILL when the harness ends (exec keeps it; the program's children do not)
            kernel.parent_death_signal(signal.SIGKILL, parent)
            if use_seccomp:
                err = kernel.install_seccomp(self.filter)
                if err:  # the filter is not installed: write() is not filtered, say so
                    os.write(report, b"S%d," % err)
            # the tracer sets its options during this stop; a seccomp stop before that
            # would fail the call with ENOSYS, and nothing between here and exec is filtered
            os.kill(os.getpid(), SIGSTOP)
            if env is None:
                os.execv(path, argv)
            else:
                os.execve(path, argv, env)
        except OSError as e:
            try:
                os.write(report, b"E%d" % (e.errno or 0))
            except OSError:
                pass
        finally:
            os._exit(127)

    def attach(self, pid: int, *, label: str = "attached",
               on_event: Callable[[Root, SyscallEvent], None] | None = None,
               sink: TraceSink | None = None) -> Root:
        """Trace a running process (strace -p): every thread of it, and what it starts from
        now on. Its open sockets are read from the kernel at the attach (the trace's header
        lists them); what it did before is not seen. No seccomp filter can be given to a
        running process: every syscall stops. When the trace ends the process is detached
        and runs on."""
        try:
            tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
            exe = os.readlink(f"/proc/{pid}/exe")
            cwd = os.readlink(f"/proc/{pid}/cwd")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [s.decode(errors="replace") for s in f.read().split(b"\0")[:-1]]
        except OSError as e:
            raise TraceError(f"no process {pid} to attach to ({e.strerror})", 1) from None
        root = Root(argv=argv, cwd=cwd, label=label, on_event=on_event, sink=sink,
                    data_bytes=self.data_bytes)
        root.decoder = self.decoder
        root.durations = self.durations if self.timing else None
        root.mode = "all-syscalls"
        root.fallback_reason = "attached to a running process: no seccomp filter can be given to it"
        root.attached = True
        root.started_at = _utc_now_iso()
        root.start_ns = time.monotonic_ns()
        root.pid = pid
        proc = Proc(pid=pid, parent=None, root=root, exe=exe, argv=argv)
        proc.mem = Memory(pid)
        options = OPTIONS & ~kernel.PTRACE_O_EXITKILL  # the process outlives the trace
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            for tid in tids:
                err = self.pt.seize(tid, options)
                if err and tid == pid:
                    raise TraceError(ptrace_refused_message(err) if err == 1 else
                                     f"cannot attach to {pid}: {os.strerror(err)}", 1)
                if err:  # a thread that ended meanwhile
                    continue
                self.tasks[tid] = Task(tid=tid, proc=proc, started=False, sure=False)
                proc.threads.append(tid)
                self.pt.resume(kernel.PTRACE_INTERRUPT, tid)  # its first stop: then PTRACE_SYSCALL
            root.procs.append(proc)
            root.live = 1
            self.roots.append(root)
            self.live_roots += 1
            self.procs[pid] = proc
            for name in sorted(os.listdir(f"/proc/{pid}/fd"), key=int):
                sock = self._resolve(proc, int(name))
                if sock is not None:
                    root.attached_sockets.append({
                        "fd": int(name), "family": sock.family, "type": sock.type,
                        "local": sock.local, "peer": sock.peer, "id": sock.id,
                        "inode": sock.inode})
            if sink is not None:
                sink.start(root.header())
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)
        return root

    def detach(self, root: Root) -> None:
        """Let an attached process run on untraced: each of its threads is stopped
        (PTRACE_INTERRUPT) and detached, a signal it was about to get delivered."""
        tids = [t.tid for t in self.tasks.values() if t.proc.root is root]
        pending = set()
        for tid in tids:
            try:  # a thread in a stop already (the loop was stopped before it ran on) goes now
                self.pt.resume(kernel.PTRACE_DETACH, tid)
                self.tasks.pop(tid, None)
                continue
            except OSError:
                pass
            try:  # a running one is stopped first
                self.pt.resume(kernel.PTRACE_INTERRUPT, tid)
                pending.add(tid)
            except OSError:
                pass
        while pending:
            try:
                tid, status = os.waitpid(-1, kernel.WALL)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            task = self.tasks.get(tid)
            if status & 0xFF != 0x7F:
                self._on_gone(tid, status)
                pending.discard(tid)
                continue
            if task is None or task.proc.root is not root:
                if task is not None:
                    self._resume(task)
                continue
            stop = status >> 8
            sig = stop & 0xFF
            # a signal on its way to the process (not a ptrace stop of ours): it gets it
            deliver = sig if stop >> 8 == 0 and sig not in (SIGTRAP, SYSCALL_TRAP) else 0
            try:
                self.pt.resume(kernel.PTRACE_DETACH, tid, deliver)
            except OSError:
                pass
            self.tasks.pop(tid, None)
            pending.discard(tid)
        for proc in root.procs:
            if proc.alive:
                proc.alive = False
                self.procs.pop(proc.pid, None)
                if proc.mem is not None:
                    proc.mem.close()
        if root.live:
            root.live = 0
            self.live_roots -= 1
        root.end_ns = root.end_ns or time.monotonic_ns()
        root.close()

    def _seize_child(self, root: Root, pid: int, go: int) -> None:
        """Trace the new child (PTRACE_SEIZE, with the options), then let it go on; when
        ptrace is refused, it is killed and reaped, and the error says why."""
        opts = OPTIONS | (kernel.PTRACE_O_TRACESECCOMP if root.mode == "seccomp" else 0)
        err = self.pt.seize(pid, opts)
        try:
            if err:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, kernel.WALL)
                raise TraceError(ptrace_refused_message(err), 1)
            os.write(go, b"g")
        finally:
            os.close(go)

    def _adopt_child(self, root: Root, pid: int) -> None:
        """Wait for the child's stop before exec, start it."""
        assert root.report_fd is not None
        _, status = os.waitpid(pid, kernel.WALL)
        if not os.WIFSTOPPED(status):  # it failed before its stop, and is reaped
            message = self._read_report(root.report_fd)
            raise TraceError(message or f"{root.argv[0]}: could not start",
                             1 if message.startswith("ptrace") else 127)
        os.set_blocking(root.report_fd, False)
        early = self._read_report(root.report_fd, raw=True)
        if early.startswith("S"):
            err = int(early[1:].split(",")[0])
            root.mode = "all-syscalls"
            root.fallback_reason = f"the kernel refused the seccomp filter: {os.strerror(err)}"
        proc = Proc(pid=pid, parent=None, root=root)
        proc.threads.append(pid)
        proc.mem = Memory(pid)
        root.pid = pid
        root.procs.append(proc)
        root.live = 1
        self.roots.append(root)
        self.live_roots += 1
        self.procs[pid] = proc
        task = Task(tid=pid, proc=proc, started=True, quiet=self._quiet(root))
        self.tasks[pid] = task
        if root.mode != "seccomp":  # the filter was refused: every call stops
            self.pt.setoptions(pid, OPTIONS)
        self._resume(task)  # without its SIGSTOP

    @staticmethod
    def _read_report(fd: int, raw: bool = False) -> str:
        try:
            data = os.read(fd, 64).decode()
        except (BlockingIOError, OSError):
            return ""
        if raw or not data:
            return data
        if data.startswith("P"):
            return ptrace_refused_message(int(data[1:]))
        if data.startswith("E"):
            return os.strerror(int(data[1:]))
        return data

    # -- the loop -----------------------------------------------------------------------

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Handle stops until every root is done (or `until()` is true)."""
        waitpid = os.waitpid
        wall = kernel.WALL
        on_syscall = self._on_syscall_stop
        tasks = self.tasks
        raw = self.pt._raw
        msg = self.pt._msg
        msg_addr = self.pt._msg_addr
        exit_always = self.exit_always
        # transfers on seccomp roots: their exit takes the short path
        fast_exits = self.transfer_nrs
        timing = self.timing
        old_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        # the loop makes no reference cycles; the collector would only walk the growing list
        # of records again and again, at the cost of the tracee's time
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            while self.live_roots:
                if until is not None and until():
                    return
                if self.deadlines_pending or self._flush_due and \
                        self._timer_at > self._flush_due:
                    self._arm_timer()
                self._waiting = True
                try:
                    tid, status = waitpid(-1, wall)
                except ChildProcessError:
                    break
                finally:
                    self._waiting = False
                if status & 0xFF == 0x7F:  # stopped
                    stop = status >> 8
                    task = tasks.get(tid)
                    if task is None:
                        self._new_task(tid, early=True)
                        continue
                    if stop == SECCOMP_TRAP:
                        # a call's entry; the filter's data is the syscall number
                        if raw(GETEVENTMSG, tid, 0, msg_addr) == FAILED:
                            self._ptrace_failed()
                            continue
                        nr = msg.value & 0xFFFF
                        if timing:
                            task.t0 = time.monotonic_ns()
                        if nr in exit_always:  # the usual case, kept short
                            task.nr = nr
                            if raw(PTRACE_SYSCALL, tid, 0, 0) == FAILED:
                                self._ptrace_failed()
                            continue
                        try:
                            self._syscall_entry(task, nr)
                        except OSError as e:
                            if e.errno != ESRCH:
                                raise
                            continue
                        self._resume(task)
                    elif stop == SYSCALL_TRAP:
                        if task.quiet and task.nr in fast_exits:
                            self._transfer_exit(task)
                        else:
                            on_syscall(task)
                    else:
                        self._on_other_stop(task, stop)
                else:
                    self._on_gone(tid, status)
        finally:
            if gc_was_enabled:
                gc.enable()
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._timer_armed = False
            self._timer_at = NEVER
            signal.signal(signal.SIGALRM, old_alarm)

    def _quiet(self, root: Root) -> bool:
        return self.echo is None and root.on_event is None and root.mode == "seccomp"

    @staticmethod
    def _ptrace_failed() -> None:
        """A ptrace call failed: ESRCH means the task was killed under us (waitpid reports
        it); anything else is a bug."""
        import ctypes

        err = ctypes.get_errno()
        if err != ESRCH:
            raise OSError(err, f"ptrace: {os.strerror(err)}")

    def _transfer_exit(self, task: Task) -> None:
        """The exit of a send/recv/read/write on a seccomp root, without callbacks: copy what
        it touched, record, let it go (the general way: _on_syscall_stop)."""
        tid = task.tid
        nr = task.nr
        task.nr = -1
        if self.timing:
            task.dur = time.monotonic_ns() - task.t0
        try:
            regs = self.pt.call_regs(tid)
        except OSError as e:
            if e.errno == ESRCH:
                return
            raise
        rec = self._transfer(task, self.names[nr], regs[:6], signed(regs[6]))
        task.entry = None
        if rec is not None:
            root = task.proc.root
            records = root.records
            records.append(rec)
            if self.timing:
                self.durations[rec[0]] = task.dur
            if root.sink is not None:
                if len(records) >= FLUSH_EVERY or rec[1] - records[0][1] >= FLUSH_AFTER_NS:
                    root.flush()
                elif not self._flush_due:
                    self._flush_due = rec[1] + FLUSH_AFTER_NS
        if self.pt._raw(kernel.PTRACE_CONT, tid, 0, 0) == FAILED:
            self._ptrace_failed()

    def _resume(self, task: Task, sig: int = 0) -> None:
        """PTRACE_SYSCALL when we need the next syscall stop, else PTRACE_CONT."""
        req = kernel.PTRACE_CONT
        if task.nr >= 0 or task.proc.root.mode != "seccomp":
            req = kernel.PTRACE_SYSCALL
        try:
            self.pt.resume(req, task.tid, sig)
        except OSError as e:  # a task killed under us: its exit is reported by waitpid
            if e.errno != ESRCH:
                raise

    def _on_syscall_stop(self, task: Task) -> None:
        try:
            if task.proc.root.mode == "seccomp":  # only exits are asked for
                self._syscall_exit(task)
            elif not task.sure:  # attached: is this the entry or the exit of a call?
                task.sure = True
                if self.pt.syscall_stop_op(task.tid) == 2:  # a call made before the attach
                    task.in_syscall = False
                else:
                    task.in_syscall = True
                    self._syscall_entry(task, self.pt.peekuser(task.tid,
                                                               self.pt.orig_rax_offset))
            elif not task.in_syscall:
                task.in_syscall = True
                if self.timing:
                    task.t0 = time.monotonic_ns()
                self._syscall_entry(task, self.pt.peekuser(task.tid, self.pt.orig_rax_offset))
            else:
                task.in_syscall = False
                if task.nr >= 0:
                    self._syscall_exit(task)
        except OSError as e:
            if e.errno != ESRCH:
                raise
            return  # killed under us: waitpid reports it
        self._resume(task)

    def _syscall_entry(self, task: Task, nr: int) -> None:
        """At a call's entry: decide whether its exit is worth a stop. Arguments are read at
        the exit (x86_64 keeps them in their registers), except for calls that overwrite
        what they were given (select's fd sets)."""
        flagged = nr & ENTRY_FLAG  # the filter says: read this call's entry
        nr &= ENTRY_FLAG - 1
        name = self.names.get(nr)
        if name is None:
            return
        fd_args = self.fd_args.get(name)
        if fd_args is not None and name != "close_range":
            peek = self.pt.peekuser
            proc = task.proc
            socks = proc.socks
            # fd calls also keep the epoll fds known (a dup or a close of one)
            epolls = proc.epolls if self.classes[name] == "fd" else ()
            for i in fd_args:
                fd = signed32(peek(task.tid, self.pt.arg_offsets[i]))
                if fd in socks or fd in epolls or fd in proc.rings:
                    break
                # an fd the tracer did not see made: the kernel says what it is, once
                if fd >= 0 and fd not in proc.notsock and self._resolve(proc, fd) is not None:
                    break
            else:
                replaced = self.syscalls.forgets.get(name)
                if replaced is not None:  # its number may next be a socket's
                    proc.notsock.discard(signed32(peek(task.tid, self.pt.arg_offsets[replaced])))
                return
        task.nr = nr
        if name == "io_uring_enter":
            regs = self.pt.getregs(task.tid)
            task.entry = self._uring_entry(task.proc, (regs.rdi, regs.rsi, regs.rdx, regs.r10))
            return
        when = self.syscalls.entry_when.get(name)
        if name in self.syscalls.read_at_entry or (when is not None and (
                flagged or (task.proc.root.mode != "seccomp"
                            and self.pt.peekuser(task.tid, self.pt.arg_offsets[when])))):
            regs = self.pt.getregs(task.tid)
            a = (regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9)
            task.entry = self.decoder.read_entry(task.proc.mem, a, name)

    def _syscall_exit(self, task: Task) -> None:
        nr = task.nr
        task.nr = -1
        if self.timing:
            task.dur = time.monotonic_ns() - task.t0
        regs = self.pt.call_regs(task.tid)
        self._finish(task, self.names[nr], regs[:6], signed(regs[6]))
        task.entry = None
        task.args = ()

    # -- one finished syscall -----------------------------------------------------------

    def _finish(self, task: Task, name: str, a: tuple[int, ...], res: int | None) -> None:
        """Decode, update the fd table, record if it concerns a socket."""
        proc = task.proc
        r = -4095 if res is None else res  # an unfinished call decodes as failed
        if name in self.transfers:  # copy what it touched, decode later
            rec = self._transfer(task, name, a, r)
            if rec is not None:
                self._store(task, rec)
            return
        ok = r >= 0
        socks = proc.socks
        dec = self.decoder
        if self.classes[name] == "uring":
            self._uring_exit(task, name, a, r)
            return
        if task.entry is not None and name in ADDRLEN_ENTRY_CALLS:
            args = dec.decoders[name](proc.mem, a, r, entry=task.entry)
        else:
            args = dec.decoders[name](proc.mem, a, r)
        fds: tuple[int, ...] = ()
        sock: tuple[Any, ...] | None = None
        record = True
        cls = self.classes[name]
        gone: list[SockState] = []  # sockets whose last fd in this process the call closed
        # the sockets its fd arguments name, before the call changes the table (a close, a
        # dup2 onto a socket): fd -> id
        named = self._named(proc, name, cls, args, a)

        if name == "socket" or name == "socketpair":
            if ok:
                st_args = (args["domain"], args["type"])
                cloexec = "SOCK_CLOEXEC" in args["type_flags"]
                if name == "socket":
                    fds = (r,)
                    gone += proc.add(r, proc.root.new_socket(
                        *st_args, inode=kernel.socket_inode(proc.pid, r)), cloexec)
                else:
                    pair = dec.socketpair_fds(proc.mem, a)
                    if pair is not None:
                        fds = tuple(pair)
                        unnamed = {"family": args["domain"]}
                        for fd in pair:
                            gone += proc.add(fd, proc.root.new_socket(
                                *st_args, local=unnamed, peer=unnamed,
                                inode=kernel.socket_inode(proc.pid, fd)), cloexec)
                sock = socks[fds[0]].identity(fds[0]) if fds else None
        elif name == "accept" or name == "accept4":
            listener = socks.get(args["fd"]) or self._resolve(proc, args["fd"])
            if ok:
                fds = (r,)
                family = listener.family if listener else (args["addr"] or {}).get("family", "unknown")
                typ = listener.type if listener else "SOCK_STREAM"
                local = listener.local if listener else None
                if not _specific(local):  # a wildcard listener: the kernel says which address
                    local = self._local_address(proc, r) or local
                gone += proc.add(r, proc.root.new_socket(
                    family, typ, local=local, peer=args["addr"],
                    inode=kernel.socket_inode(proc.pid, r)),
                    "SOCK_CLOEXEC" in args.get("flags", ()))
                sock = socks[r].identity(r)
            elif listener is not None:
                sock = listener.identity(args["fd"])
        elif cls == "net":
            fd = args["fd"]
            st = socks.get(fd) or self._resolve(proc, fd)
            if st is not None:
                if ok or (name == "connect" and r == -115):  # EINPROGRESS
                    if name == "bind":
                        st.local = args["addr"]
                    elif name == "connect":
                        st.peer = args["addr"]
                    elif name == "getsockname":
                        st.local = args["addr"] or st.local
                    elif name == "getpeername":
                        st.peer = args["addr"] or st.peer
                sock = st.identity(fd)
            rights = args.get("rights")
            if rights and ok:  # fds passed over a unix socket (SCM_RIGHTS)
                if self.syscalls.moves.get(name) == "receive":  # new fds for the receiver
                    fds = tuple(fd for fd in rights if self._resolve(proc, fd) is not None)
                    for fd in fds:  # the copy in flight has arrived
                        socks[fd].inflight = max(0, socks[fd].inflight - 1)
                else:  # the sockets sent are named by the call, and are in flight
                    for fd in rights:
                        if self._known(proc, fd):
                            named[fd] = socks[fd].id
                            socks[fd].inflight += 1
        elif cls == "io" or cls == "desc":
            fd, st = self._socket_arg(proc, name, a)
            if st is None:
                record = False
            else:
                sock = st.identity(fd)
        elif cls == "fd":
            record, fds, sock = self._fd_call(proc, name, args, a, r, gone)
        elif cls == "new_fd":  # a new fd for a file another process holds: a socket?
            st = self._resolve(proc, r) if ok else None
            if st is None:
                return
            fds, sock = (r,), st.identity(r)
        elif cls == "epoll_new":
            # recorded only once a socket is added to it (see _readiness)
            if ok:
                proc.drop(r)
                proc.epolls[r] = {}
                if "EPOLL_CLOEXEC" in args["flags"]:
                    proc.cloexec.add(r)
                proc.epoll_births[r] = (task.tid, name, args, r, time.monotonic_ns())
            return
        else:  # readiness
            record = self._readiness(task, name, args, a, r, task.entry)
            named = self._watched(proc, name, args)
        released = self._released(proc.root, gone) if gone else ()
        if not record:
            return
        ids = {**named, **{fd: socks[fd].id for fd in fds if fd in socks}}
        if sock is not None and ids.items() <= {(sock[0], sock[5])}:
            ids = {}  # the one socket is the event's `sock`
        self._record(task, name, args, res, fds, sock, ids=tuple(ids.items()),
                     released=released)

    def _named(self, proc: Proc, name: str, cls: str, args: dict[str, Any],
               a: tuple[int, ...]) -> dict[int, int]:
        """fd -> socket id for the sockets a call's fd arguments name."""
        socks = proc.socks
        if name == "close_range":
            first, last = a[0] & 0xFFFFFFFF, a[1] & 0xFFFFFFFF
            return {fd: st.id for fd, st in socks.items() if first <= fd <= last}
        if cls == "net":
            fd = args.get("fd")
            return {fd: socks[fd].id} if fd in socks else {}
        if name in self.fd_args:
            out = {}
            for i in self.fd_args[name]:
                fd = signed32(a[i])
                if fd in socks:
                    out[fd] = socks[fd].id
            return out
        return {}

    @staticmethod
    def _watched(proc: Proc, name: str, args: dict[str, Any]) -> dict[int, int]:
        """fd -> socket id for the sockets a readiness call watches."""
        socks = proc.socks
        if name in ("poll", "ppoll"):
            fds = [p["fd"] for p in args["fds"]]
        elif name in ("select", "pselect6"):
            fds = [fd for key in ("readfds", "writefds", "exceptfds")
                   for fd in args.get(key) or ()]
        elif name == "epoll_ctl":
            fds = [args["fd"]]
        else:
            fds = list(args.get("watching") or ())
        return {fd: socks[fd].id for fd in fds if fd in socks}

    def _socket_arg(self, proc: Proc, name: str,
                    a: tuple[int, ...]) -> tuple[int, SockState | None]:
        """The first of a call's fd arguments that is a socket, and its state."""
        fd = -1
        for i in self.fd_args[name]:
            fd = signed32(a[i])
            st = proc.socks.get(fd)
            if st is not None:
                return fd, st
        return fd, None

    def _transfer(self, task: Task, name: str, a: tuple[int, ...],
                  r: int) -> tuple[Any, ...] | None:
        """The record of a data transfer (r = -4095: it never returned), its arguments left
        to decode later; None for file I/O, which is not recorded."""
        proc = task.proc
        fd = signed32(a[0])
        st = proc.socks.get(fd)
        if st is None:
            if name in self.io_transfers:  # its entry asked the kernel already
                return None
            st = self._resolve(proc, fd)
        self.seq += 1
        return (self.seq, time.monotonic_ns(), proc.pid, task.tid, name,
                Deferred(a, r, self._capture(proc.mem, name, a, r), task.entry),
                None if r == -4095 else r,
                self.decoder.t.errno_names.get(-r, str(-r)) if -4095 < r < 0 else None,
                "syscall", (), None if st is None else (fd, st.family, st.type, st.local,
                                                        st.peer, st.id, st.inode), (), ())

    def _capture(self, mem: Memory | None, name: str, a: tuple[int, ...],
                 r: int) -> list[tuple[int, bytes]]:
        """The memory a transfer's decoder will read: the first bytes of its data, and the
        address it sent to or received from."""
        regions: list[tuple[int, bytes]] = []
        if mem is None:
            return regions
        if r > 0 and self.data_bytes > 0:
            size = min(r, self.data_bytes)
            if name == "recvfrom":
                size = min(size, a[2])  # MSG_TRUNC returns more than the buffer holds
            data = mem.read(a[1], size)
            if data:
                regions.append((a[1], data))
        if name == "sendto" and a[4]:
            raw = mem.read(a[4], min(a[5] & 0xFFFFFFFF, MAX_ADDR))
            if raw:
                regions.append((a[4], raw))
        elif name == "recvfrom" and a[4] and a[5] and r >= 0:
            length = mem.read(a[5], 4)
            if length:
                regions.append((a[5], length))
                raw = mem.read(a[4], min(int.from_bytes(length, "little"), MAX_ADDR))
                if raw:
                    regions.append((a[4], raw))
        return regions

    def _fd_call(self, proc: Proc, name: str, args: dict[str, Any], a: tuple[int, ...],
                 r: int, gone: list[SockState]
                 ) -> tuple[bool, tuple[int, ...], tuple[Any, ...] | None]:
        """A call on the fd table; the sockets whose last fd here it closed go to gone."""
        socks = proc.socks
        ok = r >= 0
        if name == "close":
            fd = args["fd"]
            st = socks.get(fd)
            if r != -9:  # EBADF: it was not open; anything else closed it
                gone += proc.drop(fd)
            return st is not None, (), st.identity(fd) if st else None
        if name == "close_range":
            first, last = args["first"], args["last"]
            hit = sorted(fd for fd in list(socks) + list(proc.epolls) if first <= fd <= last)
            args["sockets"] = [fd for fd in hit if fd in socks]
            if ok:
                for fd in hit:
                    if "CLOSE_RANGE_CLOEXEC" in args["flags"]:
                        proc.set_cloexec(fd, True)
                    else:
                        gone += proc.drop(fd)
                if "CLOSE_RANGE_CLOEXEC" not in args["flags"]:
                    proc.notsock -= {fd for fd in proc.notsock if first <= fd <= last}
            return bool(args["sockets"]), (), None
        if name in ("dup", "dup2", "dup3"):
            old = args["oldfd"]
            st = socks.get(old)
            target = socks.get(args.get("newfd", -1))
            if ok:
                gone += proc.dup(old, r, "O_CLOEXEC" in args.get("flags", ()))
                fds = (r,)
            else:
                fds = ()
            rec = st is not None or target is not None
            return rec, fds, st.identity(old) if st else None
        fd = args["fd"]
        st = socks.get(fd)
        if name == "fcntl":
            cmd = args["cmd"]
            fds = ()
            if ok and cmd in ("F_DUPFD", "F_DUPFD_CLOEXEC"):
                gone += proc.dup(fd, r, cmd == "F_DUPFD_CLOEXEC")
                fds = (r,)
            elif ok and cmd == "F_SETFD":
                proc.set_cloexec(fd, "FD_CLOEXEC" in args["arg"])
            return st is not None, fds, st.identity(fd) if st else None
        # ioctl
        if ok and args["request"] in ("FIOCLEX", "FIONCLEX"):
            proc.set_cloexec(fd, args["request"] == "FIOCLEX")
        return st is not None, (), st.identity(fd) if st else None

    def _readiness(self, task: Task, name: str, args: dict[str, Any], a: tuple[int, ...],
                   r: int, entry: dict[str, Any] | None) -> bool:
        proc = task.proc
        socks = proc.socks
        known = self._known
        if name in ("poll", "ppoll"):
            return any([known(proc, p["fd"]) for p in args["fds"]])
        if name in ("select", "pselect6"):
            if entry:  # the sets watched and the timeout asked for, not what came back
                ready = args.pop("ready")
                args.pop("timeout_ms")
                args.update(entry)
                args["ready"] = ready
            watched = [fd for key in ("readfds", "writefds", "exceptfds")
                       for fd in args.get(key) or ()]
            return any([known(proc, fd) for fd in watched])
        if name == "epoll_ctl":
            epfd, fd, op = args["epfd"], args["fd"], args["op"]
            interest = proc.epolls.setdefault(epfd, {})
            birth = proc.epoll_births.get(epfd)
            if birth is not None and known(proc, fd):
                del proc.epoll_births[epfd]
                tid, bname, bargs, bres, ts = birth
                self._record(self.tasks.get(tid, task), bname, bargs, bres, (bres,), ts_ns=ts)
            if r >= 0:
                if op == "EPOLL_CTL_DEL":
                    interest.pop(fd, None)
                else:
                    interest[fd] = args.get("user_data", fd)
            return fd in socks
        # epoll_wait family
        interest = proc.epolls.get(args["epfd"], {})
        by_data = {data: fd for fd, data in interest.items()}
        events = self.decoder.t["epoll_events"]
        args["ready"] = [{"fd": by_data.get(data), "events": events.flags(ev)}
                         for ev, data in self.decoder.epoll_ready(proc.mem, a, r)]
        args["watching"] = sorted(fd for fd in interest if known(proc, fd))
        return bool(args["watching"])

    # -- io_uring ------------------------------------------------------------------------
    # A ring's submissions are read from the tracee's memory at each io_uring_enter's entry
    # (with SQPOLL, those the kernel thread took since the last look), its completions at the
    # exit; each operation on a socket is an event of kind `uring` (harness/tracer/uring.py).

    def _uring_entry(self, proc: Proc, a: tuple[int, ...]) -> dict[str, Any] | None:
        from harness.tracer import uring  # here: only a program with a ring pays its import

        ring = proc.rings.get(signed32(a[0]))
        if ring is None or a[3] & uring.ENTER_REGISTERED_RING or proc.mem is None:
            return None
        if not ring.located and not ring.locate(proc.pid):
            return None
        read = proc.mem.read
        if ring.layout.sqpoll:
            sqes = ring.new_submissions(read, self.decoder)
            ring.submitted(sqes)
        else:
            sqes = ring.submissions(read, limit=a[1] & 0xFFFFFFFF, decoder=self.decoder)
        for sqe in sqes:  # its fds, while they are open (a close may take them)
            for fd in uring.op_fds(sqe):
                self._known(proc, fd)
        return {"sqes": sqes}

    def _uring_exit(self, task: Task, name: str, a: tuple[int, ...], r: int) -> None:
        from harness.tracer import uring

        proc = task.proc
        mem = proc.mem
        if name == "io_uring_setup":
            layout = None
            if r >= 0 and mem is not None:
                layout = uring.parse_params(mem.read(a[1], uring.PARAMS_SIZE))
                proc.drop(r)
                if layout is not None:
                    proc.rings[r] = uring.Ring(r, layout)
            self._record(task, name, uring.setup_args(a[0], layout, 0, self.decoder.t), r,
                         fds=(r,) if r >= 0 else ())
            return
        ring = proc.rings.get(signed32(a[0]))
        if ring is None or mem is None:
            return
        if name == "io_uring_register":
            if r >= 0:
                ring.register(a[1] & 0xFFFFFFFF, a[2], a[3] & 0xFFFFFFFF, mem.read)
            return
        entry = task.entry or {}
        if not ring.layout.sqpoll:
            ring.submitted(entry.get("sqes", [])[:max(r, 0)])
        if not ring.located:
            ring.locate(proc.pid)
        ops = [op for sqe, cqe in ring.pair(ring.completions(mem.read)) if sqe is not None
               for op in [self._uring_op(proc, ring.fd, sqe, cqe.res)] if op is not None]
        args = uring.enter_args(a, self.decoder.t)
        args["submitted"] = len(entry.get("sqes", [])) if ring.layout.sqpoll else max(r, 0)
        args["completed"] = len(ops)
        self._record(task, name, args, r)
        for op_name, op_args, res, fds, sock, ids, released in ops:
            self._record(task, op_name, op_args, res, fds, sock, kind="uring", ids=ids,
                         released=released)

    def _uring_op(self, proc: Proc, ring: int, sqe: Any, res: int) -> tuple[Any, ...] | None:
        """One completed operation as (name, args, result, fds, sock, ids, released), with
        its effects on the fd table; None when it concerns no socket."""
        from harness.tracer import uring

        name, args = uring.op_args(sqe, proc.mem, self.decoder, res, entry=sqe.entry)
        args["ring"] = ring
        socks = proc.socks
        named = {fd: socks[fd].id for fd in uring.op_fds(sqe) if self._known(proc, fd)}
        fds: tuple[int, ...] = ()
        sock: tuple[Any, ...] | None = None
        gone: list[SockState] = []
        ok = res >= 0
        fd = sqe.fd
        st = socks.get(fd) if fd in named else None
        if name == "IORING_OP_SOCKET":
            if ok and not args.get("direct"):
                st = proc.root.new_socket(args["domain"], args["type"],
                                          inode=kernel.socket_inode(proc.pid, res))
                gone += proc.add(res, st, kernel.fd_cloexec(proc.pid, res))
                fds, sock = (res,), st.identity(res)
        elif name == "IORING_OP_ACCEPT":
            if ok and not args.get("direct"):
                new = proc.root.new_socket(
                    st.family if st else "unknown", st.type if st else "SOCK_STREAM",
                    local=st.local if st else None, peer=args.get("addr"),
                    inode=kernel.socket_inode(proc.pid, res))
                gone += proc.add(res, new, kernel.fd_cloexec(proc.pid, res))
                fds, sock = (res,), new.identity(res)
            elif st is not None:
                sock = st.identity(fd)
        elif st is not None:
            sock = st.identity(fd)
            if name == "IORING_OP_CLOSE" and ok:
                gone += proc.drop(fd)
            elif name == "IORING_OP_CONNECT" and (ok or res == -115):
                st.peer = args.get("addr") or st.peer
            elif name == "IORING_OP_BIND" and ok:
                st.local = args.get("addr") or st.local
        if sock is None and not named:
            return None
        ids = {**named, **{f: socks[f].id for f in fds if f in socks}}
        if sock is not None and ids.items() <= {(sock[0], sock[5])}:
            ids = {}
        released = self._released(proc.root, gone) if gone else ()
        return name, args, res, fds, sock, tuple(ids.items()), released

    def _known(self, proc: Proc, fd: int) -> bool:
        """Whether fd is a socket: one the tracer follows, or one the kernel says it is."""
        return fd in proc.socks or (fd >= 0 and fd not in proc.notsock
                                    and self._resolve(proc, fd) is not None)

    def _resolve(self, proc: Proc, fd: int) -> SockState | None:
        """The socket behind an fd the tracer did not see made (inherited, received over a
        unix socket, made by io_uring, taken with pidfd_getfd), asked of the kernel once: its
        inode names it (the same socket as everywhere else in the trace), and a socket met
        for the first time is asked its family, type and addresses. An fd that is no socket
        is remembered as such until it is closed or replaced."""
        if fd < 0 or fd in proc.notsock:
            return None
        inode = kernel.socket_inode(proc.pid, fd)
        if not inode:
            if inode == 0:
                proc.notsock.add(fd)
            return None
        root = proc.root
        sock = root.by_inode.get(inode)
        if sock is None:
            sock = self._learn(proc, fd, inode)
        proc.add(fd, sock, kernel.fd_cloexec(proc.pid, fd))
        return sock

    def _local_address(self, proc: Proc, fd: int) -> Any:
        info = kernel.peek_socket(proc.pid, fd)
        return self.decoder.sockaddr(info[2]) if info is not None else None

    def _learn(self, proc: Proc, fd: int, inode: int) -> SockState:
        """A socket met by its inode: what the kernel says of it."""
        info = kernel.peek_socket(proc.pid, fd)
        if info is None:
            return proc.root.new_socket("unknown", "unknown", inode=inode, made=False)
        domain, typ, local, peer = info
        dec = self.decoder
        return proc.root.new_socket(dec.families.name(domain),
                                    dec.t["socket_types"].name(typ & 0xF),
                                    local=dec.sockaddr(local), peer=dec.sockaddr(peer),
                                    inode=inode, made=False)

    @staticmethod
    def _released(root: Root, gone: list[SockState]) -> tuple[int, ...]:
        """The ids of the sockets in gone that no traced process holds any more. Before a
        socket is called released, the kernel is asked whether another traced process holds
        an fd of it that the tracer did not follow (one received over a unix socket, or taken
        with pidfd_getfd): such an fd is followed from then on. A socket the trace did not
        see made is never called released: the process it came from may hold it still."""
        out: list[int] = []
        for sock in gone:
            if sock.refs > 0 or not sock.made or sock.inflight:
                continue
            if sock.inode:
                for other in root.procs:
                    if other.alive:
                        for fd in kernel.socket_fds(other.pid, sock.inode):
                            if other.socks.get(fd) is not sock:
                                other.add(fd, sock, kernel.fd_cloexec(other.pid, fd))
            if sock.refs <= 0:
                out.append(sock.id)
        return tuple(out)

    def _record(self, task: Task, name: str, args: dict[str, Any], res: int | None,
                fds: tuple[int, ...] = (), sock: tuple[Any, ...] | None = None,
                kind: str = "syscall", ts_ns: int | None = None,
                ids: tuple[tuple[int, int], ...] = (), released: tuple[int, ...] = ()) -> None:
        self.seq += 1
        errno = None
        if res is not None and -4096 < res < 0 and kind != "process":
            errno = self.decoder.t.errno_names.get(-res, str(-res))
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

    # -- tasks coming and going ---------------------------------------------------------

    def _new_task(self, tid: int, early: bool, parent_task: Task | None = None) -> Task | None:
        """Register a task seen for the first time, either through its parent's clone event
        or (early) through its own first stop, which may come first."""
        task = self.tasks.get(tid)
        if task is not None:
            if early:
                task.started = True
                self._resume(task)
            return task
        tgid, ppid = _status_ids(tid)
        if tgid is None:  # gone already
            return None
        proc = self.procs.get(tgid)
        if proc is None:  # a new process
            parent = self.procs.get(ppid) if ppid else None
            if parent is None and parent_task is not None:
                parent = parent_task.proc
            if parent is None:
                return None
            proc = parent.fork_copy(tgid, parent.root)
            proc.mem = Memory(tgid)
            self.procs[tgid] = proc
            proc.root.procs.append(proc)
            proc.root.live += 1
        proc.threads.append(tid)
        task = Task(tid=tid, proc=proc, started=early, quiet=self._quiet(proc.root))
        self.tasks[tid] = task
        if early:
            self._resume(task)
        return task

    def _on_other_stop(self, task: Task, stop: int) -> None:
        sig = stop & 0xFF
        event = stop >> 8
        if sig == SIGTRAP and event in CLONE_EVENTS:
            child_tid = self.pt.eventmsg(task.tid)
            child = self._new_task(child_tid, early=False, parent_task=task)
            if child is not None:
                thread = child.proc is task.proc
                self._record(task, CLONE_EVENTS[event],
                             {"child": child_tid, "thread": thread}, child_tid,
                             kind="process")
            self._resume(task)
            return
        if stop == EXEC_TRAP:
            self._on_exec(task)
            self._resume(task)
            return
        if event == EVENT_STOP:
            if not task.started:  # a new task's first stop
                task.started = True
                self._resume(task)
            elif sig in GROUP_STOPS:  # the process stops, as it would untraced, until a SIGCONT
                self._listen(task)
            else:  # woken from a group-stop (SIGCONT): it runs again
                self._resume(task)
            return
        if sig == SIGTRAP and event:  # other ptrace events: nothing to deliver
            self._resume(task)
            return
        if not task.started and sig == SIGSTOP:
            task.started = True
            self._resume(task)
            return
        self._resume(task, sig)  # a signal for the tracee: deliver it

    def _listen(self, task: Task) -> None:
        try:
            self.pt.resume(kernel.PTRACE_LISTEN, task.tid)
        except OSError as e:
            if e.errno != ESRCH:
                raise

    def _on_exec(self, task: Task) -> None:
        former = self.pt.eventmsg(task.tid)
        proc = task.proc
        if former != task.tid:  # a non-leader thread exec'd and took the leader's tid
            old = self.tasks.pop(former, None)
            if old is not None:
                task.nr, task.in_syscall = old.nr, old.in_syscall
        gone = proc.on_exec()
        released = self._released(proc.root, gone) if gone else ()
        if proc.mem is not None:
            proc.mem.reopen()
        try:
            proc.exe = os.readlink(f"/proc/{proc.pid}/exe")
            with open(f"/proc/{proc.pid}/cmdline", "rb") as f:
                proc.argv = [s.decode(errors="replace") for s in f.read().split(b"\0")[:-1]]
        except OSError:
            pass
        self._record(task, "execve", {"exe": proc.exe, "argv": proc.argv}, 0, kind="process",
                     released=released)

    def _on_gone(self, tid: int, status: int) -> None:
        task = self.tasks.pop(tid, None)
        if task is None:
            return
        proc = task.proc
        if task.nr >= 0:  # killed inside a call: record what it was doing
            name = self.names[task.nr]
            task.nr = -1
            if task.args:  # taken from /proc before the tracer killed it
                self._finish(task, name, task.args, None)
            else:  # killed from outside: its arguments were never read (see kill())
                self._record(task, name, {}, None)
        if tid != proc.pid:
            return
        # the thread group leader is reported last: the process is gone
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            proc.exit_signal = signal_name(sig)
            code = 128 + sig
            exit_args: dict[str, Any] = {"signal": proc.exit_signal}
        else:
            code = os.WEXITSTATUS(status)
            proc.exit_code = code
            exit_args = {"code": code}
        proc.alive = False
        # its fds went with it: the sockets it held last are released by its exit
        gone = proc.close_all()
        released = self._released(proc.root, gone) if gone else ()
        if proc.exe is not None or proc.pid != proc.root.pid:
            # (a command that never started is reported by its exec error instead)
            self._record(task, "exit", exit_args, code, kind="process", released=released)
        if proc.mem is not None:
            proc.mem.close()
        for other in [t for t in self.tasks.values() if t.proc is proc]:
            del self.tasks[other.tid]
        self.procs.pop(proc.pid, None)
        root = proc.root
        root.live -= 1
        if proc.pid == root.pid:
            root.exit_status = code
            if proc.exe is None and root.report_fd is not None:  # never exec'd: tell why
                root.exec_error = self._read_report(root.report_fd) or "could not execute"
        if root.live == 0:
            self.live_roots -= 1
            root.end_ns = time.monotonic_ns()
            if root.report_fd is not None:
                os.close(root.report_fd)
                root.report_fd = None
            root.close()

    # -- timeouts and stopping ----------------------------------------------------------

    def _arm_timer(self) -> None:
        """One timer (ITIMER_REAL) for the nearest of the roots' deadlines and the time the
        events kept for a sink are due to be written."""
        deadlines = [int(r.deadline * 1e9) for r in self.roots if r.deadline is not None
                     and not r.done and not r.timed_out]
        if not deadlines:
            self.deadlines_pending = False
        if self._flush_due:
            deadlines.append(self._flush_due)
        if not deadlines:
            if self._timer_armed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                self._timer_armed = False
                self._timer_at = NEVER
            return
        target = min(deadlines)
        if self._timer_armed and self._timer_at <= target:
            return
        signal.setitimer(signal.ITIMER_REAL,
                         max(0.001, (target - time.monotonic_ns()) / 1e9))
        self._timer_armed = True
        self._timer_at = target

    def _on_alarm(self, signum: int, frame: Any) -> None:
        self._timer_armed = False
        self._timer_at = NEVER
        now_ns = time.monotonic_ns()
        if self._flush_due and now_ns >= self._flush_due:
            if self._waiting:  # the loop is blocked in waitpid, with nothing half done
                self._flush_due = 0
                for root in self.roots:
                    if root.sink is not None and root.records and not root.closed:
                        root.flush()
            else:  # the next event writes them, or the next look
                self._flush_due = now_ns + FLUSH_AFTER_NS // 10
        now = now_ns / 1e9
        for root in self.roots:
            if root.deadline is not None and now >= root.deadline and not root.done:
                root.timed_out = True
                self.kill(root)
        self._arm_timer()

    def kill(self, root: Root) -> None:
        """SIGKILL every live process of root (their exits are reaped by the loop). A task
        blocked in a call keeps it: its arguments are taken from /proc first, so the call
        is recorded as unfinished."""
        for task in list(self.tasks.values()):
            if task.proc.root is root and task.nr >= 0 and not task.args:
                task.args = _blocked_call_args(task.tid, task.nr)
        for proc in root.procs:
            if proc.alive:
                try:
                    os.kill(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def kill_all(self) -> None:
        """Kill every tracee and reap them all: nothing is left behind (a second Ctrl-C
        waits until this is done)."""
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            self._kill_all()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _kill_all(self) -> None:
        for root in self.roots:
            if root.attached and not root.done:
                self.detach(root)
        for root in self.roots:
            if not root.attached:
                self.kill(root)
        for tid in list(self.tasks):
            try:
                os.kill(tid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while self.tasks:  # only as long as tracees remain: other children are not ours
            try:
                tid, status = os.waitpid(-1, kernel.WALL)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if status & 0xFF != 0x7F:
                self._on_gone(tid, status)
        for root in self.roots:
            if root.end_ns == 0:
                root.end_ns = time.monotonic_ns()
            root.close()

    def set_deadline(self, root: Root, timeout: float) -> None:
        root.deadline = time.monotonic() + timeout
        self.deadlines_pending = True
        if self._timer_armed:  # re-aim the timer at the nearest deadline
            signal.setitimer(signal.ITIMER_REAL, 0)
            self._timer_armed = False
            self._timer_at = NEVER


def _specific(addr: Any) -> bool:
    """Whether an address names one local address (not a wildcard, 0.0.0.0 or ::, nor
    unknown): an accepted socket's own address is then its listener's."""
    return isinstance(addr, dict) and addr.get("address") not in (None, "0.0.0.0", "::") \
        or isinstance(addr, dict) and "path" in addr


def _which(prog: str, path: str) -> str | None:
    """The first executable file named prog on path (shutil.which, without its import)."""
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder or ".", prog)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _utc_now_iso() -> str:
    """The wall-clock time as ISO 8601 with microseconds, in UTC (as datetime's isoformat)."""
    now = time.time_ns()
    seconds, rest = divmod(now, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + \
        f".{rest // 1000:06d}+00:00"


def _blocked_call_args(tid: int, nr: int) -> tuple[int, ...]:
    """The six arguments of the call a running task is blocked in (/proc/TID/syscall),
    or () when it is not in that call any more."""
    try:
        with open(f"/proc/{tid}/syscall") as f:
            fields = f.read().split()
    except OSError:
        return ()
    if len(fields) < 7 or not fields[0].isdigit() or int(fields[0]) != nr:
        return ()
    return tuple(int(x, 16) for x in fields[1:7])


def _status_ids(tid: int) -> tuple[int | None, int | None]:
    """(Tgid, PPid) of a task from /proc; (None, None) when it is gone."""
    tgid = ppid = None
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    tgid = int(line.split()[1])
                elif line.startswith(b"PPid:"):
                    ppid = int(line.split()[1])
                    break
    except OSError:
        return None, None
    return tgid, ppid


def ptrace_refused_message(err: int) -> str:
    """One line naming why ptrace was refused."""
    causes = []
    try:
        scope = open("/proc/sys/kernel/yama/ptrace_scope").read().strip()
        if scope == "3":
            causes.append("kernel.yama.ptrace_scope is 3 (ptrace disabled)")
    except OSError:
        pass
    try:
        for line in open("/proc/self/status"):
            if line.startswith("TracerPid:") and line.split()[1] != "0":
                causes.append(f"the harness is itself traced (TracerPid {line.split()[1]})")
            if line.startswith("CapEff:") and not int(line.split()[1], 16) >> 19 & 1:
                causes.append("the CAP_SYS_PTRACE capability is missing")
    except OSError:
        pass
    cause = "; ".join(causes) or "a security policy forbids it"
    return f"ptrace not permitted ({os.strerror(err)}): {cause}"
