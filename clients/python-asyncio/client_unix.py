"""Unix domain socket echo client using asyncio streams:
open_unix_connection() connects to the socket file; sends the message, reads
until the whole echo has arrived, prints it unchanged.
Usage: client_unix.py PATH MESSAGE"""

import asyncio
import os
import sys


async def main():
    path, message = sys.argv[1], sys.argv[2]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    reader, writer = await asyncio.open_unix_connection(path)
    writer.write(data)
    await writer.drain()
    received = b""
    while len(received) < len(data):
        chunk = await reader.read(4096)
        if not chunk:
            break
        received += chunk
    writer.close()
    await writer.wait_closed()
    sys.stdout.buffer.write(received)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    asyncio.run(main())
