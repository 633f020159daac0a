"""UDP echo client using an asyncio datagram endpoint: with remote_addr the
endpoint's socket is connected, so the DatagramProtocol sends the message
with a plain sendto(data) as soon as the connection is made and closes the
transport when the reply arrives. Prints the reply unchanged."""

import asyncio
import os
import sys


class EchoClientProtocol(asyncio.DatagramProtocol):
    def __init__(self, message, on_con_lost):
        self.message = message
        self.on_con_lost = on_con_lost
        self.transport = None
        self.reply = b""
        self.error = None

    def connection_made(self, transport):
        self.transport = transport
        transport.sendto(self.message)

    def datagram_received(self, data, addr):
        self.reply = data
        self.transport.close()

    def error_received(self, exc):
        # On a connected datagram socket, e.g. ECONNREFUSED from an ICMP error.
        self.error = exc
        self.transport.close()

    def connection_lost(self, exc):
        self.on_con_lost.set_result(True)


async def main():
    host, port, message = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    data = os.fsencode(message)  # the argument's bytes, exactly as given
    loop = asyncio.get_running_loop()
    on_con_lost = loop.create_future()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: EchoClientProtocol(data, on_con_lost), remote_addr=(host, port))
    try:
        await on_con_lost
    finally:
        transport.close()
    if protocol.error is not None:
        print(f"error: {protocol.error}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.buffer.write(protocol.reply)
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    asyncio.run(main())
