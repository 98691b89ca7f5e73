//! HTTP responses (feature `http`): which to rewrite, how their headers change, and a tower
//! layer that rewrites HTML bodies as they stream through hyper 1 or axum services.
//!
//! A rewritten page is another representation for every manifest: its `ETag` is tied to
//! the manifest's [fingerprint](crate::Buster::fingerprint), and a conditional request for it
//! reaches the upstream with the upstream's own tag only while that fingerprint is current
//! ([`fix_headers`], [`fix_request_headers`]). So a browser or CDN holding a page with old
//! versions gets it anew, never a `304`.
//!
//! ```
//! use cachebust::http::{Decision, should_rewrite, fix_headers};
//! use http::{HeaderMap, Method, StatusCode, header};
//!
//! let mut headers = HeaderMap::new();
//! headers.insert(header::CONTENT_TYPE, "text/html; charset=utf-8".parse().unwrap());
//! headers.insert(header::CONTENT_LENGTH, "1234".parse().unwrap());
//! headers.insert(header::ETAG, "\"abc\"".parse().unwrap());
//! let decision = should_rewrite(&Method::GET, StatusCode::OK, &headers);
//! assert_eq!(decision, Decision::Rewrite { charset: Some("utf-8".into()) });
//! fix_headers(&mut headers, "0123456789abcdef");
//! assert!(headers.get(header::CONTENT_LENGTH).is_none());
//! assert_eq!(headers[header::ETAG], "W/\"abc.cb-0123456789abcdef\"");
//! ```

mod body;
mod layer;

pub use body::BustBody;
pub use layer::{BustLayer, BustService, ResponseFuture};

use ::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use std::borrow::Cow;

/// Whether a response is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Rewrite the body as a page, read in `charset` when the `Content-Type` names one.
    Rewrite {
        /// The `charset` parameter of the `Content-Type`.
        charset: Option<String>,
    },
    /// Rewrite the body as a stylesheet (`text/css`), read in `charset` when the
    /// `Content-Type` names one (see [`crate::stylesheet`]).
    RewriteStylesheet {
        /// The `charset` parameter of the `Content-Type`.
        charset: Option<String>,
    },
    /// Leave it as it is, for this reason.
    PassThrough(&'static str),
}

impl Decision {
    /// Whether the body is rewritten.
    ///
    /// ```
    /// use cachebust::http::should_rewrite;
    /// use http::{HeaderMap, Method, StatusCode, header};
    /// let mut headers = HeaderMap::new();
    /// headers.insert(header::CONTENT_TYPE, "text/html".parse().unwrap());
    /// assert!(should_rewrite(&Method::GET, StatusCode::OK, &headers).rewrites());
    /// assert!(!should_rewrite(&Method::HEAD, StatusCode::OK, &headers).rewrites());
    /// ```
    pub fn rewrites(&self) -> bool {
        matches!(
            self,
            Decision::Rewrite { .. } | Decision::RewriteStylesheet { .. }
        )
    }
}

/// Decides from the request method, the status and the response headers whether to rewrite
/// a response: only `text/html` and `application/xhtml+xml` bodies (pages) and `text/css`
/// ones (stylesheets), never for `HEAD`, 1xx,
/// 204, 304, 206 or any `Content-Range`, `Cache-Control: no-transform`, a `Content-Encoding`
/// other than `identity` (decompress first), or UTF-16. (A `HEAD` response has no body, but
/// [`BustLayer`] gives it the headers of the GET response: [`fix_headers`] when a GET's body
/// would be rewritten.)
///
/// ```
/// use cachebust::http::{Decision, should_rewrite};
/// use http::{HeaderMap, Method, StatusCode};
/// let headers = HeaderMap::new();
/// assert!(matches!(should_rewrite(&Method::HEAD, StatusCode::OK, &headers), Decision::PassThrough(_)));
/// ```
pub fn should_rewrite(method: &Method, status: StatusCode, headers: &HeaderMap) -> Decision {
    use Decision::PassThrough;
    if method == Method::HEAD {
        return PassThrough("HEAD");
    }
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::PARTIAL_CONTENT
        || headers.contains_key(header::CONTENT_RANGE)
    {
        return PassThrough("status without a whole body");
    }
    let no_transform = headers.get_all(header::CACHE_CONTROL).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|d| d.trim().eq_ignore_ascii_case("no-transform"))
        })
    });
    if no_transform {
        return PassThrough("Cache-Control: no-transform");
    }
    let encoded = headers.get_all(header::CONTENT_ENCODING).iter().any(|v| {
        v.to_str().map_or(true, |v| {
            v.split(',')
                .any(|c| !c.trim().eq_ignore_ascii_case("identity") && !c.trim().is_empty())
        })
    });
    if encoded {
        return PassThrough("a Content-Encoding that is not read");
    }
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return PassThrough("no Content-Type");
    };
    let mut params = content_type.split(';');
    let mime = params.next().unwrap_or_default().trim();
    let stylesheet = mime.eq_ignore_ascii_case("text/css");
    if !stylesheet
        && !mime.eq_ignore_ascii_case("text/html")
        && !mime.eq_ignore_ascii_case("application/xhtml+xml")
    {
        return PassThrough("not HTML or CSS");
    }
    let charset = params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    });
    if charset.as_deref().is_some_and(|c| c.starts_with("utf-16")) {
        return PassThrough("UTF-16");
    }
    if stylesheet {
        return Decision::RewriteStylesheet { charset };
    }
    Decision::Rewrite { charset }
}

