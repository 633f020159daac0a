"""ICMP echo client (what ping does) using the blocking socket module: a raw
socket (SOCK_RAW, IPPROTO_ICMP; needs CAP_NET_RAW) sends one echo request
(type 8) carrying the message, with the process id as its identifier and
sequence number 1, to the host; the kernel of the host answers it, there is
no server program. A raw socket gets a copy of every ICMP packet that arrives,
each with its IP header: on loopback the request itself too. So the client
reads until the echo reply (type 0) with its identifier and sequence, and
prints the reply's data unchanged."""

import os
import socket
import struct
import sys

ECHO_REQUEST, ECHO_REPLY = 8, 0


def checksum(data):
    """The Internet checksum (RFC 1071): the ones' complement of the ones'
    complement sum of the 16-bit words."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def main():
    host, message = sys.argv[1], sys.argv[2]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    ident, seq = os.getpid() & 0xFFFF, 1
    header = struct.pack("!BBHHH", ECHO_REQUEST, 0, 0, ident, seq)
    packet = struct.pack("!BBHHH", ECHO_REQUEST, 0, checksum(header + data),
                         ident, seq) + data
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.sendto(packet, (host, 0))
        while True:
            received, addr = s.recvfrom(65536)
            icmp = received[(received[0] & 0x0F) * 4:]  # after the IP header
            kind, _code, _sum, got_ident, got_seq = struct.unpack("!BBHHH", icmp[:8])
            if kind == ECHO_REPLY and (got_ident, got_seq) == (ident, seq):
                break
    sys.stdout.buffer.write(icmp[8:])
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
