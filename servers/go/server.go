// TCP echo server with the net package: accepts one connection, echoes one
// read back, then exits. The same program serves tcp6: net.Listen picks
// AF_INET6 from an IPv6 address such as ::1. Usage: server HOST PORT
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

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	conn, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	// Write returns only once all of buf[:n] is written, or on an error.
	if _, err := conn.Write(buf[:n]); err != nil {
		log.Fatal(err)
	}
}
