// TCP echo client for a session of several messages, with java.net.Socket.
// Usage: SessionClient HOST PORT MESSAGE SIZES
//
// SIZES is a comma-separated list of byte counts; message k is MESSAGE
// repeated and cut to SIZES[k] bytes. Each message is sent whole and its echo
// read back in full before the next one is sent. Everything received is
// written to stdout unchanged at the end.

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class SessionClient {
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: SessionClient HOST PORT MESSAGE SIZES");
            System.exit(1);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        byte[] message = args[2].getBytes(StandardCharsets.UTF_8);
        String[] sizes = args[3].split(",");

        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (Socket socket = new Socket(host, port)) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (String s : sizes) {
                int size = Integer.parseInt(s);
                byte[] data = new byte[size];
                for (int i = 0; i < size; i++) {
                    data[i] = message[i % message.length];
                }
                out.write(data);
                byte[] echo = in.readNBytes(size); // fewer only if the server closed
                received.write(echo);
                if (echo.length < size) {
                    break;
                }
            }
        }
        received.writeTo(System.out);
        System.out.flush();
    }
}
