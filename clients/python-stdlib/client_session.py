"""TCP echo client for a session of several messages, using the blocking
socket module. Usage: client_session.py HOST PORT MESSAGE SIZES

SIZES is a comma-separated list of byte counts; message k is MESSAGE
repeated and cut to SIZES[k] bytes. Each message is sent whole and its echo
read back in full before the next one is sent. Everything received is
printed unchanged at the end."""

import os
import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    message = os.fsencode(sys.argv[3])  # the argument's bytes, exactly as given
    sizes = [int(size) for size in sys.argv[4].split(",")]
    received = b""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.connect((host, port))
        for size in sizes:
            data = (message * (size // len(message) + 1))[:size]
            s.sendall(data)
            echo = b""
            while len(echo) < size:
                chunk = s.recv(size - len(echo))  # never more than this message
                if not chunk:
                    break  # the server closed the connection early
                echo += chunk
            received += echo
            if len(echo) < size:
                break
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
