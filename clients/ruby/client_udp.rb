# UDP echo client with Ruby's socket library: sends MESSAGE as one datagram
# with send to HOST PORT, receives one datagram with recvfrom, writes it to
# stdout unchanged. Usage: ruby client_udp.rb HOST PORT MESSAGE

require "socket"

if ARGV.size != 3
  warn "usage: ruby client_udp.rb HOST PORT MESSAGE"
  exit 1
end
host = ARGV[0]
port = Integer(ARGV[1])
message = ARGV[2].b # the argument's bytes, exactly as given

reply = UDPSocket.open do |socket| # an AF_INET datagram socket, not connected
  # send with an address: the datagram goes out whole or not at all.
  socket.send(message, 0, host, port)
  # The reply is one datagram: one recvfrom gets all of it.
  data, _sender = socket.recvfrom(65536)
  data
end

$stdout.binmode
$stdout.write(reply)
