"""Where a ring's memory is in a tracee, and the raw reads its queues take. A ring's
mappings are found in /proc/PID/maps by the anon inode of its fd (for a ring whose mmap calls
were not seen); the SQ and CQ counters, the SQ index array (wrapping at the ring's end) and runs
of consecutive SQE slots are read through a `read(addr, size)` callable.

Measured on Linux 6.18 (x86_64): each ring has an anon inode of its own: the inode of
/proc/PID/fd/RINGFD (os.stat(...).st_ino) is the inode column of that ring's lines in
/proc/PID/maps (`anon_inode:[io_uring]`, offset column 00000000 / 08000000 / 10000000), so two
rings in one process are told apart. Older kernels gave every io_uring file one shared anon
inode; there only the mmap calls tell the rings apart (`ring_maps` then leaves out an offset
mapped more than once). The ring memory reads through /proc/PID/mem like any other.
"""

from __future__ import annotations

import os

from harness.tracer.uring_abi import _U32, Read

# -- where the rings are ------------------------------------------------------------------


def ring_inode(pid: int, fd: int) -> int | None:
    """The anon inode of a ring fd (os.stat of /proc/PID/fd/FD), the inode column of the
    ring's mappings in /proc/PID/maps; None when the fd is gone or not an io_uring."""
    path = f"/proc/{pid}/fd/{fd}"
    try:
        if os.readlink(path) != "anon_inode:[io_uring]":
            return None
        return os.stat(path).st_ino
    except OSError:
        return None


def ring_maps(pid: int, ring_inode: int) -> dict[int, int]:
    """{mmap offset: start address} of the `anon_inode:[io_uring]` mappings of one ring (by
    its inode) in /proc/PID/maps: IORING_OFF_SQ_RING, IORING_OFF_CQ_RING (absent with
    IORING_FEAT_SINGLE_MMAP), IORING_OFF_SQES. An offset mapped more than once for that inode
    is left out: which mapping belongs to which ring cannot be told (a kernel where all rings
    share one anon inode; or one ring mapped twice). {} when the maps cannot be read."""
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            return maps_offsets(f.read(), ring_inode)
    except OSError:
        return {}


def maps_offsets(maps: bytes, ring_inode: int) -> dict[int, int]:
    """`ring_maps` on the text of a /proc/PID/maps."""
    found: dict[int, int] = {}
    twice: set[int] = set()
    for line in maps.splitlines():
        if not line.endswith(b"anon_inode:[io_uring]"):
            continue
        parts = line.split(None, 5)
        if len(parts) < 6 or not parts[4].isdigit() or int(parts[4]) != ring_inode:
            continue
        try:
            start = int(parts[0].split(b"-", 1)[0], 16)
            offset = int(parts[2], 16)
        except ValueError:
            continue
        if offset in found:
            twice.add(offset)
        found[offset] = start
    return {off: start for off, start in found.items() if off not in twice}


def _head_tail(read: Read, base: int, head_off: int, tail_off: int) -> tuple[int, int] | None:
    lo = min(head_off, tail_off)
    span = max(head_off, tail_off) + 4 - lo
    if span <= 64:  # one read for both (they are neighbours: head 0, tail 4)
        raw = read(base + lo, span)
        if not raw or len(raw) < span:
            return None
        return (_U32.unpack_from(raw, head_off - lo)[0], _U32.unpack_from(raw, tail_off - lo)[0])
    h = read(base + head_off, 4)
    t = read(base + tail_off, 4)
    if not h or not t or len(h) < 4 or len(t) < 4:
        return None
    return _U32.unpack(h)[0], _U32.unpack(t)[0]


def _read_u32_ring(read: Read, base: int, entries: int, first: int, count: int) -> list[int] | None:
    """`count` u32 values of a ring array of `entries` from position `first`, wrapping."""
    out: list[int] = []
    pos = first
    left = count
    while left:
        n = min(left, entries - pos)
        raw = read(base + pos * 4, n * 4)
        if not raw or len(raw) < n * 4:
            return out or None
        out.extend(v for (v,) in _U32.iter_unpack(raw[: n * 4]))
        left -= n
        pos = 0
    return out


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Consecutive indexes as (first, count) runs, in order: one read per run."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][0] + runs[-1][1] == i:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((i, 1))
    return runs
