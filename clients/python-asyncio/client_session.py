"""TCP echo client for a session of several messages, using asyncio streams.
Usage: client_session.py HOST PORT MESSAGE SIZES

SIZES is a comma-separated list of byte counts; message k is MESSAGE
repeated and cut to SIZES[k] bytes. Each message is written and drained,
then its echo read back with readexactly() before the next one is written.
Everything received is printed unchanged at the end."""

import asyncio
import os
import sys


async def main():
    host, port = sys.argv[1], int(sys.argv[2])
    message = os.fsencode(sys.argv[3])  # the argument's bytes, exactly as given
    sizes = [int(size) for size in sys.argv[4].split(",")]
    received = b""
    reader, writer = await asyncio.open_connection(host, port)
    for size in sizes:
        data = (message * (size // len(message) + 1))[:size]
        writer.write(data)
        await writer.drain()
        try:
            received += await reader.readexactly(size)
        except asyncio.IncompleteReadError as e:
            received += e.partial  # the server closed the connection early
            break
    writer.close()
    await writer.wait_closed()
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    asyncio.run(main())
