import socket
import struct
import sys

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
    listener.bind((sys.argv[1], int(sys.argv[2])))
    listener.listen()
    conn, _ = listener.accept()
    data = conn.recv(4096)
    conn.sendall(data)
    # an abortive close: SO_LINGER on with a zero timeout, so close() sends RST, not FIN
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
