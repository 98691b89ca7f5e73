//! A body filter for any HTTP stack: feed it response chunks, send what it returns, then
//! [`BodyFilter::finish`]. The header policy that says which responses to filter is in
//! `cachebust::http` (feature `http`).

use crate::config::Buster;
use crate::html::Rewriter;
use crate::report::Report;
use crate::stylesheet::StylesheetRewriter;

/// Rewrites one response body as it streams, chunk in, chunk out.
///
/// With Pingora, for example, the filter lives in the request context and runs in
/// `response_body_filter`:
///
/// ```ignore
/// fn response_body_filter(&self, session: &mut Session, body: &mut Option<Bytes>,
///                         end_of_stream: bool, ctx: &mut Self::CTX) -> Result<Option<Duration>> {
///     if let Some(filter) = ctx.filter.as_mut() {
///         let mut out = body.take().map(|chunk| filter.push(&chunk)).unwrap_or_default();
///         if end_of_stream {
///             let (rest, report) = ctx.filter.take().unwrap().finish();
///             out.extend_from_slice(&rest);
///             tracing::debug!(rewritten = report.rewritten, "cachebust");
///         }
///         *body = Some(Bytes::from(out));
///     }
///     Ok(None)
/// }
/// ```
///
/// (`ctx.filter` is set in `response_filter` when `cachebust::http::should_rewrite` says so,
/// after `cachebust::http::fix_headers`; the request's conditional headers go through
/// `cachebust::http::fix_request_headers` on their way upstream.)
///
/// ```
/// let manifest = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
/// let buster = cachebust::Builder::new(manifest).build()?;
/// let mut filter = cachebust::BodyFilter::new(&buster.for_page("https://example.com/")?);
/// let mut body = filter.push(b"<img src=/a");
/// body.extend(filter.push(b".png>"));
/// let (rest, report) = filter.finish();
/// body.extend(rest);
/// assert_eq!(body, br#"<img src="/a.png?vh=1">"#);
/// assert_eq!(report.rewritten, 1);
/// # Ok::<(), cachebust::Error>(())
/// ```
pub struct BodyFilter {
    inner: Inner,
}

enum Inner {
    // Boxed: a page's rewriter is several times the size of a stylesheet's.
    Page(Box<Rewriter<Vec<u8>>>),
    Stylesheet(StylesheetRewriter),
}

impl BodyFilter {
    /// A filter for one response of the page `buster` is set for ([`Buster::for_page`]).
    pub fn new(buster: &Buster) -> Self {
        BodyFilter {
            inner: Inner::Page(Box::new(buster.rewriter(Vec::new()))),
        }
    }

    /// A filter for a stylesheet response (`text/css`), read in `charset` when the
    /// `Content-Type` names one; `buster` is set for the stylesheet's URL. The stylesheet is
    /// rewritten whole when it ends (see [`StylesheetRewriter`]).
    ///
    /// ```
    /// let manifest = cachebust::Manifest::from_json(r#"{"/img/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(manifest).build()?;
    /// let sheet = buster.for_page("https://example.com/css/site.css")?;
    /// let mut filter = cachebust::BodyFilter::stylesheet(&sheet, None);
    /// let mut body = filter.push(b"a { background: url(../img/a.png) }");
    /// body.extend(filter.finish().0);
    /// assert_eq!(body, b"a { background: url(../img/a.png?vh=1) }");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn stylesheet(buster: &Buster, charset: Option<&str>) -> Self {
        let mut rewriter = buster.stylesheet_rewriter();
        if let Some(charset) = charset {
            rewriter = rewriter.with_charset(charset);
        }
        BodyFilter {
            inner: Inner::Stylesheet(rewriter),
        }
    }

    /// A filter reading the body in `charset` (from the response's `Content-Type`).
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let filter = cachebust::BodyFilter::with_charset(&buster, "windows-1252");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_charset(buster: &Buster, charset: &str) -> Self {
        BodyFilter {
            inner: Inner::Page(Box::new(buster.rewriter(Vec::new()).with_charset(charset))),
        }
    }

    /// Rewrites the next chunk; returns the bytes ready to send (possibly none yet).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.inner {
            Inner::Page(rewriter) => {
                rewriter.write(chunk);
                std::mem::take(rewriter.sink_mut())
            }
            Inner::Stylesheet(rewriter) => rewriter.write(chunk),
        }
    }

    /// Ends the body: the last bytes to send, and the report.
    pub fn finish(self) -> (Vec<u8>, Report) {
        match self.inner {
            Inner::Page(rewriter) => rewriter.finish(),
            Inner::Stylesheet(rewriter) => rewriter.finish(),
        }
    }
}
