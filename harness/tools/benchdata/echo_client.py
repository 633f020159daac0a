"""Benchmark echo client (the traced program): N round trips of 16 bytes, then exit."""

import socket
import sys


def main() -> None:
    port, n = int(sys.argv[1]), int(sys.argv[2])
    payload = b"0123456789abcdef"
    with socket.create_connection(("127.0.0.1", port)) as s:
        for _ in range(n):
            s.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(s.recv(65536))


if __name__ == "__main__":
    main()
