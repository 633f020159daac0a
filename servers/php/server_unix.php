<?php
// Unix domain socket echo server with PHP's sockets extension: binds an
// AF_UNIX stream socket to PATH, accepts one connection, echoes one read
// back, closes, removes the socket file and exits.
// Usage: php server_unix.php PATH

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 2) {
    fwrite(STDERR, "usage: php server_unix.php PATH\n");
    exit(1);
}
$path = $argv[1];

$server = socket_create(AF_UNIX, SOCK_STREAM, 0);
if ($server === false) {
    fail('socket_create');
}
// socket_bind() creates the socket file.
if (socket_bind($server, $path) === false) {
    fail('socket_bind', $server);
}
if (socket_listen($server, SOMAXCONN) === false) {
    fail('socket_listen', $server);
}

$client = socket_accept($server);
if ($client === false) {
    fail('socket_accept', $server);
}

$data = socket_read($client, 4096);
if ($data === false) {
    fail('socket_read', $client);
}

// socket_write may write only part of the data: loop until all is sent.
while ($data !== '') {
    $written = socket_write($client, $data);
    if ($written === false) {
        fail('socket_write', $client);
    }
    $data = substr($data, $written);
}

socket_close($client);
socket_close($server);
// Closing the socket leaves its file behind: remove it.
unlink($path);
