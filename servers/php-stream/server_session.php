<?php
// TCP echo server for a session of several messages, with PHP's stream
// socket API: accepts one connection and echoes everything it reads until
// the client closes its end, then exits.
// Usage: php server_session.php HOST PORT

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php server_session.php HOST PORT\n");
    exit(1);
}
$host = $argv[1];
$port = (int) $argv[2];

$server = stream_socket_server("tcp://$host:$port", $errno, $errstr);
if ($server === false) {
    fail('stream_socket_server', "$errstr ($errno)");
}

// -1: wait for a client as long as it takes, not default_socket_timeout.
$client = stream_socket_accept($server, -1);
if ($client === false) {
    fail('stream_socket_accept', error_get_last()['message'] ?? 'failed');
}

while (true) {
    $data = fread($client, 65536);
    if ($data === false) {
        fail('fread', error_get_last()['message'] ?? 'failed');
    }
    // fread() returns '' both at end of file and when default_socket_timeout
    // (60 seconds) passes with nothing to read: feof() tells them apart.
    if ($data === '') {
        if (feof($client)) {
            break; // end of file: the client has closed the connection
        }
        fail('fread', 'timed out');
    }

    // fwrite may write only part of the data: loop until all is sent.
    while ($data !== '') {
        $written = fwrite($client, $data);
        if ($written === false) {
            fail('fwrite', error_get_last()['message'] ?? 'failed');
        }
        $data = substr($data, $written);
    }
}

fclose($client);
fclose($server);
