"""HABIT CONTROL: the listening socket is closed right after the one accept, before the echo
(Tcl's echo servers close their server channel in the accept callback). The same calls as the
reference, one of them earlier: the report must name the move, not an extra and a missing
close."""

import socket
import sys


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind((host, port))
    server.listen()
    conn, addr = server.accept()
    server.close()  # the deliberate difference: no second connection is wanted
    with conn:
        data = conn.recv(4096)
        conn.sendall(data)


if __name__ == "__main__":
    main()
