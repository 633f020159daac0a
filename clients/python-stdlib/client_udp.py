"""UDP echo client using the blocking socket module: sends the message as
one datagram with sendto(), receives one datagram back, prints it unchanged."""

import os
import socket
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, (host, port))
        received, addr = s.recvfrom(65536)
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
