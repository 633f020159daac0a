"""TCP echo server using asyncio streams: serves exactly one connection,
then closes the server and exits."""

import asyncio
import sys


async def main():
    host, port = sys.argv[1], int(sys.argv[2])
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

    server = await asyncio.start_server(handle_echo, host, port)
    async with server:
        await done.wait()
    # Leaving the async with block closes the listening socket.


if __name__ == "__main__":
    asyncio.run(main())
