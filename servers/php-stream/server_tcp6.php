<?php
// TCP echo server over IPv6 with PHP's stream socket API: the tcp server
// with an IPv6 address in the URL. Accepts one connection, echoes one read
// back, then exits. Usage: php server_tcp6.php HOST PORT

function fail(string $what, string $why): void
{
    fwrite(STDERR, "$what: $why\n");
    exit(1);
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php server_tcp6.php HOST PORT\n");
    exit(1);
}
$host = $argv[1]; // an IPv6 address, e.g. ::1
$port = (int) $argv[2];

// An IPv6 address goes in square brackets, as in a URL, so that its colons
// are not taken for the port separator. The stream layer picks AF_INET6
// from the address.
$server = stream_socket_server("tcp://[$host]:$port", $errno, $errstr);
if ($server === false) {
    fail('stream_socket_server', "$errstr ($errno)");
}

// stream_socket_accept() gives up after default_socket_timeout (60 seconds)
// unless told otherwise: -1 waits as long as it takes.
$client = stream_socket_accept($server, -1);
if ($client === false) {
    fail('stream_socket_accept', error_get_last()['message'] ?? 'failed');
}

// fread() on a socket returns what has arrived, at most 4096 bytes; it does
// not wait for all 4096.
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
