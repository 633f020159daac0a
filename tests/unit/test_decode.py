"""The argument decoders on hand-made memory: sockaddrs (and addresses cut short by the
caller's buffer), flag sets, options, data capture, msghdr/iovec, mmsghdr vectors,
sendfile/copy_file_range/vmsplice/tee, poll/select/epoll structures."""

from __future__ import annotations

import socket
import struct

import pytest

from harness.tracer.decode import ADDRLEN_ENTRY_CALLS, Decoder
from harness.tracer.decode_mem import Snapshot, escape, signed, signed32
from harness.tracer.tables import load_tables


class Mem:
    """Tracee memory made of a few blobs at given addresses; reads behave like
    decode.Memory (None for a null pointer, a size <= 0 or an unmapped address; short reads
    at the end of a blob)."""

    def __init__(self, **blobs: bytes):
        self.blobs: dict[int, bytes] = {}
        self.next = 0x10000
        self.named = {name: self.put(data) for name, data in blobs.items()}

    def put(self, data: bytes) -> int:
        addr = self.next
        self.blobs[addr] = data
        self.next += (len(data) + 0x1000) & ~0xFFF
        return addr

    def __getitem__(self, name: str) -> int:
        return self.named[name]

    def read(self, addr: int, size: int) -> bytes | None:
        if not addr or size <= 0:
            return None
        for base, data in self.blobs.items():
            if base <= addr < base + len(data):
                return data[addr - base: addr - base + size]
        return None

    def u32(self, addr: int) -> int | None:
        raw = self.read(addr, 4)
        return struct.unpack("=I", raw)[0] if raw and len(raw) == 4 else None

    def i32(self, addr: int) -> int | None:
        raw = self.read(addr, 4)
        return struct.unpack("=i", raw)[0] if raw and len(raw) == 4 else None


@pytest.fixture(scope="module")
def dec() -> Decoder:
    return Decoder(load_tables(), 64)


def args6(*a: int) -> tuple[int, ...]:
    return tuple(a) + (0,) * (6 - len(a))


def sin(addr: str, port: int) -> bytes:
    return struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + \
        socket.inet_aton(addr) + b"\0" * 8


def sin6(addr: str, port: int, flowinfo: int = 0, scope_id: int = 0) -> bytes:
    return struct.pack("=H", socket.AF_INET6) + struct.pack("!H", port) + \
        struct.pack("!I", flowinfo) + socket.inet_pton(socket.AF_INET6, addr) + \
        struct.pack("=I", scope_id)


def sun(path: bytes) -> bytes:
    return struct.pack("=H", socket.AF_UNIX) + path


# -- sockaddr ---------------------------------------------------------------------------------


def test_sockaddr_inet(dec):
    assert dec.sockaddr(sin("127.0.0.1", 40123)) == {
        "family": "AF_INET", "address": "127.0.0.1", "port": 40123}
    assert dec.sockaddr(sin("10.1.2.3", 1)) == {
        "family": "AF_INET", "address": "10.1.2.3", "port": 1}


def test_sockaddr_inet6(dec):
    assert dec.sockaddr(sin6("::1", 443)) == {
        "family": "AF_INET6", "address": "::1", "port": 443, "flowinfo": 0, "scope_id": 0}
    # sin6_flowinfo is in network byte order, sin6_scope_id in host order
    assert dec.sockaddr(sin6("fe80::1", 8080, flowinfo=0x12345, scope_id=3)) == {
        "family": "AF_INET6", "address": "fe80::1", "port": 8080, "flowinfo": 0x12345,
        "scope_id": 3}


def test_sockaddr_v4mapped(dec):
    assert dec.sockaddr(sin6("::ffff:127.0.0.1", 40123)) == {
        "family": "AF_INET6", "address": "::ffff:127.0.0.1", "port": 40123, "flowinfo": 0,
        "scope_id": 0, "v4mapped": "127.0.0.1"}
    # the v4-compatible form (no ffff) is not v4-mapped
    assert "v4mapped" not in dec.sockaddr(sin6("::7f00:1", 1))


def test_sockaddr_unix(dec):
    assert dec.sockaddr(sun(b"/tmp/x/sock\0")) == {"family": "AF_UNIX", "path": "/tmp/x/sock"}
    # what follows the terminating NUL is not part of the path
    assert dec.sockaddr(sun(b"/tmp/s\0garbage")) == {"family": "AF_UNIX", "path": "/tmp/s"}
    assert dec.sockaddr(sun(b"\0name")) == {"family": "AF_UNIX", "abstract": "name"}
    # abstract names are taken whole, NULs and all, escaped
    assert dec.sockaddr(sun(b"\0a\0b\x01")) == {"family": "AF_UNIX", "abstract": "a\\x00b\\x01"}
    assert dec.sockaddr(sun(b"")) == {"family": "AF_UNIX"}


