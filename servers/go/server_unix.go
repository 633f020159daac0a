// Unix domain socket echo server with the net package: listens on a socket
// file, accepts one connection, echoes one read back, then exits. Closing a
// listener that net.Listen created also removes its socket file.
// Usage: server_unix PATH
package main

import (
	"fmt"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s PATH\n", os.Args[0])
		os.Exit(1)
	}
	path := os.Args[1]

	ln, err := net.Listen("unix", path) // creates the socket file
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close() // closes the socket and removes the file

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
	if _, err := conn.Write(buf[:n]); err != nil {
		log.Fatal(err)
	}
}
