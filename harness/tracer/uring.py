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

Measured on Linux 6.18 (x86_64): each ring has an anon inode of its own: the inode of
/proc/PID/fd/RINGFD (os.stat(...).st_ino) is the inode column of that ring's lines in
/proc/PID/maps (`anon_inode:[io_uring]`, offset column 00000000 / 08000000 / 10000000), so two
rings in one process are told apart. Older kernels gave every io_uring file one shared anon
inode; there only the mmap calls tell the rings apart (`ring_maps` then leaves out an offset
mapped more than once). The ring memory reads through /proc/PID/mem like any other.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from harness.tracer.decode import Decoder
    from harness.tracer.tables import Table, Tables

Read = Callable[[int, int], "bytes | None"]

# mmap offsets of the ring fd (linux/io_uring.h)
IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000
IORING_OFF_PBUF_RING = 0x80000000  # provided buffer rings: not the rings read here
IORING_OFF_MMAP_MASK = 0xF8000000
RING_OFFSETS = (IORING_OFF_SQ_RING, IORING_OFF_CQ_RING, IORING_OFF_SQES)

# io_uring_params.flags bits this module acts on (the names are in xlat.yaml)
SETUP_IOPOLL = 1 << 0
SETUP_SQPOLL = 1 << 1
SETUP_SQE128 = 1 << 10
SETUP_CQE32 = 1 << 11
SETUP_NO_MMAP = 1 << 14
SETUP_NO_SQARRAY = 1 << 16
SETUP_CQE_MIXED = 1 << 18
SETUP_SQE_MIXED = 1 << 19
SETUP_SQ_REWIND = 1 << 20
FEAT_SINGLE_MMAP = 1 << 0
ENTER_REGISTERED_RING = 1 << 4  # io_uring_enter's fd is an index into the registered rings

# io_uring_sqe.flags
IOSQE_FIXED_FILE = 1 << 0
IOSQE_BUFFER_SELECT = 1 << 5
IOSQE_CQE_SKIP_SUCCESS = 1 << 6

# io_uring_cqe.flags
CQE_F_BUFFER = 1 << 0
CQE_F_MORE = 1 << 1
CQE_F_NOTIF = 1 << 3
CQE_F_SKIP = 1 << 5
CQE_F_32 = 1 << 15
CQE_BUFFER_SHIFT = 16

# io_uring_sqe.ioprio of the socket operations
RECV_MULTISHOT = 1 << 1
SEND_VECTORIZED = 1 << 5
ACCEPT_MULTISHOT = 1 << 0
POLL_ADD_MULTI = 1 << 0  # in sqe.len of POLL_ADD
SPLICE_F_FD_IN_FIXED = 1 << 31
FILE_INDEX_ALLOC = 0xFFFFFFFF  # sqe.file_index: the kernel picks the direct descriptor
NO_OFFSET = 0xFFFFFFFFFFFFFFFF  # sqe.off / splice_off_in of -1: no offset (current position)

# opcodes (enum io_uring_op) this module decodes; every other one has a name in xlat.yaml
OP = {name: value for value, name in enumerate((
    "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD", "POLL_REMOVE",
    "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG", "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT",
    "ASYNC_CANCEL", "LINK_TIMEOUT", "CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE",
    "STATX", "READ", "WRITE", "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2", "EPOLL_CTL",
    "SPLICE", "PROVIDE_BUFFERS", "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT", "UNLINKAT",
    "MKDIRAT", "SYMLINKAT", "LINKAT", "MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR",
    "GETXATTR", "SOCKET", "URING_CMD", "SEND_ZC", "SENDMSG_ZC", "READ_MULTISHOT", "WAITID",
    "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV", "FIXED_FD_INSTALL", "FTRUNCATE", "BIND",
    "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED", "WRITEV_FIXED", "PIPE", "NOP128",
    "URING_CMD128"))}
_BIG_OPS = frozenset((OP["NOP128"], OP["URING_CMD128"]))  # 128-byte SQEs in an SQE_MIXED ring

