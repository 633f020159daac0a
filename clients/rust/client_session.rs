//! TCP echo client for a session of several messages, with std::net.
//! Usage: client_session HOST PORT MESSAGE SIZES
//!
//! SIZES is a comma-separated list of byte counts; message k is MESSAGE
//! repeated and cut to SIZES[k] bytes. Each message is sent whole and its
//! echo read back in full before the next one is sent. Everything received
//! is written to stdout unchanged at the end.

use std::env;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::ffi::OsStrExt;
use std::process;

fn main() -> io::Result<()> {
    let args: Vec<OsString> = env::args_os().collect();
    if args.len() != 5 {
        eprintln!("usage: client_session HOST PORT MESSAGE SIZES");
        process::exit(1);
    }
    let host = args[1].to_str().expect("HOST must be UTF-8");
    let port: u16 = args[2].to_str().and_then(|p| p.parse().ok()).expect("PORT must be a number");
    let message = args[3].as_bytes(); // the argument's bytes, exactly as given
    if message.is_empty() {
        eprintln!("MESSAGE must not be empty");
        process::exit(1);
    }
    let sizes: Vec<usize> = args[4]
        .to_str()
        .expect("SIZES must be UTF-8")
        .split(',')
        .map(|s| s.parse().expect("SIZES must be numbers"))
        .collect();

    let mut stream = TcpStream::connect((host, port))?;
    let mut received = Vec::new();
    for size in sizes {
        let data: Vec<u8> = message.iter().copied().cycle().take(size).collect();
        stream.write_all(&data)?;

        // Read until this message's echo is all here, never more than it:
        // stop early if the server closes the connection (read returns 0).
        let mut echo = vec![0u8; size];
        let mut got = 0;
        while got < size {
            let n = stream.read(&mut echo[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        received.extend_from_slice(&echo[..got]);
        if got < size {
            break;
        }
    }
    drop(stream); // closes the connection

    let mut stdout = io::stdout().lock();
    stdout.write_all(&received)?;
    stdout.flush()
}
