//! `cachebust proxy` facing hostile peers, over real sockets on 127.0.0.1: requests are
//! written byte for byte (a client library would refuse to send most of them), the
//! upstream is a hyper server that tells what it received, and every wait is bounded.

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

#[path = "support/channel_body.rs"]
mod channel_body;
#[path = "support/listening.rs"]
mod listening;
use channel_body::ChannelBody;
use listening::listening;

type Body = BoxBody<Bytes, std::io::Error>;

const PAGE: &str = r#"<html><body><img src="/img/a.png"></body></html>"#;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// What the test upstream serves and counts.
#[derive(Default)]
struct Shared {
    /// The manifest served at `/versions.json`, and whether to fail instead.
    manifest: Mutex<(String, bool)>,
    /// `304`s given for `/versions.json`.
    not_modified: AtomicUsize,
}

/// The upstream's answers, by the path's last segment (the proxy may put a base in front).
async fn route(
    mut request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let last = path.rsplit('/').next().unwrap_or_default().to_owned();
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let response = match last.as_str() {
        "page.html" => Response::builder()
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONTENT_LENGTH, PAGE.len())
            .body(full(PAGE))
            .unwrap(),
        // An application that redirects with the host it was asked for.
        "moved" => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("http://{host}/app/target"))
            .body(full(""))
            .unwrap(),
        // A redirect to the upstream outside the proxied base path.
        "outside" => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("http://{host}/admin/"))
            .body(full(""))
            .unwrap(),
        "gzip-page.html" | "br-page.html" => {
            let mut encoded = Vec::new();
            let coding = if last.starts_with("gzip") {
                let mut encoder =
                    flate2::write::GzEncoder::new(&mut encoded, flate2::Compression::fast());
                encoder.write_all(PAGE.as_bytes()).unwrap();
                encoder.finish().unwrap();
                "gzip"
            } else {
                let mut writer = brotli::CompressorWriter::new(&mut encoded, 4096, 5, 22);
                writer.write_all(PAGE.as_bytes()).unwrap();
                drop(writer);
                "br"
            };
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html")
                .header(header::CONTENT_ENCODING, coding)
                .body(full(encoded))
                .unwrap()
        }
        "site.css" => {
            let css = "@import 'base.css';\n.hero { background: url(../img/a.png) } /* url(../img/a.png) */\n";
            let gzip = request
                .headers()
                .get(header::ACCEPT_ENCODING)
                .is_some_and(|v| v.to_str().unwrap_or("").contains("gzip"));
            let builder = Response::builder()
                .header(header::CONTENT_TYPE, "text/css; charset=utf-8")
                .header(header::ETAG, "\"css1\"");
            if gzip {
                let mut encoded = Vec::new();
                let mut encoder =
                    flate2::write::GzEncoder::new(&mut encoded, flate2::Compression::fast());
                encoder.write_all(css.as_bytes()).unwrap();
                encoder.finish().unwrap();
                builder
                    .header(header::CONTENT_ENCODING, "gzip")
                    .body(full(encoded))
                    .unwrap()
            } else {
                builder.body(full(css)).unwrap()
            }
        }
        "img.png" => Response::builder()
            .header(header::CONTENT_TYPE, "image/png")
            .body(full("PNG <img src=/img/a.png>"))
            .unwrap(),
        "etag.html" if request.headers().contains_key(header::IF_NONE_MATCH) => Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::ETAG, "\"e1\"")
            .body(full(""))
            .unwrap(),
        // Half of what the length promises, then the connection is reset.
        "reset" => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
            tokio::spawn(async move {
                let _ = tx
                    .send(Ok(Frame::data(Bytes::from_static(b"<html><body>"))))
                    .await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                let _ = tx.send(Err(std::io::Error::other("reset"))).await;
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html")
                .body(ChannelBody(rx).boxed())
                .unwrap()
        }
        "hang" => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            unreachable!()
        }
        // Ten bytes of a hundred, then nothing.
        "stall" => {
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
            tokio::spawn(async move {
                let _ = tx
                    .send(Ok(Frame::data(Bytes::from_static(b"0123456789"))))
                    .await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(tx);
            });
            Response::builder()
                .header(header::CONTENT_TYPE, "application/octet-stream")
                .header(header::CONTENT_LENGTH, 100)
                .body(ChannelBody(rx).boxed())
                .unwrap()
        }
        // Switches to echoing raw bytes back, as a WebSocket echo does with frames.
        "ws" => {
            let upgrade = hyper::upgrade::on(&mut request);
            tokio::spawn(async move {
                if let Ok(upgraded) = upgrade.await {
                    let mut io = TokioIo::new(upgraded);
                    let (mut reader, mut writer) = tokio::io::split(&mut io);
                    let _ = tokio::io::copy(&mut reader, &mut writer).await;
                }
            });
            Response::builder()
                .status(StatusCode::SWITCHING_PROTOCOLS)
                .header(header::CONNECTION, "upgrade")
                .header(header::UPGRADE, "websocket")
                .body(full(""))
                .unwrap()
        }
        "versions.json" => {
            let (manifest, fail) = shared.manifest.lock().unwrap().clone();
            let etag = format!("\"{}\"", blake3::hash(manifest.as_bytes()).to_hex());
            let matches = request
                .headers()
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == etag.as_bytes());
            if fail {
                Response::builder()
                    .status(StatusCode::INTERNAL_SERVER_ERROR)
                    .body(full("oops"))
                    .unwrap()
            } else if matches {
                shared.not_modified.fetch_add(1, Ordering::SeqCst);
                Response::builder()
                    .status(StatusCode::NOT_MODIFIED)
                    .header(header::ETAG, etag)
                    .body(full(""))
                    .unwrap()
            } else {
                Response::builder()
                    .header(header::ETAG, etag)
                    .body(full(manifest))
                    .unwrap()
            }
        }
        // Anything else: the request as the upstream saw it, one line a field, with
        // hop-by-hop fields of its own that must not reach the client.
        _ => {
            let mut seen = format!("{} {}\n", request.method(), request.uri());
            for (name, value) in request.headers() {
                seen.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
            }
            Response::builder()
                .header(header::CONTENT_TYPE, "text/plain")
                .header(header::CONNECTION, "x-upstream-secret")
                .header("x-upstream-secret", "1")
                .header("proxy-connection", "keep-alive")
                .body(full(seen))
                .unwrap()
        }
    };
    Ok(response)
}