/// Fixes the headers of a response being rewritten by a [`Buster`](crate::Buster) whose
/// [fingerprint](crate::Buster::fingerprint) is `fingerprint`: `Content-Length` removed (the
/// length changes), `Accept-Ranges` removed (byte ranges of the original no longer apply),
/// the `ETag` made weak and tied to the fingerprint (`"abc"` becomes `W/"abc.cb-F"`: the same
/// page rewritten with another manifest is another representation, see
/// [`fix_request_headers`]), and `Last-Modified` removed (the upstream's date says nothing of
/// when the manifest changed, so a rewritten page is revalidated by its `ETag` only).
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::ACCEPT_RANGES, "bytes".parse().unwrap());
/// headers.insert(http::header::ETAG, "\"abc\"".parse().unwrap());
/// cachebust::http::fix_headers(&mut headers, "0123456789abcdef");
/// assert_eq!(headers.len(), 1);
/// assert_eq!(headers["etag"], "W/\"abc.cb-0123456789abcdef\"");
/// ```
pub fn fix_headers(headers: &mut HeaderMap, fingerprint: &str) {
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    headers.remove(header::LAST_MODIFIED);
    let tied = headers.get(header::ETAG).map(|etag| {
        etag.to_str()
            .ok()
            .and_then(|etag| tie(etag.trim(), fingerprint))
    });
    match tied {
        Some(Some(tied)) => {
            headers.insert(header::ETAG, tied);
        }
        // Not an entity tag: no validator is better than one that outlives the manifest.
        Some(None) => {
            headers.remove(header::ETAG);
        }
        None => {}
    }
}

/// What ties an entity tag to a fingerprint, before the fingerprint: the upstream's tag was
/// strong, or weak.
const STRONG_MARK: &str = ".cb-";
const WEAK_MARK: &str = ".cbw-";

/// The entity tag `etag` tied to `fingerprint` (see [`fix_headers`]); `None` when `etag` is
/// not one.
fn tie(etag: &str, fingerprint: &str) -> Option<HeaderValue> {
    let (mark, quoted) = match etag.strip_prefix("W/") {
        Some(quoted) => (WEAK_MARK, quoted),
        None => (STRONG_MARK, etag),
    };
    let opaque = quoted.strip_prefix('"')?.strip_suffix('"')?;
    if opaque.contains('"') {
        return None;
    }
    format!("W/\"{opaque}{mark}{fingerprint}\"").parse().ok()
}

/// One entity tag of a request's `If-None-Match`, as a layer with fingerprint `fingerprint`
/// forwards it: the upstream's own tag back for one it tied to `fingerprint`, nothing for one
/// tied to another fingerprint, and any other as it is.
fn untie<'t>(tag: &'t str, fingerprint: &str) -> Option<Cow<'t, str>> {
    let tied = tag
        .strip_prefix("W/\"")
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|opaque| {
            let (rest, print) = opaque.split_at(opaque.len().checked_sub(16)?);
            let hex = print.bytes().all(|b| b.is_ascii_hexdigit());
            [(STRONG_MARK, ""), (WEAK_MARK, "W/")]
                .into_iter()
                .find_map(|(mark, weak)| Some((rest.strip_suffix(mark)?, weak, print)))
                .filter(|_| hex)
        });
    match tied {
        None => Some(Cow::Borrowed(tag)),
        Some((opaque, weak, print)) if print == fingerprint => {
            Some(Cow::Owned(format!("{weak}\"{opaque}\"")))
        }
        Some(_) => None,
    }
}

