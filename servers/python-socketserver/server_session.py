"""TCP echo server for a session of several messages using socketserver: a
TCPServer whose request handler echoes everything it receives until the
client closes its end. Serves exactly one request, then closes."""

import socketserver
import sys


class SessionEchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # self.request is the connected socket for this client.
        while True:
            data = self.request.recv(65536)
            if not data:
                break  # end of file: the client has closed the connection
            self.request.sendall(data)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    server = socketserver.TCPServer((host, port), SessionEchoHandler)
    try:
        server.handle_request()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
