"""Unix domain socket echo client for the socketserver pair. socketserver
has no client side, so this is a plain blocking socket client, the same as
python-stdlib's: connects to the socket file, sends the message, reads until
the whole echo has arrived, prints it unchanged.
Usage: client_unix.py PATH MESSAGE"""

import os
import socket
import sys


def main():
    path, message = sys.argv[1], sys.argv[2]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    received = b""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
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
