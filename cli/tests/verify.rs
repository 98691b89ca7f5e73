//! `cachebust verify` against real parts on 127.0.0.1: an origin serving a site's files
//! from disk, and Debian's nginx in front of it as the CDN, twice: one cache keyed without
//! the query string (`$scheme$host$uri`, as a CloudFront behaviour that forwards no query
//! string), one keyed with it. Both cache only `/img/` and `/css/` (pages pass through, as
//! a CDN set up for short-lived pages would) and say `X-Cache-Status`; pages, stylesheets
//! and sitemaps come gzipped, as most CDNs send them.
//!
//! nginx is installed by `.ci/run`; without it these tests say so and pass.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

#[path = "support/nginx.rs"]
mod nginx;
use nginx::free_port;

fn cachebust() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cachebust"))
}

/// Serves the files under `root` (the query ignored, as a static origin does); a path
/// under `/slow/` never answers.
fn start_origin(root: PathBuf) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let root = root.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: http::Request<_>| {
                        let root = root.clone();
                        async move {
                            let path = request.uri().path().to_owned();
                            if path.starts_with("/slow/") {
                                tokio::time::sleep(Duration::from_secs(3600)).await;
                            }
                            let mut file = root.join(path.trim_start_matches('/'));
                            if path.ends_with('/') {
                                file = file.join("index.html");
                            }
                            let response = match std::fs::read(&file) {
                                Ok(bytes) if !path.contains("..") => {
                                    let kind = match file.extension().and_then(|e| e.to_str()) {
                                        Some("html") => "text/html; charset=utf-8",
                                        Some("css") => "text/css",
                                        Some("xml") => "application/xml",
                                        Some("png") => "image/png",
                                        _ => "application/octet-stream",
                                    };
                                    Response::builder()
                                        .header(header::CONTENT_TYPE, kind)
                                        .body(Full::new(Bytes::from(bytes)))
                                }
                                _ => Response::builder()
                                    .status(StatusCode::NOT_FOUND)
                                    .body(Full::new(Bytes::from_static(b"not found"))),
                            };
                            Ok::<_, std::convert::Infallible>(response.unwrap())
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

/// The two CDNs in front of `origin`: (nginx, the port of the cache keyed without the
/// query, the port of the one keyed with it), or `None` without nginx.
fn start_cdns(dir: &Path, origin: SocketAddr) -> Option<(nginx::Server, u16, u16)> {
    if nginx::binary().is_none() {
        eprintln!("nginx is not installed (apt-get install nginx-light): skipped");
        return None;
    }
    let (ignoring, keyed) = (free_port(), free_port());
    let d = dir.display();
    let cdn = |port: u16, zone: &str, key: &str| {
        format!(
            "server {{ listen 127.0.0.1:{port};\n\
               location / {{ proxy_pass http://{origin}; }}\n\
               location ~ ^/(img|css)/ {{ proxy_pass http://{origin};\n\
                 proxy_cache {zone}; proxy_cache_key {key}; proxy_cache_valid 200 404 10m;\n\
                 add_header X-Cache-Status $upstream_cache_status always; }} }}\n"
        )
    };
    let http = format!(
        "gzip on; gzip_min_length 0; gzip_types text/css application/xml;\n\
         proxy_cache_path {d}/cache-a keys_zone=ignoring:1m;\n\
         proxy_cache_path {d}/cache-b keys_zone=keyed:1m;\n\
         {}{}",
        cdn(ignoring, "ignoring", "$scheme$host$uri"),
        cdn(keyed, "keyed", "$scheme$host$request_uri"),
    );
    let server = nginx::start(dir, &http, &[ignoring, keyed]).unwrap_or_else(|e| panic!("{e}"));
    Some((server, ignoring, keyed))
}

/// The status line and header fields of a GET that accepts gzip.
fn response_head(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    text.split("\r\n\r\n").next().unwrap_or_default().to_owned()
}

fn write(root: &Path, path: &str, bytes: &[u8]) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A site: two pages, a stylesheet whose background only it names, two images.
fn site(root: &Path) {
    write(
        root,
        "index.html",
        br#"<link rel=stylesheet href="/css/site.css"><img src="/img/a.png" srcset="img/b.png 2x">"#,
    );
    write(root, "blog/index.html", br#"<img src="../img/a.png">"#);
    write(
        root,
        "css/site.css",
        b"body { background: url(../img/bg.png) }",
    );
    write(root, "img/a.png", b"the first a.png");
    write(root, "img/b.png", b"b.png");
    write(root, "img/bg.png", b"bg.png");
    write(
        root,
        "sitemap.xml",
        br#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>/sitemap-home.xml</loc></sitemap>
  <sitemap><loc>/sitemap-blog.xml</loc></sitemap>
</sitemapindex>"#,
    );
}

/// Sitemaps name pages by absolute URL, so they are written once the CDN's port is known.
fn sitemaps(root: &Path, cdn: u16) {
    let index = std::fs::read_to_string(root.join("sitemap.xml")).unwrap();
    let index = index.replace("<loc>/", &format!("<loc>http://127.0.0.1:{cdn}/"));
    write(root, &format!("sitemap-{cdn}.xml"), index.as_bytes());
    for (name, pages) in [
        ("home", vec!["", "plain.html", "old.html", "gone.html"]),
        ("blog", vec!["blog/"]),
    ] {
        let urls: String = pages
            .iter()
            .filter(|p| p.is_empty() || root.join(p.trim_end_matches('/')).exists())
            .map(|p| format!("<url><loc>http://127.0.0.1:{cdn}/{p}</loc></url>"))
            .collect();
        write(
            root,
            &format!("sitemap-{name}.xml"),
            format!(
                r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>"#
            )
            .as_bytes(),
        );
    }
}

fn rewrite(root: &Path) {
    let mut command = cachebust();
    command.arg("rewrite").arg(root).arg("--hash").arg(root);
    succeed(command.args(["--base-url", "http://127.0.0.1/", "-q"]));
}

/// `cachebust manifest ROOT -o MANIFEST`: the versions as they are now.
fn manifest_of(root: &Path, manifest: &Path) {
    succeed(
        cachebust()
            .arg("manifest")
            .arg(root)
            .arg("-o")
            .arg(manifest),
    );
}

fn succeed(command: &mut Command) {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn verify(args: &[&str]) -> (Output, Value) {
    let out = cachebust()
        .arg("verify")
        .args(args)
        .args(["--rate", "1000", "--report", "json", "-q"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, json)
}

fn kinds(json: &Value) -> Vec<(String, String)> {
    let mut kinds: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    kinds
}

fn version(root: &Path, asset: &str) -> String {
    blake3::hash(&std::fs::read(root.join(asset)).unwrap()).to_hex()[..10].to_owned()
}

/// An image replaced at the origin after the CDNs cached it: behind the cache that ignores
/// the query the new URL is answered with the old bytes (stale) and a never-used version
/// is a hit (query ignored); behind the one keyed on the query, all is well.
#[test]
fn replaced_image_behind_both_caches() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    site(&root);
    rewrite(&root);
    let origin = start_origin(root.clone());
    let Some((_nginx, ignoring, keyed)) = start_cdns(dir.path(), origin) else {
        return;
    };
    let hash = root.to_str().unwrap();
    let at = |port: u16| format!("http://127.0.0.1:{port}/");
    // Before the change: the keyed cache is clean, and says it keys on the query.

    // Before the change: the keyed cache is clean, and says it keys on the query.
    let pages = dir.path().join("pages.txt");
    std::fs::write(&pages, "/\n/blog/\n").unwrap();
    let list = pages.to_str().unwrap();
    let (out, json) = verify(&["--pages", list, "--base-url", &at(keyed), "--hash", hash]);
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    assert_eq!(json["pages"], 2);
    assert_eq!(
        json["assets"], 4,
        "a.png, b.png, site.css and the bg.png it names: {json:#}"
    );
    assert_eq!(json["hashed"], 4);
    assert_eq!(json["hosts"][0]["verdict"], "keys-on-query", "{json:#}");

    let (out, json) = verify(&["--pages", list, "--base-url", &at(ignoring), "--hash", hash]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    let found = kinds(&json);
    assert_eq!(found.len(), 1, "{json:#}");
    assert_eq!(found[0].0, "query-ignored");
    assert_eq!(json["hosts"][0]["evidence"], "X-Cache-Status: HIT");

    // The image changes; the pages are rewritten with its new version.
    let old = version(&root, "img/a.png");
    write(&root, "img/a.png", b"the second a.png");
    rewrite(&root);
    let new = version(&root, "img/a.png");
    assert_ne!(old, new);

    let (out, json) = verify(&["--pages", list, "--base-url", &at(ignoring), "--hash", hash]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    let stale = format!("http://127.0.0.1:{ignoring}/img/a.png?vh={new}");
    assert!(found_kind(&json, "stale-bytes", &stale), "{json:#}");
    assert!(
        kinds(&json).iter().any(|(k, _)| k == "query-ignored"),
        "{json:#}"
    );
    let detail = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "stale-bytes")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(detail.contains(&old) && detail.contains(&new), "{detail}");
    // What a person reads (the README shows it).
    let human = cachebust()
        .args([
            "verify",
            "--pages",
            list,
            "--base-url",
            &at(ignoring),
            "--hash",
            hash,
            "-q",
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&human.stdout);
    eprintln!("{printed}");
    // Long lines are wrapped for a terminal: read the words.
    let text = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(human.status.code(), Some(1));
    assert!(
        text.contains(&format!("old bytes under a new URL: {stale}")),
        "{text}"
    );
    assert!(text.contains("cache ignores the version: "), "{text}");
    assert!(
        text.contains("Put the query string (or just the version parameter) in the cache key"),
        "{text}"
    );

    let (out, json) = verify(&["--pages", list, "--base-url", &at(keyed), "--hash", hash]);
    assert_eq!(out.status.code(), Some(0), "{json:#}");
}

fn found_kind(json: &Value, kind: &str, url: &str) -> bool {
    kinds(json).iter().any(|(k, u)| k == kind && u == url)
}

/// Pages read from a sitemap index; a page that skipped cachebust, one carrying an older
/// version, a versioned asset missing at the origin. Then the same through a site
/// directory and `cachebust manifest`'s manifest.
#[test]
fn findings_of_pages_and_assets() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    site(&root);
    write(&root, "img/gone.png", b"soon gone");
    write(&root, "gone.html", br#"<img src="/img/gone.png">"#);
    rewrite(&root);
    let manifest = dir.path().join("versions.json");
    manifest_of(&root, &manifest);
    std::fs::remove_file(root.join("img/gone.png")).unwrap();
    // Written after the rewrite: one skipped cachebust, one carries an older version.
    write(&root, "plain.html", br#"<img src="/img/b.png">"#);
    write(
        &root,
        "old.html",
        br#"<img src="/img/b.png?vh=0123456789">"#,
    );
    let origin = start_origin(root.clone());
    let Some((_nginx, _, keyed)) = start_cdns(dir.path(), origin) else {
        return;
    };
    sitemaps(&root, keyed);
    // The CDN compresses pages and sitemaps, as most do: verify reads them decoded.
    for path in ["/", &format!("/sitemap-{keyed}.xml")] {
        let head = response_head(keyed, path);
        assert!(
            head.to_ascii_lowercase().contains("content-encoding: gzip"),
            "{head}"
        );
    }
    let m = manifest.to_str().unwrap();
    let sitemap = format!("http://127.0.0.1:{keyed}/sitemap-{keyed}.xml");
    let (out, json) = verify(&[&sitemap, "-m", m]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    assert_eq!(json["pages"], 5, "two sitemaps of an index: {json:#}");
    let b = format!("http://127.0.0.1:{keyed}/img/b.png");
    let expected = [
        (
            "asset-status",
            format!("http://127.0.0.1:{keyed}/img/gone.png?vh="),
        ),
        ("outdated", format!("{b}?vh=0123456789")),
        ("unversioned", b.clone()),
    ];
    let found = kinds(&json);
    assert_eq!(found.len(), 3, "{json:#}");
    for ((kind, url), (want_kind, want_url)) in found.iter().zip(&expected) {
        assert_eq!(kind, want_kind, "{json:#}");
        assert!(url.starts_with(want_url.as_str()), "{url} {want_url}");
    }
    assert_eq!(
        json["content_hashed"], true,
        "cachebust manifest's versions are hashed"
    );

    // The site directory, served at the CDN: the same pages but the sitemaps' own.
    let base = format!("http://127.0.0.1:{keyed}/");
    let (out, json) = verify(&[root.to_str().unwrap(), "--base-url", &base, "-m", m]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    assert_eq!(json["pages"], 5);
    assert_eq!(kinds(&json).len(), 3, "{json:#}");
}

/// An asset that does not answer in time is an error, named, and exit 2.
#[test]
fn an_asset_that_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    write(
        &root,
        "index.html",
        br#"<img src="/slow/a.png?vh=0123456789">"#,
    );
    write(&root, "slow/a.png", b"never sent");
    let origin = start_origin(root.clone());
    let manifest = dir.path().join("versions.json");
    std::fs::write(&manifest, r#"{"/slow/a.png": "0123456789"}"#).unwrap();
    let base = format!("http://{origin}/");
    let started = Instant::now();
    let (out, json) = verify(&[
        root.to_str().unwrap(),
        "--base-url",
        &base,
        "-m",
        manifest.to_str().unwrap(),
        "--timeout",
        "1",
        "--retries",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(2), "{json:#}");
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{json:#}");
    let error = errors[0].as_str().unwrap();
    assert!(
        error.contains("/slow/a.png?vh=0123456789") && error.contains("within 1 s"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "retried once, then gave up"
    );
}

/// The human report names each finding, what to do, and sums up; bad input is an error
/// before any request.
#[test]
fn human_report_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    write(&root, "index.html", br#"<img src="/img/a.png">"#);
    write(&root, "img/a.png", b"a");
    let origin = start_origin(root.clone());
    let base = format!("http://{origin}/");
    let out = cachebust()
        .arg("verify")
        .arg(&root)
        .args(["--base-url", &base, "--hash"])
        .arg(&root)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    let text = printed.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(out.status.code(), Some(1), "{printed}");
    assert!(
        text.contains(&format!("no version: http://{origin}/img/a.png")),
        "{text}"
    );
    assert!(
        text.contains("fix: The page served was not rewritten"),
        "{text}"
    );
    assert!(text.contains("cachebust verify: 1 pages"), "{text}");

    let out = cachebust()
        .arg("verify")
        .arg(&root)
        .args(["--hash"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs --base-url"));
    let out = cachebust()
        .args(["verify", "--pages", "/nonexistent/list", "-m", "x.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/list"));
}

/// An asset larger than any body verify holds (a video, say) is hashed as it streams: its
/// version checks out, and a changed byte shows.
#[test]
fn a_large_asset_is_hashed_as_it_streams() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("public");
    let big: Vec<u8> = (0..40u32 << 20).map(|i| (i % 251) as u8).collect();
    write(&root, "media/big.bin", &big);
    write(
        &root,
        "index.html",
        br#"<video src="/media/big.bin"></video>"#,
    );
    rewrite(&root);
    let origin = start_origin(root.clone());
    let base = format!("http://{origin}/");
    let hash = root.to_str().unwrap();
    let args = [hash, "--base-url", &base, "--hash", hash];
    let (out, json) = verify(&args);
    assert_eq!(out.status.code(), Some(0), "{json:#}");
    assert_eq!(json["hashed"], 1);
    // The served file changes under the same URL (the manifest is the page's, made before).
    let manifest = dir.path().join("versions.json");
    manifest_of(&root, &manifest);
    let mut changed = big;
    changed[30 << 20] ^= 1;
    write(&root, "media/big.bin", &changed);
    let (out, json) = verify(&[hash, "--base-url", &base, "-m", manifest.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{json:#}");
    assert_eq!(kinds(&json)[0].0, "stale-bytes", "{json:#}");
}
