//! `cachebust proxy`: a reverse proxy that rewrites HTML responses on their way through,
//! built to face the open internet.
//!
//! ```text
//! client ── checks (CONNECT, Host, hop-by-hop, forwarding, Via) ── Compression (pages
//! rewritten) ── BustLayer ── Forward (timeouts, path, redirects, decodes pages) ── upstream
//! ```
//! - `headers`: hop-by-hop fields (removed *before* forwarding fields are set), forwarding
//!   fields (replaced unless the peer is a `--trusted-proxy`), `Via`, `Host` validation.
//! - `upstream`: `--upstream` (http or https, a base path, credentials), path
//!   normalisation, the TLS client, redirects given back to clients.
//! - `forward`: the request to the upstream, its timeouts, decoding, upgrades (tunnels).
//! - `limits`: idle client connections closed, upstream bodies that pause too long failed.
//! - `reload`: manifests from files or URLs, reloaded when they change or on SIGHUP.
//! - `access`: `--access-log`.
//!
//! The upstream is offered the content codings the client accepts that the proxy reads, so
//! a page always comes in one it can rewrite, and any other response goes to the client as
//! it came, in a coding the client accepts. SIGTERM or ctrl-c stops accepting and lets the
//! requests under way finish.

mod access;
mod forward;
mod headers;
mod limits;
mod reload;
mod upstream;

