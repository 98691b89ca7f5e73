//! `cachebust proxy` over real HTTP: an upstream hyper server on 127.0.0.1, the proxy binary
//! on another port, and a hyper client.

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;

#[path = "support/channel_body.rs"]
mod channel_body;
#[path = "support/listening.rs"]
mod listening;
use channel_body::ChannelBody;
use listening::listening;

type Body = BoxBody<Bytes, std::io::Error>;

/// A script, which names an image as a page would.
const SCRIPT: &str = r#"document.body.innerHTML = '<img src="/img/a.png">';"#;

const PAGE: &str = r#"<html><head><link rel="icon" href="/img/a.png"></head><body><img src="img/a.png" srcset="/img/a.png 1x, /img/b.png 2x"><a href="/img/a.png">a link</a></body></html>"#;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn html(body: impl Into<Bytes>) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(full(body))
        .unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        writer.write_all(data).unwrap();
    }
    out
}

/// A body that sends `chunks`, waiting `pause` between them, then fails if `fail`.
fn stream(chunks: Vec<Bytes>, pause: Duration, fail: bool) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(4);
    tokio::spawn(async move {
        for chunk in chunks {
            if tx.send(Ok(Frame::data(chunk))).await.is_err() {
                return;
            }
            tokio::time::sleep(pause).await;
        }
        if fail {
            let _ = tx.send(Err(std::io::Error::other("upstream broke"))).await;
        }
    });
    ChannelBody(rx).boxed()
}

/// An HTML response whose body comes in `chunks` (see [`stream`]).
fn streamed_html(chunks: Vec<Bytes>, pause: Duration, fail: bool) -> Response<Body> {
    let mut response = html("");
    *response.body_mut() = stream(chunks, pause, fail);
    response
}

/// Bytes of the big page the upstream streams, and whether it has finished sending.
struct Upstream {
    addr: SocketAddr,
    big_done: Arc<AtomicBool>,
}

