"""NEGATIVE CONTROL: deliberately connects TWICE. The first socket connects
and is closed at once, without sending anything; then a new socket connects
and does the normal echo. Otherwise like clients/python-stdlib/client.py.

The servers accept a single connection, so the first connect uses it up: the
server reads end of file, echoes nothing and exits. The second connect is then
refused, or it is reset when the server closes its listening socket. Either
way the client fails fast with exit status 1 instead of waiting. (A server
that drains its whole accept queue at once, like asyncio's, may serve the
second connection too.)"""

import os
import socket
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given

    # The deliberate difference: an extra connection, closed straight away.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as first:
        first.connect((host, port))

    received = b""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.connect((host, port))
            s.sendall(data)
            while len(received) < len(data):
                chunk = s.recv(4096)
                if not chunk:
                    break
                received += chunk
    except OSError as e:
        print(f"second connection failed: {e}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