def test_sockaddr_other_families_and_short_input(dec):
    assert dec.sockaddr(struct.pack("=H", 16) + b"\0" * 10) == {"family": "AF_NETLINK"}
    assert dec.sockaddr(struct.pack("=H", 250) + b"\0" * 10) == {"family": 250}
    assert dec.sockaddr(struct.pack("=H", 2) + b"\0\x50") == {"family": "AF_INET"}
    assert dec.sockaddr(b"\x02") is None
    assert dec.sockaddr(None) is None


def test_addr_in_and_out(dec):
    m = Mem(addr=sin("127.0.0.1", 80), length=struct.pack("=I", 16), zero=struct.pack("=I", 0))
    assert dec.addr_in(m, m["addr"], 16)["port"] == 80
    assert dec.addr_in(m, 0, 16) is None
    assert dec.addr_out(m, m["addr"], m["length"])["address"] == "127.0.0.1"
    assert dec.addr_out(m, m["addr"], m["zero"]) is None  # the kernel returned no address
    assert dec.addr_out(m, m["addr"], 0) is None


# -- socket calls -----------------------------------------------------------------------------


def test_socket_type_flags_and_protocol(dec):
    assert dec.socket(Mem(), args6(2, 1 | 0x800 | 0x80000, 6), 3) == {
        "domain": "AF_INET", "type": "SOCK_STREAM",
        "type_flags": ["SOCK_NONBLOCK", "SOCK_CLOEXEC"], "protocol": "IPPROTO_TCP"}
    assert dec.socket(Mem(), args6(1, 2, 0), 3) == {
        "domain": "AF_UNIX", "type": "SOCK_DGRAM", "type_flags": [], "protocol": 0}
    # unknown bits are kept, as one hex string at the end
    assert dec.socket(Mem(), args6(10, 1 | 0x80000 | 0x100000), 3)["type_flags"] == [
        "SOCK_CLOEXEC", "0x100000"]
    assert dec.socket(Mem(), args6(99, 1), 3)["domain"] == 99


def test_accept4_shutdown_listen(dec):
    m = Mem(addr=sin("127.0.0.1", 5555), length=struct.pack("=I", 16))
    assert dec.accept4(m, args6(3, m["addr"], m["length"], 0x80800), 5) == {
        "fd": 3, "addr": {"family": "AF_INET", "address": "127.0.0.1", "port": 5555},
        "flags": ["SOCK_NONBLOCK", "SOCK_CLOEXEC"]}
    # a failed accept filled in nothing
    assert dec.accept4(m, args6(3, m["addr"], m["length"], 0), -11)["addr"] is None
    assert dec.accept(m, args6(3, 0, 0), 5) == {"fd": 3, "addr": None}
    assert [dec.shutdown(m, args6(4, how), 0)["how"] for how in (0, 1, 2, 7)] == [
        "SHUT_RD", "SHUT_WR", "SHUT_RDWR", 7]
    assert dec.listen(m, args6(3, (1 << 32) - 1), 0) == {"fd": 3, "backlog": -1}


def test_setsockopt_and_getsockopt(dec):
    m = Mem(one=struct.pack("=i", 1), linger=struct.pack("=ii", 1, 5),
            tv=struct.pack("=qq", 2, 500), cc=b"cubic\0\0\0", len4=struct.pack("=I", 4))
    assert dec.setsockopt(m, args6(3, 6, 1, m["one"], 4), 0) == {
        "fd": 3, "level": "SOL_TCP", "optname": "TCP_NODELAY", "value": 1, "optlen": 4}
    assert dec.setsockopt(m, args6(3, 1, 2, m["one"], 4), 0) == {
        "fd": 3, "level": "SOL_SOCKET", "optname": "SO_REUSEADDR", "value": 1, "optlen": 4}
    assert dec.setsockopt(m, args6(3, 1, 13, m["linger"], 8), 0)["value"] == {
        "onoff": 1, "linger": 5}
    assert dec.setsockopt(m, args6(3, 1, 20, m["tv"], 16), 0)["value"] == {"sec": 2, "usec": 500}
    assert dec.setsockopt(m, args6(3, 6, 13, m["cc"], 8), 0)["value"] == "cubic"
    assert dec.setsockopt(m, args6(3, 41, 26, m["one"], 4), 0)["optname"] == "IPV6_V6ONLY"
    # the option table is the level's: option 1 at SOL_IP is IP_TOS, not TCP_NODELAY
    assert dec.setsockopt(m, args6(3, 0, 1, m["one"], 4), 0)["optname"] == "IP_TOS"
    # unknown level: both stay numbers
    assert dec.setsockopt(m, args6(3, 999, 7, m["one"], 4), 0)[
        "level"] == 999
    assert dec.setsockopt(m, args6(3, 999, 7, m["one"], 4), 0)["optname"] == 7
    # a failed call has no value
    assert dec.setsockopt(m, args6(3, 6, 1, m["one"], 4), -22)["value"] is None
    # getsockopt: the length is the one the kernel wrote back
    assert dec.getsockopt(m, args6(3, 1, 4, m["one"], m["len4"]), 0) == {
        "fd": 3, "level": "SOL_SOCKET", "optname": "SO_ERROR", "value": 1, "optlen": 4}


