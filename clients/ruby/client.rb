# TCP echo client with Ruby's socket library: sends MESSAGE, reads until the
# whole echo has arrived, writes it to stdout unchanged.
# Usage: ruby client.rb HOST PORT MESSAGE
#
# The same program serves tcp6: TCPSocket picks the address family from
# HOST, so "::1" gives an IPv6 socket and "127.0.0.1" an IPv4 one.

require "socket"

if ARGV.size != 3
  warn "usage: ruby client.rb HOST PORT MESSAGE"
  exit 1
end
host = ARGV[0]
port = Integer(ARGV[1])
message = ARGV[2].b # the argument's bytes, exactly as given

# TCPSocket.open creates the socket and connects it; with a block, the
# socket is closed when the block ends.
received = TCPSocket.open(host, port) do |socket|
  socket.write(message) # returns only once all of it is written
  # read(n) keeps reading until it holds n bytes, or returns fewer (nil if
  # none at all) when the server closes the connection first.
  socket.read(message.bytesize) || ""
end

$stdout.binmode
$stdout.write(received)
