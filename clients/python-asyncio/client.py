"""TCP echo client using asyncio streams: sends the message, reads until
the whole echo has arrived, prints it unchanged."""

import asyncio
import os
import sys


async def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    reader, writer = await asyncio.open_connection(host, port)
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
