<?php
// Unix domain socket echo client with PHP's sockets extension: connects an
// AF_UNIX stream socket to PATH, sends MESSAGE, reads until the whole echo
// has arrived, writes it to stdout unchanged.
// Usage: php client_unix.php PATH MESSAGE

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php client_unix.php PATH MESSAGE\n");
    exit(1);
}
$path = $argv[1];
$message = $argv[2];

$socket = socket_create(AF_UNIX, SOCK_STREAM, 0);
if ($socket === false) {
    fail('socket_create');
}
if (socket_connect($socket, $path) === false) {
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
