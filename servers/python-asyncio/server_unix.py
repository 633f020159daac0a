"""Unix domain socket echo server using asyncio streams: start_unix_server()
listens on a socket file; serves exactly one connection, then closes the
server, removes the socket file and exits. Usage: server_unix.py PATH"""

import asyncio
import contextlib
import os
import sys


async def main():
    path = sys.argv[1]
    done = asyncio.Event()

    async def handle_echo(reader, writer):
        try:
            data = await reader.read(4096)
            writer.write(data)
            await writer.drain()
            writer.close()
            await writer.wait_closed()
        finally:
            done.set()

    server = await asyncio.start_unix_server(handle_echo, path)
    try:
        async with server:
            await done.wait()
        # Leaving the async with block closes the listening socket.
    finally:
        # Python 3.13 and later remove the socket file when the server is
        # closed; earlier versions leave it behind.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


if __name__ == "__main__":
    asyncio.run(main())
