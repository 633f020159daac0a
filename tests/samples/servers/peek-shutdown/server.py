"""HABIT CONTROL: the server peeks at the message before reading it (recv with MSG_PEEK, as
protocol sniffers do), and shuts the connection down both ways before closing it. Both are
calls the reference does not make: the report must show recvfrom(MSG_PEEK) and
shutdown(SHUT_RDWR) as steps of their own."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((host, port))
        server.listen()
        conn, addr = server.accept()
        with conn:
            conn.recv(4096, socket.MSG_PEEK)
            data = conn.recv(4096)
            conn.sendall(data)
            conn.shutdown(socket.SHUT_RDWR)


if __name__ == "__main__":
    main()
