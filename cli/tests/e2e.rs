//! End to end with real parts: a site built by Hugo (Debian's `hugo`), versioned by
//! `cachebust rewrite --hash` (and again with `--rename`), served by a small HTTP server on
//! 127.0.0.1 that logs every request, and loaded in headless Chromium (Debian's
//! `chromium`). Every asset the browser fetches must be fetched under its versioned URL and
//! answer 200. `.ci/run` installs both packages; without them the test says so and skips.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.exists())
}

fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) {
    let path = path.as_ref();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A 1x1 PNG, made different per image by a trailing chunk-free byte run.
fn png(seed: u8) -> Vec<u8> {
    let mut bytes = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0,
        0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, b'I', b'D',
        b'A', b'T', 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0, 0x05, 0, 0x01, 0xff, 0x89,
        0x99, 0x3d, 0x1d, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
    ];
    bytes.extend(std::iter::repeat_n(seed, 16));
    bytes
}

/// A Hugo site: a home page and a post, a stylesheet importing another, images used from
/// pages (`src`, `srcset`, `<picture>`) and from the stylesheets.
fn hugo_site(dir: &Path) -> PathBuf {
    let src = dir.join("hugo");
    write(
        src.join("hugo.toml"),
        "baseURL = 'http://127.0.0.1/'\ntitle = 'E2E'\ndisableKinds = ['taxonomy', 'term', 'RSS', 'sitemap']\n",
    );
    let head = r#"<!doctype html><html><head><meta charset="utf-8"><title>{{ .Title }}</title>
<link rel="stylesheet" href="/css/site.css"><link rel="icon" href="/img/icon.png"></head>"#;
    write(
        src.join("layouts/index.html"),
        format!(
            r#"{head}<body><header class="banner">{{{{ .Site.Title }}}}</header>
<picture><source srcset="/img/wide.png" media="(min-width: 1px)"><img src="/img/hero.png" alt="hero"></picture>
<img src="img/photo.png" srcset="img/photo.png 1x, img/photo@2x.png 2x" alt="photo">
{{{{ range .Site.RegularPages }}}}<a href="{{{{ .RelPermalink }}}}">{{{{ .Title }}}}</a>{{{{ end }}}}
</body></html>"#
        ),
    );
    write(
        src.join("layouts/_default/single.html"),
        format!(
            r#"{head}<body class="post"><h1>{{{{ .Title }}}}</h1>{{{{ .Content }}}}
<img src="../../img/photo.png" alt="relative"></body></html>"#
        ),
    );
    write(
        src.join("content/posts/hello.md"),
        "---\ntitle: Hello\n---\n\nA post with an image: ![inline](/img/inline.png)\n",
    );
    write(
        src.join("static/css/site.css"),
        "@import url(\"base.css\");\n.banner { background: url(../img/banner.png) no-repeat; height: 10px }\n",
    );
    write(
        src.join("static/css/base.css"),
        "body { background-image: url('/img/bg.png'); }\n/* url(/img/never.png) */\n",
    );
    for (n, name) in [
        "icon", "hero", "wide", "photo", "photo@2x", "inline", "banner", "bg",
    ]
    .iter()
    .enumerate()
    {
        write(src.join(format!("static/img/{name}.png")), png(n as u8));
    }
    let public = dir.join("public");
    let status = Command::new(tool("hugo").unwrap())
        .arg("--source")
        .arg(&src)
        .arg("--destination")
        .arg(&public)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(status.success(), "hugo failed");
    public
}

/// Serves `root` on 127.0.0.1 (one thread; enough for a browser's few connections), logging
/// each request's target and status.
/// The requests served: target and status.
type Log = Arc<Mutex<Vec<(String, u16)>>>;

fn serve(root: PathBuf) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // One request a connection, answered with Connection: close.
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
                let path = target.split(['?', '#']).next().unwrap().to_owned();
                let mut file = root.join(path.trim_start_matches('/'));
                if file.is_dir() {
                    file = file.join("index.html");
                }
                let (status, body) = match std::fs::read(&file) {
                    Ok(body) => (200, body),
                    Err(_) => (404, b"not found".to_vec()),
                };
                let kind = match file.extension().and_then(|e| e.to_str()) {
                    Some("html") => "text/html; charset=utf-8",
                    Some("css") => "text/css",
                    Some("png") => "image/png",
                    _ => "application/octet-stream",
                };
                seen.lock().unwrap().push((target, status));
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                let _ = stream.write_all(&body);
            });
        }
    });
    (port, log)
}

