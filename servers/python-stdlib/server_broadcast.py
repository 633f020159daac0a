"""UDP broadcast echo server using the blocking socket module: bound to every
interface (0.0.0.0) on the port, so that a datagram sent to a broadcast
address reaches it; receives one datagram, sends it back to the address it
came from (the client's own, not the broadcast address), then exits."""

import socket
import sys


def main():
    port = int(sys.argv[1])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("0.0.0.0", port))
        data, addr = server.recvfrom(65536)
        server.sendto(data, addr)


if __name__ == "__main__":
    main()
