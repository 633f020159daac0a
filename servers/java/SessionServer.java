// TCP echo server for a session of several messages, with
// java.net.ServerSocket: accepts one connection and echoes everything it
// reads until the client closes its end (read returns -1), then exits.
// Usage: SessionServer HOST PORT

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class SessionServer {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: SessionServer HOST PORT");
            System.exit(1);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);

        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(host, port));
            try (Socket conn = server.accept()) {
                InputStream in = conn.getInputStream();
                OutputStream out = conn.getOutputStream();
                byte[] buf = new byte[65536];
                int n;
                // -1 is end of stream: the client has closed the connection.
                while ((n = in.read(buf)) != -1) {
                    out.write(buf, 0, n);
                }
            }
        }
    }
}
