//! `cachebust proxy` beside nginx, in the same run, on the same upstream: requests per
//! second and latency percentiles of a ~100 KiB page with 60 images, fetched
//!
//! - from the upstream directly,
//! - through nginx's `proxy_pass` (Debian's `nginx`, started here on loopback; skipped with
//!   a message when it is not installed),
//! - through `cachebust proxy` rewriting the page (read whole, as a page with a
//!   `Content-Length` is), and streaming it (`--whole-page-limit 0`).
//!
//! `cargo bench -p cachebust-cli --bench proxy` (`-- SECONDS CONNECTIONS` to change the
//! defaults, 4 s and 32 connections). The targets: cachebust at least 0.6x nginx's
//! requests/s (stretch 0.8), p99 at most 3x nginx's. The load generator shares the machine
//! with the servers, the same for every line, so the ratios are what to read.

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/support/listening.rs"]
mod listening;
#[path = "../tests/support/nginx.rs"]
mod nginx;
use listening::listening;
use nginx::{Server, free_port};

/// A product page of about 100 KiB: 60 images with `srcset`, text between them.
fn page() -> (String, String) {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>Shop</title>\
         <link rel=stylesheet href=/css/site.css><link rel=icon href=/img/favicon.png></head><body>",
    );
    let mut manifest = String::from("{");
    for i in 0..60 {
        html.push_str(&format!(
            "<div class=product><a href=/p/{i}><img src=/img/p{i}.jpg \
             srcset=\"/img/p{i}.jpg 1x, /img/p{i}@2x.jpg 2x\" alt=\"Product {i}\" \
             loading=lazy width=300 height=300></a><h2>Product number {i}</h2><p>"
        ));
        for _ in 0..24 {
            html.push_str("A sturdy, well made thing that does what it says on the tin. ");
        }
        html.push_str("</p></div>\n");
        manifest.push_str(&format!(
            "\"/img/p{i}.jpg\": \"a{i:08}\", \"/img/p{i}@2x.jpg\": \"b{i:08}\","
        ));
    }
    html.push_str("</body></html>\n");
    manifest.push_str("\"/img/favicon.png\": \"f0\"}");
    (html, manifest)
}

fn start_upstream(runtime: &tokio::runtime::Runtime, page: Bytes) -> SocketAddr {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let page = page.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |_request| {
                    let page = page.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                                .header(header::CONTENT_LENGTH, page.len())
                                .body(Full::new(page))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

/// nginx as a plain reverse proxy with upstream keep-alive; why not, when it is absent or
/// does not start.
fn start_nginx(
    dir: &std::path::Path,
    upstream: SocketAddr,
) -> Result<(Server, SocketAddr), String> {
    let port = free_port();
    let http = format!(
        "upstream app {{ server {upstream}; keepalive 64; }}\n\
         server {{ listen 127.0.0.1:{port};\n\
           location / {{ proxy_pass http://app; proxy_http_version 1.1;\n\
             proxy_set_header Connection \"\"; proxy_set_header Host $host; }} }}\n"
    );
    let server = nginx::start(dir, &http, &[port])?;
    Ok((server, format!("127.0.0.1:{port}").parse().unwrap()))
}

fn start_cachebust(
    upstream: SocketAddr,
    manifest: &std::path::Path,
    extra: &[&str],
) -> (Server, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachebust"))
        .args(["proxy", "--listen", "127.0.0.1:0", "--upstream"])
        .arg(format!("http://{upstream}"))
        .arg("-m")
        .arg(manifest)
        .args(extra)
        .env("CACHEBUST_LOG", "warn")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = listening(&mut child, |_| {});
    (Server(child), addr)
}

struct Measured {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// `connections` keep-alive connections asking for the page for `seconds` (after a short
/// warm-up); every answer must be a 200 holding `expect`.
fn measure(
    runtime: &tokio::runtime::Runtime,
    addr: SocketAddr,
    seconds: f64,
    connections: usize,
    expect: &'static str,
) -> Measured {
    runtime.block_on(async move {
        let client: hyper_util::client::legacy::Client<_, Empty<Bytes>> =
            hyper_util::client::legacy::Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(connections)
                .build_http();
        let run = |duration: Duration| {
            let client = client.clone();
            async move {
                let end = Instant::now() + duration;
                let mut tasks = Vec::new();
                for _ in 0..connections {
                    let client = client.clone();
                    tasks.push(tokio::spawn(async move {
                        let mut latencies = Vec::new();
                        while Instant::now() < end {
                            let started = Instant::now();
                            let request = Request::get(format!("http://{addr}/shop.html"))
                                .header(header::HOST, "shop.test")
                                .body(Empty::new())
                                .unwrap();
                            let response = client.request(request).await.expect("a response");
                            assert_eq!(response.status(), 200);
                            let body = response.into_body().collect().await.unwrap().to_bytes();
                            assert!(
                                body.windows(expect.len()).any(|w| w == expect.as_bytes()),
                                "the page lacks {expect:?}"
                            );
                            latencies.push(started.elapsed());
                        }
                        latencies
                    }));
                }
                let mut all = Vec::new();
                for task in tasks {
                    all.extend(task.await.unwrap());
                }
                all
            }
        };
        run(Duration::from_millis(500)).await;
        let started = Instant::now();
        let mut latencies = run(Duration::from_secs_f64(seconds)).await;
        let elapsed = started.elapsed().as_secs_f64();
        latencies.sort();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        Measured {
            rps: latencies.len() as f64 / elapsed,
            p50: at(0.50),
            p99: at(0.99),
        }
    })
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let seconds: f64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(4.0);
    let connections: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(32);
    let (html, versions) = page();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("versions.json");
    std::fs::write(&manifest, versions).unwrap();
    let upstream_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let upstream = start_upstream(&upstream_runtime, Bytes::from(html.clone()));
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "page {} KiB, 60 products ({} references), {connections} connections, {seconds} s each",
        html.len() / 1024,
        121
    );
    let line = |name: &str, m: &Measured| {
        println!(
            "{name:<22} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
            m.rps,
            m.p50.as_secs_f64() * 1e3,
            m.p99.as_secs_f64() * 1e3
        );
    };
    let direct = measure(
        &client_runtime,
        upstream,
        seconds,
        connections,
        "/img/p59.jpg",
    );
    line("upstream direct", &direct);
    let nginx = start_nginx(dir.path(), upstream);
    let nginx_measured = nginx.as_ref().ok().map(|(_, addr)| {
        let m = measure(&client_runtime, *addr, seconds, connections, "/img/p59.jpg");
        line("nginx proxy_pass", &m);
        m
    });
    if let Err(why) = &nginx {
        println!("{why}: nginx's line and ratios are skipped");
    }
    drop(nginx);
    let mut results = Vec::new();
    for (name, extra) in [
        ("cachebust (whole)", &[][..]),
        ("cachebust (stream)", &["--whole-page-limit", "0"][..]),
    ] {
        let (server, addr) = start_cachebust(upstream, &manifest, extra);
        let m = measure(
            &client_runtime,
            addr,
            seconds,
            connections,
            "/img/p59.jpg?vh=a00000059",
        );
        line(name, &m);
        drop(server);
        results.push((name, m));
    }
    if let Some(nginx) = nginx_measured {
        for (name, m) in &results {
            println!(
                "ratios {name}: rps/nginx={:.2} (target 0.6, stretch 0.8) p99/nginx={:.2} (target <= 3)",
                m.rps / nginx.rps,
                m.p99.as_secs_f64() / nginx.p99.as_secs_f64()
            );
        }
    }
}
