<?php
// UDP echo client with PHP's sockets extension: sends MESSAGE as one
// datagram with socket_sendto(), receives one datagram with
// socket_recvfrom(), writes it to stdout unchanged.
// Usage: php client_udp.php HOST PORT MESSAGE

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 4) {
    fwrite(STDERR, "usage: php client_udp.php HOST PORT MESSAGE\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];
$message = $argv[3];

$socket = socket_create(AF_INET, SOCK_DGRAM, SOL_UDP);
if ($socket === false) {
    fail('socket_create');
}

// A datagram goes out whole or not at all.
if (socket_sendto($socket, $message, strlen($message), 0, $host, $port) === false) {
    fail('socket_sendto', $socket);
}

// The reply is one datagram: one socket_recvfrom() gets all of it.
if (socket_recvfrom($socket, $reply, 65536, 0, $fromHost, $fromPort) === false) {
    fail('socket_recvfrom', $socket);
}

socket_close($socket);
fwrite(STDOUT, $reply);
