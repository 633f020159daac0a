// UDP echo server with the net package: receives one datagram with ReadFrom,
// sends it back with WriteTo to the address it came from, then exits.
// Usage: server_udp HOST PORT
package main

import (
	"fmt"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST PORT\n", os.Args[0])
		os.Exit(1)
	}
	addr := net.JoinHostPort(os.Args[1], os.Args[2])

	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer pc.Close()

	// A datagram arrives whole: one ReadFrom gets it and its sender.
	buf := make([]byte, 65536)
	n, peer, err := pc.ReadFrom(buf)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := pc.WriteTo(buf[:n], peer); err != nil {
		log.Fatal(err)
	}
}
