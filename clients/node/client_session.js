'use strict';
// TCP echo client for a session of several messages, with the net module.
// Usage: node client_session.js HOST PORT MESSAGE SIZES
//
// SIZES is a comma-separated list of byte counts; message k is MESSAGE
// repeated and cut to SIZES[k] bytes. Each message is written, and the next
// one only once its whole echo is back. Everything received is written to
// stdout unchanged once the connection has closed.

const net = require('node:net');

function fail(err) {
  console.error(`client: ${err.message}`);
  process.exitCode = 1;
}

const [host, port, messageArg, sizesArg] = process.argv.slice(2);
if (sizesArg === undefined) {
  console.error('usage: node client_session.js HOST PORT MESSAGE SIZES');
  process.exit(1);
}
const message = Buffer.from(messageArg); // the argument, encoded as UTF-8
const sizes = sizesArg.split(',').map(Number);

const chunks = [];
let index = 0; // the message whose echo is awaited
let pending = 0; // bytes of that echo still to come

// Writes the next message, or ends the connection after the last one.
function sendNext() {
  while (index < sizes.length && sizes[index] === 0) index++; // nothing to echo
  if (index === sizes.length) {
    socket.end();
    return;
  }
  pending = sizes[index];
  socket.write(Buffer.alloc(pending, message)); // fill repeats MESSAGE
}

const socket = net.createConnection({ host, port: Number(port) }, sendNext);
socket.on('error', fail);
// The server echoes only what it was sent, so a chunk never holds bytes of
// two messages.
socket.on('data', (chunk) => {
  chunks.push(chunk);
  pending -= chunk.length;
  if (pending <= 0) {
    index++;
    sendNext();
  }
});
socket.on('close', (hadError) => {
  if (!hadError) process.stdout.write(Buffer.concat(chunks));
});
