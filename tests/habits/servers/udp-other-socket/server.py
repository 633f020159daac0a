"""HABIT: a UDP server that answers from a second socket (as TFTP does): the datagram is
received on the bound socket and sent back to its sender from a new, unbound one. The echo
arrives all the same, from another port."""

import socket
import sys


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        data, peer = sock.recvfrom(65536)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as reply:
            reply.sendto(data, peer)


if __name__ == "__main__":
    main()
