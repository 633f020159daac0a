<?php
// TCP echo client for a session of several messages, with PHP's sockets
// extension. Usage: php client_session.php HOST PORT MESSAGE SIZES
//
// SIZES is a comma-separated list of byte counts; message k is MESSAGE
// repeated and cut to SIZES[k] bytes. Each message is written whole and its
// echo read back in full before the next one is written. Everything received
// is written to stdout unchanged at the end.

function fail(string $what, $socket = null): void
{
    $error = $socket === null ? socket_last_error() : socket_last_error($socket);
    fwrite(STDERR, "$what: " . socket_strerror($error) . "\n");
    exit(1);
}

if ($argc !== 5) {
    fwrite(STDERR, "usage: php client_session.php HOST PORT MESSAGE SIZES\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];
$message = $argv[3];
$sizes = array_map('intval', explode(',', $argv[4]));

$socket = socket_create(AF_INET, SOCK_STREAM, SOL_TCP);
if ($socket === false) {
    fail('socket_create');
}
if (socket_connect($socket, $host, $port) === false) {
    fail('socket_connect', $socket);
}

$received = '';
foreach ($sizes as $size) {
    $data = substr(str_repeat($message, intdiv($size, strlen($message)) + 1), 0, $size);

    // socket_write may write only part of the data: loop until all is sent.
    $pending = $data;
    while ($pending !== '') {
        $written = socket_write($socket, $pending);
        if ($written === false) {
            fail('socket_write', $socket);
        }
        $pending = substr($pending, $written);
    }

    // Read this message's echo, and no more; socket_read returns '' when
    // the server has closed the connection.
    $echo = '';
    while (strlen($echo) < $size) {
        $chunk = socket_read($socket, $size - strlen($echo));
        if ($chunk === false) {
            fail('socket_read', $socket);
        }
        if ($chunk === '') {
            break;
        }
        $echo .= $chunk;
    }
    $received .= $echo;
    if (strlen($echo) < $size) {
        break; // the server closed the connection early
    }
}

socket_close($socket);
fwrite(STDOUT, $received);
