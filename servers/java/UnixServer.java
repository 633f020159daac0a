// Unix domain socket echo server with java.nio.channels: binds a
// ServerSocketChannel to PATH, accepts one connection, echoes one read back,
// closes, removes the socket file and exits. Usage: UnixServer PATH

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

public class UnixServer {
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: UnixServer PATH");
            System.exit(1);
        }
        Path path = Path.of(args[0]);
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);

        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(address); // creates the socket file
            try (SocketChannel conn = server.accept()) {
                ByteBuffer buf = ByteBuffer.allocate(4096);
                conn.read(buf);
                buf.flip();
                while (buf.hasRemaining()) {
                    conn.write(buf);
                }
            } finally {
                Files.deleteIfExists(path); // closing the channel does not remove its file
            }
        }
    }
}