async fn upstream_route(
    request: Request<Incoming>,
    big_done: Arc<AtomicBool>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let response = match path.as_str() {
        // A conditional request for the page, answered as a server that compares entity tags
        // weakly would (RFC 9110, 13.1.2).
        "/page.html"
            if request
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|tags| {
                    tags.split(',')
                        .any(|t| t.trim().trim_start_matches("W/") == "\"abc\"")
                }) =>
        {
            Response::builder()
                .status(StatusCode::NOT_MODIFIED)
                .header(header::ETAG, "\"abc\"")
                .body(full(""))
                .unwrap()
        }
        "/page.html" => {
            let mut response = html(PAGE);
            let headers = response.headers_mut();
            headers.insert(header::ETAG, "\"abc\"".parse().unwrap());
            headers.insert(header::ACCEPT_RANGES, "bytes".parse().unwrap());
            headers.insert(header::CONTENT_LENGTH, PAGE.len().into());
            response
        }
        "/chunked.html" => {
            let chunks = PAGE
                .as_bytes()
                .chunks(7)
                .map(Bytes::copy_from_slice)
                .collect();
            streamed_html(chunks, Duration::from_millis(1), false)
        }
        "/gzip.html" | "/br.html" | "/deflate.html" | "/zstd.html" => {
            let (encoded, encoding) = match path.as_str() {
                "/gzip.html" => (gzip(PAGE.as_bytes()), "gzip"),
                "/br.html" => (brotli(PAGE.as_bytes()), "br"),
                "/deflate.html" => {
                    let mut encoder =
                        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                    encoder.write_all(PAGE.as_bytes()).unwrap();
                    (encoder.finish().unwrap(), "deflate")
                }
                _ => (zstd::encode_all(PAGE.as_bytes(), 3).unwrap(), "zstd"),
            };
            let mut response = html(encoded);
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, encoding.parse().unwrap());
            response
        }
        // Compressed when the request accepts gzip, as a web server does.
        "/app.js" => {
            let gzip_accepted = request
                .headers()
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("gzip"));
            let response = Response::builder().header(header::CONTENT_TYPE, "text/javascript");
            if gzip_accepted {
                let encoded = gzip(SCRIPT.as_bytes());
                response
                    .header(header::CONTENT_ENCODING, "gzip")
                    .header(header::CONTENT_LENGTH, encoded.len())
                    .header(header::ETAG, "\"js-gzip\"")
                    .body(full(encoded))
            } else {
                response.header(header::ETAG, "\"js\"").body(full(SCRIPT))
            }
            .unwrap()
        }
        "/gzip-no-transform.html" => {
            let mut response = html(gzip(PAGE.as_bytes()));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
            headers.insert(header::CACHE_CONTROL, "no-transform".parse().unwrap());
            response
        }
        // A redirect written, as many applications write one, with the host asked for.
        "/moved" => {
            let host = request.headers()[header::HOST].to_str().unwrap();
            Response::builder()
                .status(StatusCode::FOUND)
                .header(
                    header::LOCATION,
                    format!("http://{host}/page.html?from=moved"),
                )
                .body(full(""))
                .unwrap()
        }
        "/moved-away" => Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, "http://elsewhere.test/page.html")
            .body(full(""))
            .unwrap(),
        "/image.png" => Response::builder()
            .header(header::CONTENT_TYPE, "image/png")
            .header(header::ETAG, "\"img\"")
            .body(full(&b"\x89PNG\r\n\x1a\n<img src=/img/a.png>"[..]))
            .unwrap(),
        "/api.json" => Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(full(r#"{"html": "<img src=\"/img/a.png\">"}"#))
            .unwrap(),
        "/not-modified" => Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .body(full(""))
            .unwrap(),
        "/range.html" => Response::builder()
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONTENT_RANGE, format!("bytes 0-19/{}", PAGE.len()))
            .body(full(&PAGE[..20]))
            .unwrap(),
        "/no-transform.html" => {
            let mut response = html(PAGE);
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                "public, no-transform".parse().unwrap(),
            );
            response
        }
        "/truncated.html" => {
            let chunks = vec![Bytes::from_static(&PAGE.as_bytes()[..60]); 3];
            streamed_html(chunks, Duration::from_millis(5), true)
        }
        "/echo" => {
            let method = request.method().to_string();
            let target = request
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let text = format!("{method} {target} {}", String::from_utf8_lossy(&body));
            Response::builder()
                .header(header::CONTENT_TYPE, "text/plain")
                .body(full(text))
                .unwrap()
        }
        "/headers" => {
            let text: String = request
                .headers()
                .iter()
                .map(|(k, v)| format!("{k}: {}\n", v.to_str().unwrap_or("?")))
                .collect();
            Response::builder()
                .header(header::CONTENT_TYPE, "text/plain")
                .body(full(text))
                .unwrap()
        }
        "/slow.html" => {
            let chunks = vec![Bytes::from_static(PAGE.as_bytes()); 4];
            streamed_html(chunks, Duration::from_millis(300), false)
        }
        "/big.html" => {
            let mib: usize = request
                .uri()
                .query()
                .and_then(|q| q.parse().ok())
                .unwrap_or(64);
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(2);
            let done = Arc::clone(&big_done);
            done.store(false, Ordering::SeqCst);
            tokio::spawn(async move {
                let unit = Bytes::from(
                    format!("<p>{}</p><img src=\"/img/a.png\">\n", "x".repeat(4000)).repeat(16),
                );
                let mut sent = 0;
                while sent < mib << 20 {
                    if tx.send(Ok(Frame::data(unit.clone()))).await.is_err() {
                        return;
                    }
                    sent += unit.len();
                }
                done.store(true, Ordering::SeqCst);
            });
            let mut response = html("");
            *response.body_mut() = ChannelBody(rx).boxed();
            response
        }
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(full("no"))
            .unwrap(),
    };
    Ok(response)
}

async fn start_upstream() -> Upstream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let big_done = Arc::new(AtomicBool::new(false));
    let done = Arc::clone(&big_done);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |r| upstream_route(r, Arc::clone(&done)));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Upstream { addr, big_done }
}

/// The proxy binary, and the address it listens on.
struct Proxy {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_proxy(upstream: SocketAddr, manifest: &Path, extra: &[&str]) -> Proxy {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--reload-interval",
            "0.1",
            "--upstream",
        ])
        .arg(format!("http://{upstream}"))
        .arg("-m")
        .arg(manifest)
        .args(extra)
        .env("CACHEBUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = listening(&mut child, |_| {});
    Proxy { child, addr }
}

/// The test upstream, the proxy in front of it with `manifest`, and a client.
async fn proxied(manifest: &Path) -> (Upstream, Proxy, HttpClient) {
    let upstream = start_upstream().await;
    let proxy = start_proxy(upstream.addr, manifest, &[]);
    (upstream, proxy, client())
}

