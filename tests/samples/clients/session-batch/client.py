"""NEGATIVE CONTROL: a tcp-session client that deliberately sends ALL the
messages first and only then reads all the echoes, instead of reading each
echo before sending the next message. Otherwise like
clients/python-stdlib/client_session.py.
Usage: client.py HOST PORT MESSAGE SIZES

What it prints is the same (the echoes of all messages, in order); the
trace differs: every send comes before the first receive. With the sizes
the harness uses (about 100 KB in all) the server's echoes fit in the
loopback socket buffers while this client is still sending; much larger
sizes could leave both sides blocked in send()."""

import os
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    message = os.fsencode(sys.argv[3])  # the argument's bytes, exactly as given
    sizes = [int(size) for size in sys.argv[4].split(",")]
    total = sum(sizes)
    received = b""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect((host, port))
        # The deliberate difference: send every message first...
        for size in sizes:
            data = (message * (size // len(message) + 1))[:size]
            s.sendall(data)
        # ...and only then read all the echoes.
        while len(received) < total:
            chunk = s.recv(total - len(received))
            if not chunk:
                break  # the server closed the connection early
            received += chunk
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
