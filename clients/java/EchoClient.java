// TCP echo client with java.net.Socket: sends MESSAGE, reads until the whole
// echo has arrived, writes it to stdout unchanged.
// Usage: EchoClient HOST PORT MESSAGE
//
// The same program serves tcp and tcp6: the address decides the family.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class EchoClient {
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: EchoClient HOST PORT MESSAGE");
            System.exit(1);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        byte[] data = args[2].getBytes(StandardCharsets.UTF_8);

        byte[] echo;
        // The constructor resolves the host and connects.
        try (Socket socket = new Socket(host, port)) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(data); // writes all of it before it returns
            // Reads until data.length bytes are here or the server closes.
            echo = in.readNBytes(data.length);
        }
        System.out.write(echo);
        System.out.flush();
    }
}
