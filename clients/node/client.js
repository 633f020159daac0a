'use strict';
// TCP echo client with the net module: sends MESSAGE, collects the echo until
// all of it is back, ends the connection and writes the echo to stdout
// unchanged. Usage: node client.js HOST PORT MESSAGE
// (HOST may be an IPv4 or an IPv6 address: net picks the family from it.)

const net = require('node:net');

function fail(err) {
  console.error(`client: ${err.message}`);
  process.exitCode = 1;
}

const [host, port, message] = process.argv.slice(2);
if (message === undefined) {
  console.error('usage: node client.js HOST PORT MESSAGE');
  process.exit(1);
}
const data = Buffer.from(message); // the argument, encoded as UTF-8

const chunks = [];
let received = 0;

const socket = net.createConnection({ host, port: Number(port) }, () => {
  socket.write(data);
  if (data.length === 0) socket.end(); // no echo to wait for
});
socket.on('error', fail);
// The echo may arrive in several chunks: collect them until all of it is here.
socket.on('data', (chunk) => {
  chunks.push(chunk);
  received += chunk.length;
  if (received >= data.length) socket.end();
});
// 'close' comes once both sides have ended, or the server closed early.
socket.on('close', (hadError) => {
  if (!hadError) process.stdout.write(Buffer.concat(chunks));
});
