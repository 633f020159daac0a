# Unix domain socket echo server with Ruby's socket library: listens on a
# socket file, accepts one connection, echoes one receive back, removes the
# socket file and exits. Usage: ruby server_unix.rb PATH

require "socket"

if ARGV.size != 1
  warn "usage: ruby server_unix.rb PATH"
  exit 1
end
path = ARGV[0]

# UNIXServer.open creates the socket, binds it to PATH (which creates the
# socket file) and listens.
server = UNIXServer.open(path)
begin
  client = server.accept
  begin
    data = client.recv(4096)
    client.write(data)
  ensure
    client.close
  end
ensure
  server.close
  File.unlink(path) # closing the socket does not remove its file
end
