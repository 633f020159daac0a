"""HABIT CONTROL: a server that uses UDP where the scenario expects TCP. It makes a datagram
socket, binds the run's address, waits a second for a datagram that never comes (the TCP
client is never started: a datagram socket never listens), and exits. The socket type is a
real difference: the report must show SOCK_DGRAM in the step and in the attributes."""

import select
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        select.select([sock], [], [], 1.0)


if __name__ == "__main__":
    main()