/// The entity tags of an `If-None-Match` value (`*` included), or `None` when it does not
/// read as a list of them.
fn entity_tags(value: &str) -> Option<Vec<&str>> {
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        if rest.is_empty() {
            return Some(tags);
        }
        let len = if rest.starts_with('*') {
            1
        } else {
            let weak = if rest.starts_with("W/") { 2 } else { 0 };
            let opaque = rest[weak..].strip_prefix('"')?;
            weak + 1 + opaque.find('"')? + 1
        };
        tags.push(&rest[..len]);
        rest = &rest[len..];
    }
}

/// Fixes the conditional headers of a request on its way to the upstream, for a layer
/// rewriting with the fingerprint `fingerprint`: an `If-None-Match` tag that a rewritten
/// response carried (see [`fix_headers`]) goes back to the upstream's own tag when it is tied
/// to `fingerprint`, and is dropped when it is tied to another, so that a page rewritten with
/// an older manifest is sent anew instead of confirmed by a `304`. When every tag is dropped,
/// `If-None-Match` and `If-Modified-Since` go too. Returns whether a tag was given back: the
/// upstream's `304` then confirms a rewritten page, and its headers need [`fix_headers`].
///
/// ```
/// use http::{HeaderMap, header::IF_NONE_MATCH};
/// let mut headers = HeaderMap::new();
/// headers.insert(IF_NONE_MATCH, "W/\"abc.cb-0123456789abcdef\", \"img\"".parse().unwrap());
/// assert!(cachebust::http::fix_request_headers(&mut headers, "0123456789abcdef"));
/// assert_eq!(headers[IF_NONE_MATCH], "\"abc\", \"img\"");
/// // Tied to another manifest: that page is sent anew.
/// headers.insert(IF_NONE_MATCH, "W/\"abc.cb-0123456789abcdef\"".parse().unwrap());
/// assert!(!cachebust::http::fix_request_headers(&mut headers, "fedcba9876543210"));
/// assert!(headers.get(IF_NONE_MATCH).is_none());
/// ```
pub fn fix_request_headers(headers: &mut HeaderMap, fingerprint: &str) -> bool {
    let values: Vec<&str> = match headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .map(|v| v.to_str())
        .collect()
    {
        Ok(values) => values,
        Err(_) => return false,
    };
    let Some(tags) = values
        .iter()
        .map(|value| entity_tags(value))
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    let tags: Vec<&str> = tags.into_iter().flatten().collect();
    let kept: Vec<Cow<'_, str>> = tags.iter().filter_map(|t| untie(t, fingerprint)).collect();
    let restored = kept.iter().any(|t| matches!(t, Cow::Owned(_)));
    if !restored && kept.len() == tags.len() {
        return false;
    }
    if kept.is_empty() {
        headers.remove(header::IF_NONE_MATCH);
        // Without `If-None-Match`, the upstream would read the date, which knows nothing of
        // manifests.
        headers.remove(header::IF_MODIFIED_SINCE);
        return false;
    }
    match kept.join(", ").parse() {
        Ok(value) => {
            headers.insert(header::IF_NONE_MATCH, value);
            restored
        }
        Err(_) => false,
    }
}

