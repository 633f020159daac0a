// UDP broadcast echo client with the net package: an unconnected datagram
// socket from net.ListenPacket("udp4", ":0") (net.Dial would connect it to
// the broadcast address, and a connected socket only takes datagrams from
// that address: the answer comes from the server's own); WriteTo sends the
// message to the broadcast address and one ReadFrom gets the answer, written
// to stdout unchanged. The program sets no SO_BROADCAST: the runtime sets it
// on every datagram socket it makes.
// Usage: client_broadcast BROADCAST-ADDRESS PORT MESSAGE
package main

import (
	"fmt"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintf(os.Stderr, "usage: %s BROADCAST-ADDRESS PORT MESSAGE\n", os.Args[0])
		os.Exit(1)
	}
	to, err := net.ResolveUDPAddr("udp4", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		log.Fatal(err)
	}
	message := []byte(os.Args[3]) // the argument's bytes, exactly as given

	pc, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		log.Fatal(err)
	}

	if _, err := pc.WriteTo(message, to); err != nil {
		log.Fatal(err)
	}

	buf := make([]byte, 65536)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		log.Fatal(err)
	}

	if err := pc.Close(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(buf[:n]); err != nil {
		log.Fatal(err)
	}
}
