//! The tower layer: HTML responses of the wrapped service rewritten as they stream.

use super::body::{BustBody, OnReport, Whole};
use super::{Decision, fix_headers, fix_request_headers, page_url, should_rewrite};
use crate::config::Buster;
use crate::filter::BodyFilter;
use ::http::{Method, Request, Response, StatusCode};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll, ready};

/// A [`tower_layer::Layer`] that rewrites the HTML responses of a hyper 1 or axum service
/// (see [`super::should_rewrite`] for which), with the page URL taken from each request.
///
/// ```
/// use cachebust::http::BustLayer;
/// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
/// let layer = BustLayer::new(buster).with_scheme("https");
/// // axum: Router::new().route(...).layer(layer)
/// # Ok::<(), cachebust::Error>(())
/// ```
#[derive(Clone)]
pub struct BustLayer {
    buster: Arc<RwLock<Buster>>,
    scheme: &'static str,
    on_report: Option<OnReport>,
    whole_page_limit: u64,
}

impl BustLayer {
    /// A layer rewriting with `buster` (its page URL is replaced by each request's).
    pub fn new(buster: Buster) -> Self {
        BustLayer::shared(Arc::new(RwLock::new(buster)))
    }

    /// A layer whose configuration can be swapped while it serves (a reloaded manifest):
    /// each response uses the configuration current when it starts.
    ///
    /// ```
    /// use std::sync::{Arc, RwLock};
    /// let shared = Arc::new(RwLock::new(cachebust::Builder::new(cachebust::Manifest::new()).build()?));
    /// let layer = cachebust::http::BustLayer::shared(Arc::clone(&shared));
    /// *shared.write().unwrap() = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn shared(buster: Arc<RwLock<Buster>>) -> Self {
        BustLayer {
            buster,
            scheme: "http",
            on_report: None,
            whole_page_limit: 0,
        }
    }

    /// Pages whose `Content-Length` is at most `bytes` are read whole, then rewritten in
    /// one pass, several times cheaper than streaming (default 0: every page streams). The
    /// client's first byte then waits for the page's last from the inner service; larger
    /// pages and those without a length stream as they come, and the output is the same.
    ///
    /// ```
    /// # let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let layer = cachebust::http::BustLayer::new(buster).with_whole_page_limit(1 << 20);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_whole_page_limit(mut self, bytes: u64) -> Self {
        self.whole_page_limit = bytes;
        self
    }

    /// The scheme of the page URLs (`http` unless the server speaks TLS).
    ///
    /// ```
    /// # let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let layer = cachebust::http::BustLayer::new(buster).with_scheme("https");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_scheme(mut self, scheme: &'static str) -> Self {
        self.scheme = scheme;
        self
    }

    /// Called with each rewritten page's URL and report when its body ends.
    ///
    /// ```
    /// # let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let layer = cachebust::http::BustLayer::new(buster)
    ///     .on_report(|page, report| eprintln!("{page}: {} rewritten", report.rewritten));
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn on_report(mut self, f: impl Fn(&str, &crate::Report) + Send + Sync + 'static) -> Self {
        self.on_report = Some(Arc::new(f));
        self
    }
}

impl<S> tower_layer::Layer<S> for BustLayer {
    type Service = BustService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BustService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`BustLayer`] wraps around another.
#[derive(Clone)]
pub struct BustService<S> {
    inner: S,
    layer: BustLayer,
}

impl<S, ReqBody, ResBody> tower_service::Service<Request<ReqBody>> for BustService<S>
where
    S: tower_service::Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Response = Response<BustBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let page = page_url(self.layer.scheme, &request);
        let method = request.method().clone();
        let buster = self
            .layer
            .buster
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let confirms_rewritten = fix_request_headers(request.headers_mut(), buster.fingerprint());
        ResponseFuture {
            inner: self.inner.call(request),
            context: Some(RequestContext {
                method,
                page,
                buster,
                confirms_rewritten,
                on_report: self.layer.on_report.clone(),
                whole_page_limit: self.layer.whole_page_limit,
            }),
        }
    }
}

struct RequestContext {
    method: Method,
    page: Option<String>,
    buster: Buster,
    /// The request asks the upstream whether a page rewritten with this buster is current:
    /// a `304` says so, and carries the rewritten page's headers.
    confirms_rewritten: bool,
    on_report: Option<OnReport>,
    whole_page_limit: u64,
}

pin_project_lite::pin_project! {
    /// The response future of [`BustService`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        context: Option<RequestContext>,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: http_body::Body<Data = Bytes>,
{
    type Output = Result<Response<BustBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let context = this.context.take().expect("polled after completion");
        let (mut parts, body) = response.into_parts();
        let decision = should_rewrite(&context.method, parts.status, &parts.headers);
        // The page's buster (a parse of its URL) is made only for a response that needs it:
        // most responses through a proxy are images and scripts.
        let page_buster = || {
            let page = context.page.as_deref()?;
            Some((page, context.buster.for_page(page).ok()?))
        };
        let rewriting = match &decision {
            Decision::Rewrite { charset } | Decision::RewriteStylesheet { charset } => {
                page_buster().map(|found| (charset.clone(), found))
            }
            Decision::PassThrough(_) => None,
        };
        let stylesheet = matches!(decision, Decision::RewriteStylesheet { .. });
        let body = match rewriting {
            Some((charset, (page, buster))) if stylesheet => {
                fix_headers(&mut parts.headers, context.buster.fingerprint());
                let filter = BodyFilter::stylesheet(&buster, charset.as_deref());
                BustBody::rewriting(body, filter, page.to_owned(), context.on_report)
            }
            Some((charset, (page, buster))) => {
                let length = parts
                    .headers
                    .get(::http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .filter(|&length| length <= context.whole_page_limit);
                fix_headers(&mut parts.headers, context.buster.fingerprint());
                if let Some(length) = length {
                    let whole = Whole {
                        buster,
                        charset,
                        buffer: Vec::with_capacity(length as usize),
                        limit: context.whole_page_limit as usize,
                    };
                    let body = BustBody::whole(body, whole, page.to_owned(), context.on_report);
                    return Poll::Ready(Ok(Response::from_parts(parts, body)));
                }
                let filter = match charset {
                    Some(charset) => BodyFilter::with_charset(&buster, &charset),
                    None => BodyFilter::new(&buster),
                };
                BustBody::rewriting(body, filter, page.to_owned(), context.on_report)
            }
            None => {
                // A HEAD response carries the header fields a GET's would (RFC 9110,
                // 9.3.2): those of a page a GET would rewrite are fixed alike.
                let head_of_rewritten = context.method == Method::HEAD
                    && should_rewrite(&Method::GET, parts.status, &parts.headers).rewrites()
                    && page_buster().is_some();
                let not_modified = parts.status == StatusCode::NOT_MODIFIED;
                if head_of_rewritten || (not_modified && context.confirms_rewritten) {
                    fix_headers(&mut parts.headers, context.buster.fingerprint());
                }
                BustBody::passthrough(body)
            }
        };
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}
