"""Decoding what a program asks of its ring: each IORING_OP_* operation of an SQE as the
plain call it stands for (`op_args`, with decode.Decoder's helpers; `sqe_entry` for what must
be read at submission), the descriptors an operation names (`op_fds`), and the fd arrays that
io_uring_register and IORING_OP_FILES_UPDATE put into the ring's fixed-file table
(`register_files`).
"""

from __future__ import annotations

import struct

from harness.tracer.uring_abi import (_MASK32, _U32, ACCEPT_MULTISHOT, FILE_INDEX_ALLOC,
                                      IOSQE_BUFFER_SELECT, MAX_FILES, NO_OFFSET, OP,
                                      POLL_ADD_MULTI, RECV_MULTISHOT, REGISTER_FILES,
                                      REGISTER_FILES2, REGISTER_FILES_UPDATE,
                                      REGISTER_FILES_UPDATE2, REGISTER_USE_REGISTERED_RING,
                                      SEND_VECTORIZED, SPLICE_F_FD_IN_FIXED, Read, op_name,
                                      signed32, signed64)
from harness.tracer.uring_structs import Sqe

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from harness.tracer.decode import Decoder


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
        a: tuple[int, ...] = (fd, sqe.addr, sqe.off, sqe.op_flags)
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
