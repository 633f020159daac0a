// TCP echo server with java.net.ServerSocket: accepts one connection, echoes
// one read back, then exits. Usage: EchoServer HOST PORT
//
// The same program serves tcp and tcp6: the address decides the family.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class EchoServer {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: EchoServer HOST PORT");
            System.exit(1);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);

        // try-with-resources closes the connection first, then the listener.
        try (ServerSocket server = new ServerSocket()) {
            server.bind(new InetSocketAddress(host, port));
            try (Socket conn = server.accept()) {
                InputStream in = conn.getInputStream();
                OutputStream out = conn.getOutputStream();
                byte[] buf = new byte[4096];
                int n = in.read(buf);
                if (n > 0) {
                    out.write(buf, 0, n); // writes all n bytes before it returns
                }
            }
        }
    }
}
