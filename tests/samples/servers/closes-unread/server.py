"""Wire control: reads 4 bytes of the message, echoes them, closes with the rest unread (RST)."""

import socket
import sys
import time

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.bind((sys.argv[1], int(sys.argv[2])))
    server.listen()
    conn, _ = server.accept()
    with conn:
        time.sleep(0.2)  # the whole message has arrived by now
        conn.sendall(conn.recv(4))
