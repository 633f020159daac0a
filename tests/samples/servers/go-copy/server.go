// TCP echo server that echoes with io.Copy(conn, conn): everything the client sends comes
// back until the client closes its side. Usage: server HOST PORT
package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST PORT\n", os.Args[0])
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()

	conn, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	// The destination is a *net.TCPConn, whose ReadFrom moves bytes from the source
	// connection with splice(2) through a pipe: the program never holds them.
	if _, err := io.Copy(conn, conn); err != nil {
		log.Fatal(err)
	}
}
