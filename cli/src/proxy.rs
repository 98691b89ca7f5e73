//! `cachebust proxy`: a reverse proxy that rewrites HTML responses on their way through.
//!
//! ```text
//! client ── Compression (pages rewritten) ── BustLayer ── Forward (decodes those pages) ── upstream
//! ```
//! The upstream is offered the content codings the client accepts that the proxy reads, so
//! a page always comes in one it can rewrite, and any other response goes to the client as
//! it came, in a coding the client accepts.
//! The manifest is reloaded when a manifest file changes or on SIGHUP; a bad new manifest
//! keeps the old one (and says why). SIGTERM or ctrl-c stops accepting and lets the
//! requests under way finish.

use crate::args::ProxyArgs;
use crate::manifests;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use cachebust::http::{BustLayer, should_rewrite};
use cachebust::{Builder, Buster};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;
use tower_http::decompression::{DecompressionBody, DecompressionLayer};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
type ProxyBody = BoxBody<Bytes, BoxError>;
/// The response body the client gets: rewriting is not `Sync`, so neither is this.
type ClientBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;
type Stack = tower::util::BoxCloneService<Request<Incoming>, Response<ClientBody>, Infallible>;

/// Headers that belong to one connection, not to the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub fn run(args: ProxyArgs) -> Result<ExitCode> {
    // Everything that can be wrong with the flags or the manifest fails before listening.
    let buster = build(&args)?;
    let upstream: Uri = args
        .upstream
        .parse()
        .with_context(|| format!("--upstream {:?}", args.upstream))?;
    if upstream.scheme_str() != Some("http") || upstream.authority().is_none() {
        bail!(
            "--upstream {:?}: an http:// URL is needed (put TLS in front of the upstream, not in it)",
            args.upstream
        );
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("CACHEBUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(args, upstream, buster))
}

fn build(args: &ProxyArgs) -> Result<Buster> {
    let manifest = manifests::load(&args.source)?;
    let page = format!("{}://localhost/", args.scheme);
    Ok(manifests::rules(Builder::new(manifest).with_page_url(&page), &args.rules).build()?)
}

/// Compresses to the client only the pages rewritten (and the `HEAD` responses of such
/// pages, as their `GET`): other bodies go through as they came.
#[derive(Clone, Copy)]
struct RewrittenOnly;

impl Predicate for RewrittenOnly {
    fn should_compress<B: http_body::Body>(&self, response: &Response<B>) -> bool {
        should_rewrite(&Method::GET, response.status(), response.headers()).rewrites()
    }
}

async fn serve(args: ProxyArgs, upstream: Uri, buster: Buster) -> Result<ExitCode> {
    let shared = Arc::new(RwLock::new(buster));
    tokio::spawn(reload(args.clone(), Arc::clone(&shared)));

    let scheme: &'static str = if args.scheme == "https" {
        "https"
    } else {
        "http"
    };
    let forward = Forward {
        client: Client::builder(TokioExecutor::new()).build_http(),
        upstream,
        preserve_host: args.preserve_host,
        scheme,
    };
    let service = ServiceBuilder::new()
        .layer(CompressionLayer::new().compress_when(RewrittenOnly))
        .layer(
            BustLayer::shared(shared)
                .with_scheme(scheme)
                .on_report(|page, report| {
                    tracing::debug!(
                        page,
                        rewritten = report.rewritten,
                        current = report.current,
                        missing = report.missing,
                        skipped = report.skipped.total(),
                        bail_out = report.bail_out.as_deref().unwrap_or(""),
                        "rewrote"
                    );
                }),
        )
        .service(forward)
        .map_response(|response: Response<_>| {
            response.map(|body| body.map_err(box_error).boxed_unsync())
        });
    // One concrete type for the connections' tasks (and their futures are Send).
    let service: Stack = tower::util::BoxCloneService::new(service);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Tests and scripts read this line to find the port.
    eprintln!("cachebust: listening on {local}");
    tracing::info!(%local, upstream = %args.upstream, "proxy started");

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        continue;
                    }
                };
                let service = service.clone();
                let per_request = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let request = forwarded(request, peer, scheme);
                    service.clone().oneshot(request)
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), per_request);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%error, "connection ended with an error");
                    }
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    tracing::info!("stopping: waiting for the requests under way");
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(30)) => tracing::warn!("gave up waiting after 30 s"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// The client's request as the upstream should see it: `X-Forwarded-*` set, the body boxed.
fn forwarded(request: Request<Incoming>, peer: SocketAddr, scheme: &str) -> Request<Incoming> {
    let (mut parts, body) = request.into_parts();
    let headers = &mut parts.headers;
    let forwarded_for = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(earlier) => format!("{earlier}, {}", peer.ip()),
        None => peer.ip().to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&forwarded_for) {
        headers.insert("x-forwarded-for", value);
    }
    headers.insert(
        "x-forwarded-proto",
        HeaderValue::from_static(if scheme == "https" { "https" } else { "http" }),
    );
    if let Some(host) = headers.get(header::HOST).cloned() {
        headers.insert("x-forwarded-host", host);
    }
    Request::from_parts(parts, body)
}

fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| {
            v.split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect();
    for name in HOP_BY_HOP
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str))
    {
        headers.remove(name);
    }
}

/// The innermost service: sends each request to the upstream.
#[derive(Clone)]
struct Forward {
    client: Client<HttpConnector, Incoming>,
    upstream: Uri,
    /// Whether the upstream gets the client's `Host` rather than its own.
    preserve_host: bool,
    /// The scheme the clients speak.
    scheme: &'static str,
}

impl tower::Service<Request<Incoming>> for Forward {
    type Response = Response<DecompressionBody<ProxyBody>>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Incoming>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let method = request.method().clone();
            let response = forward(&this, request).await;
            Ok(decoded_if_rewritten(&method, response).await)
        })
    }
}

/// The content codings the proxy reads (tower-http's decoders).
const READABLE_CODINGS: [&str; 4] = ["gzip", "deflate", "br", "zstd"];

/// Narrows the client's `Accept-Encoding` to the codings the proxy reads (and `identity`),
/// keeping their weights: a page then comes in a coding the proxy can rewrite, and any
/// other response in one the client accepts, to go to it as it came. Without any left,
/// the upstream is offered none. (Browsers offer only readable codings: their header is
/// left as it is.)
fn offer_readable_codings(headers: &mut HeaderMap) {
    let readable = |coding: &str| {
        let name = coding.split(';').next().unwrap_or_default().trim();
        name.eq_ignore_ascii_case("identity")
            || READABLE_CODINGS
                .iter()
                .any(|r| name.eq_ignore_ascii_case(r))
    };
    let values = headers.get_all(header::ACCEPT_ENCODING);
    if values
        .iter()
        .all(|v| v.to_str().is_ok_and(|v| v.split(',').all(readable)))
    {
        return;
    }
    let offered: Vec<String> = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|coding| readable(coding))
        .map(str::to_owned)
        .collect();
    headers.remove(header::ACCEPT_ENCODING);
    match HeaderValue::from_str(&offered.join(", ")) {
        Ok(value) if !offered.is_empty() => {
            headers.insert(header::ACCEPT_ENCODING, value);
        }
        _ => {}
    }
}

