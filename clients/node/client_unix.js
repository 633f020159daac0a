'use strict';
// Unix domain socket echo client with the net module: connects to the
// socket file, sends MESSAGE, collects the echo until all of it is back, ends
// the connection and writes the echo to stdout unchanged.
// Usage: node client_unix.js PATH MESSAGE

const net = require('node:net');

function fail(err) {
  console.error(`client: ${err.message}`);
  process.exitCode = 1;
}

const [path, message] = process.argv.slice(2);
if (message === undefined) {
  console.error('usage: node client_unix.js PATH MESSAGE');
  process.exit(1);
}
const data = Buffer.from(message); // the argument, encoded as UTF-8

const chunks = [];
let received = 0;

const socket = net.createConnection(path, () => {
  socket.write(data);
  if (data.length === 0) socket.end(); // no echo to wait for
});
socket.on('error', fail);
socket.on('data', (chunk) => {
  chunks.push(chunk);
  received += chunk.length;
  if (received >= data.length) socket.end();
});
socket.on('close', (hadError) => {
  if (!hadError) process.stdout.write(Buffer.concat(chunks));
});
