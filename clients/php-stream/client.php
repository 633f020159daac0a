<?php
// TCP echo client with PHP's stream socket API: sends MESSAGE, reads until
// the whole echo has arrived, writes it to stdout unchanged.
// Usage: php client.php HOST PORT MESSAGE
//
// Streams are PHP's general I/O layer: the connection is a stream resource,
// like an open file, so it is written with fwrite() and read with fread().
// The same program serves tcp6: the address decides the family.

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 4) {
    fwrite(STDERR, "usage: php client.php HOST PORT MESSAGE\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];
$message = $argv[3];

// One call makes the socket and connects it: the transport ("tcp://") and
// the address are given together as a URL-like string. An IPv6 address goes
// in square brackets, as in a URL, so that its colons are not taken for the
// port separator; the stream layer then picks AF_INET6.
$address = str_contains($host, ':') ? "[$host]" : $host;
$socket = stream_socket_client("tcp://$address:$port", $errno, $errstr);
if ($socket === false) {
    fail('stream_socket_client', "$errstr ($errno)");
}

// fwrite may write only part of the data: loop until all is sent.
$pending = $message;
while ($pending !== '') {
    $written = fwrite($socket, $pending);
    if ($written === false) {
        fail('fwrite', error_get_last()['message'] ?? 'failed');
    }
    $pending = substr($pending, $written);
}

// fread() returns what has arrived, at most 4096 bytes, so the echo may
// take several calls.
$received = '';
while (strlen($received) < strlen($message)) {
    $chunk = fread($socket, 4096);
    if ($chunk === false) {
        fail('fread', error_get_last()['message'] ?? 'failed');
    }
    // '' means end of file (the server has closed the connection), or that
    // default_socket_timeout (60 seconds) passed: feof() tells them apart.
    if ($chunk === '') {
        if (feof($socket)) {
            break;
        }
        fail('fread', 'timed out');
    }
    $received .= $chunk;
}

fclose($socket);
fwrite(STDOUT, $received);
