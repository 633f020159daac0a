"""HABIT: socket.fromfd() on the accepted socket, as code handed a bare fd number does: fromfd()
dup()s the fd. The original socket object is closed at once (a close of one of two fds: the
connection stays open), and the echo and the last close go through the duplicate."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((host, port))
        server.listen()
        conn, _ = server.accept()
        dup = socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM)
        conn.close()
        with dup:
            data = dup.recv(4096)
            dup.sendall(data)


if __name__ == "__main__":
    main()
