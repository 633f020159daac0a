"""Reading an io_uring from a tracee: the ring layout io_uring_setup writes back, where the
rings are mapped, the submission queue entries (SQEs) a program submits and the completion
queue entries (CQEs) the kernel posts, and each operation's arguments in the shape of the plain
call it stands for (docs/trace-format.md).

Nothing here stops or steers a process: every read goes through a `read(addr, size)` callable
(decode.Memory.read, a Snapshot's, or a test's), so that the tracer decides when to look.

- io_uring_setup(entries, params) copies `struct io_uring_params` back (120 bytes):
  `parse_params` turns it into a `RingLayout`.
- The program maps the ring fd at IORING_OFF_SQ_RING (0), IORING_OFF_CQ_RING (0x8000000; no
  mapping of its own with IORING_FEAT_SINGLE_MMAP: the CQ ring is in the SQ ring's mapping) and
  IORING_OFF_SQES (0x10000000): `Ring.record_mmap` takes those mmap calls, `ring_maps` finds the
  same in /proc/PID/maps for a ring whose mmaps were not seen. With IORING_SETUP_NO_MMAP the
  program gave the memory itself, and the params say where.
- At io_uring_enter's entry `Ring.submissions` gives the SQEs between the SQ ring's head and
  tail (the kernel consumes the first `result` of them); after any io_uring_enter
  `Ring.completions` gives the CQEs posted since the last look.
- `op_args` names an operation (IORING_OP_RECV, ...) and decodes its arguments with
  decode.Decoder's helpers, as the plain call's would be; `Ring.submitted` / `Ring.pair`
  match completions with submissions by user_data.
- With IORING_SETUP_SQPOLL a kernel thread (the process's task `iou-sqp-PID`, which ptrace
  does not see) takes the SQEs, and liburing calls io_uring_enter only to wake it or to wait
  (to_submit 0). The SQEs are still in their slots then (a slot is refilled only after the
  program has queued a whole ring more): `Ring.new_submissions` reads what was queued since
  the last look, at any stop (each io_uring_enter; an munmap of the ring at its entry).

The parts, each a module of its own, imported from directly: uring_abi.py (the constants and
binary layouts of linux/io_uring.h), uring_structs.py (io_uring_params, SQEs and CQEs decoded),
uring_mem.py (where a ring is mapped, and the raw reads of its queues; how rings are told apart,
measured), uring_ring.py (`Ring`), uring_ops.py (each operation as the plain call, and the
fixed-file table's updates). This module holds the io_uring_setup and io_uring_enter args
(rings.py, core.py's io_uring part, imports these modules only when a program sets up a ring).
"""

from __future__ import annotations

from harness.tracer.uring_abi import _MASK32, signed32, table

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from harness.tracer.tables import Tables
    from harness.tracer.uring_structs import RingLayout


def setup_args(entries: int, layout: RingLayout | None, flags: int,
               tables: Tables | None = None) -> dict[str, Any]:
    """io_uring_setup's args: `entries`, `flags` (IORING_SETUP_* names; from the params
    written back when there are some, else the flags passed in), and `features`."""
    args: dict[str, Any] = {"entries": entries & _MASK32,
                            "flags": table("io_uring_setup_flags", tables).flags(
                                layout.flags if layout else flags & _MASK32)}
    if layout is not None:
        args["sq_entries"] = layout.sq_entries
        args["cq_entries"] = layout.cq_entries
        args["features"] = layout.feature_names(tables)
    return args


def enter_args(a: tuple[int, ...], tables: Tables | None = None) -> dict[str, Any]:
    """io_uring_enter(fd, to_submit, min_complete, flags, arg, argsz)'s args. With
    IORING_ENTER_REGISTERED_RING `fd` is an index into the registered ring fds, not a
    descriptor."""
    flags = a[3] & _MASK32
    return {"fd": signed32(a[0]), "to_submit": a[1] & _MASK32, "min_complete": a[2] & _MASK32,
            "flags": table("io_uring_enter_flags", tables).flags(flags)}

