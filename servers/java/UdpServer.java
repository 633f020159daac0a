// UDP echo server with java.net.DatagramSocket: receives one datagram,
// sends it back to the address it came from, then exits.
// Usage: UdpServer HOST PORT

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;

public class UdpServer {
    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: UdpServer HOST PORT");
            System.exit(1);
        }
        String host = args[0];
        int port = Integer.parseInt(args[1]);

        // Passing the address to the constructor binds the socket.
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(host, port))) {
            byte[] buf = new byte[65536];
            DatagramPacket request = new DatagramPacket(buf, buf.length);
            socket.receive(request); // fills in the length and the sender's address

            DatagramPacket reply = new DatagramPacket(
                    request.getData(), request.getLength(), request.getSocketAddress());
            socket.send(reply);
        }
    }
}
