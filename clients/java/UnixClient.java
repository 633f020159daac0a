// Unix domain socket echo client with java.nio.channels: connects a
// SocketChannel to PATH, sends MESSAGE, reads until the whole echo has
// arrived, writes it to stdout unchanged. Usage: UnixClient PATH MESSAGE

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;

public class UnixClient {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: UnixClient PATH MESSAGE");
            System.exit(1);
        }
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(args[0]);
        byte[] data = args[1].getBytes(StandardCharsets.UTF_8);

        ByteBuffer echo = ByteBuffer.allocate(data.length);
        // open() with an address picks the protocol family and connects.
        try (SocketChannel channel = SocketChannel.open(address)) {
            ByteBuffer out = ByteBuffer.wrap(data);
            while (out.hasRemaining()) {
                channel.write(out);
            }
            // Read until the whole echo is here or the server closes (-1).
            while (echo.hasRemaining()) {
                if (channel.read(echo) == -1) {
                    break;
                }
            }
        }
        System.out.write(echo.array(), 0, echo.position());
        System.out.flush();
    }
}
