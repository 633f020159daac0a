<?php
// TCP echo server with PHP's stream socket API: accepts one connection,
// echoes one read back, then exits. Usage: php server.php HOST PORT
//
// Streams are PHP's general I/O layer: the connection is a stream resource,
// like an open file, so it is read with fread() and written with fwrite().
// The same program serves tcp6: the address decides the family.

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php server.php HOST PORT\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];

// One call makes the socket, binds it and listens: the transport ("tcp://")
// and the address are given together as a URL-like string. An IPv6 address
// goes in square brackets, as in a URL, so that its colons are not taken for
// the port separator; the stream layer then picks AF_INET6.
$address = str_contains($host, ':') ? "[$host]" : $host;
$server = stream_socket_server("tcp://$address:$port", $errno, $errstr);
if ($server === false) {
    fail('stream_socket_server', "$errstr ($errno)");
}

// stream_socket_accept() gives up after default_socket_timeout (60 seconds)
// unless told otherwise: -1 waits as long as it takes.
$client = stream_socket_accept($server, -1);
if ($client === false) {
    fail('stream_socket_accept', error_get_last()['message'] ?? 'failed');
}

// fread() on a socket returns what has arrived, at most 4096 bytes; it does
// not wait for all 4096.
$data = fread($client, 4096);
if ($data === false) {
    fail('fread', error_get_last()['message'] ?? 'failed');
}

// fwrite may write only part of the data: loop until all is sent.
while ($data !== '') {
    $written = fwrite($client, $data);
    if ($written === false) {
        fail('fwrite', error_get_last()['message'] ?? 'failed');
    }
    $data = substr($data, $written);
}

fclose($client);
fclose($server);
