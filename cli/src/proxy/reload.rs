//! Where the proxy's versions come from, and noticing when they change.
//!
//! A manifest file is looked at every `--reload-interval`: its identity (device, inode,
//! size, modification and change times, through any symlinks) and, when that moved, its
//! bytes. So a replacement is noticed however it was made: rewritten in place, renamed
//! over (`rsync -a`), copied with its old modification time (`cp -p`, Nix's epoch), or a
//! symlink swapped (a Kubernetes ConfigMap). A `-m http(s)://...` manifest is fetched
//! with a conditional request (`If-None-Match`, `If-Modified-Since`) each interval, so a
//! fleet of proxies follows one manifest. A new manifest that fails to load, or a URL
//! that does not answer, keeps the old manifest; the log says why.

use super::BoxError;
use crate::args::ProxyArgs;
use crate::manifests;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use cachebust::{Builder, Buster, Manifest};
use http::{HeaderValue, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The largest manifest fetched over HTTP.
const MAX_MANIFEST: usize = 256 << 20;

/// How long one fetch of a manifest URL may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// One `-m` value.
enum Entry {
    File {
        path: PathBuf,
        /// The identity last seen.
        seen: Option<FileIdentity>,
    },
    Url {
        uri: Uri,
        /// The last good answer, and its validators.
        body: Option<Bytes>,
        etag: Option<HeaderValue>,
        last_modified: Option<HeaderValue>,
    },
}

/// What changes when a file is replaced in any way.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

fn identity(path: &PathBuf) -> Option<FileIdentity> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileIdentity {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

/// The manifests of `-m` and `--hash`, and the digest of what was last loaded.
pub struct Sources {
    args: ProxyArgs,
    entries: Vec<Entry>,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    loaded: Option<blake3::Hash>,
}

/// Whether a `-m` value names a manifest URL rather than a file.
fn is_url(value: &std::path::Path) -> bool {
    value
        .to_str()
        .is_some_and(|v| v.starts_with("http://") || v.starts_with("https://"))
}

impl Sources {
    pub fn new(args: &ProxyArgs, connector: HttpsConnector<HttpConnector>) -> Result<Self> {
        let entries = args
            .source
            .manifests
            .iter()
            .map(|value| {
                if is_url(value) {
                    let text = value.to_str().expect("checked");
                    let uri: Uri = text
                        .parse()
                        .with_context(|| format!("-m {}", super::upstream::redact(text)))?;
                    Ok(Entry::Url {
                        uri,
                        body: None,
                        etag: None,
                        last_modified: None,
                    })
                } else {
                    Ok(Entry::File {
                        path: value.clone(),
                        seen: None,
                    })
                }
            })
            .collect::<Result<_>>()?;
        if args.source.manifests.is_empty() && args.source.hash.is_none() {
            bail!("no manifest: give -m FILE or URL (repeatable) or --hash DIR");
        }
        Ok(Sources {
            args: args.clone(),
            entries,
            client: Client::builder(TokioExecutor::new()).build(connector),
            loaded: None,
        })
    }

    /// Loads every source (at start: any failure is an error before listening).
    pub async fn load(&mut self) -> Result<Buster> {
        self.poll(true).await?;
        self.build()
    }

    /// Looks for changes; `Ok(true)` when a source changed (then [`Sources::build`]).
    async fn poll(&mut self, first: bool) -> Result<bool> {
        let mut changed = false;
        for entry in &mut self.entries {
            match entry {
                Entry::File { path, seen } => {
                    let now = identity(path);
                    if first || now != *seen {
                        *seen = now;
                        changed = true;
                    }
                }
                Entry::Url {
                    uri,
                    body,
                    etag,
                    last_modified,
                } => {
                    let mut request = Request::get(uri.clone());
                    if body.is_some() {
                        if let Some(etag) = etag.clone() {
                            request = request.header(header::IF_NONE_MATCH, etag);
                        }
                        if let Some(date) = last_modified.clone() {
                            request = request.header(header::IF_MODIFIED_SINCE, date);
                        }
                    }
                    let request = request
                        .header(
                            header::USER_AGENT,
                            concat!("cachebust/", env!("CARGO_PKG_VERSION")),
                        )
                        .body(Empty::new())?;
                    let shown = super::upstream::redact(&uri.to_string());
                    let fetched = tokio::time::timeout(FETCH_TIMEOUT, fetch(&self.client, request))
                        .await
                        .map_err(|_| {
                            anyhow::anyhow!("no answer within {} s", FETCH_TIMEOUT.as_secs())
                        })
                        .and_then(|r| r)
                        .with_context(|| format!("manifest {shown}"))?;
                    match fetched {
                        Fetched::NotModified => {}
                        Fetched::New {
                            bytes,
                            etag: new_etag,
                            last_modified: new_date,
                        } => {
                            if body.as_ref() != Some(&bytes) {
                                changed = true;
                            }
                            *body = Some(bytes);
                            *etag = new_etag;
                            *last_modified = new_date;
                        }
                    }
                }
            }
        }
        Ok(changed)
    }

    /// Builds a buster from the sources as last read; `None` when their bytes are the same
    /// as those last loaded.
    fn build_if_new(&mut self) -> Result<Option<Buster>> {
        // (the name format detection reads, the text, the source as errors name it)
        let mut texts: Vec<(String, String, String)> = Vec::with_capacity(self.entries.len());
        let mut digest = blake3::Hasher::new();
        for entry in &self.entries {
            let (name, text, shown) = match entry {
                Entry::File { path, .. } => {
                    let text = cachebust::manifest::read_file(path)?;
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (name, text, path.display().to_string())
                }
                Entry::Url { uri, body, .. } => {
                    let shown = super::upstream::redact(&uri.to_string());
                    let bytes = body.as_ref().expect("fetched before building");
                    let text = String::from_utf8(bytes.to_vec())
                        .map_err(|_| anyhow::anyhow!("manifest {shown}: not UTF-8"))?;
                    let name = uri.path().rsplit('/').next().unwrap_or_default().to_owned();
                    (name, text, shown)
                }
            };
            digest.update(&(text.len() as u64).to_le_bytes());
            digest.update(text.as_bytes());
            texts.push((name, text, shown));
        }
        let digest = digest.finalize();
        // The same bytes as loaded: nothing to do (a `touch`, an identical copy).
        if self.args.source.hash.is_none() && self.loaded == Some(digest) {
            return Ok(None);
        }
        let origin = url::Url::parse(&format!("{}://localhost/", self.args.scheme))?;
        let mut manifest: Manifest =
            manifests::hashed(&self.args.source, &self.args.rules, &origin, "/", None)?;
        for (name, text, shown) in &texts {
            manifest.extend(
                manifests::parse(name, text, &self.args.source)
                    .with_context(|| format!("manifest {shown}"))?,
            );
        }
        let page = format!("{}://localhost/", self.args.scheme);
        let buster = manifests::rules(
            Builder::new(manifest).with_page_url(&page),
            &self.args.rules,
        )
        .build()?;
        self.loaded = Some(digest);
        Ok(Some(buster))
    }

    fn build(&mut self) -> Result<Buster> {
        self.loaded = None;
        Ok(self.build_if_new()?.expect("built when nothing was loaded"))
    }
}

enum Fetched {
    NotModified,
    New {
        bytes: Bytes,
        etag: Option<HeaderValue>,
        last_modified: Option<HeaderValue>,
    },
}

async fn fetch(
    client: &Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    request: Request<Empty<Bytes>>,
) -> Result<Fetched> {
    let response = client
        .request(request)
        .await
        .map_err(|e| anyhow::anyhow!(crate::client::chain(&e)))?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    let etag = response.headers().get(header::ETAG).cloned();
    let last_modified = response.headers().get(header::LAST_MODIFIED).cloned();
    let bytes = Limited::new(response.into_body(), MAX_MANIFEST)
        .collect()
        .await
        .map_err(|e: BoxError| anyhow::anyhow!("reading the body: {e}"))?
        .to_bytes();
    Ok(Fetched::New {
        bytes,
        etag,
        last_modified,
    })
}

/// Reloads the manifest when a source changes, or on SIGHUP.
pub async fn watch(mut sources: Sources, shared: Arc<RwLock<Buster>>) {
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .expect("installing the SIGHUP handler");
    let interval = sources.args.reload_interval.max(Duration::from_millis(50));
    loop {
        let why = tokio::select! {
            _ = hangup.recv() => "SIGHUP",
            _ = tokio::time::sleep(interval) => "a manifest changed",
        };
        let forced = why == "SIGHUP";
        let outcome = match sources.poll(false).await {
            Ok(changed) if changed || forced => {
                if forced {
                    sources.loaded = None;
                }
                sources.build_if_new()
            }
            Ok(_) => Ok(None),
            Err(error) => Err(error),
        };
        match outcome {
            Ok(Some(buster)) => {
                *shared.write().unwrap_or_else(|p| p.into_inner()) = buster;
                tracing::info!(why, "manifest reloaded");
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(
                why,
                error = format!("{error:#}"),
                "manifest not reloaded; keeping the old one"
            ),
        }
    }
}
