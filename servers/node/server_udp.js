'use strict';
// UDP echo server with the dgram module: receives one datagram, sends it
// back to the address it came from, then exits.
// Usage: node server_udp.js HOST PORT

const dgram = require('node:dgram');

function fail(err) {
  console.error(`server: ${err.message}`);
  process.exitCode = 1;
}

const [host, port] = process.argv.slice(2);
if (host === undefined || port === undefined) {
  console.error('usage: node server_udp.js HOST PORT');
  process.exit(1);
}

const socket = dgram.createSocket('udp4');
socket.on('error', fail);
socket.once('message', (msg, rinfo) => {
  socket.send(msg, rinfo.port, rinfo.address, (err) => {
    if (err) fail(err);
    socket.close(); // after the send has completed
  });
});
socket.bind(Number(port), host);
