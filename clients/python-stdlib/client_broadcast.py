"""UDP broadcast echo client using the blocking socket module: sets
SO_BROADCAST (without it the kernel refuses a send to a broadcast address with
EACCES), sends the message as one datagram to the broadcast address with
sendto(), receives the one answer and prints it unchanged."""

import os
import socket
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.sendto(data, (host, port))
        received, addr = s.recvfrom(65536)
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