# Operations that always work on a socket (or make one), and those that work on any fd (a
# socket among others: recorded when their fd is one). Names as op_args gives them.
SOCKET_OPS = frozenset(f"IORING_OP_{n}" for n in (
    "SOCKET", "ACCEPT", "CONNECT", "BIND", "LISTEN", "RECV", "SEND", "RECVMSG", "SENDMSG",
    "SEND_ZC", "SENDMSG_ZC", "RECV_ZC", "SHUTDOWN"))
FD_OPS = frozenset(f"IORING_OP_{n}" for n in (
    "READ", "WRITE", "READV", "WRITEV", "READ_FIXED", "WRITE_FIXED", "READV_FIXED",
    "WRITEV_FIXED", "READ_MULTISHOT", "CLOSE", "SPLICE", "TEE", "POLL_ADD", "EPOLL_CTL",
    "URING_CMD", "FIXED_FD_INSTALL", "FSYNC", "STATX", "FADVISE", "FTRUNCATE", "FSETXATTR",
    "FGETXATTR", "SYNC_FILE_RANGE", "FALLOCATE"))
# Operations whose result is a new descriptor (a direct one, in the ring's table, when the
# SQE's file_index asks for it: args `direct`)
FD_MAKERS = frozenset(f"IORING_OP_{n}" for n in (
    "SOCKET", "ACCEPT", "FIXED_FD_INSTALL", "OPENAT", "OPENAT2"))

# io_uring_register opcodes that change the registered files (the fixed-file table)
REGISTER_FILES = 2
UNREGISTER_FILES = 3
REGISTER_FILES_UPDATE = 6
REGISTER_FILES2 = 13
REGISTER_FILES_UPDATE2 = 14
REGISTER_USE_REGISTERED_RING = 1 << 31
FILES_SKIP = -2  # an fd of a files update: leave the slot as it is
MAX_FILES = 4096  # registered fds read per io_uring_register

_MASK32 = 0xFFFFFFFF
_PARAMS = struct.Struct("=10I" + "7IIQ" + "8IQ")  # 120 bytes
PARAMS_SIZE = _PARAMS.size
# opcode, flags, ioprio, fd, off/addr2, addr, len, op flags, user_data, buf_index,
# personality, file_index/splice_fd_in/addr_len, addr3, pad
_SQE = struct.Struct("=BBHiQQIIQHHIQQ")
_CQE = struct.Struct("=QiI")
_U32 = struct.Struct("=I")
SQE_SIZE = _SQE.size  # 64
CQE_SIZE = _CQE.size  # 16
assert PARAMS_SIZE == 120 and SQE_SIZE == 64 and CQE_SIZE == 16


def signed32(value: int) -> int:
    value &= _MASK32
    return value - (1 << 32) if value & (1 << 31) else value


def signed64(value: int) -> int:
    return value - (1 << 64) if value & (1 << 63) else value


def _tables(tables: Tables | None) -> Tables:
    if tables is not None:
        return tables
    from harness.tracer.tables import load_tables

    return load_tables()


def table(name: str, tables: Tables | None = None) -> Table:
    """One of the io_uring tables of xlat.yaml: io_uring_setup_flags, io_uring_features,
    io_uring_enter_flags, io_uring_sqe_flags, io_uring_ops, io_uring_cqe_flags,
    io_uring_recvsend_flags, io_uring_accept_flags, io_uring_socket_cmds."""
    return _tables(tables)[name]


def op_name(opcode: int, tables: Tables | None = None) -> str:
    """`IORING_OP_RECV`, ...; `IORING_OP_UNKNOWN_N` for an opcode the table lacks."""
    name = table("io_uring_ops", tables).name(opcode)
    return name if isinstance(name, str) else f"IORING_OP_UNKNOWN_{opcode}"


