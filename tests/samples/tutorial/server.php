<?php
$host = "0.0.0.0";
$port = 1234;

$socket = socket_create(AF_INET, SOCK_STREAM, 0) or die("Could not create socket\n");
$result = socket_bind($socket, $host, $port) or die("Could not bind to socket\n");
$result = socket_listen($socket, 5) or die("Could not set up socket listener\n");

$spawn = socket_accept($socket) or die("Could not accept incoming connection\n");
$input = socket_read($spawn, 128) or die("Could not read input\n");
echo "Client says: " . $input . "\n";

$output = "hi";
socket_write($spawn, $output, strlen($output)) or die("Could not write output\n");

socket_close($spawn);
socket_close($socket);
?>
