// UDP echo client with java.net.DatagramSocket: sends MESSAGE as one datagram
// to HOST:PORT, receives one datagram back, writes it to stdout unchanged.
// Usage: UdpClient HOST PORT MESSAGE

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

public class UdpClient {
    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: UdpClient HOST PORT MESSAGE");
            System.exit(1);
        }
        InetAddress host = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        byte[] data = args[2].getBytes(StandardCharsets.UTF_8);

        DatagramPacket reply;
        // An unconnected socket: each packet carries its destination.
        try (DatagramSocket socket = new DatagramSocket()) {
            socket.send(new DatagramPacket(data, data.length, host, port));
            byte[] buf = new byte[65536];
            reply = new DatagramPacket(buf, buf.length);
            socket.receive(reply);
        }
        System.out.write(reply.getData(), reply.getOffset(), reply.getLength());
        System.out.flush();
    }
}
