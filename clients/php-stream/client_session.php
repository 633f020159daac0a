<?php
// TCP echo client for a session of several messages, with PHP's stream
// socket API. Usage: php client_session.php HOST PORT MESSAGE SIZES
//
// SIZES is a comma-separated list of byte counts; message k is MESSAGE
// repeated and cut to SIZES[k] bytes. Each message is written whole and its
// echo read back in full before the next one is written. Everything received
// is written to stdout unchanged at the end.

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
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

$socket = stream_socket_client("tcp://$host:$port", $errno, $errstr);
if ($socket === false) {
    fail('stream_socket_client', "$errstr ($errno)");
}

$received = '';
foreach ($sizes as $size) {
    $data = substr(str_repeat($message, intdiv($size, strlen($message)) + 1), 0, $size);

    // fwrite may write only part of the data: loop until all is sent.
    $pending = $data;
    while ($pending !== '') {
        $written = fwrite($socket, $pending);
        if ($written === false) {
            fail('fwrite', error_get_last()['message'] ?? 'failed');
        }
        $pending = substr($pending, $written);
    }

    // Read this message's echo, and no more: fread() returns what has
    // arrived, at most the bytes still missing.
    $echo = '';
    while (strlen($echo) < $size) {
        $chunk = fread($socket, $size - strlen($echo));
        if ($chunk === false) {
            fail('fread', error_get_last()['message'] ?? 'failed');
        }
        // '' means end of file (the server has closed the connection), or
        // that default_socket_timeout (60 seconds) passed: feof() tells
        // them apart.
        if ($chunk === '') {
            if (feof($socket)) {
                break;
            }
            fail('fread', 'timed out');
        }
        $echo .= $chunk;
    }
    $received .= $echo;
    if (strlen($echo) < $size) {
        break; // the server closed the connection early
    }
}

fclose($socket);
fwrite(STDOUT, $received);