fn manifest_file(dir: &TempDir, versions: &str) -> PathBuf {
    let path = dir.path().join("versions.json");
    std::fs::write(&path, versions).unwrap();
    path
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

async fn get(
    client: &HttpClient,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (http::response::Parts, Result<Bytes, String>) {
    get_method(client, addr, "GET", path, headers).await
}

async fn get_method(
    client: &HttpClient,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (http::response::Parts, Result<Bytes, String>) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header(header::HOST, format!("site.test:{}", addr.port()));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = client
        .request(request.body(Empty::new()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| e.to_string());
    (parts, body)
}

/// The request header fields the upstream saw, one `name: value` line each, for a request
/// to the proxy carrying `headers`.
async fn seen_upstream(client: &HttpClient, addr: SocketAddr, headers: &[(&str, &str)]) -> String {
    let (_, body) = get(client, addr, "/headers", headers).await;
    String::from_utf8(body.unwrap().to_vec()).unwrap()
}

/// Whether a response carries the upstream page's `ETag` ("abc") made weak and tied to the
/// manifest's fingerprint.
fn etag_of_rewritten(parts: &http::response::Parts) -> bool {
    parts.headers[header::ETAG].to_str().is_ok_and(|etag| {
        etag.starts_with("W/\"abc.cb-") && etag.len() == "W/\"abc.cb-\"".len() + 16
    })
}

fn expected_page(port: u16) -> String {
    // What `cachebust rewrite` makes of the same page at the same URL.
    let output = Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .args(["rewrite", "-", "-m"])
        .arg(std::env::var("CB_MANIFEST").unwrap())
        .args(["--base-url", &format!("http://site.test:{port}/page.html")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(PAGE.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

const VERSIONS: &str = r#"{"/img/a.png": "v1", "/img/b.png": "v2"}"#;

fn rewritten_page() -> String {
    r#"<html><head><link rel="icon" href="/img/a.png?vh=v1"></head><body><img src="img/a.png?vh=v1" srcset="/img/a.png?vh=v1 1x, /img/b.png?vh=v2 2x"><a href="/img/a.png">a link</a></body></html>"#.to_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn html_is_rewritten_and_the_rest_passes() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let (_upstream, proxy, client) = proxied(&manifest).await;
        let expected = rewritten_page();
        assert!(expected.contains("<a href=\"/img/a.png\">"), "links stay");

        let (parts, body) = get(&client, proxy.addr, "/page.html", &[]).await;
        assert_eq!(parts.status, 200);
        assert_eq!(body.unwrap(), expected.as_bytes());
        assert!(parts.headers.get(header::CONTENT_LENGTH).is_none());
        assert!(parts.headers.get(header::ACCEPT_RANGES).is_none());
        assert!(etag_of_rewritten(&parts), "{:?}", parts.headers);

        for path in [
            "/chunked.html",
            "/gzip.html",
            "/br.html",
            "/deflate.html",
            "/zstd.html",
        ] {
            let (parts, body) = get(&client, proxy.addr, path, &[]).await;
            assert_eq!(body.unwrap(), expected.as_bytes(), "{path}");
            assert!(
                parts.headers.get(header::CONTENT_ENCODING).is_none(),
                "{path}: the client asked for none"
            );
        }
        // Compressed to the client when it asks.
        let (parts, body) = get(
            &client,
            proxy.addr,
            "/gzip.html",
            &[("accept-encoding", "gzip")],
        )
        .await;
        assert_eq!(parts.headers[header::CONTENT_ENCODING], "gzip");
        let mut decoded = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&body.unwrap()[..]),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, expected);

        // Left alone: other content types, HEAD, 304, 206, no-transform.
        let (parts, body) = get(
            &client,
            proxy.addr,
            "/image.png",
            &[("accept-encoding", "gzip, br")],
        )
        .await;
        assert_eq!(body.unwrap(), &b"\x89PNG\r\n\x1a\n<img src=/img/a.png>"[..]);
        assert_eq!(parts.headers[header::ETAG], "\"img\"");
        assert_eq!(parts.headers[header::CONTENT_LENGTH], "28");
        assert!(parts.headers.get(header::CONTENT_ENCODING).is_none());
        let (_, body) = get(&client, proxy.addr, "/api.json", &[]).await;
        assert_eq!(
            body.unwrap(),
            r#"{"html": "<img src=\"/img/a.png\">"}"#.as_bytes()
        );
        // HEAD: no body, and the header fields of the GET response (RFC 9110, 9.3.2).
        let (parts, body) = get_method(&client, proxy.addr, "HEAD", "/page.html", &[]).await;
        assert_eq!(parts.status, 200);
        assert!(parts.headers.get(header::CONTENT_LENGTH).is_none());
        assert!(parts.headers.get(header::ACCEPT_RANGES).is_none());
        assert!(etag_of_rewritten(&parts), "{:?}", parts.headers);
        assert!(body.unwrap().is_empty());
        let (parts, body) = get_method(&client, proxy.addr, "HEAD", "/image.png", &[]).await;
        assert_eq!(parts.headers[header::ETAG], "\"img\"");
        assert_eq!(parts.headers[header::CONTENT_LENGTH], "28");
        assert!(body.unwrap().is_empty());
        let (parts, _) = get(&client, proxy.addr, "/not-modified", &[]).await;
        assert_eq!(parts.status, 304);
        let (parts, body) = get(
            &client,
            proxy.addr,
            "/range.html",
            &[("range", "bytes=0-19")],
        )
        .await;
        assert_eq!(parts.status, 206);
        assert_eq!(body.unwrap(), &PAGE.as_bytes()[..20]);
        let (_, body) = get(&client, proxy.addr, "/no-transform.html", &[]).await;
        assert_eq!(body.unwrap(), PAGE.as_bytes());

        // Method, path, query and body reach the upstream.
        let request = Request::post(format!("http://{}/echo?a=1&b=2", proxy.addr))
            .body(Full::new(Bytes::from_static(b"posted body")))
            .unwrap();
        let posting: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let response = posting.request(request).await.unwrap();
        let echoed = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(echoed, &b"POST /echo?a=1&b=2 posted body"[..]);

        // The upstream learns who asked: the peer, not what the peer claims (no
        // --trusted-proxy here).
        let seen = seen_upstream(&client, proxy.addr, &[("x-forwarded-for", "10.9.8.7")]).await;
        assert!(seen.contains("x-forwarded-for: 127.0.0.1\n"), "{seen}");
        assert!(!seen.contains("10.9.8.7"), "{seen}");
        assert!(seen.contains("x-forwarded-proto: http"), "{seen}");
        assert!(
            seen.contains(&format!(
                "x-forwarded-host: site.test:{}",
                proxy.addr.port()
            )),
            "{seen}"
        );
    });
}

/// Only the pages rewritten are decoded and encoded again: every other response reaches the
/// client in the content coding the upstream gave it, which the client accepted.
#[test]
fn what_is_not_rewritten_keeps_its_content_coding() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let (_upstream, proxy, client) = proxied(&manifest).await;
        let accepts_gzip = [("accept-encoding", "gzip")];

        let (parts, body) = get(&client, proxy.addr, "/app.js", &accepts_gzip).await;
        assert_eq!(body.unwrap(), gzip(SCRIPT.as_bytes()));
        assert_eq!(parts.headers[header::CONTENT_ENCODING], "gzip");
        assert_eq!(parts.headers[header::ETAG], "\"js-gzip\"");
        assert_eq!(
            parts.headers[header::CONTENT_LENGTH],
            gzip(SCRIPT.as_bytes()).len().to_string()
        );
        // A client that accepts no coding: the upstream is asked for none.
        let (parts, body) = get(&client, proxy.addr, "/app.js", &[]).await;
        assert_eq!(body.unwrap(), SCRIPT.as_bytes());
        assert!(parts.headers.get(header::CONTENT_ENCODING).is_none());
        assert_eq!(parts.headers[header::ETAG], "\"js\"");

        // `no-transform`: not even the content coding changes.
        let (parts, body) = get(
            &client,
            proxy.addr,
            "/gzip-no-transform.html",
            &accepts_gzip,
        )
        .await;
        assert_eq!(body.unwrap(), gzip(PAGE.as_bytes()));
        assert_eq!(parts.headers[header::CONTENT_ENCODING], "gzip");
        let (parts, body) = get(&client, proxy.addr, "/no-transform.html", &accepts_gzip).await;
        assert_eq!(body.unwrap(), PAGE.as_bytes());
        assert!(parts.headers.get(header::CONTENT_ENCODING).is_none());

        // The upstream is offered only the codings the client accepts and the proxy reads, so
        // that a page always comes in one it can rewrite.
        let seen = seen_upstream(
            &client,
            proxy.addr,
            &[("accept-encoding", "gzip, dcb, br;q=0.5, compress, zstd")],
        )
        .await;
        assert!(
            seen.contains("accept-encoding: gzip, br;q=0.5, zstd\n"),
            "{seen}"
        );
        let seen = seen_upstream(&client, proxy.addr, &[("accept-encoding", "dcb")]).await;
        assert!(!seen.contains("accept-encoding"), "{seen}");

        // A `HEAD` of a page that came encoded: the header fields of its `GET`.
        let (parts, body) =
            get_method(&client, proxy.addr, "HEAD", "/gzip.html", &accepts_gzip).await;
        assert_eq!(parts.status, 200);
        assert_eq!(parts.headers[header::CONTENT_ENCODING], "gzip");
        assert!(parts.headers.get(header::CONTENT_LENGTH).is_none());
        assert!(body.unwrap().is_empty());

        // A page is still rewritten and compressed as the client asks.
        let (parts, body) = get(
            &client,
            proxy.addr,
            "/gzip.html",
            &[("accept-encoding", "br")],
        )
        .await;
        assert_eq!(parts.headers[header::CONTENT_ENCODING], "br");
        let mut decoded = String::new();
        std::io::Read::read_to_string(
            &mut brotli::Decompressor::new(&body.unwrap()[..], 4096),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, rewritten_page());
    });
}

