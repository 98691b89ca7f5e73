//! The innermost service: sends a request to the upstream, within its timeouts, and gives
//! back its response (decoded when it is a page to rewrite); a WebSocket or other upgrade
//! becomes a tunnel.

use super::headers;
use super::limits::IdleTimeout;
use super::upstream::{RELOCATED, Relocated, Upstream, relocate};
use super::{BoxError, ProxyBody, error_response};
use crate::client::chain;
use cachebust::http::should_rewrite;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tower::{Layer, ServiceExt};
use tower_http::decompression::{DecompressionBody, DecompressionLayer};

/// What every request to the upstream shares.
pub struct Settings {
    pub client: Client<HttpsConnector<HttpConnector>, Incoming>,
    pub upstream: Upstream,
    /// Whether the upstream gets the client's `Host` rather than its own.
    pub preserve_host: bool,
    /// The scheme the clients' URLs have (`--public-url`'s, or `--scheme`).
    pub scheme: &'static str,
    pub upstream_timeout: Duration,
    pub body_idle_timeout: Duration,
}

/// Held by a connection, and by a tunnel for as long as it is open (it counts as a client
/// connection); never read: its drop gives the place back.
#[derive(Clone)]
pub struct ConnectionSlot(#[allow(dead_code)] pub Arc<tokio::sync::OwnedSemaphorePermit>);

#[derive(Clone)]
pub struct Forward(pub Arc<Settings>);

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
        let settings = Arc::clone(&self.0);
        Box::pin(async move {
            let method = request.method().clone();
            let response = forward(&settings, request).await;
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

/// Sends the request upstream: 400 for a target that is not a path under the upstream's
/// base, 502 when the upstream cannot be reached or redirects outside its base path, 504
/// when it does not answer in time. (The request's hop-by-hop and forwarding fields were
/// settled before it came here.)
async fn forward(to: &Settings, mut request: Request<Incoming>) -> Response<ProxyBody> {
    let upgrade = headers::is_upgrade(request.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
    let slot = request.extensions().get::<ConnectionSlot>().cloned();
    let (mut parts, body) = request.into_parts();
    let Some(uri) = to.upstream.target(&parts.uri) else {
        return error_response(StatusCode::BAD_REQUEST, "bad request target\n");
    };
    parts.uri = uri;
    parts.version = http::Version::HTTP_11;
    offer_readable_codings(&mut parts.headers);
    // The URLs the client knows: its (validated) host, or none (HTTP/1.0 without Host).
    let client_host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    if (!to.preserve_host || client_host.is_none())
        && let Ok(host) = HeaderValue::from_str(&to.upstream.authority)
    {
        parts.headers.insert(header::HOST, host);
    }
    if let Some(authorization) = &to.upstream.authorization {
        parts
            .headers
            .insert(header::AUTHORIZATION, authorization.clone());
    }
    let sent = to.client.request(Request::from_parts(parts, body));
    let response = match tokio::time::timeout(to.upstream_timeout, sent).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            tracing::warn!(
                upstream = %to.upstream.shown(),
                error = chain(&error),
                "upstream request failed"
            );
            return error_response(
                StatusCode::BAD_GATEWAY,
                "the upstream could not be reached\n",
            );
        }
        Err(_) => {
            tracing::warn!(
                upstream = %to.upstream.shown(),
                seconds = to.upstream_timeout.as_secs_f64(),
                "the upstream did not answer in time"
            );
            return error_response(
                StatusCode::GATEWAY_TIMEOUT,
                "the upstream did not answer in time\n",
            );
        }
    };
    let switching = response.status() == StatusCode::SWITCHING_PROTOCOLS;
    let mut response = response;
    let upstream_upgrade = (switching && upgrade).then(|| hyper::upgrade::on(&mut response));
    let (mut parts, body) = response.into_parts();
    // The client's connection has its own version; hyper writes its own framing.
    parts.version = http::Version::HTTP_11;
    headers::remove_hop_by_hop(&mut parts.headers, switching && upgrade);
    let redirected = RELOCATED
        .iter()
        .any(|name| parts.headers.contains_key(name));
    if redirected {
        let client_url = client_host
            .as_deref()
            .map(|host| format!("{}://{host}", to.scheme))
            .unwrap_or_default();
        let outcome = relocate(
            &mut parts.headers,
            &to.upstream.authority,
            &to.upstream.url(),
            &client_url,
        );
        if outcome == Relocated::OutsideBase {
            tracing::warn!(
                status = parts.status.as_u16(),
                "the upstream redirected outside its base path; not passed on"
            );
            return error_response(
                StatusCode::BAD_GATEWAY,
                "the upstream redirected outside the proxied site\n",
            );
        }
    }
    headers::add_via(&mut parts.headers);
    if switching {
        match (client_upgrade, upstream_upgrade) {
            (Some(client), Some(upstream)) => {
                tokio::spawn(tunnel(client, upstream, slot));
            }
            _ => {
                // A 101 the client did not ask for cannot be followed.
                return error_response(
                    StatusCode::BAD_GATEWAY,
                    "the upstream switched protocols unasked\n",
                );
            }
        }
        return Response::from_parts(parts, body.map_err(box_error).boxed());
    }
    let body = IdleTimeout::new(body, to.body_idle_timeout);
    Response::from_parts(parts, body.boxed())
}

/// Copies bytes both ways between an upgraded client connection and the upstream's, until
/// either side closes.
async fn tunnel(
    client: hyper::upgrade::OnUpgrade,
    upstream: hyper::upgrade::OnUpgrade,
    slot: Option<ConnectionSlot>,
) {
    let _slot = slot;
    let (client, upstream) = match tokio::try_join!(client, upstream) {
        Ok(both) => both,
        Err(error) => {
            tracing::debug!(error = chain(&error), "upgrade failed");
            return;
        }
    };
    let mut client = TokioIo::new(client);
    let mut upstream = TokioIo::new(upstream);
    if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut upstream).await {
        tracing::debug!(%error, "tunnel ended with an error");
    }
}

fn box_error<E: Into<BoxError>>(error: E) -> BoxError {
    error.into()
}
