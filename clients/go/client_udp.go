// UDP echo client with the net package: net.Dial("udp") gives a connected
// datagram socket; the message goes out as one datagram with Write, and one
// Read gets the reply, written to stdout unchanged.
// Usage: client_udp HOST PORT MESSAGE
package main

import (
	"fmt"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST PORT MESSAGE\n", os.Args[0])
		os.Exit(1)
	}
	addr := net.JoinHostPort(os.Args[1], os.Args[2])
	message := []byte(os.Args[3]) // the argument's bytes, exactly as given

	conn, err := net.Dial("udp", addr)
	if err != nil {
		log.Fatal(err)
	}

	// A datagram goes out whole or not at all.
	if _, err := conn.Write(message); err != nil {
		log.Fatal(err)
	}

	// The reply is one datagram: one Read gets all of it.
	buf := make([]byte, 65536)
	n, err := conn.Read(buf)
	if err != nil {
		log.Fatal(err)
	}

	if err := conn.Close(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(buf[:n]); err != nil {
		log.Fatal(err)
	}
}
