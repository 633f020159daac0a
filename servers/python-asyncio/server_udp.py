"""UDP echo server using an asyncio datagram endpoint: a DatagramProtocol
sends the first datagram back to the address it came from, then the
transport is closed and the program exits."""

import asyncio
import sys


class EchoServerProtocol(asyncio.DatagramProtocol):
    def __init__(self, done):
        self.done = done
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)
        self.done.set_result(None)


async def main():
    host, port = sys.argv[1], int(sys.argv[2])
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: EchoServerProtocol(done), local_addr=(host, port))
    try:
        await done  # one datagram echoed
    finally:
        transport.close()


if __name__ == "__main__":
    asyncio.run(main())