def test_msg_flags(dec):
    assert dec.msg_flags.flags(0x4000 | 0x40) == ["MSG_DONTWAIT", "MSG_NOSIGNAL"]
    assert dec.msg_flags.flags(0x4000 | 0x80000000) == ["MSG_NOSIGNAL", "0x80000000"]
    assert dec.msg_flags.flags(0) == []


# -- data ---------------------------------------------------------------------------------------


PAYLOAD = b"line\n\x00\\tail" + b"x" * 89


def test_sendto_data_capture():
    m = Mem(buf=PAYLOAD, to=sin("127.0.0.1", 9))
    d16 = Decoder(load_tables(), 16)
    assert d16.sendto(m, args6(3, m["buf"], 100, 0x4000), 100) == {
        "fd": 3, "size": 100, "flags": ["MSG_NOSIGNAL"], "data": "line\\n\\x00\\\\tailxxxxx",
        "data_len": 100, "data_truncated": True}
    assert Decoder(load_tables(), 0).sendto(m, args6(3, m["buf"], 100, 0), 100) == {
        "fd": 3, "size": 100, "flags": [], "data_len": 100}
    full = Decoder(load_tables(), 200).sendto(m, args6(3, m["buf"], 100, 0, m["to"], 16), 100)
    assert full["data"] == escape(PAYLOAD) and "data_truncated" not in full
    assert full["addr"] == {"family": "AF_INET", "address": "127.0.0.1", "port": 9}
    # a partial send: the data is what was sent
    assert d16.sendto(m, args6(3, m["buf"], 100, 0), 4)["data"] == "line"
    assert d16.sendto(m, args6(3, m["buf"], 100, 0), 0) == {
        "fd": 3, "size": 100, "flags": [], "data_len": 0}
    assert d16.sendto(m, args6(3, m["buf"], 100, 0), -32) == {"fd": 3, "size": 100, "flags": []}


def test_recvfrom_truncated_datagram_is_not_read_past_the_buffer(dec):
    """recvfrom(MSG_TRUNC) returns the datagram's full length, larger than the buffer: the
    data is what the buffer holds, not the memory after it."""
    m = Mem(buf=b"abcdSECRET")
    args = dec.recvfrom(m, args6(3, m["buf"], 4, 0x20), 10)
    assert args == {"fd": 3, "size": 4, "flags": ["MSG_TRUNC"], "data": "abcd", "data_len": 10,
                    "data_truncated": True}


def msghdr(m: Mem, name: bytes | None, iovs: list[bytes | None], namelen: int | None = None) -> int:
    iov = b"".join(struct.pack("=QQ", m.put(b) if b else 0, len(b or b"")) for b in iovs)
    name_ptr = m.put(name) if name else 0
    return m.put(struct.pack("=QI4xQQQQi4x", name_ptr,
                             len(name or b"") if namelen is None else namelen,
                             m.put(iov), len(iovs), 0, 0, 0))


def test_sendmsg_and_recvmsg(dec):
    m = Mem()
    hdr = msghdr(m, sin("127.0.0.1", 53), [b"ab", b"cd", b"ef"])
    assert dec.decoders["sendmsg"](m, args6(3, hdr, 0x4000), 6) == {
        "fd": 3, "flags": ["MSG_NOSIGNAL"], "addr": {"family": "AF_INET",
                                                     "address": "127.0.0.1", "port": 53},
        "iovcnt": 3, "controllen": 0, "size": 6, "data": "abcdef", "data_len": 6}
    # only what was transferred counts
    assert dec.decoders["sendmsg"](m, args6(3, hdr, 0), 3)["data"] == "abc"
    # an empty buffer in between holds nothing, the next one does
    hdr = msghdr(m, None, [b"", b"hello"])
    assert dec.decoders["sendmsg"](m, args6(3, hdr, 0), 5) == {
        "fd": 3, "flags": [], "iovcnt": 2, "controllen": 0, "size": 5, "data": "hello",
        "data_len": 5}


def test_failed_recvmsg_has_no_address(dec):
    m = Mem()
    hdr = msghdr(m, b"\0" * 16, [b"\0" * 8], namelen=16)
    assert dec.decoders["recvmsg"](m, args6(3, hdr, 0x40), -11) == {
        "fd": 3, "flags": ["MSG_DONTWAIT"], "iovcnt": 1, "controllen": 0, "size": 8}


