"""HABIT: a server on selectors (epoll): the listener is made non-blocking and registered for
reads; once it is ready the connection is accepted, put in blocking mode, read with recv_into
and answered with one sendmsg of two buffers. Only the listener is non-blocking."""

import selectors
import socket
import sys


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    sel = selectors.DefaultSelector()
    with socket.socket() as listener:
        listener.bind((host, port))
        listener.listen()
        listener.setblocking(False)
        sel.register(listener, selectors.EVENT_READ)
        sel.select()
        conn, _ = listener.accept()
        with conn:
            conn.setblocking(True)
            buf = bytearray(64)
            n = conn.recv_into(buf)
            conn.sendmsg([bytes(buf[:n // 2]), bytes(buf[n // 2:n])])
        sel.close()


if __name__ == "__main__":
    main()
