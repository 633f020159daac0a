<?php
// Unix domain socket echo server with PHP's stream socket API: listens on
// PATH, accepts one connection, echoes one read back, closes, removes the
// socket file and exits. Usage: php server_unix.php PATH

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 2) {
    fwrite(STDERR, "usage: php server_unix.php PATH\n");
    exit(1);
}
$path = $argv[1];

// The "unix://" transport takes a file system path; binding creates the
// socket file.
$server = stream_socket_server("unix://$path", $errno, $errstr);
if ($server === false) {
    fail('stream_socket_server', "$errstr ($errno)");
}

// -1: wait for a client as long as it takes, not default_socket_timeout.
$client = stream_socket_accept($server, -1);
if ($client === false) {
    fail('stream_socket_accept', error_get_last()['message'] ?? 'failed');
}

// fread() on a socket returns what has arrived, at most 4096 bytes.
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
// Closing the socket leaves its file behind: remove it.
unlink($path);
