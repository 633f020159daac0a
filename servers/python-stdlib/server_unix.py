"""Unix domain socket echo server using the blocking socket module: listens
on a socket file, accepts one connection, echoes one receive back, removes
the socket file and exits. Usage: server_unix.py PATH"""

import os
import socket
import sys


def main():
    path = sys.argv[1]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)  # creates the socket file
        try:
            server.listen()
            conn, addr = server.accept()
            with conn:
                data = conn.recv(4096)
                conn.sendall(data)
        finally:
            os.unlink(path)  # closing the socket does not remove its file


if __name__ == "__main__":
    main()
