"""UDP echo server using the blocking socket module: receives one datagram,
sends it back to the address it came from, then exits."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind((host, port))
        data, addr = server.recvfrom(65536)
        server.sendto(data, addr)


if __name__ == "__main__":
    main()
