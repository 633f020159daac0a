"""Habit: a client that tries the IPv6 loopback first, as a resolver's list for "localhost"
may give it, is refused (the server listens on 127.0.0.1 only), closes that socket and
connects a second one to the run's address."""

import socket
import sys

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
s = None
for family, addr in ((socket.AF_INET6, "::1"), (socket.AF_INET, host)):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.connect((addr, port))
        break
    except OSError:
        s.close()
        s = None
assert s is not None
s.sendall(message)
got = b""
while len(got) < len(message):
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
sys.stdout.write(got.decode())
s.close()