struct Upstream {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

fn start_upstream() -> Upstream {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let shared = Arc::new(Shared::default());
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = Arc::clone(&shared);
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let shared = Arc::clone(&serving);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |r| route(r, Arc::clone(&shared)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    Upstream {
        addr,
        shared,
        _runtime: runtime,
    }
}

/// The proxy binary, the address it listens on, and what it has logged.
struct Proxy {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Proxy {
    /// Whether the proxy logs `text` within a few seconds (the log is read on a thread).
    fn logged(&self, text: &str) -> bool {
        let started = Instant::now();
        while started.elapsed() < 5 * SECOND {
            if self.log.lock().unwrap().contains(text) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test upstream, and the proxy in front of it with an empty manifest and `extra`
/// flags; the manifest's directory lives as long as they do.
fn proxy_over_upstream(extra: &[&str]) -> (Upstream, TempDir, Proxy) {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let proxy = start_proxy(
        &format!("http://{}", upstream.addr),
        &manifest(&dir, "{}"),
        extra,
    );
    (upstream, dir, proxy)
}

fn manifest(dir: &TempDir, versions: &str) -> std::path::PathBuf {
    let path = dir.path().join("versions.json");
    std::fs::write(&path, versions).unwrap();
    path
}

fn start_proxy(upstream: &str, manifest: &Path, extra: &[&str]) -> Proxy {
    start_proxy_with(
        Command::new(assert_cmd::cargo::cargo_bin("cachebust")),
        upstream,
        manifest,
        extra,
    )
}

/// [`start_proxy`], run by `command` (a shell that lowers a limit first, say).
fn start_proxy_with(
    mut command: Command,
    upstream: &str,
    manifest: &Path,
    extra: &[&str],
) -> Proxy {
    let mut child = command
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--reload-interval",
            "0.1",
        ])
        .args(["--upstream", upstream])
        .arg("-m")
        .arg(manifest)
        .args(extra)
        .env("CACHEBUST_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let keep = Arc::clone(&log);
    let addr = listening(&mut child, move |line| keep.lock().unwrap().push_str(line));
    Proxy { child, addr, log }
}

/// Sends `request` as it is on a new connection and reads until the proxy closes it or
/// `limit` passes.
fn raw(addr: SocketAddr, request: &str, limit: Duration) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    read_all(&mut stream, limit)
}

fn read_all(stream: &mut TcpStream, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline {
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one response whose length is known (or a `Connection: close` one) off a kept
/// connection.
fn read_response(stream: &mut TcpStream, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = find(&out, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if let Some(length) = length
                && out.len() >= end + 4 + length
            {
                return String::from_utf8_lossy(&out).into_owned();
            }
        }
        assert!(Instant::now() < deadline, "no whole response: {out:?}");
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response:?}"))
}

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn connection_cannot_strip_what_the_proxy_says_and_hop_by_hop_goes_both_ways() {
    let (_upstream, _dir, proxy) = proxy_over_upstream(&[]);
    let response = raw(
        proxy.addr,
        "GET /headers HTTP/1.1\r\nHost: site.test\r\n\
         Connection: close, X-Forwarded-For, X-Real-IP, Forwarded, X-Forwarded-Host, Host\r\n\
         X-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n\
         X-Forwarded-Port: 1\r\nX-Forwarded-Prefix: /evil\r\nProxy-Connection: keep-alive\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&response), 200, "{response}");
    let lower = response.to_ascii_lowercase();
    let body = &lower[lower.find("\r\n\r\n").unwrap()..];
    assert!(body.contains("x-forwarded-for: 127.0.0.1\n"), "{body}");
    assert!(body.contains("x-real-ip: 127.0.0.1\n"), "{body}");
    assert!(body.contains("x-forwarded-host: site.test\n"), "{body}");
    assert!(
        body.contains("forwarded: for=127.0.0.1;proto=http;host=\"site.test\"\n"),
        "{body}"
    );
    assert!(body.contains("via: 1.1 cachebust\n"), "{body}");
    assert!(!body.contains("6.6.6.6"), "{body}");
    assert!(!body.contains("x-forwarded-port"), "{body}");
    assert!(!body.contains("x-forwarded-prefix"), "{body}");
    assert!(!body.contains("proxy-connection"), "{body}");
    // The upstream's own hop-by-hop fields stop at the proxy; Via says it passed.
    let head = &lower[..lower.find("\r\n\r\n").unwrap()];
    assert!(!head.contains("x-upstream-secret"), "{head}");
    assert!(!head.contains("proxy-connection"), "{head}");
    assert!(head.contains("via: 1.1 cachebust"), "{head}");
}

#[test]
fn a_trusted_proxy_in_front_is_appended_to() {
    let (_upstream, _dir, proxy) = proxy_over_upstream(&["--trusted-proxy", "127.0.0.0/8"]);
    let response = raw(
        proxy.addr,
        "GET /headers HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\
         X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\nX-Forwarded-Proto: https\r\n\r\n",
        5 * SECOND,
    );
    let lower = response.to_ascii_lowercase();
    assert!(
        lower.contains("x-forwarded-for: 1.1.1.1, 2.2.2.2, 127.0.0.1\n"),
        "{response}"
    );
    assert!(lower.contains("x-real-ip: 2.2.2.2\n"), "{response}");
    assert!(lower.contains("x-forwarded-proto: https\n"), "{response}");
}

#[test]
fn hosts_are_validated_and_redirects_never_show_the_upstream() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let versions = manifest(&dir, "{}");
    let base = format!("http://{}/app", upstream.addr);
    let proxy = start_proxy(&base, &versions, &[]);
    let port = upstream.addr.port().to_string();
    for request in [
        "GET /headers HTTP/1.1\r\nConnection: close\r\n\r\n",
        "GET /headers HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: close\r\n\r\n",
        "GET /moved HTTP/1.1\r\nHost: a@evil.example\r\nConnection: close\r\n\r\n",
        "GET /moved HTTP/1.1\r\nHost: evil.example/x?\r\nConnection: close\r\n\r\n",
    ] {
        let response = raw(proxy.addr, request, 5 * SECOND);
        assert_eq!(status(&response), 400, "{request:?}: {response}");
    }
    // A redirect to the client's host; HTTP/1.0 without Host gets a path.
    let response = raw(
        proxy.addr,
        "GET /moved HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert!(
        response.contains("\r\nlocation: http://site.test/target\r\n"),
        "{response}"
    );
    let response = raw(proxy.addr, "GET /moved HTTP/1.0\r\n\r\n", 5 * SECOND);
    assert_eq!(status(&response), 302, "{response}");
    assert!(response.contains("\r\nlocation: /target\r\n"), "{response}");
    // Outside the base path: no client URL reaches it, and it is not shown.
    let response = raw(
        proxy.addr,
        "GET /outside HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&response), 502, "{response}");
    assert!(!response.contains(&port), "{response}");
    // The path cannot climb out of the base.
    let response = raw(
        proxy.addr,
        "GET /%2e%2e/../secret?x=1 HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert!(
        response.contains("\r\n\r\nGET /app/secret?x=1\n"),
        "{response}"
    );
    let response = raw(
        proxy.addr,
        "GET /..%2f..%2fsecret HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&response), 400, "{response}");
    // CONNECT is not a reverse proxy's business.
    let response = raw(
        proxy.addr,
        "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&response), 405, "{response}");

    // With --public-url, redirects (and page URLs) name the public origin.
    let public = start_proxy(
        &base,
        &versions,
        &["--public-url", "https://www.example.com"],
    );
    let response = raw(
        public.addr,
        "GET /moved HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert!(
        response.contains("\r\nlocation: https://www.example.com/target\r\n"),
        "{response}"
    );
}

#[test]
fn slow_and_idle_clients_are_let_go() {
    let (_upstream, _dir, proxy) =
        proxy_over_upstream(&["--header-read-timeout", "1", "--idle-timeout", "0.5"]);
    // One header line every 200 ms: cut off after a second, not held forever.
    let mut slow = TcpStream::connect(proxy.addr).unwrap();
    slow.write_all(b"GET /headers HTTP/1.1\r\nHost: site.test\r\n")
        .unwrap();
    let started = Instant::now();
    let mut closed = false;
    while started.elapsed() < 5 * SECOND {
        std::thread::sleep(Duration::from_millis(200));
        if slow.write_all(b"X-Slow: 1\r\n").is_err() {
            closed = true;
            break;
        }
        slow.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let mut byte = [0u8; 64];
        match slow.read(&mut byte) {
            Ok(_) => {
                closed = true;
                break;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "a client dribbling its header was held for 5 s");
    assert!(started.elapsed() >= Duration::from_millis(800));

    // A keep-alive connection left idle is closed.
    let mut idle = TcpStream::connect(proxy.addr).unwrap();
    idle.write_all(b"GET /headers HTTP/1.1\r\nHost: site.test\r\n\r\n")
        .unwrap();
    let response = read_response(&mut idle, 5 * SECOND);
    assert_eq!(status(&response), 200);
    let started = Instant::now();
    let rest = read_all(&mut idle, 5 * SECOND);
    assert!(rest.is_empty(), "{rest}");
    assert!(
        started.elapsed() < 3 * SECOND,
        "an idle connection stayed open"
    );
}

#[test]
fn connections_beyond_the_limit_wait() {
    let (_upstream, _dir, proxy) = proxy_over_upstream(&["--max-connections", "1"]);
    let request = b"GET /headers HTTP/1.1\r\nHost: site.test\r\n\r\n";
    let mut first = TcpStream::connect(proxy.addr).unwrap();
    first.write_all(request).unwrap();
    assert_eq!(status(&read_response(&mut first, 5 * SECOND)), 200);
    let mut second = TcpStream::connect(proxy.addr).unwrap();
    second.write_all(request).unwrap();
    let early = read_all(&mut second, Duration::from_millis(700));
    assert!(early.is_empty(), "answered beyond the limit: {early}");
    drop(first);
    assert_eq!(status(&read_response(&mut second, 5 * SECOND)), 200);
}

#[test]
fn a_slow_upstream_is_a_504_and_a_stalled_body_fails() {
    let (_upstream, _dir, proxy) =
        proxy_over_upstream(&["--upstream-timeout", "0.5", "--body-idle-timeout", "0.5"]);
    let started = Instant::now();
    let response = raw(
        proxy.addr,
        "GET /hang HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        10 * SECOND,
    );
    assert_eq!(status(&response), 504, "{response}");
    assert!(started.elapsed() < 5 * SECOND);
    assert!(proxy.logged("did not answer in time"));

    let started = Instant::now();
    let response = raw(
        proxy.addr,
        "GET /stall HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        10 * SECOND,
    );
    assert!(
        started.elapsed() < 5 * SECOND,
        "a stalled body held the client"
    );
    assert_eq!(status(&response), 200);
    let body = &response[response.find("\r\n\r\n").unwrap() + 4..];
    assert_eq!(
        body, "0123456789",
        "the body must end short, not look complete"
    );
}

#[test]
fn websockets_are_tunnelled() {
    let (_upstream, _dir, proxy) = proxy_over_upstream(&[]);
    let mut stream = TcpStream::connect(proxy.addr).unwrap();
    stream
        .write_all(
            b"GET /chat/ws HTTP/1.1\r\nHost: site.test\r\nConnection: Upgrade\r\n\
              Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    stream.set_read_timeout(Some(5 * SECOND)).unwrap();
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "{head:?}");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(head.contains("upgrade: websocket"), "{head}");
    for message in [&b"hello"[..], b"\x81\x05world", b"bytes \x00\xff both ways"] {
        stream.write_all(message).unwrap();
        let mut echoed = vec![0u8; message.len()];
        stream.read_exact(&mut echoed).unwrap();
        assert_eq!(echoed, message);
    }
}

#[test]
fn the_manifest_reload_notices_any_replacement() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    // The manifest as Kubernetes mounts a ConfigMap: a symlink through `..data`.
    let first = dir.path().join("v1");
    let second = dir.path().join("v2");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    std::fs::write(first.join("versions.json"), r#"{"/img/a.png": "aaa1"}"#).unwrap();
    std::fs::write(second.join("versions.json"), r#"{"/img/a.png": "aaa3"}"#).unwrap();
    std::os::unix::fs::symlink(&first, dir.path().join("..data")).unwrap();
    let path = dir.path().join("versions.json");
    std::os::unix::fs::symlink(dir.path().join("..data/versions.json"), &path).unwrap();
    let proxy = start_proxy(&format!("http://{}", upstream.addr), &path, &[]);
    let page = || {
        raw(
            proxy.addr,
            "GET /page.html HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
            5 * SECOND,
        )
    };
    let wait_for = |version: &str| {
        let started = Instant::now();
        loop {
            let response = page();
            if response.contains(&format!("a.png?vh={version}")) {
                return;
            }
            assert!(
                started.elapsed() < 5 * SECOND,
                "{version} never served: {response}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("aaa1");
    // Rewritten in place with the same size and modification time (`cp -p`, Nix).
    let target = first.join("versions.json");
    let mtime = std::fs::metadata(&target).unwrap().modified().unwrap();
    std::fs::write(&target, r#"{"/img/a.png": "aaa2"}"#).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&target)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    wait_for("aaa2");
    // The symlink swapped to another directory, as a ConfigMap update does.
    let swap = dir.path().join("..data_tmp");
    std::os::unix::fs::symlink(&second, &swap).unwrap();
    std::fs::rename(&swap, dir.path().join("..data")).unwrap();
    wait_for("aaa3");
}

#[test]
fn a_manifest_url_is_polled_with_conditional_requests() {
    let upstream = start_upstream();
    *upstream.shared.manifest.lock().unwrap() = (r#"{"/img/a.png": "url1"}"#.into(), false);
    let url = format!("http://{}/versions.json", upstream.addr);
    let proxy = start_proxy(&format!("http://{}", upstream.addr), Path::new(&url), &[]);
    let page = || {
        raw(
            proxy.addr,
            "GET /page.html HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
            5 * SECOND,
        )
    };
    assert!(page().contains("a.png?vh=url1"));
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        upstream.shared.not_modified.load(Ordering::SeqCst) > 0,
        "no conditional request"
    );
    // A failing manifest URL keeps the old versions.
    upstream.shared.manifest.lock().unwrap().1 = true;
    std::thread::sleep(Duration::from_millis(400));
    assert!(page().contains("a.png?vh=url1"));
    assert!(proxy.logged("keeping the old one"));
    *upstream.shared.manifest.lock().unwrap() = (r#"{"/img/a.png": "url2"}"#.into(), false);
    let started = Instant::now();
    while !page().contains("a.png?vh=url2") {
        assert!(
            started.elapsed() < 5 * SECOND,
            "the new manifest was never served"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn upstream_credentials_go_in_authorization_never_in_host_or_the_log() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let proxy = start_proxy(
        &format!("http://user:s3cret@{}/", upstream.addr),
        &manifest(&dir, "{}"),
        &[],
    );
    let response = raw(
        proxy.addr,
        "GET /headers HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    // base64("user:s3cret")
    assert!(
        response.contains("authorization: Basic dXNlcjpzM2NyZXQ=\n"),
        "{response}"
    );
    assert!(
        response.contains(&format!("host: {}\n", upstream.addr)),
        "{response}"
    );
    let log = proxy.log.lock().unwrap().clone();
    assert!(!log.contains("s3cret"), "{log}");
}

#[test]
fn the_access_log_has_a_line_per_request() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let log = dir.path().join("access.log");
    let proxy = start_proxy(
        &format!("http://{}", upstream.addr),
        &manifest(&dir, r#"{"/img/a.png": "v1"}"#),
        &["--access-log", log.to_str().unwrap()],
    );
    for path in ["/page.html", "/headers?q=1"] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n");
        assert_eq!(status(&raw(proxy.addr, &request, 5 * SECOND)), 200);
    }
    let started = Instant::now();
    let text = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= 2 || started.elapsed() > 5 * SECOND {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("127.0.0.1 \"GET /page.html HTTP/1.1\" 200 ")
            && lines[0].ends_with(" rewritten=1 missing=0"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("127.0.0.1 \"GET /headers?q=1 HTTP/1.1\" 200 "),
        "{text}"
    );
    assert!(!lines[1].contains("rewritten="), "{text}");
}

#[test]
fn an_https_upstream_is_verified() {
    let dir = TempDir::new().unwrap();
    // A private CA, and a certificate for localhost it signed.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls_pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let shared = Arc::new(Shared::default());
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |r| route(r, Arc::clone(&shared)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    let versions = manifest(&dir, r#"{"/img/a.png": "tls1"}"#);
    let upstream = format!("https://localhost:{port}");
    let trusted = start_proxy(
        &upstream,
        &versions,
        &["--upstream-ca", ca_file.to_str().unwrap()],
    );
    let request = "GET /page.html HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n";
    let response = raw(trusted.addr, request, 5 * SECOND);
    assert!(response.contains("a.png?vh=tls1"), "{response}");
    // Without the CA the certificate is not trusted: no page from an impostor.
    let untrusted = start_proxy(&upstream, &versions, &[]);
    let response = raw(untrusted.addr, request, 5 * SECOND);
    assert_eq!(status(&response), 502, "{response}");
    assert!(untrusted.logged("certificate"));
}

/// What a load-test request asks for, and what it must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Page,
    Gzip,
    Brotli,
    Image,
    Head,
    Revalidate,
    WebSocket,
    SlowClient,
    /// The upstream resets mid-body: the client must see an error.
    Reset,
}

const KINDS: [Kind; 20] = [
    Kind::Page,
    Kind::Gzip,
    Kind::Image,
    Kind::Page,
    Kind::Brotli,
    Kind::Head,
    Kind::Image,
    Kind::Revalidate,
    Kind::Page,
    Kind::Image,
    Kind::Gzip,
    Kind::Page,
    Kind::WebSocket,
    Kind::Image,
    Kind::Page,
    Kind::Reset,
    Kind::Head,
    Kind::SlowClient,
    Kind::Image,
    Kind::Page,
];

/// 10,000 requests at concurrency 200, mixed: plain, gzip and brotli pages, images,
/// HEADs, revalidations, WebSocket echoes, clients that dribble their request, and an
/// upstream that resets mid-body. Nothing fails but the injected faults, and each of those
/// fails at its client: never a page that looks complete.
#[test]
fn ten_thousand_mixed_requests_at_concurrency_200() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let proxy = start_proxy(
        &format!("http://{}", upstream.addr),
        &manifest(&dir, r#"{"/img/a.png": "v1"}"#),
        &["--max-connections", "1000"],
    );
    let addr = proxy.addr;
    let expected_page = PAGE.replace("/img/a.png", "/img/a.png?vh=v1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let total = 10_000;
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<(Kind, String)>::new()));
    let reset_seen = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let client: hyper_util::client::legacy::Client<_, http_body_util::Empty<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let client = client.clone();
            let next = Arc::clone(&next);
            let failures = Arc::clone(&failures);
            let reset_seen = Arc::clone(&reset_seen);
            let expected_page = expected_page.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return;
                    }
                    let kind = KINDS[n % KINDS.len()];
                    let outcome: Result<(), String> = async {
                        match kind {
                            Kind::WebSocket => {
                                let mut s = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                                s.write_all(b"GET /ws HTTP/1.1\r\nHost: site.test\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").await.map_err(|e| e.to_string())?;
                                let mut head = Vec::new();
                                while !head.ends_with(b"\r\n\r\n") {
                                    let mut b = [0u8; 1];
                                    if s.read(&mut b).await.map_err(|e| e.to_string())? == 0 {
                                        return Err("closed before 101".into());
                                    }
                                    head.push(b[0]);
                                }
                                if !head.starts_with(b"HTTP/1.1 101") {
                                    return Err(String::from_utf8_lossy(&head).into_owned());
                                }
                                s.write_all(b"echo me").await.map_err(|e| e.to_string())?;
                                let mut back = [0u8; 7];
                                s.read_exact(&mut back).await.map_err(|e| e.to_string())?;
                                if &back != b"echo me" {
                                    return Err("echo differs".into());
                                }
                                Ok(())
                            }
                            Kind::SlowClient => {
                                let mut s = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
                                for piece in ["GET /page.html HT", "TP/1.1\r\nHost: site", ".test\r\nConnection: close\r\n\r\n"] {
                                    s.write_all(piece.as_bytes()).await.map_err(|e| e.to_string())?;
                                    tokio::time::sleep(Duration::from_millis(30)).await;
                                }
                                let mut out = Vec::new();
                                s.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
                                let text = String::from_utf8_lossy(&out);
                                if !text.starts_with("HTTP/1.1 200") || !text.contains(&expected_page) {
                                    return Err(text.into_owned());
                                }
                                Ok(())
                            }
                            _ => {
                                let (method, path, headers): (&str, &str, &[(&str, &str)]) = match kind {
                                    Kind::Page => ("GET", "/page.html", &[]),
                                    Kind::Gzip => ("GET", "/gzip-page.html", &[("accept-encoding", "gzip")]),
                                    Kind::Brotli => ("GET", "/br-page.html", &[("accept-encoding", "br")]),
                                    Kind::Image => ("GET", "/img.png", &[]),
                                    Kind::Head => ("HEAD", "/page.html", &[]),
                                    Kind::Revalidate => ("GET", "/etag.html", &[("if-none-match", "\"e1\"")]),
                                    _ => ("GET", "/reset", &[]),
                                };
                                let mut request = Request::builder()
                                    .method(method)
                                    .uri(format!("http://{addr}{path}"))
                                    .header(header::HOST, "site.test");
                                for (k, v) in headers {
                                    request = request.header(*k, *v);
                                }
                                let response = client
                                    .request(request.body(http_body_util::Empty::new()).unwrap())
                                    .await
                                    .map_err(|e| format!("request: {e}"))?;
                                let status = response.status();
                                let encoding = response.headers().get(header::CONTENT_ENCODING).cloned();
                                let body = response.into_body().collect().await.map(|c| c.to_bytes());
                                if kind == Kind::Reset {
                                    return match body {
                                        Err(_) => {
                                            reset_seen.fetch_add(1, Ordering::Relaxed);
                                            Ok(())
                                        }
                                        Ok(body) => Err(format!("a reset body looked complete: {} bytes", body.len())),
                                    };
                                }
                                let body = body.map_err(|e| format!("body: {e}"))?;
                                let decoded = match encoding.as_ref().map(|e| e.to_str().unwrap()) {
                                    Some("gzip") => {
                                        let mut out = String::new();
                                        flate2::read::GzDecoder::new(&body[..]).read_to_string(&mut out).map_err(|e| e.to_string())?;
                                        out.into_bytes()
                                    }
                                    Some("br") => {
                                        let mut out = Vec::new();
                                        brotli::Decompressor::new(&body[..], 4096).read_to_end(&mut out).map_err(|e| e.to_string())?;
                                        out
                                    }
                                    _ => body.to_vec(),
                                };
                                let good = match kind {
                                    Kind::Page | Kind::Gzip | Kind::Brotli => status == 200 && decoded == expected_page.as_bytes(),
                                    Kind::Image => status == 200 && decoded == b"PNG <img src=/img/a.png>",
                                    Kind::Head => status == 200 && decoded.is_empty(),
                                    Kind::Revalidate => status == 304 && decoded.is_empty(),
                                    _ => false,
                                };
                                if good { Ok(()) } else { Err(format!("{status}: {}", String::from_utf8_lossy(&decoded))) }
                            }
                        }
                    }
                    .await;
                    if let Err(why) = outcome {
                        failures.lock().unwrap().push((kind, why));
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    assert_eq!(reset_seen.load(Ordering::Relaxed), total / KINDS.len());
}

/// Out of file descriptors, `accept` fails: the proxy waits longer each time instead of
/// spinning (and logging) in a loop, and serves again once descriptors are free.
#[test]
fn accept_errors_are_backed_off() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let mut shell = Command::new("sh");
    shell.args(["-c", "ulimit -n 48 && exec \"$0\" \"$@\""]);
    shell.arg(assert_cmd::cargo::cargo_bin("cachebust"));
    let proxy = start_proxy_with(
        shell,
        &format!("http://{}", upstream.addr),
        &manifest(&dir, "{}"),
        &[],
    );
    let mut held: Vec<TcpStream> = (0..80)
        .filter_map(|_| TcpStream::connect(proxy.addr).ok())
        .collect();
    assert!(proxy.logged("accept failed"));
    std::thread::sleep(2 * SECOND);
    let failures = proxy.log.lock().unwrap().matches("accept failed").count();
    assert!(failures < 40, "{failures} accept failures logged in 2 s");
    held.clear();
    let started = Instant::now();
    loop {
        let response = raw(
            proxy.addr,
            "GET /headers HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
            2 * SECOND,
        );
        if response.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            started.elapsed() < 10 * SECOND,
            "not serving again: {response:?}"
        );
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// A thousand idle keep-alive connections (each has made one request) hold little memory.
#[test]
fn a_thousand_idle_connections_in_bounded_memory() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let proxy = start_proxy(
        &format!("http://{}", upstream.addr),
        &manifest(&dir, r#"{"/img/a.png": "v1"}"#),
        &[],
    );
    let mut open = Vec::new();
    for _ in 0..1000 {
        let mut stream = TcpStream::connect(proxy.addr).unwrap();
        stream
            .write_all(b"GET /page.html HTTP/1.1\r\nHost: site.test\r\n\r\n")
            .unwrap();
        open.push(stream);
    }
    for stream in &mut open {
        let response = read_chunked_or_sized(stream);
        assert!(response.contains("a.png?vh=v1"), "{response}");
    }
    let peak = peak_rss_kib(proxy.child.id());
    assert!(peak < 64 * 1024, "peak RSS {} MiB", peak / 1024);
    eprintln!("peak RSS with 1,000 idle connections: {} MiB", peak / 1024);
}

/// One response off a kept connection, whether sized or chunked (ends at `0\r\n\r\n`).
fn read_chunked_or_sized(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    stream.set_read_timeout(Some(5 * SECOND)).unwrap();
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        out.extend_from_slice(&buf[..n]);
        if out.ends_with(b"0\r\n\r\n") || out.ends_with(b"</html>") {
            return String::from_utf8_lossy(&out).into_owned();
        }
    }
}

/// `text/css` responses are stylesheets: rewritten against their own URL, under the
/// header policy of pages (a weak ETag tied to the manifest), decoded and encoded again.
#[test]
fn stylesheets_are_rewritten_against_their_own_url() {
    let upstream = start_upstream();
    let dir = TempDir::new().unwrap();
    let proxy = start_proxy(
        &format!("http://{}", upstream.addr),
        &manifest(&dir, r#"{"/img/a.png": "v1", "/css/base.css": "b1"}"#),
        &[],
    );
    let expected = "@import 'base.css?vh=b1';\n.hero { background: url(../img/a.png?vh=v1) } /* url(../img/a.png) */\n";
    let response = raw(
        proxy.addr,
        "GET /css/site.css HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert_eq!(status(&response), 200, "{response}");
    assert!(response.contains(expected), "{response}");
    assert!(response.contains("\r\netag: W/\"css1.cb-"), "{response}");
    let response = raw(
        proxy.addr,
        "GET /css/site.css HTTP/1.1\r\nHost: site.test\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
        5 * SECOND,
    );
    assert!(
        response.contains("\r\ncontent-encoding: gzip\r\n"),
        "{response}"
    );
}

/// An upstream that never completes a connection (its listen backlog is full, so the
/// kernel drops the proxy's SYNs): `--connect-timeout` answers 502 instead of waiting.
#[test]
fn an_upstream_that_never_accepts_is_a_502_after_the_connect_timeout() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let socket = runtime
        .block_on(async { tokio::net::TcpSocket::new_v4() })
        .unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    let _listener = runtime.block_on(async { socket.listen(1) }).unwrap();
    // Fill the backlog: never accepted.
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(stream) = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200))
        {
            fillers.push(stream);
        }
    }
    let dir = TempDir::new().unwrap();
    let proxy = start_proxy(
        &format!("http://{addr}"),
        &manifest(&dir, "{}"),
        &["--connect-timeout", "0.5", "--upstream-timeout", "30"],
    );
    let started = Instant::now();
    let response = raw(
        proxy.addr,
        "GET /page.html HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n",
        20 * SECOND,
    );
    assert_eq!(status(&response), 502, "{response}");
    assert!(started.elapsed() < 5 * SECOND, "{:?}", started.elapsed());
    assert!(proxy.logged("upstream request failed"));
}
