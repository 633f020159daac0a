"""The io_uring ABI as the tracer reads it (linux/io_uring.h): the mmap offsets of a ring
fd, the IORING_SETUP_* / IORING_FEAT_* / IOSQE_* / IORING_CQE_F_* bits acted on, the opcodes
(enum io_uring_op) and which of them concern sockets or make descriptors, the
io_uring_register opcodes of the fixed-file table, the binary layouts of io_uring_params, an
SQE and a CQE, and the names xlat.yaml gives them (`table`, `op_name`). No reads of a tracee
here: uring_structs.py decodes the structures, uring_ring.py reads a ring.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

TYPE_CHECKING = False

if TYPE_CHECKING:
    from harness.tracer.tables import Table, Tables

Read = Callable[[int, int], "bytes | None"]

# mmap offsets of the ring fd (linux/io_uring.h)
IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000
IORING_OFF_PBUF_RING = 0x80000000  # provided buffer rings: not the rings read here
IORING_OFF_MMAP_MASK = 0xF8000000
RING_OFFSETS = (IORING_OFF_SQ_RING, IORING_OFF_CQ_RING, IORING_OFF_SQES)

# io_uring_params.flags bits the uring modules act on (the names are in xlat.yaml)
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

# opcodes (enum io_uring_op) the uring modules decode; every other one has a name in xlat.yaml
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