#[test]
fn the_upstream_gets_its_own_host_unless_the_clients_is_preserved_and_redirects_come_back() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let upstream = start_upstream().await;
        let client = client();
        for (extra, host) in [
            (&[][..], upstream.addr.to_string()),
            (&["--preserve-host"][..], "site.test:PORT".to_string()),
        ] {
            let proxy = start_proxy(upstream.addr, &manifest, extra);
            let seen = seen_upstream(&client, proxy.addr, &[]).await;
            let host = host.replace("PORT", &proxy.addr.port().to_string());
            let has_line = |line: String| seen.lines().any(|l| l == line);
            assert!(has_line(format!("host: {host}")), "{extra:?}: {seen}");
            let forwarded_host = format!("x-forwarded-host: site.test:{}", proxy.addr.port());
            assert!(has_line(forwarded_host), "{seen}");
            // Either way the client is sent back to itself, not to the upstream.
            let (parts, _) = get(&client, proxy.addr, "/moved", &[]).await;
            assert_eq!(
                parts.headers[header::LOCATION],
                format!(
                    "http://site.test:{}/page.html?from=moved",
                    proxy.addr.port()
                ),
                "{extra:?}"
            );
            let (parts, _) = get(&client, proxy.addr, "/moved-away", &[]).await;
            assert_eq!(
                parts.headers[header::LOCATION],
                "http://elsewhere.test/page.html"
            );
        }
    });
}