def test_readv_writev(dec):
    m = Mem()
    iov = m.put(struct.pack("=QQQQ", m.put(b"hel"), 3, m.put(b"lo"), 2))
    assert dec.rwv(m, args6(4, iov, 2), 5) == {"fd": 4, "iovcnt": 2, "size": 5,
                                               "data": "hello", "data_len": 5}
    d2 = Decoder(load_tables(), 2)
    assert d2.rwv(m, args6(4, iov, 2), 5) == {"fd": 4, "iovcnt": 2, "size": 5, "data": "he",
                                              "data_len": 5, "data_truncated": True}
    # a receive into room for 8 that got 3: the size is the room, data_len what came
    room = m.put(struct.pack("=QQQQ", m.put(b"abc\0"), 4, m.put(b"\0\0\0\0"), 4))
    assert dec.rwv(m, args6(4, room, 2), 3) == {"fd": 4, "iovcnt": 2, "size": 8,
                                                "data": "abc", "data_len": 3}
    # no iovecs at all (iovcnt 0): room for nothing
    assert dec.rwv(m, args6(4, 0, 0), 0) == {"fd": 4, "iovcnt": 0, "size": 0, "data_len": 0}


# -- addresses within the caller's bounds (issue 16 §5) ------------------------------------------

# what a 16-byte buffer holds after accept() of an AF_INET6 peer: the kernel copied the first 16
# bytes of the 28 and reported 28; the rest is whatever the buffer held before (here 0xa5)
PEER6 = sin6("::1", 40000, flowinfo=7, scope_id=0)
JUNK = b"\xa5" * 16


def u32(n: int) -> bytes:
    return struct.pack("=I", n)


def test_sockaddr_head_decodes_only_the_fields_that_fit(dec):
    six = sin6("fe80::1", 8080, flowinfo=5, scope_id=3)
    assert dec.sockaddr(six[:2], truncated=True) == {"family": "AF_INET6", "truncated": True}
    assert dec.sockaddr(six[:4], truncated=True) == {"family": "AF_INET6", "port": 8080,
                                                     "truncated": True}
    assert dec.sockaddr(six[:16], truncated=True) == {"family": "AF_INET6", "port": 8080,
                                                      "flowinfo": 5, "truncated": True}
    # 24 bytes: everything but sin6_scope_id
    assert dec.sockaddr(six[:24], truncated=True) == {
        "family": "AF_INET6", "address": "fe80::1", "port": 8080, "flowinfo": 5,
        "truncated": True}
    assert dec.sockaddr(sin6("::ffff:127.0.0.1", 1)[:24], truncated=True)["v4mapped"] == \
        "127.0.0.1"
    four = sin("10.0.0.1", 80)
    assert dec.sockaddr(four[:6], truncated=True) == {"family": "AF_INET", "port": 80,
                                                      "truncated": True}
    assert dec.sockaddr(four[:8], truncated=True) == {"family": "AF_INET", "address": "10.0.0.1",
                                                      "port": 80, "truncated": True}
    # a unix path cut short is no address: the family only
    assert dec.sockaddr(sun(b"/tmp/some/sock"), truncated=True) == {"family": "AF_UNIX",
                                                                    "truncated": True}
    # fewer than 2 bytes: not even the family
    assert dec.sockaddr(six[:1], truncated=True) is None


def test_accept_reads_the_address_within_the_callers_buffer(dec):
    """socat's accept: 16 bytes of room for an AF_INET6 peer, 28 reported."""
    m = Mem(addr=PEER6[:16] + JUNK, length=u32(28), buflen=u32(16))
    a = args6(3, m["addr"], m["length"])
    # the caller's length is read at entry (the kernel overwrites it): 16
    assert dec.addrlen_entry(m, args6(3, m["addr"], m["buflen"]), "accept") == {"addrlen_in": 16}
    assert dec.accept(m, a, 5, entry={"addrlen_in": 16}) == {
        "fd": 3, "addr": {"family": "AF_INET6", "port": 40000, "flowinfo": 7,
                          "truncated": True}}
    assert dec.decoders["accept4"](m, a + (), 5, entry={"addrlen_in": 16}) == {
        "fd": 3, "addr": {"family": "AF_INET6", "port": 40000, "flowinfo": 7,
                          "truncated": True}, "flags": []}
    # without what was read at entry: the reported length is trusted (and the junk read)
    assert dec.accept(m, a, 5)["addr"]["address"] == "::a5a5:a5a5:a5a5:a5a5"
    # room enough: the whole address, no mark
    m = Mem(addr=PEER6, length=u32(28))
    assert dec.accept(m, args6(3, m["addr"], m["length"]), 5, entry={"addrlen_in": 128}) == {
        "fd": 3, "addr": {"family": "AF_INET6", "address": "::1", "port": 40000,
                          "flowinfo": 7, "scope_id": 0}}
    # an entry with nothing in it (no address asked for, or unreadable): as without one
    assert dec.accept(m, args6(3, m["addr"], m["length"]), 5, entry={})["addr"]["port"] == 40000
    # room for nothing: no address
    assert dec.accept(m, args6(3, m["addr"], m["length"]), 5,
                      entry={"addrlen_in": 0}) == {"fd": 3, "addr": None}


