<?php
// TCP echo server over IPv6 with PHP's sockets extension: the tcp server
// with an AF_INET6 socket. Accepts one connection, echoes one read back,
// then exits. Usage: php server_tcp6.php HOST PORT

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php server_tcp6.php HOST PORT\n");
    exit(1);
}
$host = $argv[1]; // an IPv6 address, e.g. ::1
$port = (int) $argv[2];

$server = socket_create(AF_INET6, SOCK_STREAM, SOL_TCP);
if ($server === false) {
    fail('socket_create');
}
if (socket_bind($server, $host, $port) === false) {
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
