//! Debian's nginx, started on loopback for a test or a bench (`#[path]`-included by
//! `tests/verify.rs` and `benches/proxy.rs`), and processes stopped as nginx needs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process stopped when dropped: SIGTERM first, since nginx's master stops its
/// workers only when asked (killed, it leaves them running, holding the port and this
/// process's output), then SIGKILL after 5 s.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where nginx is installed, if it is.
pub fn binary() -> Option<&'static str> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// nginx run from `dir` with `http` as its `http` block's content (after the temporary
/// paths, all under `dir`), once every port of `ports` accepts; else why not (not
/// installed, or its error log when it did not start within 10 s).
pub fn start(dir: &Path, http: &str, ports: &[u16]) -> Result<Server, String> {
    let nginx = binary().ok_or("nginx is not installed (apt-get install nginx-light)")?;
    let d = dir.display();
    // Workers run as the user nginx starts as; as root, say so, or they become nobody and
    // cannot write a cache under a private temporary directory.
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"));
    let user = if root { "user root;" } else { "" };
    let config = format!(
        "{user} daemon off; worker_processes auto; pid {d}/nginx.pid; error_log {d}/error.log;\n\
         events {{ worker_connections 4096; }}\n\
         http {{ access_log off;\n\
           client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;\n\
           uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
           {http} }}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(nginx)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {nginx}: {e}"))?;
    let server = Server(child);
    let started = Instant::now();
    for &port in ports {
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!(
                    "nginx did not start: {}",
                    std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(server)
}