def test_getpeername_getsockname_within_the_callers_buffer(dec):
    m = Mem(addr=PEER6[:8] + JUNK, length=u32(28), two=u32(2))
    a = args6(5, m["addr"], m["length"])
    assert dec.decoders["getpeername"](m, a, 0, entry={"addrlen_in": 8}) == {
        "fd": 5, "addr": {"family": "AF_INET6", "port": 40000, "flowinfo": 7,
                          "truncated": True}}
    assert dec.decoders["getsockname"](m, a, 0, entry={"addrlen_in": 2}) == {
        "fd": 5, "addr": {"family": "AF_INET6", "truncated": True}}
    assert dec.addrlen_entry(m, args6(5, m["addr"], m["two"]), "getsockname") == {
        "addrlen_in": 2}
    # no address asked for: nothing to keep
    assert dec.addrlen_entry(m, args6(5, 0, 0), "getpeername") == {}
    assert dec.addrlen_entry(m, args6(5, m["addr"], 0), "accept4") == {}


def test_recvfrom_address_within_the_callers_buffer(dec):
    m = Mem(buf=b"one", addr=PEER6[:16] + JUNK, length=u32(28), room=u32(16))
    a = args6(6, m["buf"], 8, 0, m["addr"], m["length"])
    assert dec.addrlen_entry(m, args6(6, m["buf"], 8, 0, m["addr"], m["room"]),
                             "recvfrom") == {"addrlen_in": 16}
    assert dec.addrlen_entry(m, args6(6, m["buf"], 8, 0, 0, 0), "recvfrom") == {}
    assert dec.recvfrom(m, a, 3, entry={"addrlen_in": 16}) == {
        "fd": 6, "size": 8, "flags": [], "data": "one", "data_len": 3,
        "addr": {"family": "AF_INET6", "port": 40000, "flowinfo": 7, "truncated": True}}
    # decoded later from what the tracer copied at the stop (its length and the reported
    # length's bytes of address), as recvfrom, a deferred transfer, is
    snap = Snapshot([(m["buf"], b"one"), (m["length"], u32(28)),
                     (m["addr"], PEER6[:16] + JUNK[:12])])
    assert dec.decoders["recvfrom"](snap, a, 3, entry={"addrlen_in": 16})["addr"] == {
        "family": "AF_INET6", "port": 40000, "flowinfo": 7, "truncated": True}


def test_recvmsg_name_within_msg_namelen_given(dec):
    m = Mem()
    name = m.put(PEER6[:8] + JUNK)
    iov = m.put(struct.pack("=QQ", m.put(b"two\0\0\0\0\0"), 8))
    hdr = m.put(struct.pack("=QI4xQQQQi4x", name, 28, iov, 1, 0, 0, 0))  # as at exit
    assert dec.addrlen_entry(m, args6(6, m.put(struct.pack("=QI4xQQQQi4x", name, 8, iov, 1,
                                                           0, 0, 0)), 0), "recvmsg") == {
        "namelen_in": 8}
    assert dec.recvmsg(m, args6(6, hdr, 0), 3, entry={"namelen_in": 8}) == {
        "fd": 6, "flags": [], "addr": {"family": "AF_INET6", "port": 40000, "flowinfo": 7,
                                       "truncated": True},
        "iovcnt": 1, "controllen": 0, "size": 8, "data": "two", "data_len": 3}
    # no msg_name: nothing to keep
    nameless = m.put(struct.pack("=QI4xQQQQi4x", 0, 0, iov, 1, 0, 0, 0))
    assert dec.addrlen_entry(m, args6(6, nameless, 0), "recvmsg") == {}
    # a send's msg_namelen is the caller's own: no entry, never truncated
    full = m.put(PEER6)
    sent = m.put(struct.pack("=QI4xQQQQi4x", full, 28, iov, 1, 0, 0, 0))
    assert "truncated" not in dec.sendmsg(m, args6(6, sent, 0), 8)["addr"]


def test_every_call_read_at_entry_takes_what_was_read(dec):
    """The tracer hands what addrlen_entry read to these decoders as `entry`."""
    m = Mem(zero=b"\0" * 64)
    for name in ADDRLEN_ENTRY_CALLS:
        a = args6(3, m["zero"], 1, 0, m["zero"], m["zero"])
        entry = dec.addrlen_entry(m, a, name)
        assert isinstance(entry, dict)
        assert isinstance(dec.decoders[name](m, a, -9, entry=entry), dict)
        assert isinstance(dec.decoders[name](m, a, -9, entry=None), dict)