# -- the layout ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SqOffsets:
    """struct io_sqring_offsets: where each field of the SQ ring is, from the ring's start."""

    head: int
    tail: int
    ring_mask: int
    ring_entries: int
    flags: int
    dropped: int
    array: int  # the index array (0 with IORING_SETUP_NO_SQARRAY)
    resv1: int
    user_addr: int  # IORING_SETUP_NO_MMAP: where the program put the SQEs


@dataclass(frozen=True, slots=True)
class CqOffsets:
    """struct io_cqring_offsets: where each field of the CQ ring is, from the ring's start."""

    head: int
    tail: int
    ring_mask: int
    ring_entries: int
    overflow: int
    cqes: int
    flags: int
    resv1: int
    user_addr: int  # IORING_SETUP_NO_MMAP: where the program put the rings


@dataclass(frozen=True, slots=True)
class RingLayout:
    """struct io_uring_params as io_uring_setup wrote it back."""

    sq_entries: int
    cq_entries: int
    flags: int  # IORING_SETUP_*
    sq_thread_cpu: int
    sq_thread_idle: int  # milliseconds
    features: int  # IORING_FEAT_*
    wq_fd: int
    sq_off: SqOffsets
    cq_off: CqOffsets

    def flag_names(self, tables: Tables | None = None) -> list[str]:
        """IORING_SETUP_* names of `flags`."""
        return table("io_uring_setup_flags", tables).flags(self.flags)

    def feature_names(self, tables: Tables | None = None) -> list[str]:
        """IORING_FEAT_* names of `features`."""
        return table("io_uring_features", tables).flags(self.features)

    @property
    def sqpoll(self) -> bool:
        """A kernel thread takes the submissions: io_uring_enter is not needed to submit."""
        return bool(self.flags & SETUP_SQPOLL)

    @property
    def sq_array(self) -> bool:
        """The SQ ring holds indexes into the SQE array (not with IORING_SETUP_NO_SQARRAY)."""
        return not self.flags & SETUP_NO_SQARRAY

    @property
    def sqe_size(self) -> int:
        """Bytes per SQE slot: 128 with IORING_SETUP_SQE128, else 64."""
        return 128 if self.flags & SETUP_SQE128 else SQE_SIZE

    @property
    def cqe_size(self) -> int:
        """Bytes per CQE slot: 32 with IORING_SETUP_CQE32, else 16."""
        return 32 if self.flags & SETUP_CQE32 else CQE_SIZE

    @property
    def single_mmap(self) -> bool:
        """The SQ and CQ rings are one mapping (at IORING_OFF_SQ_RING)."""
        return bool(self.features & FEAT_SINGLE_MMAP)

    @property
    def no_mmap(self) -> bool:
        return bool(self.flags & SETUP_NO_MMAP)


def parse_params(raw: bytes | None) -> RingLayout | None:
    """Decode `struct io_uring_params` (120 bytes, as io_uring_setup writes it back); None when
    fewer bytes could be read, or the entry counts are not the powers of two the kernel
    makes them (not a layout written back by a successful io_uring_setup)."""
    if raw is None or len(raw) < PARAMS_SIZE:
        return None
    v = _PARAMS.unpack_from(raw)
    sq_entries, cq_entries = v[0], v[1]
    if not _power_of_two(sq_entries) or not _power_of_two(cq_entries):
        return None
    return RingLayout(sq_entries=sq_entries, cq_entries=cq_entries, flags=v[2],
                      sq_thread_cpu=v[3], sq_thread_idle=v[4], features=v[5], wq_fd=v[6],
                      sq_off=SqOffsets(*v[10:19]), cq_off=CqOffsets(*v[19:28]))


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


