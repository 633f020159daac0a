//! TCP echo server with std::net: accepts one connection, echoes one read
//! back, then exits. Serves both tcp and tcp6: TcpListener picks the address
//! family from the address it is given. Usage: server HOST PORT

use std::env;
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::process;

fn main() -> io::Result<()> {
    let args: Vec<String> = env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: {} HOST PORT", args[0]);
        process::exit(1);
    }
    let host = args[1].as_str();
    let port: u16 = args[2].parse().expect("PORT must be a number");

    // bind() creates the socket, binds it and starts listening.
    let listener = TcpListener::bind((host, port))?;
    let (mut stream, _peer) = listener.accept()?;

    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf)?;
    // write_all() repeats the write until every byte is sent.
    stream.write_all(&buf[..n])?;

    // Dropping a socket closes it: first the connection, then the listener.
    drop(stream);
    drop(listener);
    Ok(())
}