# -- sendmmsg / recvmmsg ------------------------------------------------------------------------


def mmsgvec(m: Mem, msgs: list[tuple[bytes | None, int, list[bytes], int, int]]) -> int:
    """An array of struct mmsghdr: (name, msg_namelen, iovecs, msg_flags, msg_len) each."""
    raw = b""
    for name, namelen, iovs, flags, msg_len in msgs:
        iov = b"".join(struct.pack("=QQ", m.put(b), len(b)) for b in iovs)
        raw += struct.pack("=QI4xQQQQi4xI4x", m.put(name) if name else 0, namelen,
                           m.put(iov), len(iovs), 0, 0, flags, msg_len)
    return m.put(raw)


def test_sendmmsg_message_by_message(dec):
    m = Mem()
    to = sin("127.0.0.1", 7)
    vec = mmsgvec(m, [(to, 16, [b"one"], 0, 3), (to, 16, [b"tw", b"o!"], 0, 4),
                      (None, 0, [b"three"], 0, 0)])
    to_addr = {"family": "AF_INET", "address": "127.0.0.1", "port": 7}
    # two of the three sent: only those are listed (each msg_len as the kernel wrote it)
    assert dec.decoders["sendmmsg"](m, args6(3, vec, 3, 0x4000), 2) == {
        "fd": 3, "vlen": 3, "flags": ["MSG_NOSIGNAL"], "msgs": [
            {"addr": to_addr, "size": 3, "data": "one", "data_len": 3, "controllen": 0},
            {"addr": to_addr, "size": 4, "data": "two!", "data_len": 4, "controllen": 0}]}
    # failed: no message
    assert dec.sendmmsg(m, args6(3, vec, 3, 0), -11) == {"fd": 3, "vlen": 3, "flags": [],
                                                         "msgs": []}
    # a message without msg_name has no addr
    vec = mmsgvec(m, [(None, 0, [b"hi"], 0, 2)])
    assert dec.sendmmsg(m, args6(3, vec, 1, 0), 1)["msgs"] == [
        {"size": 2, "data": "hi", "data_len": 2, "controllen": 0}]


def test_recvmmsg_message_by_message(dec):
    m = Mem()
    peer = sin("127.0.0.1", 9000)
    # at exit: msg_namelen is the kernel's (16), msg_len what came, msg_flags set
    vec = mmsgvec(m, [(peer, 16, [b"one\0\0\0\0\0"], 0, 3),
                      (peer, 16, [b"two-and-more"], 0x20, 20),  # MSG_TRUNC: 20 > the 12 held
                      (b"\0" * 16, 16, [b"\0" * 8], 0, 0)])
    peer_addr = {"family": "AF_INET", "address": "127.0.0.1", "port": 9000}
    assert dec.decoders["recvmmsg"](m, args6(4, vec, 3, 0x40), 2) == {
        "fd": 4, "vlen": 3, "flags": ["MSG_DONTWAIT"], "msgs": [
            {"addr": peer_addr, "size": 8, "data": "one", "data_len": 3, "flags": [],
             "controllen": 0},
            {"addr": peer_addr, "size": 12, "data": "two-and-more", "data_len": 20,
             "data_truncated": True, "flags": ["MSG_TRUNC"], "controllen": 0}]}
    # with the msg_namelen given at entry: the second message's buffer held 4 bytes
    assert dec.recvmmsg(m, args6(4, vec, 3, 0), 2, entry={"namelens_in": [16, 4, 16]})[
        "msgs"][1]["addr"] == {"family": "AF_INET", "port": 9000, "truncated": True}
    assert dec.addrlen_entry(m, args6(4, vec, 3), "recvmmsg") == {"namelens_in": [16, 16, 16]}
    nameless = mmsgvec(m, [(None, 0, [b"x"], 0, 0), (peer, 16, [b"y"], 0, 0)])
    assert dec.addrlen_entry(m, args6(4, nameless, 2), "recvmmsg") == {
        "namelens_in": [None, 16]}
    assert dec.recvmmsg(m, args6(4, vec, 3, 0), -11)["msgs"] == []


def test_mmsg_reads_at_most_64_messages():
    m = Mem()
    vec = mmsgvec(m, [(None, 0, [b"m%d" % i], 0, 2 + (i >= 10)) for i in range(70)])
    args = Decoder(load_tables(), 64).sendmmsg(m, args6(3, vec, 70, 0), 70)
    assert len(args["msgs"]) == 64 and args["msgs_truncated"] is True
    assert args["msgs"][63] == {"size": 3, "data": "m63", "data_len": 3, "controllen": 0}
    assert "msgs_truncated" not in Decoder(load_tables(), 64).sendmmsg(
        m, args6(3, vec, 70, 0), 64)


