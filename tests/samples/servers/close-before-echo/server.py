"""NEGATIVE CONTROL: deliberately closes the connection WITHOUT echoing.
It accepts, receives, then closes; no send call at all. Otherwise identical
to servers/python-stdlib/server.py."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((host, port))
        server.listen()
        conn, addr = server.accept()
        with conn:
            conn.recv(4096)
            # The deliberate difference: nothing is sent back.


if __name__ == "__main__":
    main()