#[test]
fn a_truncated_upstream_fails_the_client_body() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let (_upstream, proxy, _) = proxied(&manifest).await;
        let (_, body) = get(&client(), proxy.addr, "/truncated.html", &[]).await;
        assert!(body.is_err(), "a clean but truncated page: {body:?}");
    });
}

#[test]
fn an_unreachable_upstream_is_a_502() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = start_proxy(unused, &manifest, &[]);
    runtime().block_on(async {
        let (parts, _) = get(&client(), proxy.addr, "/page.html", &[]).await;
        assert_eq!(parts.status, 502);
    });
}

#[test]
fn a_bad_flag_or_manifest_fails_before_listening() {
    let dir = TempDir::new().unwrap();
    let bad = manifest_file(&dir, r#"{"/a.png": "a b"}"#);
    assert_cmd::Command::cargo_bin("cachebust")
        .unwrap()
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9",
            "-m",
        ])
        .arg(&bad)
        .assert()
        .code(2);
    let good = manifest_file(&dir, VERSIONS);
    // Flags that cannot be right, each named in the error; none panics.
    for (flags, named) in [
        (&["--upstream", "ftp://example.com"][..], "ftp"),
        (
            &[
                "--upstream",
                "http://127.0.0.1:9",
                "--reload-interval",
                "1e20",
            ],
            "1e20",
        ),
        (
            &[
                "--upstream",
                "http://127.0.0.1:9",
                "--reload-interval",
                "-1",
            ],
            "-1",
        ),
        (
            &[
                "--upstream",
                "http://127.0.0.1:9",
                "--upstream-timeout",
                "NaN",
            ],
            "NaN",
        ),
        (
            &["--upstream", "http://127.0.0.1:9", "--max-connections", "0"],
            "0",
        ),
        (
            &[
                "--upstream",
                "http://127.0.0.1:9",
                "--trusted-proxy",
                "10.0.0.0/40",
            ],
            "10.0.0.0/40",
        ),
        (
            &[
                "--upstream",
                "http://127.0.0.1:9",
                "--public-url",
                "https://a.test/path",
            ],
            "a.test/path",
        ),
        (&["--upstream", "http://u:hunter2@127.0.0.1:9/?q"], "query"),
    ] {
        let output = assert_cmd::Command::cargo_bin("cachebust")
            .unwrap()
            .args(["proxy", "--listen", "127.0.0.1:0"])
            .args(flags)
            .arg("-m")
            .arg(&good)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
    }
}

