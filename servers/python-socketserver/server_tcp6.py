"""TCP echo server over IPv6 using socketserver: TCPServer makes an AF_INET
socket unless a subclass sets address_family, so this one sets AF_INET6.
Serves exactly one request, then closes."""

import socket
import socketserver
import sys


class TCPServer6(socketserver.TCPServer):
    address_family = socket.AF_INET6


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # self.request is the connected socket for this client.
        data = self.request.recv(4096)
        self.request.sendall(data)


def main():
    host, port = sys.argv[1], int(sys.argv[2])  # host is an IPv6 address, e.g. ::1
    server = TCPServer6((host, port), EchoHandler)
    try:
        server.handle_request()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
