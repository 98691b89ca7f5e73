//! A `cachebust proxy` child started on port 0: the address it says it listens on
//! (`#[path]`-included by the proxy tests and the proxy bench).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::Child;

/// Reads the child's stderr (piped) until `cachebust: listening on ADDR`, then keeps
/// reading it on a thread so that the proxy never blocks on a full pipe; every line read,
/// before and after, goes to `log`. Panics, with the lines read, if the child exits first.
pub fn listening(child: &mut Child, mut log: impl FnMut(&str) + Send + 'static) -> SocketAddr {
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr piped"));
    let mut read = String::new();
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "the proxy exited before listening: {read}"
        );
        read.push_str(&line);
        log(&line);
        if let Some(addr) = line.trim().strip_prefix("cachebust: listening on ") {
            break addr.parse().unwrap();
        }
    };
    std::thread::spawn(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap_or(0) > 0 {
            log(&line);
            line.clear();
        }
    });
    addr
}
