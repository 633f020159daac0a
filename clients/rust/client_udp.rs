//! UDP echo client with std::net: sends the message as one datagram with
//! send_to(), receives one datagram back, writes it to stdout unchanged.
//! Usage: client_udp HOST PORT MESSAGE

use std::env;
use std::ffi::OsString;
use std::io::{self, Write};
use std::net::UdpSocket;
use std::os::unix::ffi::OsStrExt;
use std::process;

fn main() -> io::Result<()> {
    let args: Vec<OsString> = env::args_os().collect();
    if args.len() != 4 {
        eprintln!("usage: client_udp HOST PORT MESSAGE");
        process::exit(1);
    }
    let host = args[1].to_str().expect("HOST must be UTF-8");
    let port: u16 = args[2].to_str().and_then(|p| p.parse().ok()).expect("PORT must be a number");
    let message = args[3].as_bytes(); // the argument's bytes, exactly as given

    // A UdpSocket only comes from bind(): port 0 lets the system choose one.
    let socket = UdpSocket::bind(("0.0.0.0", 0))?;
    // A datagram goes out whole or not at all.
    socket.send_to(message, (host, port))?;

    // The reply is one datagram: one recv_from() gets all of it.
    let mut buf = vec![0u8; 65536];
    let (n, _peer) = socket.recv_from(&mut buf)?;
    drop(socket);

    let mut stdout = io::stdout().lock();
    stdout.write_all(&buf[..n])?;
    stdout.flush()
}
