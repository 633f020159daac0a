<?php
// UDP echo client with PHP's stream socket API: sends MESSAGE as one
// datagram, receives one datagram, writes it to stdout unchanged.
// Usage: php client_udp.php HOST PORT MESSAGE

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 4) {
    fwrite(STDERR, "usage: php client_udp.php HOST PORT MESSAGE\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];
$message = $argv[3];

// With "udp://" nothing is sent yet: the socket is connected, which for UDP
// only gives it a default destination, so the calls below need no address.
$socket = stream_socket_client("udp://$host:$port", $errno, $errstr);
if ($socket === false) {
    fail('stream_socket_client', "$errstr ($errno)");
}

// A datagram goes out whole or not at all; -1 means it failed.
$sent = stream_socket_sendto($socket, $message);
if ($sent === false || $sent < 0) {
    fail('stream_socket_sendto', error_get_last()['message'] ?? 'failed');
}

// The reply is one datagram: one stream_socket_recvfrom() gets all of it.
$reply = stream_socket_recvfrom($socket, 65536);
if ($reply === false) {
    fail('stream_socket_recvfrom', error_get_last()['message'] ?? 'failed');
}

fclose($socket);
fwrite(STDOUT, $reply);
