"""TCP echo server for a session of several messages, using asyncio streams:
serves exactly one connection, echoing everything it reads until the client
closes its end, then closes the server and exits."""

import asyncio
import sys


async def main():
    host, port = sys.argv[1], int(sys.argv[2])
    done = asyncio.Event()

    async def handle_session(reader, writer):
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break  # end of file: the client has closed the connection
                writer.write(data)
                await writer.drain()
            writer.close()
            await writer.wait_closed()
        finally:
            done.set()

    server = await asyncio.start_server(handle_session, host, port)
    async with server:
        await done.wait()
    # Leaving the async with block closes the listening socket.


if __name__ == "__main__":
    asyncio.run(main())
