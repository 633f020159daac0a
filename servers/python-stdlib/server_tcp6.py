"""TCP echo server over IPv6 using the blocking socket module: the tcp
server with an AF_INET6 socket. Accepts one connection, echoes one receive
back, then exits."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])  # host is an IPv6 address, e.g. ::1
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as server:
        server.bind((host, port))
        server.listen()
        conn, addr = server.accept()
        with conn:
            data = conn.recv(4096)
            conn.sendall(data)


if __name__ == "__main__":
    main()