#[test]
fn manifest_reload_under_load() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let (_upstream, proxy, client) = proxied(&manifest).await;
        let load = {
            let client = client.clone();
            let addr = proxy.addr;
            tokio::spawn(async move {
                let mut errors = 0;
                let mut seen = std::collections::BTreeSet::new();
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(3) {
                    let (parts, body) = get(&client, addr, "/page.html", &[]).await;
                    match (parts.status, body) {
                        (StatusCode::OK, Ok(body)) => {
                            let text = String::from_utf8(body.to_vec()).unwrap();
                            seen.insert(text.contains("vh=v9"));
                        }
                        _ => errors += 1,
                    }
                }
                (errors, seen)
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        // A bad manifest is refused and the old one kept.
        std::fs::write(&manifest, r#"{"/img/a.png": "not valid"}"#).unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (_, body) = get(&client, proxy.addr, "/page.html", &[]).await;
        assert!(
            String::from_utf8(body.unwrap().to_vec())
                .unwrap()
                .contains("vh=v1")
        );
        std::fs::write(&manifest, r#"{"/img/a.png": "v9", "/img/b.png": "v2"}"#).unwrap();
        let (errors, seen) = load.await.unwrap();
        assert_eq!(errors, 0, "no request fails while the manifest changes");
        assert!(
            seen.contains(&true) && seen.contains(&false),
            "both versions served: {seen:?}"
        );
        // SIGHUP reloads too.
        std::fs::write(&manifest, r#"{"/img/a.png": "v10", "/img/b.png": "v2"}"#).unwrap();
        let _ = Command::new("kill")
            .args(["-HUP", &proxy.child.id().to_string()])
            .status();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let (_, body) = get(&client, proxy.addr, "/page.html", &[]).await;
        assert!(
            String::from_utf8(body.unwrap().to_vec())
                .unwrap()
                .contains("vh=v10")
        );
    });
}

#[test]
fn a_page_rewritten_with_an_older_manifest_is_never_confirmed() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let (_upstream, proxy, client) = proxied(&manifest).await;
        let (parts, body) = get(&client, proxy.addr, "/page.html", &[]).await;
        assert!(
            String::from_utf8(body.unwrap().to_vec())
                .unwrap()
                .contains("vh=v1")
        );
        let first = parts.headers[header::ETAG].to_str().unwrap().to_owned();
        assert!(first.starts_with("W/\"abc.cb-"), "{first}");
        assert!(parts.headers.get(header::LAST_MODIFIED).is_none());
        // The same manifest: the upstream's 304 confirms the page, under the tag given.
        let (parts, body) = get(
            &client,
            proxy.addr,
            "/page.html",
            &[("if-none-match", &first)],
        )
        .await;
        assert_eq!(parts.status, StatusCode::NOT_MODIFIED);
        assert_eq!(parts.headers[header::ETAG], first.as_str());
        assert!(body.unwrap().is_empty());
        // The upstream's own tag is the upstream's business.
        let (parts, _) = get(
            &client,
            proxy.addr,
            "/page.html",
            &[("if-none-match", "\"abc\"")],
        )
        .await;
        assert_eq!(parts.status, StatusCode::NOT_MODIFIED);
        // A new manifest: the page the client holds is stale, and comes anew.
        std::fs::write(&manifest, r#"{"/img/a.png": "v9", "/img/b.png": "v2"}"#).unwrap();
        let start = Instant::now();
        loop {
            let (parts, body) = get(
                &client,
                proxy.addr,
                "/page.html",
                &[
                    ("if-none-match", &first),
                    ("if-modified-since", "Sun, 22 Nov 2026 10:00:00 GMT"),
                ],
            )
            .await;
            if parts.status == StatusCode::OK {
                let body = String::from_utf8(body.unwrap().to_vec()).unwrap();
                assert!(body.contains("vh=v9"), "{body}");
                let second = parts.headers[header::ETAG].to_str().unwrap();
                assert!(
                    second.starts_with("W/\"abc.cb-") && second != first,
                    "{second}"
                );
                break;
            }
            assert_eq!(parts.status, StatusCode::NOT_MODIFIED, "until the reload");
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the manifest was not reloaded"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
}

#[test]
fn two_thousand_requests_at_concurrency_50() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    // SAFETY of the test: one variable, set before any thread reads it.
    unsafe { std::env::set_var("CB_MANIFEST", &manifest) };
    runtime().block_on(async {
        let (_upstream, proxy, _) = proxied(&manifest).await;
        let expected = Bytes::from(expected_page(proxy.addr.port()));
        assert_eq!(expected, rewritten_page().as_bytes());
        let client = client();
        let semaphore = Arc::new(tokio::sync::Semaphore::new(50));
        let mut tasks = Vec::new();
        for i in 0..2000 {
            let permit = Arc::clone(&semaphore).acquire_owned().await.unwrap();
            let client = client.clone();
            let addr = proxy.addr;
            let path = if i % 2 == 0 {
                "/page.html"
            } else {
                "/chunked.html"
            };
            tasks.push(tokio::spawn(async move {
                let result =
                    tokio::time::timeout(Duration::from_secs(30), get(&client, addr, path, &[]))
                        .await;
                drop(permit);
                result
                    .ok()
                    .and_then(|(parts, body)| (parts.status == 200).then_some(body.ok()).flatten())
            }));
        }
        let mut errors = 0;
        for task in tasks {
            match task.await.unwrap() {
                Some(body) => assert_eq!(body, expected),
                None => errors += 1,
            }
        }
        assert_eq!(errors, 0);
    });
}

fn peak_rss_mib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        })
        .unwrap_or(0)
        / 1024
}

