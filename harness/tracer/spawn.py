"""Starting commands under the tracer: the Tracer's part that forks a command, lets it
install its seccomp filter and stop before exec, seizes it with the tracer's options and
adopts it as a Root, or attaches to a running process (strace -p) with its threads and open
sockets; and why it could not (TraceError, the pre-exec report pipe, why ptrace was refused)
(a part of harness.tracer.core.Tracer)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from harness.common.errors import HarnessError
from harness.tracer import kernel, kernel_proc, kernel_seccomp
from harness.tracer.base import HELD_SIGNALS, ptrace_refused_message
from harness.tracer.decode_mem import Memory
from harness.tracer.records import Root
from harness.tracer.state import Proc, Task
from harness.tracer.stopping import Stopping
from harness.tracer.tasks import SIGSTOP

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.formats.model import SyscallEvent
    from harness.tracer.records import TraceSink

OPTIONS = (kernel.PTRACE_O_TRACESYSGOOD | kernel.PTRACE_O_TRACEFORK | kernel.PTRACE_O_TRACEVFORK
           | kernel.PTRACE_O_TRACECLONE | kernel.PTRACE_O_TRACEEXEC | kernel.PTRACE_O_EXITKILL)


class TraceError(HarnessError):
    """The tracer could not start the command; the message is one line for the user."""

    def __init__(self, message: str, exit_status: int = 2):
        super().__init__(message)
        self.exit_status = exit_status


class Spawn(Stopping):
    """Starting and attaching (a part of harness.tracer.core.Tracer)."""

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
            kernel_proc.parent_death_signal(signal.SIGKILL, parent)
            if use_seccomp:
                err = kernel_seccomp.install_seccomp(self.filter)
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
