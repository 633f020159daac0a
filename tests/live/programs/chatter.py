"""Many socket calls, then a long wait: N round trips of 8 bytes over a socketpair, a line
"done" on stdout, then sleep until killed. The trace of the round trips is long enough to be
written in several batches while the program still runs.

Usage: chatter.py N"""

import socket
import sys
import time

n = int(sys.argv[1])
a, b = socket.socketpair()
for _ in range(n):
    a.send(b"8 bytes!")
    b.recv(64)
print("done", flush=True)
time.sleep(60)
