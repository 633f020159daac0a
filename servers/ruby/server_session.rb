# TCP echo server for a session of several messages, with Ruby's socket
# library: accepts one connection and echoes everything it reads until the
# client closes its end, then exits. Usage: ruby server_session.rb HOST PORT

require "socket"

if ARGV.size != 2
  warn "usage: ruby server_session.rb HOST PORT"
  exit 1
end
host = ARGV[0]
port = Integer(ARGV[1])

TCPServer.open(host, port) do |server|
  client = server.accept
  begin
    loop do
      # readpartial returns whatever has arrived, up to 65536 bytes, and
      # raises EOFError once the client has closed the connection.
      data = client.readpartial(65536)
      client.write(data)
    end
  rescue EOFError
    # end of file: the session is over
  ensure
    client.close
  end
end
