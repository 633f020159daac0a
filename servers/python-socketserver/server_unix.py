"""Unix domain socket echo server using socketserver: a UnixStreamServer
bound to a socket file, with the same request handler as the TCP server.
Serves exactly one request, closes, and removes the socket file, which
server_close() leaves behind. Usage: server_unix.py PATH"""

import os
import socketserver
import sys


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # self.request is the connected socket for this client.
        data = self.request.recv(4096)
        self.request.sendall(data)


def main():
    path = sys.argv[1]
    server = socketserver.UnixStreamServer(path, EchoHandler)
    try:
        server.handle_request()
    finally:
        server.server_close()
        os.unlink(path)


if __name__ == "__main__":
    main()
