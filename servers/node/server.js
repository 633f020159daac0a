'use strict';
// TCP echo server with the net module: accepts one connection, sends the
// first chunk it receives back, then exits. Usage: node server.js HOST PORT
// (HOST may be an IPv4 or an IPv6 address: net picks the family from it.)

const net = require('node:net');

function fail(err) {
  console.error(`server: ${err.message}`);
  process.exitCode = 1;
}

const [host, port] = process.argv.slice(2);
if (host === undefined || port === undefined) {
  console.error('usage: node server.js HOST PORT');
  process.exit(1);
}

const server = net.createServer((socket) => {
  socket.on('error', fail);
  // One receive: the first 'data' event holds what one read returned.
  socket.once('data', (data) => {
    socket.end(data); // send it back, then end our side of the connection
  });
  // Once the connection is closed, stop listening; with nothing left to do,
  // the event loop ends and the process exits.
  socket.on('close', () => server.close());
});
server.on('error', fail);
server.listen(Number(port), host);