# -- sendfile, copy_file_range, vmsplice, tee ---------------------------------------------------


def test_sendfile(dec):
    m = Mem(off=struct.pack("=q", 14))  # as at exit: the kernel advanced it by the 14 moved
    assert dec.decoders["sendfile"](m, args6(5, 6, m["off"], 100), 14) == {
        "out_fd": 5, "in_fd": 6, "count": 100, "offset": 0, "data_len": 14}
    # no offset given: the file's own position, not shown
    assert dec.sendfile(m, args6(5, 6, 0, 100), 14) == {"out_fd": 5, "in_fd": 6, "count": 100,
                                                        "data_len": 14}
    assert dec.sendfile(m, args6(5, 6, m["off"], 100), -32) == {
        "out_fd": 5, "in_fd": 6, "count": 100, "offset": 14}


def test_copy_file_range(dec):
    m = Mem()
    assert dec.decoders["copy_file_range"](m, args6(3, 0, 7, 0x1000, 64, 0), 10) == {
        "fd_in": 3, "fd_out": 7, "len": 64, "flags": [], "off_out": True, "data_len": 10}
    assert dec.copy_file_range(m, args6(3, 0, 7, 0, 64, 2), -22) == {
        "fd_in": 3, "fd_out": 7, "len": 64, "flags": ["0x2"]}


def test_vmsplice_and_tee(dec):
    m = Mem()
    iov = m.put(struct.pack("=QQQQ", m.put(b"he"), 2, m.put(b"llo"), 3))
    assert dec.decoders["vmsplice"](m, args6(6, iov, 2, 0x8), 5) == {
        "fd": 6, "iovcnt": 2, "flags": ["SPLICE_F_GIFT"], "size": 5, "data": "hello",
        "data_len": 5}
    assert dec.vmsplice(m, args6(6, iov, 2, 0), -9) == {"fd": 6, "iovcnt": 2, "flags": [],
                                                        "size": 5}
    assert dec.decoders["tee"](m, args6(5, 8, 4096, 0x2), 4) == {
        "fd_in": 5, "fd_out": 8, "len": 4096, "flags": ["SPLICE_F_NONBLOCK"]}


# -- fd calls -----------------------------------------------------------------------------------


def test_fcntl(dec):
    m = Mem()
    assert dec.fcntl(m, args6(4, 4, 0x802), 0) == {"fd": 4, "cmd": "F_SETFL",
                                                   "arg": ["O_RDWR", "O_NONBLOCK"]}
    assert dec.fcntl(m, args6(4, 4, 0x800), 0)["arg"] == ["O_RDONLY", "O_NONBLOCK"]
    assert dec.fcntl(m, args6(4, 3, 0xDEAD), 0x802) == {
        "fd": 4, "cmd": "F_GETFL", "arg": None, "result_flags": ["O_RDWR", "O_NONBLOCK"]}
    assert dec.fcntl(m, args6(4, 2, 1), 0) == {"fd": 4, "cmd": "F_SETFD", "arg": ["FD_CLOEXEC"]}
    assert dec.fcntl(m, args6(4, 1, 0), 1) == {"fd": 4, "cmd": "F_GETFD", "arg": None,
                                               "result_flags": ["FD_CLOEXEC"]}
    assert dec.fcntl(m, args6(4, 0, 20), 20) == {"fd": 4, "cmd": "F_DUPFD", "arg": 20}
    assert dec.fcntl(m, args6(4, 1030, 3), 7)["cmd"] == "F_DUPFD_CLOEXEC"
    assert dec.fcntl(m, args6(4, 4242, 1), -22)["cmd"] == 4242


def test_ioctl(dec):
    m = Mem(one=struct.pack("=i", 1))
    assert dec.ioctl(m, args6(5, 0x5421, m["one"]), 0) == {"fd": 5, "request": "FIONBIO",
                                                           "arg": 1}
    assert dec.ioctl(m, args6(5, 0x5451, 0), 0) == {"fd": 5, "request": "FIOCLEX", "arg": 0}
    assert dec.ioctl(m, args6(5, 0x1234, 77), -25) == {"fd": 5, "request": 0x1234, "arg": 77}


def test_dup_close(dec):
    m = Mem()
    assert dec.dup3(m, args6(3, 11, 0x80000), 11) == {"oldfd": 3, "newfd": 11,
                                                      "flags": ["O_CLOEXEC"]}
    assert dec.dup2(m, args6(3, 10), 10) == {"oldfd": 3, "newfd": 10}
    assert dec.close(m, args6((1 << 64) - 1), -9) == {"fd": -1}
    assert dec.close_range(m, args6(3, 0xFFFFFFFF, 4), 0) == {
        "first": 3, "last": 0xFFFFFFFF, "flags": ["CLOSE_RANGE_CLOEXEC"]}


