//! Polite HTTP GETs: a bounded number in flight, a bounded rate, a timeout over each
//! whole request (header fields and body), retries of what may pass (a refused or reset
//! connection, a timeout, 502/503/504), redirects followed, bodies decoded (gzip, br,
//! deflate, zstd) and capped.

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;
use tower_http::decompression::Decompression;
use url::Url;

/// Redirects followed, at most, before a request is an error.
const MAX_REDIRECTS: usize = 5;

type Inner = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

pub struct Fetcher {
    client: Decompression<Inner>,
    permits: Semaphore,
    /// When the next request may start.
    next_start: Mutex<Instant>,
    interval: Duration,
    timeout: Duration,
    retries: u32,
    /// Requests sent, retries and redirects included.
    pub sent: AtomicU64,
}

/// One answer.
#[derive(Debug)]
pub struct Fetched {
    /// The URL that answered, after redirects.
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Decoded; empty when only its digest was wanted.
    pub body: Bytes,
    /// The blake3 digest of the decoded body, when asked for.
    pub digest: Option<blake3::Hash>,
    /// A stylesheet: `text/css`, or no media type and a `.css` path.
    pub stylesheet: bool,
}

/// What to keep of a body.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    /// The body, up to this many bytes (more is an error).
    Body(usize),
    /// Its digest, whatever its size (an image or a video is hashed as it streams, never
    /// held); a stylesheet's body too, up to the limit, to be read in turn.
    Digest { stylesheet_limit: usize },
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

fn is_stylesheet(headers: &HeaderMap, url: &Url) -> bool {
    match media_type(headers).as_str() {
        "text/css" => true,
        "" => crate::cascade::is_stylesheet(url.path()),
        _ => false,
    }
}

impl Fetched {
    /// The media type, lower case, without parameters (`text/html`).
    pub fn media_type(&self) -> String {
        media_type(&self.headers)
    }
}

impl Fetcher {
    pub fn new(
        connector: HttpsConnector<HttpConnector>,
        concurrency: usize,
        rate: f64,
        timeout: Duration,
        retries: u32,
    ) -> Arc<Self> {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Arc::new(Fetcher {
            client: Decompression::new(client),
            permits: Semaphore::new(concurrency),
            next_start: Mutex::new(Instant::now()),
            interval: Duration::from_secs_f64(1.0 / rate),
            timeout,
            retries,
            sent: AtomicU64::new(0),
        })
    }

    /// GETs `url`, following redirects; the body (decoded) is read as `want` says.
    /// An error says what failed, for the report.
    pub async fn get(&self, url: &Url, want: Want) -> Result<Fetched, String> {
        let mut url = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let fetched = self.get_once(&url, want).await?;
            if !fetched.status.is_redirection() {
                return Ok(fetched);
            }
            let Some(location) = fetched
                .headers
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
            else {
                return Ok(fetched);
            };
            url = url
                .join(location)
                .map_err(|e| format!("redirected to {location:?}: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!("redirected to {url}, not http(s)"));
            }
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }

    /// One GET, tried again on what may pass.
    async fn get_once(&self, url: &Url, want: Want) -> Result<Fetched, String> {
        let mut attempt = 0;
        loop {
            let result = self.attempt(url, want).await;
            let passing = match &result {
                Ok(fetched) => matches!(fetched.status.as_u16(), 502..=504),
                Err(_) => true,
            };
            if !passing || attempt >= self.retries {
                return result;
            }
            attempt += 1;
            tokio::time::sleep(Duration::from_millis(250) * 2u32.pow(attempt.min(6))).await;
        }
    }

    async fn attempt(&self, url: &Url, want: Want) -> Result<Fetched, String> {
        let _permit = self.permits.acquire().await.expect("never closed");
        self.pace().await;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let request = Request::get(url.as_str())
            .header(
                header::USER_AGENT,
                concat!("cachebust-verify/", env!("CARGO_PKG_VERSION")),
            )
            .header(header::ACCEPT, "*/*")
            .body(Empty::new())
            .map_err(|e| format!("{url}: {e}"))?;
        let exchange = async {
            let response = self
                .client
                .clone()
                .oneshot(request)
                .await
                .map_err(|e| crate::client::chain(&e))?;
            let (parts, mut body) = response.into_parts();
            let stylesheet = is_stylesheet(&parts.headers, url);
            let (keep, mut hasher) = match want {
                Want::Body(limit) => (Some(limit), None),
                Want::Digest { stylesheet_limit } => (
                    stylesheet.then_some(stylesheet_limit),
                    Some(blake3::Hasher::new()),
                ),
            };
            let mut kept = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame
                    .map_err(|e| format!("reading the body: {}", crate::client::chain(&*e)))?;
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if let Some(hasher) = &mut hasher {
                    hasher.update(&data);
                }
                if let Some(limit) = keep {
                    if kept.len() + data.len() > limit {
                        return Err(format!("the body is larger than {limit} bytes"));
                    }
                    kept.extend_from_slice(&data);
                }
            }
            Ok::<_, String>(Fetched {
                url: url.clone(),
                status: parts.status,
                headers: parts.headers,
                body: Bytes::from(kept),
                digest: hasher.map(|h| h.finalize()),
                stylesheet,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no complete answer within {} s",
                self.timeout.as_secs_f64()
            )),
        }
    }

    /// Waits for this request's turn under `--rate`.
    async fn pace(&self) {
        let start = {
            let mut next = self.next_start.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + self.interval;
            start
        };
        tokio::time::sleep_until(start).await;
    }
}
