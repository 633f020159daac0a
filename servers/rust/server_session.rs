//! TCP echo server for a session of several messages, with std::net: accepts
//! one connection and echoes everything it reads until the client closes its
//! end (read returns 0), then exits. Usage: server_session HOST PORT

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

    let listener = TcpListener::bind((host, port))?;
    let (mut stream, _peer) = listener.accept()?;

    let mut buf = vec![0u8; 65536];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break; // end of file: the client has closed the connection
        }
        stream.write_all(&buf[..n])?;
    }

    drop(stream);
    drop(listener);
    Ok(())
}
