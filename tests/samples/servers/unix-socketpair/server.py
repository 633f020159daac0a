"""NEGATIVE CONTROL: a "unix" server that deliberately never binds or
listens on PATH. It makes a connected pair of sockets with
socket.socketpair(), sends a few bytes from one end and receives them on
the other, then waits about a second and exits 0. Otherwise in the style
of servers/python-stdlib/server_unix.py.

No socket file is ever created, so a client cannot connect: it fails at
once (connect() gives ENOENT), and a harness that waits for the server's
listen() never sees one."""

import socket
import sys
import time


def main():
    path = sys.argv[1]  # deliberately unused: nothing is bound to it
    # The deliberate difference: a local socketpair instead of
    # socket(AF_UNIX) + bind(path) + listen() + accept().
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ping")
        right.recv(4096)
    time.sleep(1)


if __name__ == "__main__":
    main()
