"""A listener on the main thread and its client on a second thread.

main thread:   socket, bind, listen, getsockname, (clone), accept4, getsockname, recvfrom,
               sendto, close, close
client thread: socket, connect, sendto, recvfrom, close

The main thread waits until the client has its socket before it accepts, so the fd numbers
do not depend on timing: a blocked accept4 already holds the lowest free fd.
"""

import socket
import threading

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(4)
address = server.getsockname()
have_socket = threading.Event()


def client() -> None:
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    have_socket.set()
    c.connect(address)
    c.sendall(b"ping")
    assert c.recv(16) == b"ping"
    c.close()


thread = threading.Thread(target=client)
thread.start()
have_socket.wait()
conn, _ = server.accept()
conn.sendall(conn.recv(16))
thread.join()
conn.close()
server.close()
