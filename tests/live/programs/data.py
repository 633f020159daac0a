"""Data capture: a 100-byte message with bytes that need escaping, sent on one end of a
socketpair and read on the other; then two buffers in one sendmsg.

events: socketpair, getsockname, getsockname (Python asks each end its family), sendto
(100 bytes), recvfrom (100 bytes), sendmsg (2 iovecs), recvmsg, close, close
"""

import socket

PAYLOAD = b"line\n\x00\\tail" + b"x" * 89  # 100 bytes

a, b = socket.socketpair()
a.sendall(PAYLOAD)
got = b""
while len(got) < len(PAYLOAD):
    got += b.recv(4096)
assert got == PAYLOAD, got
assert a.sendmsg([b"ab", b"cd"]) == 4
data, _, _, _ = b.recvmsg(16)
assert data == b"abcd", data
a.close()
b.close()
