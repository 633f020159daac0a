"""An echo server that runs until it is killed: accepts one connection after another on the
port given (argv[1]), echoes one message on each and closes it. Prints "listening" once it
listens."""

import socket
import sys

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
print("listening", flush=True)
while True:
    conn, _ = listener.accept()
    conn.sendall(conn.recv(100))
    conn.close()
