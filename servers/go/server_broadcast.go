// UDP broadcast echo server with the net package: net.ListenPacket("udp4")
// on ":PORT" (every interface, 0.0.0.0), so that a datagram sent to a
// broadcast address reaches it; receives one datagram with ReadFrom, sends it
// back with WriteTo to the address it came from (the client's own), then exits.
// Usage: server_broadcast PORT
package main

import (
	"fmt"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PORT\n", os.Args[0])
		os.Exit(1)
	}

	pc, err := net.ListenPacket("udp4", ":"+os.Args[1])
	if err != nil {
		log.Fatal(err)
	}

	buf := make([]byte, 65536)
	n, peer, err := pc.ReadFrom(buf)
	if err != nil {
		log.Fatal(err)
	}

	// The answer goes to the sender's own address, not to the broadcast one.
	if _, err := pc.WriteTo(buf[:n], peer); err != nil {
		log.Fatal(err)
	}

	if err := pc.Close(); err != nil {
		log.Fatal(err)
	}
}
