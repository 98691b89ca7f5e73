//! `cachebust diff`, `purge` and `token`, with a local server on 127.0.0.1 standing in for
//! each provider (`--endpoint`).

use assert_cmd::Command;
use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;

/// A request the stand-in received.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    headers: http::HeaderMap,
    body: Value,
}

/// How the stand-in answers the n-th request.
#[derive(Clone)]
enum Answer {
    Ok,
    Status(u16, &'static str),
    Sleep(Duration),
    /// A JSON answer of 2 MiB.
    Large,
}

struct Provider {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _runtime: tokio::runtime::Runtime,
}

fn provider(answers: Vec<Answer>) -> Provider {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let record = Arc::clone(&seen);
    runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = Arc::clone(&record);
            let answers = answers.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let record = Arc::clone(&record);
                    let answers = answers.clone();
                    async move {
                        let path = request.uri().path().to_owned();
                        let headers = request.headers().clone();
                        let body = request.into_body().collect().await.unwrap().to_bytes();
                        let index = {
                            let mut seen = record.lock().unwrap();
                            seen.push(Seen {
                                path,
                                headers,
                                body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            });
                            seen.len() - 1
                        };
                        let (status, text) = match answers.get(index).cloned().unwrap_or(Answer::Ok)
                        {
                            Answer::Ok => (200, r#"{"status":"success"}"#.to_owned()),
                            Answer::Status(status, text) => (status, text.to_owned()),
                            Answer::Sleep(pause) => {
                                tokio::time::sleep(pause).await;
                                (200, r#"{"status":"success"}"#.to_owned())
                            }
                            Answer::Large => (200, format!("{}{{}}", " ".repeat(2 << 20))),
                        };
                        let mut response = Response::new(Full::new(Bytes::from(text)));
                        *response.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok::<_, std::convert::Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Provider {
        addr,
        seen,
        _runtime: runtime,
    }
}

fn manifests(dir: &Path, changed: usize) -> (PathBuf, PathBuf) {
    let old: serde_json::Map<String, Value> = (0..changed + 3)
        .map(|i| (format!("/img/{i}.jpg"), json!("v1")))
        .collect();
    let mut new = old.clone();
    for i in 0..changed {
        new.insert(format!("/img/{i}.jpg"), json!("v2"));
    }
    new.remove(&format!("/img/{}.jpg", changed + 2));
    new.insert("/img/new.jpg".into(), json!("v1"));
    let (o, n) = (dir.join("old.json"), dir.join("new.json"));
    std::fs::write(&o, Value::Object(old).to_string()).unwrap();
    std::fs::write(&n, Value::Object(new).to_string()).unwrap();
    (o, n)
}

fn cachebust() -> Command {
    Command::cargo_bin("cachebust").unwrap()
}

#[test]
fn diff_lists_absolute_urls() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 1);
    cachebust()
        .arg("diff").arg(&old).arg(&new).args(["--base-url", "https://example.com/"])
        .assert()
        .code(0)
        .stdout("added\thttps://example.com/img/new.jpg\nchanged\thttps://example.com/img/0.jpg\nremoved\thttps://example.com/img/3.jpg\n");
    let out = cachebust()
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["changed"], json!(["http://localhost/img/0.jpg"]));
    // Any supported format: a rev-manifest against another.
    std::fs::write(
        dir.path().join("rev-a.json"),
        r#"{"css/a.css": "css/a-1.css"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("rev-b.json"),
        r#"{"css/a.css": "css/a-2.css"}"#,
    )
    .unwrap();
    cachebust()
        .arg("diff")
        .arg(dir.path().join("rev-a.json"))
        .arg(dir.path().join("rev-b.json"))
        .assert()
        .code(0)
        .stdout("changed\thttp://localhost/css/a.css\n");
}

#[test]
fn dry_run_prints_requests_with_the_key_masked() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 2);
    let out = cachebust()
        .args([
            "purge",
            "--provider",
            "cloudimage",
            "--dry-run",
            "--base-url",
            "https://sample.li/",
        ])
        .arg(&old)
        .arg(&new)
        .env("CLOUDIMAGE_API_KEY", "topsecret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains("topsecret"));
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["url"], "https://api.cloudimage.com/invalidate");
    assert_eq!(lines[0]["headers"]["X-Client-Key"], "********");
    assert_eq!(
        lines[0]["body"],
        json!({"scope": "original", "urls": ["https://sample.li/img/0.jpg", "https://sample.li/img/1.jpg", "https://sample.li/img/4.jpg"]})
    );
    // Without a key, a dry run is the default.
    let out = cachebust()
        .args(["purge", "--provider", "optimole", "--domain", "example.com"])
        .env_remove("OPTIMOLE_API_KEY")
        .output()
        .unwrap();
    let line: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line["url"],
        "https://dashboard.optimole.com/api/optml/v2/cache/invalidate/domain"
    );
    assert_eq!(line["body"], json!({"domain": "example.com"}));
    assert_eq!(line["headers"]["Authorization"], "Bearer ********");
}

