"""HABIT: a send of zero bytes on the connection before the echo (a keep-alive or a flush
some code paths make): a call, and nothing on the wire."""

import socket
import sys


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket() as listener:
        listener.bind((host, port))
        listener.listen()
        conn, _ = listener.accept()
        with conn:
            conn.send(b"")
            conn.sendall(conn.recv(4096))


if __name__ == "__main__":
    main()