# -- entries ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sqe:
    """One submission queue entry (the first 64 bytes; the rest of a 128-byte SQE is command
    data). The unions keep their first name; properties give the others."""

    opcode: int
    flags: int  # IOSQE_*
    ioprio: int  # for socket operations: IORING_RECVSEND_* / IORING_ACCEPT_* bits
    fd: int  # an fd, or an index into the registered files with IOSQE_FIXED_FILE
    off: int  # off / addr2 / cmd_op
    addr: int  # addr / splice_off_in / level and optname of a socket command
    len: int
    op_flags: int  # rw_flags / msg_flags / accept_flags / splice_flags / poll32_events ...
    user_data: int
    buf_index: int  # buf_index / buf_group
    personality: int
    file_index: int  # file_index / splice_fd_in / addr_len / optlen (u32)
    addr3: int  # addr3 / optval
    index: int = -1  # the SQE's slot in the SQE array
    # what was read at submission for the decoding at completion (sqe_entry)
    entry: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def addr2(self) -> int:
        return self.off

    @property
    def msg_flags(self) -> int:
        return self.op_flags

    @property
    def buf_group(self) -> int:
        return self.buf_index

    @property
    def splice_fd_in(self) -> int:
        return signed32(self.file_index)

    @property
    def splice_off_in(self) -> int:
        return self.addr

    @property
    def addr_len(self) -> int:
        return self.file_index & 0xFFFF

    @property
    def cmd_op(self) -> int:
        return self.off & _MASK32

    @property
    def fixed_file(self) -> bool:
        """`fd` is an index into the ring's registered files, not a descriptor."""
        return bool(self.flags & IOSQE_FIXED_FILE)


def parse_sqe(raw: bytes, index: int = -1) -> Sqe | None:
    """An SQE from its (first) 64 bytes; None when fewer were read."""
    if raw is None or len(raw) < SQE_SIZE:
        return None
    v = _SQE.unpack_from(raw)
    return Sqe(*v[:13], index=index)


@dataclass(frozen=True, slots=True)
class Cqe:
    """One completion queue entry."""

    user_data: int
    res: int  # the result: >= 0, or -errno
    flags: int  # IORING_CQE_F_*; bits 16-31 a buffer id with IORING_CQE_F_BUFFER
    big: bytes = b""  # the 16 more bytes of a 32-byte CQE

    @property
    def more(self) -> bool:
        """IORING_CQE_F_MORE: the SQE will post more CQEs (multishot, or a SEND_ZC whose
        notification is still to come)."""
        return bool(self.flags & CQE_F_MORE)

    @property
    def notif(self) -> bool:
        """IORING_CQE_F_NOTIF: the zero-copy notification of a SEND_ZC/SENDMSG_ZC whose
        result was an earlier CQE: its `res` is no byte count."""
        return bool(self.flags & CQE_F_NOTIF)

    @property
    def buffer_id(self) -> int | None:
        """The provided buffer the kernel picked (IOSQE_BUFFER_SELECT), or None."""
        return self.flags >> CQE_BUFFER_SHIFT if self.flags & CQE_F_BUFFER else None

    def flag_names(self, tables: Tables | None = None) -> list[str]:
        return table("io_uring_cqe_flags", tables).flags(self.flags & 0xFFFF)


def parse_cqe(raw: bytes, size: int = CQE_SIZE) -> Cqe | None:
    """A CQE from its 16 (or 32) bytes; None when fewer were read."""
    if raw is None or len(raw) < CQE_SIZE:
        return None
    user_data, res, flags = _CQE.unpack_from(raw)
    return Cqe(user_data, res, flags, bytes(raw[CQE_SIZE:size]))


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


