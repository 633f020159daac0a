"""Runs another program through subprocess (vfork and exec): a second interpreter that
writes to the socket it inherited as fd 3. The parent reads it back."""

import socket
import subprocess
import sys

a, b = socket.socketpair()
assert a.fileno() == 3
a.set_inheritable(True)
subprocess.run([sys.executable, "-c", "import os; os.write(3, b'hi')"], close_fds=False,
               check=True)
assert b.recv(16) == b"hi"
a.close()
b.close()
