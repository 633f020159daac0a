<?php
// UDP echo server with PHP's stream socket API: receives one datagram with
// stream_socket_recvfrom(), sends it back with stream_socket_sendto() to the
// address it came from, then exits. Usage: php server_udp.php HOST PORT

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php server_udp.php HOST PORT\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];

// UDP has no listen(): the flags must say STREAM_SERVER_BIND alone (the
// default also asks for STREAM_SERVER_LISTEN, which a datagram socket
// cannot do).
$server = stream_socket_server("udp://$host:$port", $errno, $errstr, STREAM_SERVER_BIND);
if ($server === false) {
    fail('stream_socket_server', "$errstr ($errno)");
}

// A datagram arrives whole: one stream_socket_recvfrom() gets it, and the
// sender's address as a "host:port" string.
$data = stream_socket_recvfrom($server, 65536, 0, $peer);
if ($data === false) {
    fail('stream_socket_recvfrom', error_get_last()['message'] ?? 'failed');
}

// ...and one stream_socket_sendto() sends it back whole, or fails: it
// returns -1 then (false if the address cannot be parsed).
$sent = stream_socket_sendto($server, $data, 0, $peer);
if ($sent === false || $sent < 0) {
    fail('stream_socket_sendto', error_get_last()['message'] ?? 'failed');
}

fclose($server);