/// Streams `mib` MiB through the proxy: the first bytes arrive before the upstream has
/// finished, and the proxy's peak RSS stays under 64 MiB.
fn stream_big_page(mib: usize) {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let (upstream, proxy, _) = proxied(&manifest).await;
        let request = Request::get(format!("http://{}/big.html?{mib}", proxy.addr))
            .body(Empty::<Bytes>::new())
            .unwrap();
        let response = client().request(request).await.unwrap();
        let mut body = response.into_body();
        let mut received = 0usize;
        let mut first_before_done = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap();
            if let Some(data) = frame.data_ref() {
                if first_before_done.is_none() {
                    first_before_done = Some(!upstream.big_done.load(Ordering::SeqCst));
                }
                received += data.len();
            }
        }
        assert!(received >= mib << 20);
        assert_eq!(
            first_before_done,
            Some(true),
            "the first bytes came before the upstream finished"
        );
        let rss = peak_rss_mib(proxy.child.id());
        assert!(rss > 0 && rss < 64, "peak RSS {rss} MiB");
        eprintln!("streamed {} MiB, proxy peak_rss_mib={rss}", received >> 20);
    });
}

#[test]
fn a_large_page_streams_in_bounded_memory() {
    stream_big_page(96);
}

/// The full-size run (1 GiB); `.ci/run` runs it in release mode.
#[test]
#[ignore]
fn a_gigabyte_page_streams_in_bounded_memory() {
    stream_big_page(1024);
}

#[test]
fn sigterm_lets_the_requests_under_way_finish() {
    let dir = TempDir::new().unwrap();
    let manifest = manifest_file(&dir, VERSIONS);
    runtime().block_on(async {
        let upstream = start_upstream().await;
        let mut proxy = start_proxy(upstream.addr, &manifest, &[]);
        let client = client();
        let addr = proxy.addr;
        let slow = tokio::spawn(async move { get(&client, addr, "/slow.html", &[]).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = Command::new("kill")
            .args(["-TERM", &proxy.child.id().to_string()])
            .status();
        let (parts, body) = slow.await.unwrap();
        assert_eq!(parts.status, 200);
        assert_eq!(body.unwrap().len(), 4 * rewritten_page().len());
        let status = proxy.child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    });
}
