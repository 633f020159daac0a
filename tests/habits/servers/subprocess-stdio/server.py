"""HABIT: the echo handed to a child program through subprocess, the connection as its stdin
and stdout (inetd's way, the Python spelling): the child is started with vfork or fork,
dup2()s the socket onto fds 0 and 1 and closes every other fd (close_fds: close_range) before
it execs `head -c LEN`; the server closes its own socket once the child is done."""

import os
import socket
import subprocess
import sys


def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    length = len(os.fsencode(message))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((host, port))
        server.listen()
        conn, _ = server.accept()
        with conn:
            subprocess.run(["head", "-c", str(length)], stdin=conn, stdout=conn, check=True)


if __name__ == "__main__":
    main()