use crate::args::ProxyArgs;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use cachebust::Buster;
use cachebust::http::{BustLayer, should_rewrite};
use forward::{ConnectionSlot, Forward, Settings};
use headers::TrustedProxies;
use http::{HeaderValue, Method, Request, Response, StatusCode, Version, header};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};
use tower::{ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::Predicate;
use upstream::Upstream;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
type ProxyBody = BoxBody<Bytes, BoxError>;
/// The response body the client gets: rewriting is not `Sync`, so neither is this.
type ClientBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;
type Stack = tower::util::BoxCloneService<Request<Incoming>, Response<ClientBody>, Infallible>;

/// The longest wait between two tries of a failing `accept` (out of file descriptors).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// How long the requests under way get to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

pub fn run(args: ProxyArgs) -> Result<ExitCode> {
    // Everything that can be wrong with the flags fails before listening.
    let upstream = Upstream::parse(&args.upstream)?;
    let trusted = TrustedProxies::parse(&args.trusted_proxies)?;
    let public = args.public_url.as_deref().map(public_origin).transpose()?;
    let connector = crate::client::connector(
        args.upstream_ca.as_deref(),
        "--upstream-ca",
        args.connect_timeout,
    )?;
    let access_log = args.access_log.as_deref().map(access::open).transpose()?;
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
    runtime.block_on(async move {
        // The manifest (fetched, where it is a URL) fails before listening too.
        let mut sources = reload::Sources::new(&args, connector.clone())?;
        let buster = sources.load().await?;
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .build(connector);
        let scheme = match &public {
            Some((scheme, _)) => scheme,
            None if args.scheme == "https" => "https",
            None => "http",
        };
        let state = State {
            scheme,
            trusted,
            public,
            access_log,
        };
        serve(args, upstream, client, state, sources, buster).await
    })
}

/// `--public-url`: the scheme and authority clients reach the site at.
fn public_origin(text: &str) -> Result<(&'static str, String)> {
    let url = url::Url::parse(text).with_context(|| format!("--public-url {text:?}"))?;
    let origin = upstream::http_origin(&url)
        .map_err(|why| anyhow::anyhow!("--public-url {text:?}: {why}"))?;
    if url.path() != "/" || url.query().is_some() || !url.username().is_empty() {
        bail!("--public-url {text:?}: an origin is needed (scheme://host[:port])");
    }
    Ok(origin)
}

/// What the per-request checks need.
struct State {
    /// The scheme clients speak to the proxy (`--scheme`, or `--public-url`'s).
    scheme: &'static str,
    trusted: TrustedProxies,
    public: Option<(&'static str, String)>,
    access_log: Option<access::Sink>,
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

async fn serve(
    args: ProxyArgs,
    upstream: Upstream,
    client: Client<
        hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
        Incoming,
    >,
    state: State,
    sources: reload::Sources,
    buster: Buster,
) -> Result<ExitCode> {
    let shared = Arc::new(RwLock::new(buster));
    tokio::spawn(reload::watch(sources, Arc::clone(&shared)));

    let scheme = state.scheme;
    let shown = upstream.shown();
    let forward = Forward(Arc::new(Settings {
        client,
        upstream,
        preserve_host: args.preserve_host,
        scheme,
        upstream_timeout: args.upstream_timeout,
        body_idle_timeout: args.body_idle_timeout,
    }));
    let service = ServiceBuilder::new()
        .layer(CompressionLayer::new().compress_when(RewrittenOnly))
        .layer(
            BustLayer::shared(shared)
                .with_scheme(scheme)
                .with_whole_page_limit(args.whole_page_limit)
                .on_report(|page, report| {
                    let _ = access::PAGE_COUNTS.try_with(|counts| {
                        *counts.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some((report.rewritten, report.missing));
                    });
                    if let Some(why) = report.bail_out.as_deref() {
                        tracing::warn!(page, why, "part of the page passed through unrewritten");
                    }
                    tracing::debug!(
                        page,
                        rewritten = report.rewritten,
                        current = report.current,
                        missing = report.missing,
                        skipped = report.skipped.total(),
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
    let state = Arc::new(state);

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Tests and scripts read this line to find the port.
    eprintln!("cachebust: listening on {local}");
    tracing::info!(%local, upstream = %shown, "proxy started");

    let max = args.max_connections as usize;
    let permits = Arc::new(Semaphore::new(max));
    let (stopping, stop_seen) = watch::channel(false);
    let mut stop = std::pin::pin!(stop_signal());
    let mut backoff = Duration::from_millis(5);
    loop {
        // Beyond the limit, new connections wait in the listen backlog.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit.expect("never closed"),
            _ = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff = Duration::from_millis(5);
                    accepted
                }
                Err(error) => {
                    // Out of file descriptors, say: trying again at once would spin and
                    // fill the log. Wait, longer each time.
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "accept failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            service: service.clone(),
            state: Arc::clone(&state),
            peer,
            slot: ConnectionSlot(Arc::new(permit)),
            header_read_timeout: args.header_read_timeout,
            idle_timeout: args.idle_timeout,
        };
        tokio::spawn(connection.run(stream, stop_seen.clone()));
    }
    drop(listener);
    tracing::info!("stopping: waiting for the requests under way");
    let _ = stopping.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    tokio::select! {
        _ = permits.acquire_many(all) => {}
        _ = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("gave up waiting after 30 s"),
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

/// One client connection.
struct Connection {
    service: Stack,
    state: Arc<State>,
    peer: SocketAddr,
    /// Its place among `--max-connections`, given back when it (and any tunnel it became)
    /// ends.
    slot: ConnectionSlot,
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

impl Connection {
    async fn run(self, stream: tokio::net::TcpStream, mut stopping: watch::Receiver<bool>) {
        let activity = limits::Activity::new();
        let io = TokioIo::new(limits::Watched::new(stream, Arc::clone(&activity)));
        let counts: access::Counts = Arc::new(Mutex::new(None));
        let Connection {
            service,
            state,
            peer,
            slot,
            header_read_timeout,
            idle_timeout,
        } = self;
        let per_request = {
            let activity = Arc::clone(&activity);
            let counts = Arc::clone(&counts);
            hyper::service::service_fn(move |request: Request<Incoming>| {
                let in_flight = activity.begin();
                handle(
                    service.clone(),
                    Arc::clone(&state),
                    peer,
                    slot.clone(),
                    Arc::clone(&counts),
                    in_flight,
                    request,
                )
            })
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .serve_connection(io, per_request)
            .with_upgrades();
        let mut connection = std::pin::pin!(connection);
        let tick = (idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
        let mut ticks = tokio::time::interval(tick);
        let mut closing = false;
        let result = access::PAGE_COUNTS
            .scope(counts, async {
                loop {
                    tokio::select! {
                        result = connection.as_mut() => break result,
                        _ = ticks.tick(), if !closing => {
                            if activity.idle_for() >= idle_timeout {
                                connection.as_mut().graceful_shutdown();
                                closing = true;
                            }
                        }
                        _ = stopping.wait_for(|stop| *stop), if !closing => {
                            connection.as_mut().graceful_shutdown();
                            closing = true;
                        }
                    }
                }
            })
            .await;
        if let Err(error) = result {
            tracing::debug!(%peer, error = crate::client::chain(&error), "connection ended with an error");
        }
    }
}

/// One request: refused when it cannot be proxied safely, else its fields settled and sent
/// through the stack; `Via` on the response, and an access log line when its body ends.
async fn handle(
    service: Stack,
    state: Arc<State>,
    peer: SocketAddr,
    slot: ConnectionSlot,
    counts: access::Counts,
    in_flight: limits::InFlight,
    mut request: Request<Incoming>,
) -> Result<Response<ClientBody>, Infallible> {
    let started = Instant::now();
    let line = state.access_log.as_ref().map(|sink| {
        let target = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .replace(['"', '\\'], "_");
        (
            Arc::clone(sink),
            format!("{} {target} {:?}", request.method(), request.version()),
        )
    });
    request.extensions_mut().insert(slot);
    let response = match prepare(&state, peer, request) {
        Ok(request) => match service.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        },
        Err((status, text)) => {
            let mut refusal = error_response(status, text);
            if status == StatusCode::METHOD_NOT_ALLOWED {
                refusal.headers_mut().insert(
                    header::ALLOW,
                    HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
                );
            }
            refusal.map(|body| body.map_err(box_error).boxed_unsync())
        }
    };
    let (parts, body) = response.into_parts();
    let status = parts.status.as_u16();
    let mut logged = line.map(|(sink, request)| access::Line {
        sink,
        peer: peer.ip(),
        request,
        status,
        bytes: 0,
        started,
        counts,
    });
    // The guard and the line end with the body: the request is under way until then.
    let body = body
        .map_frame(move |frame| {
            let _ = &in_flight;
            if let (Some(line), Some(data)) = (logged.as_mut(), frame.data_ref()) {
                line.bytes += data.len() as u64;
            }
            frame
        })
        .boxed_unsync();
    Ok(Response::from_parts(parts, body))
}

/// The request as the upstream should see it, or the status and text that refuse it.
fn prepare(
    state: &State,
    peer: SocketAddr,
    mut request: Request<Incoming>,
) -> Result<Request<Incoming>, (StatusCode, &'static str)> {
    if request.method() == Method::CONNECT {
        return Err((StatusCode::METHOD_NOT_ALLOWED, "CONNECT is not proxied\n"));
    }
    // An absolute-form target's authority stands for Host (RFC 9112 §3.2.2), which must
    // still be one valid field.
    let http10 = request.version() <= Version::HTTP_10;
    let client_host = match headers::valid_host(request.headers(), http10) {
        Ok(host) => host,
        Err(bad) => return Err((StatusCode::BAD_REQUEST, bad.message())),
    };
    let client_host = match request.uri().authority() {
        Some(authority) if headers::is_authority(authority.as_str()) => {
            Some(authority.as_str().to_ascii_lowercase())
        }
        Some(_) => {
            return Err((
                StatusCode::BAD_REQUEST,
                "the request target's authority is not a host[:port]\n",
            ));
        }
        None => client_host,
    };
    let headers = request.headers_mut();
    let upgrade = headers::is_upgrade(headers);
    headers::remove_hop_by_hop(headers, upgrade);
    headers::set_forwarding(
        headers,
        &headers::Client {
            peer: peer.ip(),
            scheme: state.scheme,
            host: client_host.as_deref(),
        },
        &state.trusted,
    );
    headers::add_via(headers);
    // Page URLs and redirects are built from Host: the public origin's when there is one.
    let host = state
        .public
        .as_ref()
        .map(|(_, authority)| authority.clone())
        .or(client_host);
    match host.and_then(|h| HeaderValue::from_str(&h).ok()) {
        Some(host) => {
            headers.insert(header::HOST, host);
        }
        None => {
            headers.remove(header::HOST);
        }
    }
    Ok(request)
}

/// A short plain-text answer of the proxy's own.
fn error_response(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from_static(text.as_bytes()))
            .map_err(box_error)
            .boxed(),
    );
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn box_error<E: Into<BoxError>>(error: E) -> BoxError {
    error.into()
}
