# Unix domain socket echo client with Ruby's socket library: connects to the
# socket file, sends MESSAGE, reads until the whole echo has arrived, writes
# it to stdout unchanged. Usage: ruby client_unix.rb PATH MESSAGE

require "socket"

if ARGV.size != 2
  warn "usage: ruby client_unix.rb PATH MESSAGE"
  exit 1
end
path = ARGV[0]
message = ARGV[1].b # the argument's bytes, exactly as given

# UNIXSocket.open creates an AF_UNIX stream socket and connects it to PATH.
received = UNIXSocket.open(path) do |socket|
  socket.write(message)
  socket.read(message.bytesize) || "" # nil if the server closed first
end

$stdout.binmode
$stdout.write(received)
