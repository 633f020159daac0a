"""harness.tracer.uring_* on hand-built memory: io_uring_params, SQEs through the index array
and without it (NO_SQARRAY), 128-byte SQEs, CQEs (16 and 32 bytes) with the ring and the u32
counters wrapping, the ring mappings, and the operations decoded as the plain calls."""

from __future__ import annotations

import socket
import struct
from dataclasses import replace

import pytest

from harness.tracer.decode import Decoder
from harness.tracer.tables import load_tables
from harness.tracer.uring import enter_args, setup_args
from harness.tracer.uring_abi import (ACCEPT_MULTISHOT, IORING_OFF_PBUF_RING, IORING_OFF_SQ_RING,
                                      IORING_OFF_SQES, PARAMS_SIZE, RECV_MULTISHOT,
                                      REGISTER_FILES, REGISTER_FILES2, REGISTER_FILES_UPDATE,
                                      REGISTER_FILES_UPDATE2, REGISTER_USE_REGISTERED_RING,
                                      UNREGISTER_FILES)
from harness.tracer.uring_mem import maps_offsets
from harness.tracer.uring_ops import op_args, op_fds, sqe_entry
from harness.tracer.uring_ring import Ring
from harness.tracer.uring_structs import Cqe, SqOffsets, parse_params, parse_sqe

SQ_OFF = (0, 4, 16, 24, 36, 32, 320, 0, 0)  # head tail ring_mask ring_entries flags dropped array
CQ_OFF = (8, 12, 20, 28, 44, 64, 40, 0, 0)  # head tail ring_mask ring_entries overflow cqes flags
FEATURES = 0x1 | 0x2  # SINGLE_MMAP, NODROP
SQ_RING, SQES, CQ_RING = 0x100000, 0x200000, 0x300000


def params(sq_entries: int = 8, cq_entries: int = 16, flags: int = 0,
           features: int = FEATURES, sq_off: tuple[int, ...] = SQ_OFF,
           cq_off: tuple[int, ...] = CQ_OFF) -> bytes:
    return struct.pack("=10I7IIQ8IQ", sq_entries, cq_entries, flags, 0, 0, features, 0,
                       0, 0, 0, *sq_off, *cq_off)


def sqe(opcode: int, fd: int = -1, off: int = 0, addr: int = 0, length: int = 0,
        op_flags: int = 0, user_data: int = 0, flags: int = 0, ioprio: int = 0,
        buf_index: int = 0, file_index: int = 0, addr3: int = 0) -> bytes:
    return struct.pack("=BBHiQQIIQHHIQQ", opcode, flags, ioprio, fd, off, addr, length,
                       op_flags, user_data, buf_index, 0, file_index & 0xFFFFFFFF, addr3, 0)


def cqe(user_data: int, res: int, flags: int = 0, size: int = 16) -> bytes:
    return struct.pack("=QiI", user_data, res, flags) + b"\xee" * (size - 16)


