'use strict';
// UDP echo client with the dgram module: sends MESSAGE as one datagram,
// receives one datagram back, closes the socket and writes the reply to
// stdout unchanged. Usage: node client_udp.js HOST PORT MESSAGE

const dgram = require('node:dgram');

function fail(err) {
  console.error(`client: ${err.message}`);
  process.exitCode = 1;
}

const [host, port, message] = process.argv.slice(2);
if (message === undefined) {
  console.error('usage: node client_udp.js HOST PORT MESSAGE');
  process.exit(1);
}
const data = Buffer.from(message); // the argument, encoded as UTF-8

const socket = dgram.createSocket('udp4');
socket.on('error', fail);
socket.once('message', (reply) => {
  socket.close();
  process.stdout.write(reply);
});
// The socket is not bound yet: send() binds it to an ephemeral port first.
socket.send(data, Number(port), host, (err) => {
  if (err) {
    fail(err);
    socket.close();
  }
});
