"""TCP echo client over IPv6 using the blocking socket module: the tcp
client with an AF_INET6 socket. Sends the message, reads until the whole
echo has arrived, prints it unchanged."""

import os
import socket
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    received = b""
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.connect((host, port))
        s.sendall(data)
        while len(received) < len(data):
            chunk = s.recv(4096)
            if not chunk:
                break
            received += chunk
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
