"""The io_uring structures, decoded from their bytes: `struct io_uring_params` as
io_uring_setup writes it back (`parse_params` -> RingLayout, with its SQ and CQ ring offsets),
a submission queue entry (`parse_sqe` -> Sqe) and a completion queue entry (`parse_cqe` ->
Cqe), each with properties naming its unions and flag bits. Reading them out of a tracee's
ring is uring_ring.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.tracer.uring_abi import (_CQE, _MASK32, _PARAMS, _SQE, CQE_BUFFER_SHIFT,
                                      CQE_F_BUFFER, CQE_F_MORE, CQE_F_NOTIF, CQE_SIZE,
                                      FEAT_SINGLE_MMAP, IOSQE_FIXED_FILE, PARAMS_SIZE,
                                      SETUP_CQE32, SETUP_NO_MMAP, SETUP_NO_SQARRAY,
                                      SETUP_SQE128, SETUP_SQPOLL, SQE_SIZE, signed32, table)

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from harness.tracer.tables import Tables

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
    return Sqe(*v[:13], index=index)  # type: ignore[misc]  # (mypy counts v[:13] as any length)


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