#[test]
fn cloudimage_forms_and_all() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 1);
    let server = provider(vec![]);
    let endpoint = format!("http://{}", server.addr);
    cachebust()
        .args([
            "purge",
            "--provider",
            "cloudimage",
            "--cloudimage-v7",
            "--base-url",
            "https://img.domain.com/",
            "--endpoint",
            &endpoint,
        ])
        .arg(&old)
        .arg(&new)
        .env("CLOUDIMAGE_API_KEY", "k1")
        .assert()
        .code(0);
    cachebust()
        .args([
            "purge",
            "--provider",
            "cloudimage",
            "--all",
            "--endpoint",
            &endpoint,
            "--key-file",
        ])
        .arg({
            let key = dir.path().join("key");
            std::fs::write(&key, "k2\n").unwrap();
            key
        })
        .assert()
        .code(0);
    cachebust()
        .args([
            "purge",
            "--provider",
            "cloudimage",
            "--base-url",
            "https://media.example.com/",
            "--cloudimage-alias",
            "media=https://media.example.com/",
            "--endpoint",
            &endpoint,
        ])
        .arg(&old)
        .arg(&new)
        .env("CLOUDIMAGE_API_KEY", "k1")
        .assert()
        .code(0);
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].path, "/invalidate");
    assert_eq!(seen[0].headers["x-client-key"], "k1");
    assert_eq!(
        seen[0].body,
        json!({"scope": "original", "urls": ["/v7/https://img.domain.com/img/0.jpg", "/v7/https://img.domain.com/img/3.jpg"]})
    );
    assert_eq!(seen[1].headers["x-client-key"], "k2");
    assert_eq!(seen[1].body, json!({"scope": "all"}));
    assert_eq!(
        seen[2].body,
        json!({"scope": "original", "urls": ["_media_/img/0.jpg", "_media_/img/3.jpg"]})
    );
}

#[test]
fn optimole_batches_at_100() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 249);
    let server = provider(vec![]);
    cachebust()
        .args([
            "purge",
            "--provider",
            "optimole",
            "--base-url",
            "https://example.com/",
            "--endpoint",
            &format!("http://{}", server.addr),
        ])
        .arg(&old)
        .arg(&new)
        .env("OPTIMOLE_API_KEY", "opt_key")
        .assert()
        .code(0);
    let seen = server.seen.lock().unwrap().clone();
    let sizes: Vec<usize> = seen
        .iter()
        .map(|s| s.body["assets"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50], "249 changed and 1 removed");
    assert!(
        seen.iter()
            .all(|s| s.path == "/api/optml/v2/cache/invalidate/asset")
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer opt_key");
    assert_eq!(seen[0].body["assets"][0], "https://example.com/img/0.jpg");
}

