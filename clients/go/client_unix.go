// Unix domain socket echo client with the net package: connects to the
// socket file, sends MESSAGE, reads until the whole echo has arrived, writes
// it to stdout unchanged. Usage: client_unix PATH MESSAGE
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
		fmt.Fprintf(os.Stderr, "usage: %s PATH MESSAGE\n", os.Args[0])
		os.Exit(1)
	}
	path := os.Args[1]
	message := []byte(os.Args[2]) // the argument's bytes, exactly as given

	conn, err := net.Dial("unix", path)
	if err != nil {
		log.Fatal(err)
	}

	if _, err := conn.Write(message); err != nil {
		log.Fatal(err)
	}

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
