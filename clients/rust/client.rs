//! TCP echo client with std::net: sends MESSAGE, reads until the whole echo
//! has arrived, writes it to stdout unchanged. Serves both tcp and tcp6:
//! TcpStream picks the address family from the address it is given.
//! Usage: client HOST PORT MESSAGE

use std::env;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::process;

fn main() -> io::Result<()> {
    let args: Vec<OsString> = env::args_os().collect();
    if args.len() != 4 {
        eprintln!("usage: client HOST PORT MESSAGE");
        process::exit(1);
    }
    let host = args[1].to_str().expect("HOST must be UTF-8");
    let port: u16 = args[2].to_str().and_then(|p| p.parse().ok()).expect("PORT must be a number");
    let message = args[3].as_bytes(); // the argument's bytes, exactly as given

    let mut stream = TcpStream::connect((host, port))?;
    // write_all() repeats the write until every byte is sent.
    stream.write_all(message)?;

    // A read may return part of the echo: read until it is all here or the
    // server closes the connection (read returns 0).
    let mut received = Vec::with_capacity(message.len());
    let mut buf = [0u8; 4096];
    while received.len() < message.len() {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buf[..n]);
    }
    drop(stream); // closes the connection

    let mut stdout = io::stdout().lock();
    stdout.write_all(&received)?;
    stdout.flush()
}