/// Loads `url` in headless Chromium until the network is idle.
fn browse(url: &str, profile: &Path) -> String {
    let mut child = Command::new(tool("chromium").unwrap())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--virtual-time-budget=5000",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut dom = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut dom)
        .unwrap();
    dom
}

/// What the browser fetched besides pages, for each page loaded.
fn assets_fetched(public: &Path, pages: &[&str]) -> Vec<(String, u16)> {
    let (port, log) = serve(public.to_owned());
    let profile = tempfile::tempdir().unwrap();
    for page in pages {
        let dom = browse(&format!("http://127.0.0.1:{port}{page}"), profile.path());
        assert!(dom.contains("<img"), "the page did not load: {dom}");
    }
    // Requests still under way when the DOM was dumped have been answered by now.
    std::thread::sleep(Duration::from_millis(300));
    let fetched = log.lock().unwrap().clone();
    fetched
        .into_iter()
        .filter(|(target, _)| {
            let path = target.split('?').next().unwrap();
            !path.ends_with('/') && !path.ends_with(".html") && path != "/favicon.ico"
        })
        .collect()
}

/// `cachebust rewrite PUBLIC --hash PUBLIC --strict` and `extra`, which must succeed.
fn version_site(public: &Path, extra: &[&str]) {
    let run = Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .arg("rewrite")
        .arg(public)
        .arg("--hash")
        .arg(public)
        .args(["--base-url", "http://127.0.0.1/", "--strict"])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_hugo_site_in_chromium_fetches_only_versioned_assets() {
    if tool("hugo").is_none() || tool("chromium").is_none() {
        eprintln!(
            "SKIPPED: the end-to-end test needs Debian's hugo and chromium (apt-get install hugo chromium; .ci/run installs them)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let public = hugo_site(dir.path());
    let pages = ["/", "/posts/hello/"];

    // Unversioned, the browser fetches the plain URLs: the check below can tell.
    let plain = assets_fetched(&public, &pages);
    assert!(plain.iter().any(|(t, _)| t == "/css/site.css"), "{plain:?}");

    // Query versions.
    version_site(&public, &[]);
    let fetched = assets_fetched(&public, &pages);
    let names: BTreeSet<&str> = fetched
        .iter()
        .map(|(t, _)| t.split('?').next().unwrap())
        .collect();
    for expected in [
        "/css/site.css",
        "/css/base.css",
        // The <picture>'s source matches: the browser takes it, not the <img>.
        "/img/wide.png",
        "/img/photo.png",
        "/img/inline.png",
        "/img/banner.png",
        "/img/bg.png",
    ] {
        assert!(
            names.contains(expected),
            "{expected} not fetched: {fetched:?}"
        );
    }
    for (target, status) in &fetched {
        assert_eq!(*status, 200, "{target}");
        assert!(
            target.contains("?vh="),
            "fetched unversioned: {target} (all: {fetched:?})"
        );
    }

    // Renamed copies (of a fresh build): every asset fetched is a copy, none by a query.
    let dir = tempfile::tempdir().unwrap();
    let public = hugo_site(dir.path());
    version_site(&public, &["--rename"]);
    let fetched = assets_fetched(&public, &pages);
    assert!(fetched.len() >= 7, "{fetched:?}");
    for (target, status) in &fetched {
        assert_eq!(*status, 200, "{target}");
        assert!(!target.contains('?'), "{target}");
        let name = target.rsplit('/').next().unwrap();
        let version = name.split('.').rev().nth(1).unwrap_or("");
        assert!(
            version.len() == 10 && version.bytes().all(|b| b.is_ascii_hexdigit()),
            "not a renamed copy: {target} (all: {fetched:?})"
        );
    }
    eprintln!(
        "e2e: chromium fetched {} renamed assets, all 200",
        fetched.len()
    );
}
