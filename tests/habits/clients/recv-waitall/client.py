"""Habit: the echo read back in one recv(MSG_WAITALL) of the message's length, where the
reference loops on recv until it has it all."""

import socket
import sys

host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
with socket.create_connection((host, port)) as s:
    s.sendall(message)
    echo = s.recv(len(message), socket.MSG_WAITALL)
    sys.stdout.write(echo.decode())
