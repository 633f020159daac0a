# TCP echo server with Ruby's socket library: accepts one connection,
# echoes one receive back, then exits. Usage: ruby server.rb HOST PORT
#
# The same program serves tcp6: TCPServer picks the address family from
# HOST, so "::1" gives an IPv6 socket and "127.0.0.1" an IPv4 one.

require "socket"

if ARGV.size != 2
  warn "usage: ruby server.rb HOST PORT"
  exit 1
end
host = ARGV[0]
port = Integer(ARGV[1])

# TCPServer.open creates the socket, binds it and listens, all in one call.
# With a block, the listening socket is closed when the block ends.
TCPServer.open(host, port) do |server|
  client = server.accept # a TCPSocket for the connection
  begin
    data = client.recv(4096) # one receive: whatever has arrived, up to 4096 bytes
    client.write(data)       # write returns only once all of it is written
  ensure
    client.close
  end
end
