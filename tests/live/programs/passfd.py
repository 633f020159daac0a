"""A connection handed to a worker over a unix socket (SCM_RIGHTS): the server accepts and
sends the connection's fd to a forked worker, which echoes on the fd it received and closes
it; the server closes its own fd of the connection after sending it, and says so over the
unix socket, which the worker waits for before its close (so that its close, not the
server's, is the last). A client child sends "ping" and reads the echo. With the argument `late` the worker takes the fd only after the
server has closed its own: the connection is then held by the message in flight alone."""

import os
import socket
import sys
import time

listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen()
port = listener.getsockname()[1]
channel, worker_end = socket.socketpair()
client = os.fork()
if client == 0:
    listener.close()
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"ping")
    got = c.recv(16)
    c.close()
    os._exit(0 if got == b"ping" else 1)
worker = os.fork()
if worker == 0:
    listener.close()
    channel.close()
    if sys.argv[1:] == ["late"]:
        worker_end.recv(1, socket.MSG_PEEK)  # the message is there...
        time.sleep(0.3)  # ...and the server closes its fd meanwhile
    _, fds, _, _ = socket.recv_fds(worker_end, 1, 1)  # the "x" alone
    conn = socket.socket(fileno=fds[0])
    conn.sendall(conn.recv(16))
    worker_end.recv(16)  # the server has closed its fd
    conn.close()
    os._exit(0)
worker_end.close()
conn, _ = listener.accept()
socket.send_fds(channel, [b"x"], [conn.fileno()])
conn.close()
channel.sendall(b"closed")
status = [os.waitpid(pid, 0)[1] for pid in (worker, client)]
channel.close()
listener.close()
sys.exit(0 if status == [0, 0] else 1)
