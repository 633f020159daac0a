<?php
// Unix domain socket echo client with PHP's stream socket API: connects to
// the socket at PATH, sends MESSAGE, reads until the whole echo has arrived,
// writes it to stdout unchanged. Usage: php client_unix.php PATH MESSAGE

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php client_unix.php PATH MESSAGE\n");
    exit(1);
}
$path = $argv[1];
$message = $argv[2];

// The "unix://" transport takes the file system path of the socket.
$socket = stream_socket_client("unix://$path", $errno, $errstr);
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
