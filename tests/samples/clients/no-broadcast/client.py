"""A broadcast client that forgets SO_BROADCAST: its sendto() to the broadcast
address fails with EACCES (Permission denied), and it exits with status 1."""

import os
import socket
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(os.fsencode(message), (host, port))  # no SO_BROADCAST: EACCES
        except PermissionError as e:
            print(f"sendto {host}:{port}: {e}", file=sys.stderr)
            sys.exit(1)
        received, _ = s.recvfrom(65536)
    sys.stdout.buffer.write(received)


if __name__ == "__main__":
    main()