#[test]
fn provider_errors_are_reported_per_batch_and_can_be_resumed() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 299);
    for (answer, expect) in [
        (
            Answer::Status(401, r#"{"status":"error","message":"unknown user"}"#),
            "unknown user",
        ),
        (
            Answer::Status(200, r#"{"success":false,"error":"inactive account"}"#),
            "inactive account",
        ),
        (
            Answer::Status(413, r#"{"message":"too many assets"}"#),
            "too many assets",
        ),
        (Answer::Status(503, "upstream unavailable"), "HTTP 503"),
    ] {
        let server = provider(vec![Answer::Ok, answer]);
        let out = cachebust()
            .args([
                "purge",
                "--provider",
                "optimole",
                "--endpoint",
                &format!("http://{}", server.addr),
            ])
            .arg(&old)
            .arg(&new)
            .env("OPTIMOLE_API_KEY", "k")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("batch 1/3 accepted"), "{err}");
        assert!(
            err.contains("batch 2/3 failed") && err.contains(expect),
            "{err}"
        );
        assert!(
            err.contains("accepted batches: [1, 3]") && err.contains("--from-batch 2"),
            "{err}"
        );
        assert_eq!(
            server.seen.lock().unwrap().len(),
            3,
            "the other batches are still sent"
        );
    }
    // Resuming sends only from the batch named.
    let server = provider(vec![]);
    cachebust()
        .args([
            "purge",
            "--provider",
            "optimole",
            "--from-batch",
            "2",
            "--endpoint",
            &format!("http://{}", server.addr),
        ])
        .arg(&old)
        .arg(&new)
        .env("OPTIMOLE_API_KEY", "k")
        .assert()
        .code(0);
    assert_eq!(server.seen.lock().unwrap().len(), 2);
}

#[test]
fn a_timeout_is_an_error() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 1);
    let server = provider(vec![Answer::Sleep(Duration::from_secs(5))]);
    let out = cachebust()
        .args([
            "purge",
            "--provider",
            "cloudimage",
            "--timeout",
            "0.5",
            "--endpoint",
            &format!("http://{}", server.addr),
        ])
        .arg(&old)
        .arg(&new)
        .env("CLOUDIMAGE_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no answer within 0.5 s"));
}

/// The key never crosses the network in clear, an answer that is not JSON (or is huge)
/// accepts nothing, and numbers that cannot be right are refused before anything is sent.
#[test]
fn purge_refuses_what_cannot_be_trusted() {
    let dir = TempDir::new().unwrap();
    let (old, new) = manifests(dir.path(), 1);
    let run = |endpoint: &str, extra: &[&str]| {
        cachebust()
            .args(["purge", "--provider", "cloudimage", "--endpoint", endpoint])
            .args(extra)
            .arg(&old)
            .arg(&new)
            .env("CLOUDIMAGE_API_KEY", "k")
            .output()
            .unwrap()
    };
    let out = run("http://api.example.com", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("in clear"));
    for answer in [
        Answer::Status(200, "<html>captive portal</html>"),
        Answer::Large,
    ] {
        let server = provider(vec![answer]);
        let out = run(&format!("http://{}", server.addr), &[]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("batch 1/1 failed"), "{stderr}");
    }
    let server = provider(vec![]);
    let endpoint = format!("http://{}", server.addr);
    for (flags, named) in [
        (&["--from-batch", "2"][..], "there are 1 batches"),
        (&["--from-batch", "0"], "0"),
        (&["--timeout=-1"], "-1"),
        (&["--timeout", "inf"], "inf"),
    ] {
        let out = run(&endpoint, flags);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(server.seen.lock().unwrap().is_empty());
}

#[test]
fn tokens_are_random_and_valid_versions() {
    let one = cachebust().arg("token").output().unwrap();
    let two = cachebust()
        .args(["token", "--length", "32"])
        .output()
        .unwrap();
    let (one, two) = (
        String::from_utf8(one.stdout).unwrap(),
        String::from_utf8(two.stdout).unwrap(),
    );
    assert_eq!(one.trim().len(), 12);
    assert_eq!(two.trim().len(), 32);
    assert_ne!(one.trim(), &two.trim()[..12]);
    assert!(cachebust::manifest::check_version(one.trim()).is_ok());
    cachebust()
        .args(["token", "--length", "65"])
        .assert()
        .code(2);
    cachebust()
        .args(["token", "--length", "0"])
        .assert()
        .code(2);
}
