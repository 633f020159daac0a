<?php
// TCP echo client over IPv6 with PHP's stream socket API: the tcp client
// with an IPv6 address in the URL. Sends MESSAGE, reads until the whole echo
// has arrived, writes it to stdout unchanged.
// Usage: php client_tcp6.php HOST PORT MESSAGE

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 4) {
    fwrite(STDERR, "usage: php client_tcp6.php HOST PORT MESSAGE\n");
    exit(1);
}
$host = $argv[1]; // an IPv6 address, e.g. ::1
$port = (int) $argv[2];
$message = $argv[3];

// An IPv6 address goes in square brackets, as in a URL, so that its colons
// are not taken for the port separator. The stream layer picks AF_INET6
// from the address.
$socket = stream_socket_client("tcp://[$host]:$port", $errno, $errstr);
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
