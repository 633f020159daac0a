"""TCP echo server for a session of several messages, using the blocking
socket module: accepts one connection and echoes everything it receives
until the client closes its end, then exits."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((host, port))
        server.listen()
        conn, addr = server.accept()
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break  # end of file: the client has closed the connection
                conn.sendall(data)


if __name__ == "__main__":
    main()