# -- readiness ----------------------------------------------------------------------------------


def test_poll_and_ppoll(dec):
    m = Mem(fds=struct.pack("=ihh", 4, 1, 1) + struct.pack("=ihh", 6, 4 | 0x2000, 0),
            ts=struct.pack("=qq", 1, 250_000_000))
    assert dec.poll(m, args6(m["fds"], 2, (1 << 32) - 1), 1) == {
        "fds": [{"fd": 4, "events": ["POLLIN"], "revents": ["POLLIN"]},
                {"fd": 6, "events": ["POLLOUT", "POLLRDHUP"], "revents": []}],
        "timeout_ms": None}
    assert dec.poll(m, args6(m["fds"], 1, 5000), 0)["timeout_ms"] == 5000
    assert dec.ppoll(m, args6(m["fds"], 1, m["ts"]), 0)["timeout_ms"] == 1250
    assert dec.ppoll(m, args6(m["fds"], 1, 0), 0)["timeout_ms"] is None


def test_select_and_pselect6(dec):
    bits = (1 << 3) | (1 << 70)
    m = Mem(rd=bits.to_bytes(16, "little"), tv=struct.pack("=qq", 1, 500_000),
            ts=struct.pack("=qq", 1, 500_000_000))
    assert dec.select_entry(m, args6(71, m["rd"], 0, 0)) == {
        "nfds": 71, "readfds": [3, 70], "writefds": None, "exceptfds": None,
        "timeout_ms": None}
    # the timeout asked for is read at entry (the kernel writes the time left back)
    assert dec.select_entry(m, args6(71, m["rd"], 0, 0, m["tv"]))["timeout_ms"] == 1500
    assert dec.select_entry(m, args6(71, m["rd"], 0, 0, m["ts"]), "pselect6")["timeout_ms"] \
        == 1500
    # select: a timeval (microseconds); pselect6: a timespec (nanoseconds)
    assert dec.decoders["select"](m, args6(71, m["rd"], 0, 0, m["tv"]), 2) == {"ready": [3, 70],
                                                                               "timeout_ms": 1500}
    assert dec.decoders["pselect6"](m, args6(71, m["rd"], 0, 0, m["ts"]), 2) == {"ready": [3, 70],
                                                                                 "timeout_ms": 1500}
    assert dec.select(m, args6(71, m["rd"], 0, 0, 0), 0) == {"ready": [], "timeout_ms": None}


def test_epoll(dec):
    m = Mem(ev=struct.pack("=IQ", 0x1 | 0x80000000, 0x1234),
            ready=struct.pack("=IQ", 0x1, 0x1234) + struct.pack("=IQ", 0x4 | 0x10, 7),
            ts=struct.pack("=qq", 0, 5_000_000))
    assert dec.epoll_ctl(m, args6(8, 1, 4, m["ev"]), 0) == {
        "epfd": 8, "op": "EPOLL_CTL_ADD", "fd": 4, "events": ["EPOLLIN", "EPOLLET"],
        "user_data": 0x1234}
    assert dec.epoll_ctl(m, args6(8, 2, 4, 0), 0) == {"epfd": 8, "op": "EPOLL_CTL_DEL",
                                                      "fd": 4, "events": None}
    assert dec.epoll_ready(m, args6(8, m["ready"], 4), 2) == [(1, 0x1234), (0x14, 7)]
    assert dec.epoll_ready(m, args6(8, m["ready"], 4), 0) == []
    assert dec.epoll_wait(m, args6(8, m["ready"], 4, (1 << 32) - 1), 2) == {
        "epfd": 8, "maxevents": 4, "timeout_ms": None}
    assert dec.epoll_pwait2(m, args6(8, m["ready"], 4, m["ts"]), 2)["timeout_ms"] == 5
    assert dec.epoll_create(m, args6(0x80000), 8) == {"flags": ["EPOLL_CLOEXEC"]}


# -- small pieces -------------------------------------------------------------------------------


def test_escape():
    assert escape(b"hello world") == "hello world"
    assert escape(b"a\\b") == "a\\\\b"
    assert escape(b"\n\r\t\x00\x7f\xff") == "\\n\\r\\t\\x00\\x7f\\xff"
    assert escape("é".encode()) == "\\xc3\\xa9"
    assert escape(b"") == ""


def test_signed(dec):
    assert signed((1 << 64) - 11) == -11 and signed(5) == 5
    assert signed32((1 << 32) - 1) == -1 and signed32((1 << 40) | 3) == 3
    assert dec.errno_name(-11) == "EAGAIN"
    assert dec.errno_name(-115) == "EINPROGRESS"
    assert dec.errno_name(-512) == "ERESTARTSYS"
    assert dec.errno_name(0) is None and dec.errno_name(5) is None
