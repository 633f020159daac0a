"""inetd's habit: the connection handed to a program as its stdin and stdout. The server
accepts, forks a handler that puts the connection on fds 0 and 1, closes its own fd of it and
execs cat; the server closes its fd of the connection at once. The connection ends when cat
exits. A client child sends "ping", shuts down writing and reads the echo."""

import os
import socket
import sys

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]
client = os.fork()
if client == 0:
    listener.close()
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"ping")
    c.shutdown(socket.SHUT_WR)
    got = c.recv(16)
    c.close()
    os._exit(0 if got == b"ping" else 1)
conn, _ = listener.accept()
handler = os.fork()
if handler == 0:
    os.dup2(conn.fileno(), 0)
    os.dup2(conn.fileno(), 1)
    conn.close()
    listener.close()
    os.execv("/bin/cat", ["cat"])
conn.close()
status = [os.waitpid(pid, 0)[1] for pid in (handler, client)]
listener.close()
sys.exit(0 if status == [0, 0] else 1)
