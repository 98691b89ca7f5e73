//! HTTP responses (feature `http`): which to rewrite, how their headers change, and a tower
//! layer that rewrites HTML bodies as they stream through hyper 1 or axum services.
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
//! fix_headers(&mut headers);
//! assert!(headers.get(header::CONTENT_LENGTH).is_none());
//! assert_eq!(headers[header::ETAG], "W/\"abc\"");
//! ```

mod body;
mod layer;

pub use body::BustBody;
pub use layer::{BustLayer, BustService, ResponseFuture};

use ::http::{HeaderMap, Method, StatusCode, header};

/// Whether a response is rewritten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Rewrite the body, read in `charset` when the `Content-Type` names one.
    Rewrite {
        /// The `charset` parameter of the `Content-Type`.
        charset: Option<String>,
    },
    /// Leave it as it is, for this reason.
    PassThrough(&'static str),
}

/// Decides from the request method, the status and the response headers whether to rewrite
/// a response: only `text/html` and `application/xhtml+xml` bodies, never for `HEAD`, 1xx,
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
    if !mime.eq_ignore_ascii_case("text/html")
        && !mime.eq_ignore_ascii_case("application/xhtml+xml")
    {
        return PassThrough("not HTML");
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
    Decision::Rewrite { charset }
}

/// Fixes the headers of a response being rewritten: `Content-Length` removed (the length
/// changes), a strong `ETag` made weak (the bytes change, the meaning does not),
/// `Accept-Ranges` removed (byte ranges of the original no longer apply).
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::ACCEPT_RANGES, "bytes".parse().unwrap());
/// cachebust::http::fix_headers(&mut headers);
/// assert!(headers.is_empty());
/// ```
pub fn fix_headers(headers: &mut HeaderMap) {
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    if let Some(etag) = headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        if !etag.starts_with("W/") {
            if let Ok(weak) = format!("W/{etag}").parse() {
                headers.insert(header::ETAG, weak);
            }
        }
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

    #[test]
    fn weak_etags_stay_weak() {
        let mut h = headers(&[("etag", "W/\"x\"")]);
        fix_headers(&mut h);
        assert_eq!(h["etag"], "W/\"x\"");
    }
}
