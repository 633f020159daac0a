<?php
// UDP echo server with PHP's sockets extension: receives one datagram with
// socket_recvfrom(), sends it back with socket_sendto() to the address it
// came from, then exits. Usage: php server_udp.php HOST PORT

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php server_udp.php HOST PORT\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];

$server = socket_create(AF_INET, SOCK_DGRAM, SOL_UDP);
if ($server === false) {
    fail('socket_create');
}
if (socket_bind($server, $host, $port) === false) {
    fail('socket_bind', $server);
}

// A datagram arrives whole: one socket_recvfrom() gets it and its sender.
if (socket_recvfrom($server, $data, 65536, 0, $peerHost, $peerPort) === false) {
    fail('socket_recvfrom', $server);
}

// ...and one socket_sendto() sends it back whole, or fails.
if (socket_sendto($server, $data, strlen($data), 0, $peerHost, $peerPort) === false) {
    fail('socket_sendto', $server);
}

socket_close($server);
