"""HABIT: socket.create_server() (SO_REUSEADDR set for us) and the connection read and written
through makefile() objects: a buffered reader's read1() is one recv, a buffered writer's
flush() the send. The socket's fd closes only when the last of the socket and its two files is
closed: conn.close() first, with the files still open, closes nothing."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.create_server((host, port)) as server:
        conn, _ = server.accept()
        reader = conn.makefile("rb")
        writer = conn.makefile("wb")
        conn.close()  # the files still hold the socket: no close(2) yet
        data = reader.read1(4096)
        writer.write(data)
        writer.flush()
        reader.close()
        writer.close()  # the last reference: close(2) here


if __name__ == "__main__":
    main()
