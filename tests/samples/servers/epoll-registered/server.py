"""HABIT CONTROL: sockets registered with epoll that is never waited on (C++ asio does this
with its synchronous calls: every socket joins the reactor), and socket options set more than
once. The I/O stays blocking and the calls are the reference's: the report must say the
server is identical, that epoll was registered but never waited in, and list each option once
with how often it was set."""

import select
import socket
import sys

IP_RECVTTL = 12  # linux/in.h; Python's socket module does not name it


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    reactor = select.epoll()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
        reactor.register(server, select.EPOLLIN)
        server.bind((host, port))
        server.listen()
        conn, addr = server.accept()
        with conn:
            reactor.register(conn, select.EPOLLIN)
            for _ in range(3):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            data = conn.recv(4096)
            conn.sendall(data)
            reactor.unregister(conn)
    reactor.close()


if __name__ == "__main__":
    main()
