"""Data transfers (send, recv, read, write... marked `transfer` in
harness/tables/syscalls.yaml), the hot path of an echo loop: the Tracer's part that copies the
memory a transfer touched and records it with its decoding deferred, and the short way a
transfer's exit takes on a seccomp root nobody watches as it goes (a part of
harness.tracer.core.Tracer)."""

from __future__ import annotations

import time

from harness.tracer import kernel
from harness.tracer.base import ESRCH, FAILED
from harness.tracer.decode_mem import Memory, signed, signed32
from harness.tracer.decode_sock import MAX_ADDR
from harness.tracer.records import FLUSH_AFTER_NS, FLUSH_EVERY, Deferred
from harness.tracer.rings import Rings
from harness.tracer.state import Task

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Transfers(Rings):
    """Data transfers (a part of harness.tracer.core.Tracer)."""

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
                self.decoder.errno_name(r) if -4095 < r < 0 else None,
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
