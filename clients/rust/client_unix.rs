//! Unix domain socket echo client with std::os::unix::net: connects to the
//! socket file, sends the message, reads until the whole echo has arrived,
//! writes it to stdout unchanged. Usage: client_unix PATH MESSAGE

use std::env;
use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::process;

fn main() -> io::Result<()> {
    let args: Vec<OsString> = env::args_os().collect();
    if args.len() != 3 {
        eprintln!("usage: client_unix PATH MESSAGE");
        process::exit(1);
    }
    let path = &args[1];
    let message = args[2].as_bytes(); // the argument's bytes, exactly as given

    let mut stream = UnixStream::connect(path)?;
    stream.write_all(message)?;

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
