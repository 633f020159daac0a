//! UDP echo server with std::net: receives one datagram, sends it back to the
//! address it came from, then exits. Usage: server_udp HOST PORT

use std::env;
use std::io;
use std::net::UdpSocket;
use std::process;

fn main() -> io::Result<()> {
    let args: Vec<String> = env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: {} HOST PORT", args[0]);
        process::exit(1);
    }
    let host = args[1].as_str();
    let port: u16 = args[2].parse().expect("PORT must be a number");

    let socket = UdpSocket::bind((host, port))?;

    // A datagram arrives whole: one recv_from() gets it and its sender...
    let mut buf = vec![0u8; 65536];
    let (n, peer) = socket.recv_from(&mut buf)?;
    // ...and one send_to() sends it back whole, or fails.
    socket.send_to(&buf[..n], peer)?;

    drop(socket);
    Ok(())
}
