"""UDP echo server using socketserver: a UDPServer receives the datagram
itself and hands it to the request handler, which sends it back to the
address it came from. Serves exactly one request, then closes."""

import socketserver
import sys


class EchoUDPServer(socketserver.UDPServer):
    max_packet_size = 65536  # the receive buffer; UDPServer's default is 8192


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        # For a UDPServer, self.request is (datagram, server socket).
        data, sock = self.request
        sock.sendto(data, self.client_address)


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    server = EchoUDPServer((host, port), EchoHandler)
    try:
        server.handle_request()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
