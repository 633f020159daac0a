'use strict';
// TCP echo server for a session of several messages, with the net module:
// accepts one connection and pipes it into itself, so everything received is
// sent back until the client ends the connection; then exits.
// Usage: node server_session.js HOST PORT

const net = require('node:net');

function fail(err) {
  console.error(`server: ${err.message}`);
  process.exitCode = 1;
}

const [host, port] = process.argv.slice(2);
if (host === undefined || port === undefined) {
  console.error('usage: node server_session.js HOST PORT');
  process.exit(1);
}

const server = net.createServer((socket) => {
  socket.on('error', fail);
  // The readable side feeds the writable side; at end of file pipe() ends
  // the writable side too.
  socket.pipe(socket);
  socket.on('close', () => server.close());
});
server.on('error', fail);
server.listen(Number(port), host);
