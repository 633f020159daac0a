"""io_uring as the tracer sees it: the Tracer's part that reads a ring's submissions at each
io_uring_enter's entry and its completions at the exit, and records each operation on a
socket (an event of kind `uring`) with its effects on the socket table; the ring itself is
read by harness/tracer/uring*.py, imported only by a program that makes a ring (a part of
harness.tracer.core.Tracer)."""

from __future__ import annotations


from harness.tracer import kernel_proc
from harness.tracer.decode_mem import signed32
from harness.tracer.fdtable import FdTable
from harness.tracer.state import Proc, SockState, Task

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Rings(FdTable):
    """io_uring (a part of harness.tracer.core.Tracer)."""

    # A ring's submissions are read from the tracee's memory at each io_uring_enter's entry
    # (with SQPOLL, those the kernel thread took since the last look), its completions at the
    # exit; each operation on a socket is an event of kind `uring` (harness/tracer/uring_ops.py).

    def _uring_entry(self, proc: Proc, a: tuple[int, ...]) -> dict[str, Any] | None:
        # here: only a program with a ring pays their import
        from harness.tracer.uring_abi import ENTER_REGISTERED_RING
        from harness.tracer.uring_ops import op_fds

        ring = proc.rings.get(signed32(a[0]))
        if ring is None or a[3] & ENTER_REGISTERED_RING or proc.mem is None:
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
            for fd in op_fds(sqe):
                self._known(proc, fd)
        return {"sqes": sqes}

    def _uring_exit(self, task: Task, name: str, a: tuple[int, ...], r: int) -> None:
        from harness.tracer.uring import enter_args, setup_args
        from harness.tracer.uring_abi import PARAMS_SIZE
        from harness.tracer.uring_ring import Ring
        from harness.tracer.uring_structs import parse_params

        proc = task.proc
        mem = proc.mem
        if name == "io_uring_setup":
            layout = None
            if r >= 0 and mem is not None:
                layout = parse_params(mem.read(a[1], PARAMS_SIZE))
                proc.drop(r)
                if layout is not None:
                    proc.rings[r] = Ring(r, layout)
            self._record(task, name, setup_args(a[0], layout, 0, self.decoder.t), r,
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
        args = enter_args(a, self.decoder.t)
        args["submitted"] = len(entry.get("sqes", [])) if ring.layout.sqpoll else max(r, 0)
        args["completed"] = len(ops)
        self._record(task, name, args, r)
        for op_name, op_args, res, fds, sock, ids, released in ops:
            self._record(task, op_name, op_args, res, fds, sock, kind="uring", ids=ids,
                         released=released)

    def _uring_op(self, proc: Proc, ring: int, sqe: Any,
                  res: int) -> tuple[Any, ...] | None:
        """One completed operation as (name, args, result, fds, sock, ids, released), with
        its effects on the fd table; None when it concerns no socket."""
        from harness.tracer.uring_ops import op_args, op_fds

        name, args = op_args(sqe, proc.mem, self.decoder, res, entry=sqe.entry)
        args["ring"] = ring
        socks = proc.socks
        named = {fd: socks[fd].id for fd in op_fds(sqe) if self._known(proc, fd)}
        fds: tuple[int, ...] = ()
        sock: tuple[Any, ...] | None = None
        gone: list[SockState] = []
        ok = res >= 0
        fd = sqe.fd
        st = socks.get(fd) if fd in named else None
        if name == "IORING_OP_SOCKET":
            if ok and not args.get("direct"):
                st = proc.root.new_socket(args["domain"], args["type"],
                                          inode=kernel_proc.socket_inode(proc.pid, res))
                gone += proc.add(res, st, kernel_proc.fd_cloexec(proc.pid, res))
                fds, sock = (res,), st.identity(res)
        elif name == "IORING_OP_ACCEPT":
            if ok and not args.get("direct"):
                new = proc.root.new_socket(
                    st.family if st else "unknown", st.type if st else "SOCK_STREAM",
                    local=st.local if st else None, peer=args.get("addr"),
                    inode=kernel_proc.socket_inode(proc.pid, res))
                gone += proc.add(res, new, kernel_proc.fd_cloexec(proc.pid, res))
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
