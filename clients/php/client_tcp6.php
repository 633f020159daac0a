<?php
// TCP echo client over IPv6 with PHP's sockets extension: the tcp client
// with an AF_INET6 socket. Sends MESSAGE, reads until the whole echo has
// arrived, writes it to stdout unchanged.
// Usage: php client_tcp6.php HOST PORT MESSAGE

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 4) {
    fwrite(STDERR, "usage: php client_tcp6.php HOST PORT MESSAGE\n");
    exit(1);
}
$host = $argv[1]; // an IPv6 address, e.g. ::1
$port = (int) $argv[2];
$message = $argv[3];

$socket = socket_create(AF_INET6, SOCK_STREAM, SOL_TCP);
if ($socket === false) {
    fail('socket_create');
}
if (socket_connect($socket, $host, $port) === false) {
    fail('socket_connect', $socket);
}

// socket_write may write only part of the data: loop until all is sent.
$pending = $message;
while ($pending !== '') {
    $written = socket_write($socket, $pending);
    if ($written === false) {
        fail('socket_write', $socket);
    }
    $pending = substr($pending, $written);
}

// socket_read returns '' when the server has closed the connection.
$received = '';
while (strlen($received) < strlen($message)) {
    $chunk = socket_read($socket, 4096);
    if ($chunk === false) {
        fail('socket_read', $socket);
    }
    if ($chunk === '') {
        break;
    }
    $received .= $chunk;
}

socket_close($socket);
fwrite(STDOUT, $received);