/// `response` with its body decoded when it is a page rewritten once decoded (a `HEAD`
/// response as its `GET` would be); any other response as it came. (tower-http's decoders
/// come as a layer, so the response is given to one by a service that has it.)
async fn decoded_if_rewritten(
    method: &Method,
    response: Response<ProxyBody>,
) -> Response<DecompressionBody<ProxyBody>> {
    let decode = rewritten_once_decoded(method, &response);
    let mut response = Some(response);
    let upstream = tower::service_fn(move |_: Request<()>| {
        std::future::ready(Ok::<_, Infallible>(
            response.take().expect("one request, one response"),
        ))
    });
    let decoder = DecompressionLayer::new()
        .gzip(decode)
        .deflate(decode)
        .br(decode)
        .zstd(decode);
    match decoder.layer(upstream).oneshot(Request::new(())).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Whether `response`, to a `method` request, has a content coding and is rewritten once
/// decoded.
fn rewritten_once_decoded<B>(method: &Method, response: &Response<B>) -> bool {
    if !response.headers().contains_key(header::CONTENT_ENCODING) {
        return false;
    }
    let mut headers = response.headers().clone();
    headers.remove(header::CONTENT_ENCODING);
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    should_rewrite(method, response.status(), &headers).rewrites()
}

fn box_error<E: Into<BoxError>>(error: E) -> BoxError {
    error.into()
}

/// Sends the request upstream; an upstream that cannot be reached is a 502.
async fn forward(to: &Forward, request: Request<Incoming>) -> Response<ProxyBody> {
    let upstream = &to.upstream;
    let (mut parts, body) = request.into_parts();
    let base = upstream.path().trim_end_matches('/');
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = upstream.authority().expect("checked at start");
    let uri = format!("http://{authority}{base}{path}");
    parts.uri = match uri.parse() {
        Ok(uri) => uri,
        Err(_) => return error_response(StatusCode::BAD_REQUEST, "bad request target"),
    };
    remove_hop_by_hop(&mut parts.headers);
    offer_readable_codings(&mut parts.headers);
    // With the upstream's own `Host`, the URLs it writes name itself: those in the redirect
    // headers are given back to the client's host.
    let client_host = match HeaderValue::from_str(authority.as_str()) {
        Ok(host) if !to.preserve_host => parts.headers.insert(header::HOST, host),
        _ => None,
    };
    match to.client.request(Request::from_parts(parts, body)).await {
        Ok(response) => {
            let (mut parts, body) = response.into_parts();
            // The client's connection has its own version; hyper writes its own framing.
            parts.version = http::Version::HTTP_11;
            remove_hop_by_hop(&mut parts.headers);
            let client_host = client_host.as_ref().and_then(|h| h.to_str().ok());
            let redirected = RELOCATED
                .iter()
                .any(|name| parts.headers.contains_key(name));
            if let (Some(client_host), true) = (client_host, redirected) {
                let upstream_url = format!("http://{authority}{base}");
                let client_url = format!("{}://{client_host}", to.scheme);
                relocate(&mut parts.headers, &upstream_url, &client_url);
            }
            Response::from_parts(parts, body.map_err(box_error).boxed())
        }
        Err(error) => {
            tracing::warn!(%error, "upstream request failed");
            error_response(StatusCode::BAD_GATEWAY, "the upstream could not be reached")
        }
    }
}

/// The headers whose URLs [`relocate`] gives back to the client.
const RELOCATED: [header::HeaderName; 2] = [header::LOCATION, header::CONTENT_LOCATION];

/// Gives the URLs under `upstream_url` in the [`RELOCATED`] headers to the client under
/// `client_url`, as a reverse proxy does (nginx's `proxy_redirect default`).
fn relocate(headers: &mut HeaderMap, upstream_url: &str, client_url: &str) {
    for name in RELOCATED {
        let Some(url) = headers.get(&name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let Some(rest) = url
            .get(..upstream_url.len())
            .filter(|start| start.eq_ignore_ascii_case(upstream_url))
            .map(|_| &url[upstream_url.len()..])
            .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']))
        else {
            continue;
        };
        let rest = if rest.starts_with('/') {
            rest
        } else {
            &format!("/{rest}")
        };
        if let Ok(value) = HeaderValue::from_str(&format!("{client_url}{rest}")) {
            headers.insert(name, value);
        }
    }
}

fn error_response(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(box_error)
            .boxed(),
    );
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// Reloads the manifest when one of its files changes, or on SIGHUP.
async fn reload(args: ProxyArgs, shared: Arc<RwLock<Buster>>) {
    let mtimes = |args: &ProxyArgs| -> Vec<Option<SystemTime>> {
        args.source
            .manifests
            .iter()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect()
    };
    let mut seen = mtimes(&args);
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .expect("installing the SIGHUP handler");
    let interval = Duration::from_secs_f64(args.reload_interval.max(0.05));
    loop {
        let why = tokio::select! {
            _ = hangup.recv() => "SIGHUP",
            _ = tokio::time::sleep(interval) => {
                let now = mtimes(&args);
                if now == seen {
                    continue;
                }
                seen = now;
                "a manifest file changed"
            }
        };
        match build(&args) {
            Ok(buster) => {
                *shared.write().unwrap_or_else(|p| p.into_inner()) = buster;
                tracing::info!(why, "manifest reloaded");
            }
            Err(error) => tracing::warn!(
                why,
                error = format!("{error:#}"),
                "manifest not reloaded; keeping the old one"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_under_the_upstream_come_back_to_the_client() {
        let relocated = |location: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, location.parse().unwrap());
            relocate(
                &mut headers,
                "http://127.0.0.1:3000/app",
                "https://site.test",
            );
            headers[header::LOCATION].to_str().unwrap().to_owned()
        };
        assert_eq!(
            relocated("http://127.0.0.1:3000/app/login?next=/"),
            "https://site.test/login?next=/"
        );
        assert_eq!(relocated("HTTP://127.0.0.1:3000/app"), "https://site.test/");
        assert_eq!(
            relocated("http://127.0.0.1:3000/app?a"),
            "https://site.test/?a"
        );
        // Not under the upstream's path, another host, or relative: as they are.
        for location in [
            "http://127.0.0.1:3000/application",
            "http://127.0.0.1:3000/other",
            "http://127.0.0.1:30001/app/x",
            "/app/x",
        ] {
            assert_eq!(relocated(location), location);
        }
        let mut headers = HeaderMap::new();
        let upstream_page = "http://127.0.0.1:3000/app/page.html";
        headers.insert(header::CONTENT_LOCATION, upstream_page.parse().unwrap());
        relocate(
            &mut headers,
            "http://127.0.0.1:3000/app",
            "https://site.test",
        );
        assert_eq!(
            headers[header::CONTENT_LOCATION],
            "https://site.test/page.html"
        );
    }
}
