"""TCP echo server using socketserver: a TCPServer with a request handler,
serving exactly one request, then closing."""

import socketserver
import sys


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # self.request is the connected socket for this client.
        data = self.request.recv(4096)
        self.request.sendall(data)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    server = socketserver.TCPServer((host, port), EchoHandler)
    try:
        server.handle_request()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
