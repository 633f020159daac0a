# UDP echo server with Ruby's socket library: receives one datagram with
# recvfrom, sends it back with send to the address it came from, then exits.
# Usage: ruby server_udp.rb HOST PORT

require "socket"

if ARGV.size != 2
  warn "usage: ruby server_udp.rb HOST PORT"
  exit 1
end
host = ARGV[0]
port = Integer(ARGV[1])

UDPSocket.open do |socket| # an AF_INET datagram socket, closed when the block ends
  socket.bind(host, port)

  # A datagram arrives whole: one recvfrom gets it and its sender, given as
  # ["AF_INET", port, host, address].
  data, sender = socket.recvfrom(65536)
  _family, sender_port, _sender_host, sender_address = sender

  # ...and send with an address sends it back whole, or fails.
  socket.send(data, 0, sender_address, sender_port)
end