def register_files(opcode: int, arg: int, nr_args: int,
                   read: Read) -> tuple[int, list[int]] | None:
    """(first slot, fds) an io_uring_register call puts into the fixed-file table; None for
    the other opcodes or when unreadable. -1 is an empty slot, FILES_SKIP a slot left as is.
      IORING_REGISTER_FILES: arg -> __s32 fds[nr_args], from slot 0
      IORING_REGISTER_FILES2: arg -> struct io_uring_rsrc_register {nr, flags, resv2, data}
      IORING_REGISTER_FILES_UPDATE: arg -> struct io_uring_files_update {offset, resv, fds},
        nr_args fds
      IORING_REGISTER_FILES_UPDATE2: arg -> struct io_uring_rsrc_update2 {offset, resv,
        data, tags, nr}"""
    opcode &= ~REGISTER_USE_REGISTERED_RING
    first = 0
    if opcode == REGISTER_FILES:
        ptr, nr = arg, nr_args
    elif opcode == REGISTER_FILES2:
        raw = read(arg, 24)
        if not raw or len(raw) < 24:
            return None
        nr, _flags, _resv, ptr = struct.unpack_from("=IIQQ", raw)
    elif opcode == REGISTER_FILES_UPDATE:
        raw = read(arg, 16)
        if not raw or len(raw) < 16:
            return None
        first, _resv, ptr = struct.unpack_from("=IIQ", raw)
        nr = nr_args
    elif opcode == REGISTER_FILES_UPDATE2:
        raw = read(arg, 32)
        if not raw or len(raw) < 32:
            return None
        first, _resv, ptr, _tags, nr = struct.unpack_from("=IIQQI", raw)
    else:
        return None
    return first, _fd_array(read, ptr, nr)


def _fd_array(read: Read, ptr: int, nr: int) -> list[int]:
    """An array of __s32 fds (the first MAX_FILES); a null pointer (a sparse table) is as
    many empty slots (-1)."""
    n = min(nr & _MASK32, MAX_FILES)
    if not ptr or not n:
        return [-1] * n
    raw = read(ptr, 4 * n) or b""
    return [signed32(v) for (v,) in _U32.iter_unpack(raw[: len(raw) - len(raw) % 4])]


# -- the calls ----------------------------------------------------------------------------


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


class _Mem:
    """A read callable as the object decode.Decoder's helpers read through."""

    __slots__ = ("read",)

    def __init__(self, read: Read):
        self.read = read

    def u32(self, addr: int) -> int | None:
        raw = self.read(addr, 4)
        return _U32.unpack(raw)[0] if raw and len(raw) == 4 else None

    def i32(self, addr: int) -> int | None:
        raw = self.read(addr, 4)
        return signed32(_U32.unpack(raw)[0]) if raw and len(raw) == 4 else None


def _mem(read: Any) -> Any:
    return read if hasattr(read, "u32") else _Mem(read)


def sqe_entry(sqe: Sqe, read: Any, decoder: Decoder) -> dict[str, Any] | None:
    """What must be read when an SQE is submitted because the kernel overwrites it by the
    completion: the address room of an ACCEPT (*addrlen) or a RECVMSG (msg_namelen), as
    Decoder.addrlen_entry reads it for accept4 / recvmsg. Hand it to `op_args` as `entry`.
    None for the other operations."""
    entry = getattr(decoder, "addrlen_entry", None)
    if entry is None:
        return None
    if sqe.opcode == OP["ACCEPT"]:
        return entry(_mem(read), (sqe.fd, sqe.addr, sqe.off, sqe.op_flags), "accept4")
    if sqe.opcode == OP["RECVMSG"]:
        return entry(_mem(read), (sqe.fd, sqe.addr, sqe.op_flags), "recvmsg")
    return None


