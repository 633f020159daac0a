"""HABIT CONTROL: a UDP echo server that, after its echo, waits for a second datagram that
never comes. It is still blocked in recvfrom when the harness kills it: the report must show
that call as one that never returned, never as a completed receive."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        data, peer = sock.recvfrom(65536)
        sock.sendto(data, peer)
        sock.recvfrom(65536)  # the deliberate difference: no second datagram comes


if __name__ == "__main__":
    main()
