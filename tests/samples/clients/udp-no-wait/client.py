"""NEGATIVE CONTROL: deliberately sends the datagram and closes WITHOUT
waiting for the reply: no receive call at all, nothing printed, exit 0.
Otherwise like clients/python-stdlib/client_udp.py.

The server's reply then goes to a port nobody listens on any more; the
kernel drops it (and answers with an ICMP port unreachable, which the
server, on an unconnected socket, never sees)."""

import os
import socket
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, (host, port))
        # The deliberate difference: no recvfrom(), the reply is never read.


if __name__ == "__main__":
    main()
