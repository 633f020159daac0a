"""One io_uring of a traced process (`Ring`): where its parts are mapped (from the mmap
calls seen, or /proc/PID/maps), the SQEs between the SQ ring's head and tail at
io_uring_enter's entry, those an SQPOLL kernel thread took since the last look, the CQEs
posted since the last look, its registered files, and its operations in flight, paired with
their completions by user_data.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

from harness.tracer.uring_abi import (_BIG_OPS, _MASK32, _U32, CQE_F_32, CQE_F_SKIP,
                                      FILES_SKIP, IORING_OFF_CQ_RING, IORING_OFF_SQ_RING,
                                      IORING_OFF_SQES, REGISTER_FILES, REGISTER_FILES2,
                                      REGISTER_USE_REGISTERED_RING, RING_OFFSETS,
                                      SETUP_CQE_MIXED, SETUP_SQ_REWIND, SETUP_SQE_MIXED,
                                      SQE_SIZE, UNREGISTER_FILES, Read)
from harness.tracer.uring_mem import _head_tail, _read_u32_ring, _runs, ring_inode, ring_maps
from harness.tracer.uring_ops import register_files, sqe_entry
from harness.tracer.uring_structs import Cqe, RingLayout, Sqe, parse_cqe, parse_sqe

TYPE_CHECKING = False

if TYPE_CHECKING:
    from harness.tracer.decode import Decoder

# -- a ring -------------------------------------------------------------------------------


@dataclass(slots=True)
class Ring:
    """One io_uring of a traced process: its layout, where its parts are mapped, how far its
    queues have been read, and its operations in flight.

    `sq_seen` is the SQ tail up to which submissions were reported; `cq_seen` the CQ tail up
    to which completions were. `sq_lost` / `cq_lost` count entries that were overwritten
    before they could be read (more than the ring holds between two looks)."""

    fd: int
    layout: RingLayout
    sq_ring: int | None = None  # address of the SQ ring (mapping at IORING_OFF_SQ_RING)
    cq_ring: int | None = None  # address of the CQ ring (the SQ ring's with SINGLE_MMAP)
    sqes: int | None = None  # address of the SQE array (mapping at IORING_OFF_SQES)
    sq_seen: int = 0
    cq_seen: int = 0
    sq_lost: int = 0
    cq_lost: int = 0
    inflight: dict[int, deque[Sqe]] = field(default_factory=dict)  # user_data -> SQEs
    # the registered files: slot -> the fd it was registered from (a slot a direct
    # descriptor filled, from an op's file_index, is not here: it never had an fd)
    files: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.layout.no_mmap:  # the program's own memory, named in the params
            self.sqes = self.sqes or self.layout.sq_off.user_addr or None
            rings = self.layout.cq_off.user_addr or None
            self.sq_ring = self.sq_ring or rings
            self.cq_ring = self.cq_ring or rings

    @property
    def located(self) -> bool:
        """All three parts are known: the queues can be read."""
        return None not in (self.sq_ring, self.cq_ring, self.sqes)

    def record_mmap(self, offset: int, addr: int) -> bool:
        """An mmap of the ring fd at `offset` that returned `addr`: True when it was one of
        the rings (the SQ ring mapping is the CQ ring's too with IORING_FEAT_SINGLE_MMAP)."""
        if offset == IORING_OFF_SQ_RING:
            self.sq_ring = addr
            if self.layout.single_mmap:
                self.cq_ring = addr
        elif offset == IORING_OFF_CQ_RING:
            self.cq_ring = addr
        elif offset == IORING_OFF_SQES:
            self.sqes = addr
        else:
            return False
        return True

    def record_munmap(self, addr: int, length: int) -> None:
        """Forget the parts an munmap(addr, length) removed."""
        end = addr + length
        if self.sq_ring is not None and addr <= self.sq_ring < end:
            self.sq_ring = None
        if self.cq_ring is not None and addr <= self.cq_ring < end:
            self.cq_ring = None
        if self.sqes is not None and addr <= self.sqes < end:
            self.sqes = None

    def locate(self, pid: int) -> bool:
        """Fill in the parts not known from /proc/PID/maps (by the ring fd's inode); True
        when the ring is then located."""
        if self.located:
            return True
        inode = ring_inode(pid, self.fd)
        if inode is None:
            return False
        maps = ring_maps(pid, inode)
        for offset in RING_OFFSETS:
            if offset in maps:
                known = {IORING_OFF_SQ_RING: self.sq_ring, IORING_OFF_CQ_RING: self.cq_ring,
                         IORING_OFF_SQES: self.sqes}[offset]
                if known is None:
                    self.record_mmap(offset, maps[offset])
        return self.located

    # -- the submission queue -------------------------------------------------------------

    def sq_head_tail(self, read: Read) -> tuple[int, int] | None:
        """The SQ ring's (head, tail) as they are now; None when unreadable."""
        if self.sq_ring is None:
            return None
        return _head_tail(read, self.sq_ring, self.layout.sq_off.head, self.layout.sq_off.tail)

    def submissions(self, read: Read, limit: int | None = None,
                    decoder: Decoder | None = None) -> list[Sqe]:
        """The SQEs waiting between the SQ ring's head and tail: read at io_uring_enter's
        entry (its `to_submit` as `limit`), they are what the call submits; the kernel takes
        the first `result` of them and leaves the rest for the next call. With
        IORING_SETUP_SQ_REWIND the SQEs are the first `limit` slots. Sets `sq_seen`, except
        for an IORING_SETUP_SQPOLL ring (whose kernel thread may have taken entries before
        any io_uring_enter: read those with `new_submissions`). With a `decoder`, each SQE
        carries its `entry` (sqe_entry), for op_args at its completion."""
        if not self.located:
            return []
        lay = self.layout
        if lay.flags & SETUP_SQ_REWIND:
            head, count = 0, min(limit or 0, lay.sq_entries)
        else:
            ht = self.sq_head_tail(read)
            if ht is None:
                return []
            head, tail = ht
            count = min((tail - head) & _MASK32, lay.sq_entries)
            if limit is not None:
                count = min(count, max(limit, 0))
        sqes = self._read_sqes(read, head, count, decoder)
        if not lay.sqpoll:  # there the kernel thread moves the head: see new_submissions
            self.sq_seen = (head + count) & _MASK32
        return sqes

    def new_submissions(self, read: Read, decoder: Decoder | None = None) -> list[Sqe]:
        """The SQEs the program queued since the last look (from `sq_seen` to the SQ tail),
        whether or not the kernel took them already: for IORING_SETUP_SQPOLL, where a kernel
        thread submits and io_uring_enter may never carry them. Best effort: the slots are
        read as they are now, so an entry the program refilled since (it queued more than the
        ring holds between two looks) is lost (counted in `sq_lost`)."""
        if not self.located:
            return []
        ht = self.sq_head_tail(read)
        if ht is None:
            return []
        _head, tail = ht
        count = (tail - self.sq_seen) & _MASK32
        first = self.sq_seen
        if count > self.layout.sq_entries:
            self.sq_lost += count - self.layout.sq_entries
            first = (tail - self.layout.sq_entries) & _MASK32
            count = self.layout.sq_entries
        sqes = self._read_sqes(read, first, count, decoder)
        self.sq_seen = tail
        return sqes

    def _read_sqes(self, read: Read, first: int, count: int,
                   decoder: Decoder | None = None) -> list[Sqe]:
        """The SQEs at ring positions first .. first+count-1 (through the index array unless
        IORING_SETUP_NO_SQARRAY); an index past the array (the kernel drops it) is skipped."""
        if count <= 0 or self.sqes is None or self.sq_ring is None:
            return []
        lay = self.layout
        mask = lay.sq_entries - 1
        positions = [(first + i) & mask for i in range(count)]
        if lay.sq_array:
            array = _read_u32_ring(read, self.sq_ring + lay.sq_off.array, lay.sq_entries,
                                   first & mask, count)
            if array is None:
                return []
            indexes = [i for i in array if i < lay.sq_entries]
        else:
            indexes = positions
        size = lay.sqe_size
        out: list[Sqe] = []
        skip = False
        for start, n in _runs(indexes):
            raw = read(self.sqes + start * size, n * size)
            if not raw:
                break
            for k in range(min(n, len(raw) // size)):
                if skip:  # the second half of a 128-byte SQE in an SQE_MIXED ring
                    skip = False
                    continue
                sqe = parse_sqe(raw[k * size: k * size + SQE_SIZE], start + k)
                if sqe is None:
                    break
                if decoder is not None:
                    entry = sqe_entry(sqe, read, decoder)
                    if entry is not None:
                        sqe = replace(sqe, entry=entry)
                out.append(sqe)
                skip = bool(lay.flags & SETUP_SQE_MIXED) and sqe.opcode in _BIG_OPS
            if len(raw) < n * size:
                break
        return out

    # -- the completion queue -------------------------------------------------------------

    def cq_tail(self, read: Read) -> int | None:
        if self.cq_ring is None:
            return None
        raw = read(self.cq_ring + self.layout.cq_off.tail, 4)
        return _U32.unpack(raw)[0] if raw and len(raw) == 4 else None

    def completions(self, read: Read) -> list[Cqe]:
        """The CQEs posted since the last call (from `cq_seen` to the CQ ring's tail),
        whether or not the program reaped them: a slot is rewritten only when the kernel
        posts a whole ring later, so at most cq_entries can be read back (what the kernel
        posted beyond that since the last look is counted in `cq_lost`). Padding entries
        (IORING_CQE_F_SKIP) are left out; with IORING_SETUP_CQE_MIXED a 32-byte CQE
        (IORING_CQE_F_32) takes two slots."""
        if self.cq_ring is None:
            return []
        tail = self.cq_tail(read)
        if tail is None:
            return []
        lay = self.layout
        count = (tail - self.cq_seen) & _MASK32
        first = self.cq_seen
        if count > lay.cq_entries:
            self.cq_lost += count - lay.cq_entries
            first = (tail - lay.cq_entries) & _MASK32
            count = lay.cq_entries
        if count == 0:
            return []
        size = lay.cqe_size
        mask = lay.cq_entries - 1
        base = self.cq_ring + lay.cq_off.cqes
        raw = b""
        pos = first & mask
        left = count
        while left:  # at most two reads: up to the ring's end, then from its start
            n = min(left, lay.cq_entries - pos)
            part = read(base + pos * size, n * size)
            if not part:
                break
            raw += part
            if len(part) < n * size:
                break
            left -= n
            pos = 0
        out: list[Cqe] = []
        mixed = bool(lay.flags & SETUP_CQE_MIXED)
        i = 0
        slots = len(raw) // size
        while i < slots:
            cqe = parse_cqe(raw[i * size: (i + 1) * size], size)
            if cqe is None:
                break
            step = 1
            if mixed and cqe.flags & CQE_F_32:
                step = 2
                cqe = Cqe(cqe.user_data, cqe.res, cqe.flags,
                          bytes(raw[(i + 1) * size: (i + 2) * size]))
            if not (mixed and cqe.flags & CQE_F_SKIP):
                out.append(cqe)
            i += step
        # what could not be read now is read next time
        self.cq_seen = (first + min(i, count)) & _MASK32 if i < count else tail
        return out

    # -- registered files -----------------------------------------------------------------

    def register(self, opcode: int, arg: int, nr_args: int, read: Read) -> bool:
        """Follow an io_uring_register(ring, opcode, arg, nr_args) that succeeded: the fixed
        files it registers (FILES, FILES2), replaces (FILES_UPDATE, FILES_UPDATE2) or drops
        (UNREGISTER_FILES). True when it changed the table."""
        opcode &= ~REGISTER_USE_REGISTERED_RING
        if opcode == UNREGISTER_FILES:
            self.files.clear()
            return True
        update = register_files(opcode, arg, nr_args, read)
        if update is None:
            return False
        first, fds = update
        if opcode in (REGISTER_FILES, REGISTER_FILES2):
            self.files.clear()
        self.update_files(first, fds)
        return True

    def update_files(self, first: int, fds: list[int]) -> None:
        """Slots first, first+1, ... now hold these fds (-1: empty, FILES_SKIP: unchanged);
        also what an IORING_OP_FILES_UPDATE did."""
        for i, fd in enumerate(fds):
            if fd == FILES_SKIP:
                continue
            if fd < 0:
                self.files.pop(first + i, None)
            else:
                self.files[first + i] = fd

    # -- pairing --------------------------------------------------------------------------

    def submitted(self, sqes: list[Sqe]) -> None:
        """Keep SQEs the kernel took as in flight, until their completion."""
        for sqe in sqes:
            self.inflight.setdefault(sqe.user_data, deque()).append(sqe)

    def pair(self, cqes: list[Cqe]) -> list[tuple[Sqe | None, Cqe]]:
        """Each CQE with the SQE it completes (by user_data, oldest first; None when no SQE in
        flight has that user_data). An SQE stays in flight while its CQEs say more are coming
        (IORING_CQE_F_MORE: multishot operations, a SEND_ZC before its notification). A
        zero-copy notification (IORING_CQE_F_NOTIF) is no result: it ends its SQE's time in
        flight and is not returned."""
        out: list[tuple[Sqe | None, Cqe]] = []
        for cqe in cqes:
            queue = self.inflight.get(cqe.user_data)
            sqe = queue[0] if queue else None
            if queue and (cqe.notif or not cqe.more):
                queue.popleft()
                if not queue:
                    del self.inflight[cqe.user_data]
            if not cqe.notif:
                out.append((sqe, cqe))
        return out

    def pending(self) -> list[Sqe]:
        """The SQEs still in flight (no completion seen): at the end of a trace, operations
        that never returned. An SQE with IOSQE_CQE_SKIP_SUCCESS that succeeded posts no CQE
        and stays here."""
        return [sqe for queue in self.inflight.values() for sqe in queue]
