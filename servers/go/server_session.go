// TCP echo server for a session of several messages, with the net package:
// accepts one connection and echoes everything it reads until the client
// closes its end (Read returns io.EOF), then exits.
// Usage: server_session HOST PORT
package main

import (
	"errors"
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

	buf := make([]byte, 65536)
	for {
		n, err := conn.Read(buf)
		if errors.Is(err, io.EOF) {
			break // the client has closed the connection
		}
		if err != nil {
			log.Fatal(err)
		}
		if _, err := conn.Write(buf[:n]); err != nil {
			log.Fatal(err)
		}
	}
}