/// The URL of the page a request asks for: `scheme` (the server knows whether it speaks
/// TLS), the `Host` header (or the URI's authority), and the path and query.
///
/// ```
/// let request = http::Request::get("/blog/post?x=1").header("host", "example.com").body(()).unwrap();
/// assert_eq!(cachebust::http::page_url("https", &request).as_deref(), Some("https://example.com/blog/post?x=1"));
/// ```
pub fn page_url<B>(scheme: &str, request: &::http::Request<B>) -> Option<String> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))?;
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    Some(format!("{scheme}://{host}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn what_is_left_alone() {
        let html = [("content-type", "text/html")];
        let get = |status: u16, extra: &[(&str, &str)]| {
            let mut h = headers(&html);
            h.extend(headers(extra));
            should_rewrite(&Method::GET, StatusCode::from_u16(status).unwrap(), &h)
        };
        assert_eq!(get(200, &[]), Decision::Rewrite { charset: None });
        for status in [101, 204, 206, 304] {
            assert!(
                matches!(get(status, &[]), Decision::PassThrough(_)),
                "{status}"
            );
        }
        assert!(matches!(
            get(200, &[("content-range", "bytes 0-1/2")]),
            Decision::PassThrough(_)
        ));
        assert!(matches!(
            get(200, &[("cache-control", "public, No-Transform")]),
            Decision::PassThrough(_)
        ));
        assert!(matches!(
            get(200, &[("content-encoding", "gzip")]),
            Decision::PassThrough(_)
        ));
        assert_eq!(
            get(200, &[("content-encoding", "identity")]),
            Decision::Rewrite { charset: None }
        );
        let json = headers(&[("content-type", "application/json")]);
        assert!(matches!(
            should_rewrite(&Method::GET, StatusCode::OK, &json),
            Decision::PassThrough(_)
        ));
        let utf16 = headers(&[("content-type", "text/html; charset=UTF-16LE")]);
        assert!(matches!(
            should_rewrite(&Method::GET, StatusCode::OK, &utf16),
            Decision::PassThrough(_)
        ));
        let xhtml = headers(&[(
            "content-type",
            "application/xhtml+xml; charset=\"ISO-8859-1\"",
        )]);
        assert_eq!(
            should_rewrite(&Method::POST, StatusCode::OK, &xhtml),
            Decision::Rewrite {
                charset: Some("iso-8859-1".into())
            }
        );
    }

    const PRINT: &str = "0123456789abcdef";

    #[test]
    fn entity_tags_are_tied_to_the_fingerprint_and_given_back_as_they_were() {
        for (upstream, tied) in [
            ("\"x\"", "W/\"x.cb-0123456789abcdef\""),
            ("W/\"x\"", "W/\"x.cbw-0123456789abcdef\""),
            ("\"\"", "W/\".cb-0123456789abcdef\""),
        ] {
            let mut h = headers(&[
                ("etag", upstream),
                ("last-modified", "Sun, 22 Nov 2026 10:00:00 GMT"),
            ]);
            fix_headers(&mut h, PRINT);
            assert_eq!(h["etag"], tied);
            assert!(h.get("last-modified").is_none());
            let mut request = headers(&[("if-none-match", tied)]);
            assert!(fix_request_headers(&mut request, PRINT));
            assert_eq!(request["if-none-match"], upstream);
        }
        let mut h = headers(&[("etag", "not-a-tag")]);
        fix_headers(&mut h, PRINT);
        assert!(h.get("etag").is_none());
    }

    #[test]
    fn conditional_requests() {
        let fix = |pairs: &[(&str, &str)]| {
            let mut h = headers(pairs);
            let restored = fix_request_headers(&mut h, PRINT);
            let get = |name: &str| h.get(name).map(|v| v.to_str().unwrap().to_owned());
            (restored, get("if-none-match"), get("if-modified-since"))
        };
        let date = "Sun, 22 Nov 2026 10:00:00 GMT";
        // Tags of the upstream's own, `*`, and what does not parse pass as they are.
        for value in ["\"a\", W/\"b\"", "*", "\"unterminated", "W/\"a.cb-0123\""] {
            assert_eq!(
                fix(&[("if-none-match", value), ("if-modified-since", date)]),
                (false, Some(value.into()), Some(date.into()))
            );
        }
        // A stale tag goes; when none is left, the date goes too.
        assert_eq!(
            fix(&[
                ("if-none-match", "W/\"a.cb-fedcba9876543210\""),
                ("if-modified-since", date)
            ]),
            (false, None, None)
        );
        assert_eq!(
            fix(&[("if-none-match", "W/\"a.cb-fedcba9876543210\",\"b\"")]),
            (false, Some("\"b\"".into()), None)
        );
        // Commas may stand inside a tag; tags may come in several header lines.
        let mut h = headers(&[("if-none-match", "\"a,b\"")]);
        h.append(
            "if-none-match",
            "W/\"c.cbw-0123456789abcdef\"".parse().unwrap(),
        );
        assert!(fix_request_headers(&mut h, PRINT));
        assert_eq!(h["if-none-match"], "\"a,b\", W/\"c\"");
    }
}
