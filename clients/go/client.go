// TCP echo client with the net package: sends MESSAGE, reads until the whole
// echo has arrived, writes it to stdout unchanged. The same program serves
// tcp6: net.Dial picks AF_INET6 from an IPv6 address such as ::1.
// Usage: client HOST PORT MESSAGE
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
	if len(os.Args) != 4 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST PORT MESSAGE\n", os.Args[0])
		os.Exit(1)
	}
	addr := net.JoinHostPort(os.Args[1], os.Args[2])
	message := []byte(os.Args[3]) // the argument's bytes, exactly as given

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}

	// Write returns only once the whole message is written, or on an error.
	if _, err := conn.Write(message); err != nil {
		log.Fatal(err)
	}

	// ReadFull reads until the buffer is full; an end of file before that
	// means the server closed early, and what came is printed as it is.
	echo := make([]byte, len(message))
	n, err := io.ReadFull(conn, echo)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		log.Fatal(err)
	}

	if err := conn.Close(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(echo[:n]); err != nil {
		log.Fatal(err)
	}
}
