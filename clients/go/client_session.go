// TCP echo client for a session of several messages, with the net package.
// Usage: client_session HOST PORT MESSAGE SIZES
//
// SIZES is a comma-separated list of byte counts; message k is MESSAGE
// repeated and cut to SIZES[k] bytes. Each message is written whole and its
// echo read back in full before the next one is written. Everything received
// is written to stdout unchanged at the end.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST PORT MESSAGE SIZES\n", os.Args[0])
		os.Exit(1)
	}
	addr := net.JoinHostPort(os.Args[1], os.Args[2])
	message := []byte(os.Args[3]) // the argument's bytes, exactly as given
	var sizes []int
	for _, field := range strings.Split(os.Args[4], ",") {
		size, err := strconv.Atoi(field)
		if err != nil {
			log.Fatal(err)
		}
		sizes = append(sizes, size)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}

	var received []byte
	for _, size := range sizes {
		data := bytes.Repeat(message, size/len(message)+1)[:size]
		if _, err := conn.Write(data); err != nil {
			log.Fatal(err)
		}
		echo := make([]byte, size)
		n, err := io.ReadFull(conn, echo)
		received = append(received, echo[:n]...)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break // the server closed the connection early
		}
		if err != nil {
			log.Fatal(err)
		}
	}

	if err := conn.Close(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(received); err != nil {
		log.Fatal(err)
	}
}
