//! Unix domain socket echo server with std::os::unix::net: listens on a
//! socket file, accepts one connection, echoes one read back, removes the
//! socket file and exits. Usage: server_unix PATH

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process;

fn serve(listener: &UnixListener) -> io::Result<()> {
    let (mut stream, _peer) = listener.accept()?;
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf)?;
    stream.write_all(&buf[..n])?;
    Ok(()) // the connection is closed here, when stream goes out of scope
}

fn main() -> io::Result<()> {
    // A path is any bytes, not necessarily UTF-8: keep it as an OsString.
    let args: Vec<OsString> = env::args_os().collect();
    if args.len() != 2 {
        eprintln!("usage: server_unix PATH");
        process::exit(1);
    }
    let path = Path::new(&args[1]);

    // bind() creates the socket file and starts listening.
    let listener = UnixListener::bind(path)?;
    let result = serve(&listener);
    drop(listener);
    // Closing the socket leaves its file behind: remove it, whatever happened.
    fs::remove_file(path)?;
    result
}
