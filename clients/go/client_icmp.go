// ICMP echo client (what ping does) with the net package alone:
// net.ListenPacket("ip4:icmp", "0.0.0.0") is a raw socket (SOCK_RAW,
// IPPROTO_ICMP; needs CAP_NET_RAW). WriteTo sends one echo request (type 8)
// carrying the message, with the process id as its identifier and sequence
// number 1; the host's kernel answers, there is no server program. The raw
// socket gets every ICMP packet that arrives (on loopback the request itself
// too): ReadFrom, which strips the IPv4 header, is called until the echo reply
// (type 0) with our identifier and sequence, whose data is written to stdout.
// Usage: client_icmp HOST MESSAGE
package main

import (
	"encoding/binary"
	"fmt"
	"log"
	"net"
	"os"
)

// checksum is the Internet checksum (RFC 1071).
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintf(os.Stderr, "usage: %s HOST MESSAGE\n", os.Args[0])
		os.Exit(1)
	}
	to, err := net.ResolveIPAddr("ip4", os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	message := []byte(os.Args[2]) // the argument's bytes, exactly as given
	ident, seq := uint16(os.Getpid()), uint16(1)

	req := make([]byte, 8+len(message))
	req[0] = 8 // echo request
	binary.BigEndian.PutUint16(req[4:], ident)
	binary.BigEndian.PutUint16(req[6:], seq)
	copy(req[8:], message)
	binary.BigEndian.PutUint16(req[2:], checksum(req))

	pc, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		log.Fatal(err)
	}
	if _, err := pc.WriteTo(req, to); err != nil {
		log.Fatal(err)
	}

	buf := make([]byte, 65536)
	var reply []byte
	for {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			log.Fatal(err)
		}
		if n >= 8 && buf[0] == 0 && binary.BigEndian.Uint16(buf[4:]) == ident &&
			binary.BigEndian.Uint16(buf[6:]) == seq {
			reply = buf[8:n]
			break
		}
	}

	if err := pc.Close(); err != nil {
		log.Fatal(err)
	}
	if _, err := os.Stdout.Write(reply); err != nil {
		log.Fatal(err)
	}
}