def op_args(sqe: Sqe, read: Any, decoder: Decoder, res: int | None,
            entry: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """(event syscall name, args) of one operation: the args the plain call it stands for
    would have (docs/trace-format.md), read from the tracee through `read` (a callable
    (addr, size) -> bytes | None, or a decode.Memory) with `res` the CQE's result (None when
    no completion was seen: nothing the kernel writes is read then) and `entry` what
    `sqe_entry` read at submission (an address is then read within the caller's room).
    Call it when the completion is seen: a receive's data is in its buffer then.

    Every op's args also carry `user_data`, `sqe_flags` (IOSQE_* names) and, with
    IOSQE_FIXED_FILE, `fixed_file: true` (its `fd` is then an index into the ring's
    registered files, not a descriptor). An op that makes a descriptor into the ring's
    table (file_index set) carries `direct: true` and `file_slot` (the slot; null when the
    kernel picks it: the result is the slot then)."""
    mem = _mem(read)
    t = decoder.t
    op = sqe.opcode
    if entry is None:
        entry = sqe.entry
    name = op_name(op, t)
    fd = sqe.fd
    ok = res is not None and res >= 0
    result = res if res is not None else -1  # the Decoder helpers read nothing for < 0
    args: dict[str, Any]
    if op == OP["SOCKET"]:
        args = decoder.socket(mem, (fd & _MASK32, sqe.off & _MASK32, sqe.len), result)
        _direct(args, sqe)
    elif op == OP["ACCEPT"]:
        a = (fd, sqe.addr, sqe.off, sqe.op_flags)
        args = decoder.accept4(mem, a, result, entry) if entry is not None else \
            decoder.accept4(mem, a, result)
        if sqe.ioprio & ACCEPT_MULTISHOT:
            args["multishot"] = True
        _direct(args, sqe)
    elif op in (OP["CONNECT"], OP["BIND"]):
        args = decoder.fd_addr(mem, (fd, sqe.addr, sqe.off & _MASK32), result)
    elif op == OP["LISTEN"]:
        args = decoder.listen(mem, (fd, sqe.len), result)
    elif op in (OP["RECV"], OP["SEND"], OP["SEND_ZC"]):
        args = {"fd": fd, "size": sqe.len, "flags": decoder.msg_flags.flags(sqe.op_flags)}
        sending = op != OP["RECV"]
        if sending and sqe.off:  # io_uring_prep_sendto: the address in addr2, addr_len
            args["addr"] = decoder.addr_in(mem, sqe.off, sqe.addr_len)
        if sending and sqe.ioprio & SEND_VECTORIZED:  # addr: iovecs, len: their count
            del args["size"]
            args["iovcnt"] = sqe.len
            decoder.iov_data(args, mem, sqe.addr, sqe.len, result)
        else:
            _data(decoder, args, mem, sqe, result, sending)
        if not sending and sqe.ioprio & RECV_MULTISHOT:
            args["multishot"] = True
    elif op in (OP["RECVMSG"], OP["SENDMSG"], OP["SENDMSG_ZC"]):
        a = (fd, sqe.addr, sqe.op_flags)
        if op != OP["RECVMSG"]:
            args = decoder.sendmsg(mem, a, result)
        elif entry is not None:
            args = decoder.recvmsg(mem, a, result, entry)
        else:
            args = decoder.recvmsg(mem, a, result)
        if op == OP["RECVMSG"] and sqe.ioprio & RECV_MULTISHOT:
            args["multishot"] = True  # the buffers hold io_uring_recvmsg_out: not decoded
    elif op in (OP["READ"], OP["WRITE"], OP["READ_FIXED"], OP["WRITE_FIXED"]):
        args = {"fd": fd, "size": sqe.len}
        _data(decoder, args, mem, sqe, result, op in (OP["WRITE"], OP["WRITE_FIXED"]))
        args["offset"] = signed64(sqe.off)
    elif op in (OP["READV"], OP["WRITEV"], OP["READV_FIXED"], OP["WRITEV_FIXED"]):
        args = decoder.rwv(mem, (fd, sqe.addr, sqe.len), result)
        args["offset"] = signed64(sqe.off)
        if sqe.op_flags:
            args["flags"] = t["rwf_flags"].flags(sqe.op_flags)
    elif op == OP["SHUTDOWN"]:
        args = decoder.shutdown(mem, (fd, sqe.len), result)
    elif op == OP["CLOSE"]:
        args = {"fd": fd}
        if sqe.file_index:  # io_uring_prep_close_direct: a slot of the ring's table
            args["direct"] = True
            args["file_slot"] = sqe.file_index - 1
    elif op in (OP["SPLICE"], OP["TEE"]):
        flags = sqe.op_flags
        args = {"fd_in": sqe.splice_fd_in, "fd_out": fd, "len": sqe.len,
                "flags": t["splice_flags"].flags(flags & ~SPLICE_F_FD_IN_FIXED)}
        if op == OP["SPLICE"]:
            if sqe.splice_off_in != NO_OFFSET:
                args["off_in"] = True
            if sqe.off != NO_OFFSET:
                args["off_out"] = True
        if flags & SPLICE_F_FD_IN_FIXED:
            args["fixed_file_in"] = True  # fd_in indexes the registered files
    elif op == OP["FILES_UPDATE"]:  # addr -> fds[len], into the slots from off
        args = {"offset": signed32(sqe.off), "fds": _fd_array(mem.read, sqe.addr, sqe.len)}
    elif op == OP["EPOLL_CTL"]:
        args = decoder.epoll_ctl(mem, (fd, sqe.len, sqe.off & _MASK32, sqe.addr), result)
    elif op == OP["POLL_ADD"]:
        args = {"fd": fd, "events": t["epoll_events"].flags(sqe.op_flags)}
        if sqe.len & POLL_ADD_MULTI:
            args["multishot"] = True
    elif op in (OP["URING_CMD"], OP["URING_CMD128"]):
        # the socket commands' names (another kind of file has commands of its own)
        args = {"fd": fd, "cmd": t["io_uring_socket_cmds"].name(sqe.cmd_op)}
        if args["cmd"] in ("SOCKET_URING_OP_SETSOCKOPT", "SOCKET_URING_OP_GETSOCKOPT"):
            # level and optname in addr's halves, optval in addr3, optlen in file_index
            opt = decoder.sockopt(mem, (fd, sqe.addr & _MASK32, sqe.addr >> 32, sqe.addr3,
                                        sqe.file_index), 0 if ok else -1, getting=False)
            if args["cmd"] == "SOCKET_URING_OP_GETSOCKOPT":
                opt["value"] = None  # the buffer's room, not what the kernel wrote
            args.update({k: v for k, v in opt.items() if k != "fd"})
    else:
        args = {"fd": fd}
    if sqe.flags & IOSQE_BUFFER_SELECT:
        args["buf_group"] = sqe.buf_group
    args["user_data"] = sqe.user_data
    args["sqe_flags"] = t["io_uring_sqe_flags"].flags(sqe.flags)
    if sqe.fixed_file:
        args["fixed_file"] = True
    return name, args


def _data(decoder: Decoder, args: dict[str, Any], mem: Any, sqe: Sqe, res: int,
          sending: bool) -> None:
    """data / data_len of a buffer op. With IOSQE_BUFFER_SELECT the kernel picked a provided
    buffer (its id in the CQE): only data_len is known."""
    ptr = 0 if sqe.flags & IOSQE_BUFFER_SELECT else sqe.addr
    decoder.data(args, mem, ptr, res, size=None if sending else sqe.len)


def _direct(args: dict[str, Any], sqe: Sqe) -> None:
    if sqe.file_index:
        args["direct"] = True
        args["file_slot"] = None if sqe.file_index == FILE_INDEX_ALLOC else sqe.file_index - 1


def op_fds(sqe: Sqe) -> tuple[int, ...]:
    """The descriptors an operation names (not the fixed-file indexes): its fd, and a
    splice's or tee's fd_in; () for an op whose fd field holds something else (SOCKET's
    domain)."""
    if sqe.opcode == OP["SOCKET"]:
        return ()
    fds: list[int] = []
    if not sqe.fixed_file and sqe.fd >= 0:
        fds.append(sqe.fd)
    if sqe.opcode in (OP["SPLICE"], OP["TEE"]) and not sqe.op_flags & SPLICE_F_FD_IN_FIXED \
            and sqe.splice_fd_in >= 0:
        fds.append(sqe.splice_fd_in)
    if sqe.opcode == OP["EPOLL_CTL"]:
        fds.append(signed32(sqe.off))
    return tuple(fds)
