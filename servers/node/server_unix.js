'use strict';
// Unix domain socket echo server with the net module: listens on a socket
// file, accepts one connection, sends the first chunk it receives back, then
// exits. Usage: node server_unix.js PATH
//
// Closing the server removes the socket file (libuv unlinks it), so the
// program does not remove it itself.

const net = require('node:net');

function fail(err) {
  console.error(`server: ${err.message}`);
  process.exitCode = 1;
}

const [path] = process.argv.slice(2);
if (path === undefined) {
  console.error('usage: node server_unix.js PATH');
  process.exit(1);
}

const server = net.createServer((socket) => {
  socket.on('error', fail);
  socket.once('data', (data) => {
    socket.end(data); // send it back, then end our side of the connection
  });
  socket.on('close', () => server.close());
});
server.on('error', fail);
server.listen(path);
