# TCP echo client for a session of several messages, with Ruby's socket
# library. Usage: ruby client_session.rb HOST PORT MESSAGE SIZES
#
# SIZES is a comma-separated list of byte counts; message k is MESSAGE
# repeated and cut to SIZES[k] bytes. Each message is written whole and its
# echo read back in full before the next one is written. Everything received
# is written to stdout unchanged at the end.

require "socket"

if ARGV.size != 4
  warn "usage: ruby client_session.rb HOST PORT MESSAGE SIZES"
  exit 1
end
host = ARGV[0]
port = Integer(ARGV[1])
message = ARGV[2].b # the argument's bytes, exactly as given
sizes = ARGV[3].split(",").map { |size| Integer(size) }

received = String.new # an empty binary string
TCPSocket.open(host, port) do |socket|
  sizes.each do |size|
    data = (message * (size / message.bytesize + 1)).byteslice(0, size)
    socket.write(data)
    # read(size) reads this message's echo, and no more; it returns fewer
    # bytes (nil if none at all) when the server closes the connection.
    echo = socket.read(size) || ""
    received << echo
    break if echo.bytesize < size # the server closed the connection early
  end
end

$stdout.binmode
$stdout.write(received)