def sin(addr: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + \
        socket.inet_aton(addr) + b"\0" * 8


class Mem:
    """Sparse tracee memory: writes at addresses, reads like decode.Memory (short at a
    blob's end, None for a null pointer or unmapped memory). Counts reads."""

    def __init__(self) -> None:
        self.blobs: dict[int, bytearray] = {}
        self.reads = 0

    def write(self, addr: int, data: bytes, room: int = 0) -> int:
        for base, blob in self.blobs.items():
            if base <= addr and addr + len(data) <= base + len(blob):
                blob[addr - base: addr - base + len(data)] = data
                return addr
        self.blobs[addr] = bytearray(data) + bytearray(max(0, room - len(data)))
        return addr

    def u32(self, addr: int, value: int) -> None:
        self.write(addr, struct.pack("=I", value & 0xFFFFFFFF))

    def read(self, addr: int, size: int) -> bytes | None:
        self.reads += 1
        if not addr or size <= 0:
            return None
        for base, data in self.blobs.items():
            if base <= addr < base + len(data):
                return bytes(data[addr - base: addr - base + size])
        return None


def make_ring(flags: int = 0, sq_entries: int = 8, cq_entries: int = 16,
              sqe_size: int = 64, cqe_size: int = 16) -> tuple[Ring, Mem]:
    layout = parse_params(params(sq_entries, cq_entries, flags))
    assert layout is not None
    mem = Mem()
    mem.write(SQ_RING, b"", room=4096)
    mem.write(SQES, b"", room=sq_entries * sqe_size)
    mem.write(CQ_RING, b"", room=64 + cq_entries * cqe_size)
    ring = Ring(7, layout)
    ring.record_mmap(IORING_OFF_SQ_RING, SQ_RING)
    ring.record_mmap(IORING_OFF_SQES, SQES)
    ring.cq_ring = CQ_RING  # a CQ ring of its own in these tests
    return ring, mem


def queue(ring: Ring, mem: Mem, head: int, entries: list[tuple[int, bytes]]) -> None:
    """Put SQEs at ring positions head, head+1, ... (through the array: (slot, bytes))."""
    lay = ring.layout
    mask = lay.sq_entries - 1
    for i, (slot, raw) in enumerate(entries):
        pos = (head + i) & mask
        if lay.sq_array:
            mem.u32(SQ_RING + lay.sq_off.array + 4 * pos, slot)
        mem.write(SQES + slot * lay.sqe_size, raw)
    mem.u32(SQ_RING + lay.sq_off.head, head)
    mem.u32(SQ_RING + lay.sq_off.tail, head + len(entries))


def post(ring: Ring, mem: Mem, first: int, entries: list[bytes]) -> None:
    lay = ring.layout
    for i, raw in enumerate(entries):
        pos = (first + i) & (lay.cq_entries - 1)
        mem.write(CQ_RING + lay.cq_off.cqes + pos * lay.cqe_size, raw)
    mem.u32(CQ_RING + lay.cq_off.tail, first + len(entries))


@pytest.fixture(scope="module")
def dec() -> Decoder:
    return Decoder(load_tables(), 64)


# -- params -----------------------------------------------------------------------------


def test_params_decoded_with_names() -> None:
    raw = params(flags=0x2 | 0x10000 | 0x1000, sq_off=(0, 4, 16, 24, 36, 32, 0, 0, 0))
    assert len(raw) == PARAMS_SIZE == 120
    lay = parse_params(raw)
    assert lay is not None
    assert (lay.sq_entries, lay.cq_entries) == (8, 16)
    assert lay.sq_off == SqOffsets(0, 4, 16, 24, 36, 32, 0, 0, 0)
    assert lay.cq_off.cqes == 64 and lay.cq_off.overflow == 44
    assert lay.flag_names() == ["IORING_SETUP_SQPOLL", "IORING_SETUP_SINGLE_ISSUER",
                                "IORING_SETUP_NO_SQARRAY"]
    assert lay.feature_names() == ["IORING_FEAT_SINGLE_MMAP", "IORING_FEAT_NODROP"]
    assert lay.sqpoll and not lay.sq_array and lay.single_mmap
    assert (lay.sqe_size, lay.cqe_size) == (64, 16)
    big = parse_params(params(flags=0x400 | 0x800 | (1 << 30)))
    assert big is not None and (big.sqe_size, big.cqe_size) == (128, 32)
    assert big.flag_names()[-1] == "0x40000000"  # an unknown bit, as hex


def test_params_not_a_layout() -> None:
    assert parse_params(None) is None
    assert parse_params(params()[:119]) is None
    assert parse_params(params(sq_entries=0)) is None
    assert parse_params(params(sq_entries=6)) is None  # never written back so


def test_no_mmap_rings_are_where_the_params_say() -> None:
    lay = parse_params(params(flags=0x4000, sq_off=SQ_OFF[:8] + (0x5000,),
                                    cq_off=CQ_OFF[:8] + (0x9000,)))
    assert lay is not None and lay.no_mmap
    ring = Ring(3, lay)
    assert (ring.sqes, ring.sq_ring, ring.cq_ring) == (0x5000, 0x9000, 0x9000)
    assert ring.located


def test_mmaps_locate_the_ring() -> None:
    lay = parse_params(params())
    assert lay is not None
    ring = Ring(3, lay)
    assert not ring.located
    assert ring.record_mmap(0, 0x7000)  # SINGLE_MMAP: the CQ ring is in this mapping too
    assert (ring.sq_ring, ring.cq_ring) == (0x7000, 0x7000)
    assert not ring.record_mmap(IORING_OFF_PBUF_RING | (1 << 16), 0x9000)
    assert ring.record_mmap(0x10000000, 0x6000) and ring.located
    ring.record_munmap(0x6000, 0x1000)
    assert ring.sqes is None and ring.sq_ring == 0x7000
    two = parse_params(params(features=0))
    assert two is not None
    ring = Ring(3, two)
    ring.record_mmap(0, 0x7000)
    assert ring.cq_ring is None
    ring.record_mmap(0x8000000, 0x8000)
    assert ring.cq_ring == 0x8000


def test_maps_told_apart_by_inode() -> None:
    maps = (b"7f29f71cd000-7f29f71ce000 rw-s 10000000 00:10 25363"
            b"                      anon_inode:[io_uring]\n"
            b"7f29f71ce000-7f29f71cf000 rw-s 00000000 00:10 25363"
            b"                      anon_inode:[io_uring]\n"
            b"7f29f71cf000-7f29f71d0000 rw-s 10000000 00:10 25362"
            b"                      anon_inode:[io_uring]\n"
            b"7f29f71d0000-7f29f71d1000 rw-s 00000000 00:10 25362"
            b"                      anon_inode:[io_uring]\n"
            b"7f29f71d1000-7f29f71d2000 r--p 00000000 fe:00 25362"
            b"                      /usr/lib/libc.so\n")
    assert maps_offsets(maps, 25362) == {0x10000000: 0x7F29F71CF000, 0: 0x7F29F71D0000}
    assert maps_offsets(maps, 25363) == {0x10000000: 0x7F29F71CD000, 0: 0x7F29F71CE000}
    shared = maps.replace(b"25363", b"25362")  # one inode for every ring: ambiguous
    assert maps_offsets(shared, 25362) == {}


# -- submissions ------------------------------------------------------------------------


def test_submissions_through_the_index_array() -> None:
    ring, mem = make_ring()
    queue(ring, mem, 3, [(5, sqe(27, fd=5, user_data=2)), (0, sqe(26, fd=5, user_data=3))])
    got = ring.submissions(mem.read)
    assert [(s.opcode, s.fd, s.user_data, s.index) for s in got] == [(27, 5, 2, 5),
                                                                     (26, 5, 3, 0)]
    assert ring.sq_seen == 5
    assert [s.user_data for s in ring.submissions(mem.read, limit=1)] == [2]
    assert ring.submissions(mem.read, limit=0) == []


def test_submissions_wrap_ring_and_counter() -> None:
    ring, mem = make_ring()
    head = 0xFFFFFFFE  # the u32 counters wrap too; positions 6, 7, 0, 1
    queue(ring, mem, head, [(i, sqe(26, fd=9, user_data=100 + i)) for i in range(4)])
    got = ring.submissions(mem.read)
    assert [s.user_data for s in got] == [100, 101, 102, 103]
    assert ring.sq_seen == 2


def test_submissions_without_sq_array() -> None:
    ring, mem = make_ring(flags=0x10000)
    assert not ring.layout.sq_array
    queue(ring, mem, 6, [(6, sqe(13, fd=3, user_data=1)), (7, sqe(27, fd=4, user_data=2)),
                         (0, sqe(19, fd=4, user_data=3))])
    got = ring.submissions(mem.read)
    assert [(s.index, s.user_data) for s in got] == [(6, 1), (7, 2), (0, 3)]


def test_submissions_128_byte_sqes() -> None:
    ring, mem = make_ring(flags=0x400 | 0x10000, sqe_size=128)
    queue(ring, mem, 0, [(0, sqe(26, fd=1, user_data=1) + b"\xff" * 64),
                         (1, sqe(27, fd=2, user_data=2) + b"\xff" * 64)])
    assert [(s.fd, s.user_data) for s in ring.submissions(mem.read)] == [(1, 1), (2, 2)]


def test_submissions_one_read_per_run() -> None:
    ring, mem = make_ring(flags=0x10000, sq_entries=8)
    queue(ring, mem, 0, [(i, sqe(0, user_data=i)) for i in range(5)])
    mem.reads = 0
    assert len(ring.submissions(mem.read)) == 5
    assert mem.reads == 2  # head and tail, then the five SQEs


def test_dropped_index_skipped_and_empty_queue() -> None:
    ring, mem = make_ring()
    queue(ring, mem, 0, [(1, sqe(26, user_data=1)), (99, b""), (2, sqe(27, user_data=3))])
    assert [s.user_data for s in ring.submissions(mem.read)] == [1, 3]
    mem.u32(SQ_RING + 0, 3)  # head caught up
    assert ring.submissions(mem.read) == []


def test_sqpoll_new_submissions_since_last_look() -> None:
    ring, mem = make_ring(flags=0x2)
    queue(ring, mem, 0, [(0, sqe(13, fd=3, user_data=1))])
    mem.u32(SQ_RING + 0, 1)  # the kernel thread took it already: head == tail
    assert ring.submissions(mem.read) == []
    assert [s.user_data for s in ring.new_submissions(mem.read)] == [1]
    assert ring.new_submissions(mem.read) == []
    queue(ring, mem, 1, [(1, sqe(27, fd=5, user_data=2)), (2, sqe(26, fd=5, user_data=3))])
    assert [s.user_data for s in ring.new_submissions(mem.read)] == [2, 3]
    # more than the ring holds since the last look: the oldest are gone
    queue(ring, mem, 3, [(i % 8, sqe(26, user_data=10 + i)) for i in range(10)])
    mem.u32(SQ_RING + 0, 13)
    got = ring.new_submissions(mem.read)
    assert [s.user_data for s in got] == list(range(12, 20)) and ring.sq_lost == 2


def test_unlocated_or_unreadable_ring_reads_nothing() -> None:
    lay = parse_params(params())
    assert lay is not None
    ring = Ring(3, lay)
    assert ring.submissions(Mem().read) == [] and ring.completions(Mem().read) == []
    ring, mem = make_ring()
    ring.sq_ring = 0xDEAD000
    assert ring.submissions(mem.read) == []


# -- completions ------------------------------------------------------------------------


def test_completions_since_last_look() -> None:
    ring, mem = make_ring()
    post(ring, mem, 0, [cqe(1, 5), cqe(2, -11)])
    got = ring.completions(mem.read)
    assert [(c.user_data, c.res) for c in got] == [(1, 5), (2, -11)]
    assert ring.completions(mem.read) == []
    post(ring, mem, 2, [cqe(3, 0, flags=0x2)])
    (c,) = ring.completions(mem.read)
    assert (c.user_data, c.more, c.notif, c.buffer_id) == (3, True, False, None)


def test_completions_wrap_ring_and_counter() -> None:
    ring, mem = make_ring()
    ring.cq_seen = 0xFFFFFFFE  # positions 14, 15, 0, 1
    post(ring, mem, 0xFFFFFFFE, [cqe(10 + i, i) for i in range(4)])
    mem.reads = 0
    assert [c.user_data for c in ring.completions(mem.read)] == [10, 11, 12, 13]
    assert mem.reads == 3  # the tail, up to the ring's end, from its start
    assert ring.cq_seen == 2


def test_completions_overwritten_are_counted() -> None:
    ring, mem = make_ring()
    post(ring, mem, 0, [cqe(i, i) for i in range(20)])  # 20 posted into 16 slots
    got = ring.completions(mem.read)
    assert [c.user_data for c in got] == list(range(4, 20)) and ring.cq_lost == 4


def test_completions_32_bytes_and_buffer_id() -> None:
    ring, mem = make_ring(flags=0x800, cqe_size=32)
    post(ring, mem, 0, [cqe(1, 7, flags=(3 << 16) | 1, size=32)])
    (c,) = ring.completions(mem.read)
    assert (c.res, c.buffer_id, c.big) == (7, 3, b"\xee" * 16)
    assert c.flag_names() == ["IORING_CQE_F_BUFFER"]


def test_completions_mixed_sizes_and_padding() -> None:
    ring, mem = make_ring(flags=1 << 18)
    post(ring, mem, 0, [cqe(1, 1, flags=1 << 15), b"\xaa" * 16, cqe(0, 0, flags=1 << 5),
                        cqe(2, 2)])
    got = ring.completions(mem.read)
    assert [(c.user_data, c.big) for c in got] == [(1, b"\xaa" * 16), (2, b"")]


def test_pairing() -> None:
    ring, _ = make_ring()
    s_recv = parse_sqe(sqe(27, fd=5, user_data=2, ioprio=RECV_MULTISHOT))
    s_zc = parse_sqe(sqe(47, fd=5, user_data=3))
    assert s_recv is not None and s_zc is not None
    ring.submitted([s_recv, s_zc])
    out = ring.pair([Cqe(2, 10, 0x2), Cqe(3, 5, 0x2), Cqe(2, 4, 0),
                     Cqe(3, 0, 0x8), Cqe(99, 0, 0)])
    assert [(s and s.user_data, c.res) for s, c in out] == [(2, 10), (3, 5), (2, 4), (None, 0)]
    assert ring.pending() == []
    ring.submitted([s_recv])
    assert ring.pending() == [s_recv]


# -- operations -------------------------------------------------------------------------


def op(dec: Decoder, mem: Mem, raw: bytes, res: int | None) -> tuple[str, dict]:
    s = parse_sqe(raw)
    assert s is not None
    return op_args(s, mem.read, dec, res)


def test_accept(dec: Decoder) -> None:
    mem = Mem()
    addr = mem.write(0x1000, sin("127.0.0.1", 40000))
    lenp = mem.write(0x2000, struct.pack("=I", 16))
    assert op(dec, mem, sqe(13, fd=3, addr=addr, off=lenp, op_flags=0x80000, user_data=1),
              5) == ("IORING_OP_ACCEPT", {
                  "fd": 3, "addr": {"family": "AF_INET", "address": "127.0.0.1",
                                    "port": 40000},
                  "flags": ["SOCK_CLOEXEC"], "user_data": 1, "sqe_flags": []})
    name, args = op(dec, mem, sqe(13, fd=0, flags=1, file_index=0xFFFFFFFF,
                                  ioprio=ACCEPT_MULTISHOT), -11)
    assert args["addr"] is None and args["fixed_file"] is True and args["multishot"] is True
    assert args["direct"] is True and args["file_slot"] is None
    assert args["sqe_flags"] == ["IOSQE_FIXED_FILE"]


def test_socket_connect_bind_listen(dec: Decoder) -> None:
    mem = Mem()
    assert op(dec, mem, sqe(45, fd=2, off=1 | 0x800, length=0, user_data=5), 4) == (
        "IORING_OP_SOCKET", {"domain": "AF_INET", "type": "SOCK_STREAM",
                             "type_flags": ["SOCK_NONBLOCK"], "protocol": "IPPROTO_IP",
                             "user_data": 5, "sqe_flags": []})
    addr = mem.write(0x1000, sin("10.0.0.1", 80))
    for opcode, name in ((16, "IORING_OP_CONNECT"), (56, "IORING_OP_BIND")):
        got = op(dec, mem, sqe(opcode, fd=4, addr=addr, off=16), 0)
        assert got[0] == name and got[1]["addr"]["port"] == 80 and got[1]["fd"] == 4
    assert op(dec, mem, sqe(57, fd=4, length=128), 0)[1]["backlog"] == 128


def test_recv_send(dec: Decoder) -> None:
    mem = Mem()
    buf = mem.write(0x1000, b"hello world", room=4096)
    assert op(dec, mem, sqe(27, fd=5, addr=buf, length=4096, op_flags=0x40, user_data=2),
              5) == ("IORING_OP_RECV", {"fd": 5, "size": 4096, "flags": ["MSG_DONTWAIT"],
                                        "data_len": 5, "data": "hello", "user_data": 2,
                                        "sqe_flags": []})
    assert "data" not in op(dec, mem, sqe(27, fd=5, addr=buf, length=64), None)[1]
    to = mem.write(0x3000, sin("127.0.0.1", 9))
    name, args = op(dec, mem, sqe(26, fd=5, addr=buf, length=11, off=to, file_index=16), 11)
    assert args["addr"]["port"] == 9 and args["data"] == "hello world"
    name, args = op(dec, mem, sqe(47, fd=5, addr=buf, length=5), 5)
    assert name == "IORING_OP_SEND_ZC" and args["data"] == "hello"
    # a provided buffer: the kernel picked it, only the length is known
    name, args = op(dec, mem, sqe(27, fd=5, flags=0x20, buf_index=7, length=100), 3)
    assert args["data_len"] == 3 and "data" not in args and args["buf_group"] == 7
    assert args["sqe_flags"] == ["IOSQE_BUFFER_SELECT"]


def test_msg_and_vectors(dec: Decoder) -> None:
    mem = Mem()
    data = mem.write(0x1000, b"abcdef")
    iov = mem.write(0x2000, struct.pack("=QQ", data, 6))
    name_ = mem.write(0x3000, sin("127.0.0.1", 7))
    hdr = mem.write(0x4000, struct.pack("=QI4xQQQQi4x", name_, 16, iov, 1, 0, 0, 0))
    name, args = op(dec, mem, sqe(9, fd=5, addr=hdr, length=1), 6)
    assert name == "IORING_OP_SENDMSG"
    assert args["addr"]["port"] == 7 and args["data"] == "abcdef" and args["iovcnt"] == 1
    name, args = op(dec, mem, sqe(10, fd=5, addr=hdr, length=1), -104)
    assert name == "IORING_OP_RECVMSG" and "addr" not in args and "data_len" not in args
    name, args = op(dec, mem, sqe(2, fd=5, addr=iov, length=1, off=(1 << 64) - 1), 6)
    assert (name, args["size"], args["data"], args["offset"]) == ("IORING_OP_WRITEV", 6,
                                                                   "abcdef", -1)
    name, args = op(dec, mem, sqe(22, fd=5, addr=data, length=6, off=0), 3)
    assert (name, args["data"], args["offset"]) == ("IORING_OP_READ", "abc", 0)


def test_shutdown_close_splice_other(dec: Decoder) -> None:
    mem = Mem()
    assert op(dec, mem, sqe(34, fd=5, length=1), 0)[1]["how"] == "SHUT_WR"
    assert op(dec, mem, sqe(19, fd=5, user_data=4), 0) == (
        "IORING_OP_CLOSE", {"fd": 5, "user_data": 4, "sqe_flags": []})
    args = op(dec, mem, sqe(19, fd=0, file_index=3), 0)[1]
    assert args["direct"] is True and args["file_slot"] == 2
    raw = sqe(30, fd=6, length=4096, off=(1 << 64) - 1, addr=(1 << 64) - 1, op_flags=0x2,
              file_index=-1 & 0xFFFFFFFF)
    raw = raw[:44] + struct.pack("=i", 7) + raw[48:]  # splice_fd_in
    name, args = op(dec, mem, raw, 14)
    assert (name, args) == ("IORING_OP_SPLICE", {"fd_in": 7, "fd_out": 6, "len": 4096,
                                                  "flags": ["SPLICE_F_NONBLOCK"],
                                                  "user_data": 0, "sqe_flags": []})
    assert op_fds(parse_sqe(raw)) == (6, 7)  # type: ignore[arg-type]
    assert op(dec, mem, sqe(3, fd=8), 0) == ("IORING_OP_FSYNC",
                                             {"fd": 8, "user_data": 0, "sqe_flags": []})
    assert op(dec, mem, sqe(200, fd=8), 0)[0] == "IORING_OP_UNKNOWN_200"


def test_sqe_unions() -> None:
    s = parse_sqe(sqe(30, fd=3, addr=0x10, off=0x20, file_index=-5 & 0xFFFFFFFF,
                            flags=1))
    assert s is not None
    assert (s.splice_fd_in, s.splice_off_in, s.addr2, s.fixed_file) == (-5, 0x10, 0x20, True)
    assert parse_sqe(b"\0" * 63) is None
    assert op_fds(parse_sqe(sqe(45, fd=2))) == ()  # type: ignore[arg-type]


def test_enter_and_setup_args() -> None:
    assert enter_args((4, 1, 0, 0x1 | 0x10, 0, 8)) == {
        "fd": 4, "to_submit": 1, "min_complete": 0,
        "flags": ["IORING_ENTER_GETEVENTS", "IORING_ENTER_REGISTERED_RING"]}
    lay = parse_params(params(flags=0x2))
    assert setup_args(8, lay, 0x2)["flags"] == ["IORING_SETUP_SQPOLL"]
    assert setup_args(8, None, 0x10000) == {"entries": 8,
                                                  "flags": ["IORING_SETUP_NO_SQARRAY"]}


def test_address_read_within_the_room_given_at_submission(dec: Decoder) -> None:
    """An ACCEPT's *addrlen is the caller's room at submission and the address's full length
    at completion: the address is read within the room (a 16-byte buffer for an AF_INET6
    peer keeps the family and port, `truncated`)."""
    ring, mem = make_ring()
    buf = mem.write(0x1000, b"\0" * 16)
    lenp = mem.write(0x2000, struct.pack("=I", 16))
    queue(ring, mem, 0, [(0, sqe(13, fd=3, addr=buf, off=lenp, user_data=1))])
    (s,) = ring.submissions(mem.read, decoder=dec)
    assert s.entry == {"addrlen_in": 16}
    six = struct.pack("=H", socket.AF_INET6) + struct.pack("!H", 4242) + b"\0" * 4 + \
        socket.inet_pton(socket.AF_INET6, "::1") + b"\0" * 4
    mem.write(buf, six[:16])  # the kernel copies what fits, reports 28
    mem.write(lenp, struct.pack("=I", 28))
    name, args = op_args(s, mem.read, dec, 5)
    assert args["addr"] == {"family": "AF_INET6", "port": 4242, "flowinfo": 0,
                            "truncated": True}
    # without what was read at submission the reported length is trusted
    assert "truncated" not in op_args(replace(s, entry=None), mem.read, dec, 5)[1]["addr"]


def test_recvmsg_name_room(dec: Decoder) -> None:
    mem = Mem()
    name_ = mem.write(0x3000, sin("127.0.0.1", 7))
    hdr = mem.write(0x4000, struct.pack("=QI4xQQQQi4x", name_, 16, 0, 0, 0, 0, 0))
    s = parse_sqe(sqe(10, fd=5, addr=hdr, length=1))
    assert s is not None
    assert sqe_entry(s, mem.read, dec) == {"namelen_in": 16}
    recv = parse_sqe(sqe(27, fd=5))
    assert recv is not None and sqe_entry(recv, mem.read, dec) is None


def test_registered_files(dec: Decoder) -> None:
    ring, mem = make_ring()
    fds = mem.write(0x1000, struct.pack("=4i", 5, -1, 7, 9))
    assert ring.register(REGISTER_FILES, fds, 4, mem.read)
    assert ring.files == {0: 5, 2: 7, 3: 9}
    upd = mem.write(0x2000, struct.pack("=IIQ", 1, 0, mem.write(0x3000, struct.pack("=2i", 6, -2))))
    assert ring.register(REGISTER_FILES_UPDATE, upd, 2, mem.read)
    assert ring.files == {0: 5, 1: 6, 2: 7, 3: 9}
    sparse = mem.write(0x4000, struct.pack("=IIQQQ", 8, 1, 0, 0, 0))
    assert ring.register(REGISTER_FILES2 | REGISTER_USE_REGISTERED_RING, sparse, 24,
                         mem.read)
    assert ring.files == {}
    upd2 = mem.write(0x5000, struct.pack("=IIQQII", 3, 0, fds, 0, 1, 0))
    assert ring.register(REGISTER_FILES_UPDATE2, upd2, 32, mem.read)
    assert ring.files == {3: 5}
    assert ring.register(UNREGISTER_FILES, 0, 0, mem.read) and ring.files == {}
    assert not ring.register(0, 0, 0, mem.read)  # IORING_REGISTER_BUFFERS
    name, args = op(dec, mem, sqe(20, fd=-1, addr=fds, length=2, off=4), 2)
    assert (name, args["offset"], args["fds"]) == ("IORING_OP_FILES_UPDATE", 4, [5, -1])
