//! The application behind the proxy: where it is (`--upstream`), how to reach it (http or
//! https, a private CA, a connect timeout, its credentials), how a client's path maps onto
//! it without escaping its base path, and how its redirects are given back to clients.

use anyhow::{Result, bail};
use base64::Engine;
use http::{HeaderMap, HeaderValue, Uri, header};
use percent_encoding::percent_decode_str;

/// `--upstream`, read once at start.
#[derive(Clone)]
pub struct Upstream {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// `host[:port]`, without user information.
    pub authority: String,
    /// The base path, without a trailing `/` (empty for the root).
    pub base: String,
    /// `Authorization: Basic ...` from user information in the URL, sent on every request.
    pub authorization: Option<HeaderValue>,
}

impl Upstream {
    pub fn parse(text: &str) -> Result<Self> {
        // The URL may hold a password: errors name it without.
        let url = url::Url::parse(text)
            .map_err(|e| anyhow::anyhow!("--upstream {:?}: {e}", redact(text)))?;
        let shown = redact(text);
        let (scheme, authority) =
            http_origin(&url).map_err(|why| anyhow::anyhow!("--upstream {shown:?}: {why}"))?;
        if url.query().is_some() || url.fragment().is_some() {
            bail!("--upstream {shown:?}: a query or fragment has no place in it");
        }
        let authorization = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            let pair = format!(
                "{}:{}",
                decode(url.username()),
                decode(url.password().unwrap_or(""))
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))?;
            value.set_sensitive(true);
            Some(value)
        };
        Ok(Upstream {
            scheme,
            authority,
            base: url.path().trim_end_matches('/').to_owned(),
            authorization,
        })
    }

    /// The upstream's URL as logs may show it: no credentials.
    pub fn shown(&self) -> String {
        format!("{}://{}{}/", self.scheme, self.authority, self.base)
    }

    /// The upstream URL for a client's request target, or `None` when the target is not
    /// a path or would leave the base path.
    pub fn target(&self, uri: &Uri) -> Option<Uri> {
        let path = normalise_path(uri.path())?;
        let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
        format!(
            "{}://{}{}{path}{query}",
            self.scheme, self.authority, self.base
        )
        .parse()
        .ok()
    }

    /// The URL the upstream's own redirects start with.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.base)
    }
}

/// The scheme (`http` or `https`) and `host[:port]` of `url`, or why it has none.
pub fn http_origin(url: &url::Url) -> Result<(&'static str, String), String> {
    let scheme = match url.scheme() {
        "http" => "http",
        "https" => "https",
        other => return Err(format!("{other}: is not http:// or https://")),
    };
    let host = url.host_str().ok_or("no host")?;
    Ok(match url.port() {
        Some(port) => (scheme, format!("{host}:{port}")),
        None => (scheme, host.to_owned()),
    })
}

/// `text` with any password replaced by `***`.
pub fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() || !url.username().is_empty() => {
            let _ = url.set_username("***");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => text.to_owned(),
    }
}

/// The client's path with its dot segments resolved (RFC 3986 §5.2.4), reading `%2e` as a
/// dot as servers do, so that a path never climbs above the root (and, under the base,
/// never out of the base path). A segment that hides a separator among dots (`..%2f`,
/// `..\`), which an upstream may read as a climb, is refused, as is a target that is not
/// a path (`*`, an authority).
pub fn normalise_path(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path[1..].split('/').collect();
    let last = segments.len() - 1;
    let mut trailing_slash = false;
    for (index, segment) in segments.iter().enumerate() {
        let dots = dot_segment(segment);
        match dots {
            Some(1) => trailing_slash = index == last,
            Some(_) => {
                out.pop();
                trailing_slash = index == last;
            }
            None => {
                let lower = segment.to_ascii_lowercase();
                let hidden_separator =
                    lower.contains("%2f") || lower.contains("%5c") || segment.contains('\\');
                if hidden_separator && lower.replace("%2e", ".").contains("..") {
                    return None;
                }
                out.push(segment);
                trailing_slash = false;
            }
        }
    }
    let mut normal = String::with_capacity(path.len());
    for segment in &out {
        normal.push('/');
        normal.push_str(segment);
    }
    if normal.is_empty() || trailing_slash {
        normal.push('/');
    }
    Some(normal)
}

/// `Some(1)` for `.`, `Some(2)` for `..` (either spelled with `%2e`), `None` otherwise.
fn dot_segment(segment: &str) -> Option<usize> {
    let lower = segment.to_ascii_lowercase();
    match lower.replace("%2e", ".").as_str() {
        "." => Some(1),
        ".." => Some(2),
        _ => None,
    }
}

/// The headers whose URLs [`relocate`] gives back to the client.
pub const RELOCATED: [header::HeaderName; 2] = [header::LOCATION, header::CONTENT_LOCATION];

/// What became of a redirect naming the upstream.
#[derive(Debug, PartialEq, Eq)]
pub enum Relocated {
    /// Nothing named the upstream, or every such URL was given back to the client.
    Done,
    /// A `Location` named the upstream outside its base path: no client URL reaches it,
    /// and passing it on would show clients the upstream's address.
    OutsideBase,
}

/// Gives the URLs under `upstream_url` in the [`RELOCATED`] headers to the client under
/// `client_url` (`scheme://host`, or empty for a path-absolute reference when the
/// client's host is not known), as nginx's `proxy_redirect default` does. A
/// `Content-Location` on the upstream's host outside its base path is dropped.
pub fn relocate(
    headers: &mut HeaderMap,
    upstream_authority: &str,
    upstream_url: &str,
    client_url: &str,
) -> Relocated {
    let mut outcome = Relocated::Done;
    for name in RELOCATED {
        let Some(url) = headers.get(&name).and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let under = url
            .get(..upstream_url.len())
            .filter(|start| start.eq_ignore_ascii_case(upstream_url))
            .map(|_| &url[upstream_url.len()..])
            .filter(|rest| rest.is_empty() || rest.starts_with(['/', '?', '#']));
        let Some(rest) = under else {
            if names_authority(url, upstream_authority) {
                headers.remove(&name);
                if name == header::LOCATION {
                    outcome = Relocated::OutsideBase;
                }
            }
            continue;
        };
        let rest = if rest.starts_with('/') {
            rest.to_owned()
        } else {
            format!("/{rest}")
        };
        if let Ok(value) = HeaderValue::from_str(&format!("{client_url}{rest}")) {
            headers.insert(name, value);
        }
    }
    outcome
}

/// Whether `url` is an absolute or scheme-relative URL on `authority`.
fn names_authority(url: &str, authority: &str) -> bool {
    let rest = match url.find("//") {
        Some(at)
            if url[..at]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.:".contains(c)) =>
        {
            &url[at + 2..]
        }
        _ => return false,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest[..end].rsplit('@').next().unwrap_or_default();
    host.eq_ignore_ascii_case(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_never_climb_out_of_the_base() {
        let cases = [
            ("/", Some("/")),
            ("/a/b", Some("/a/b")),
            ("/a/b/", Some("/a/b/")),
            ("/../etc/passwd", Some("/etc/passwd")),
            ("/a/../../b", Some("/b")),
            ("/%2e%2e/x", Some("/x")),
            ("/%2E./x", Some("/x")),
            ("/a/./b/.", Some("/a/b/")),
            ("/a/..", Some("/")),
            ("/..%2f..%2fsecret", None),
            ("/..%5csecret", None),
            ("/a%2fb", Some("/a%2fb")),
            ("/x..y/", Some("/x..y/")),
            ("*", None),
        ];
        for (path, expected) in cases {
            assert_eq!(normalise_path(path).as_deref(), expected, "{path}");
        }
        let upstream = Upstream::parse("http://u:p%40ss@127.0.0.1:3000/app/").unwrap();
        assert_eq!(upstream.base, "/app");
        assert_eq!(upstream.authority, "127.0.0.1:3000");
        assert_eq!(
            upstream
                .target(&"/../../admin?x=1".parse().unwrap())
                .unwrap()
                .to_string(),
            "http://127.0.0.1:3000/app/admin?x=1"
        );
        // user:p@ss, the password percent-decoded.
        assert_eq!(upstream.authorization.as_ref().unwrap(), "Basic dTpwQHNz");
        assert!(!upstream.shown().contains("p%40ss"));
        assert_eq!(redact("http://u:secret@h/"), "http://***@h/");
    }

    #[test]
    fn redirects_under_the_upstream_come_back_to_the_client() {
        let relocated = |location: &str, client: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::LOCATION, location.parse().unwrap());
            let outcome = relocate(
                &mut headers,
                "127.0.0.1:3000",
                "http://127.0.0.1:3000/app",
                client,
            );
            let location = headers
                .get(header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned());
            (location, outcome)
        };
        let done = |s: &str| (Some(s.to_owned()), Relocated::Done);
        assert_eq!(
            relocated(
                "http://127.0.0.1:3000/app/login?next=/",
                "https://site.test"
            ),
            done("https://site.test/login?next=/")
        );
        assert_eq!(
            relocated("HTTP://127.0.0.1:3000/app", "https://site.test"),
            done("https://site.test/")
        );
        assert_eq!(
            relocated("http://127.0.0.1:3000/app?a", "https://site.test"),
            done("https://site.test/?a")
        );
        // No host known: a path-absolute reference, never the upstream's URL.
        assert_eq!(relocated("http://127.0.0.1:3000/app/x", ""), done("/x"));
        // On the upstream but outside its base: not passed on.
        for location in [
            "http://127.0.0.1:3000/application",
            "http://127.0.0.1:3000/other",
            "https://127.0.0.1:3000/other",
            "//127.0.0.1:3000/other",
        ] {
            assert_eq!(
                relocated(location, "https://site.test"),
                (None, Relocated::OutsideBase),
                "{location}"
            );
        }
        // Another host, or relative: as they are.
        for location in [
            "http://127.0.0.1:30001/app/x",
            "/app/x",
            "http://elsewhere.test/",
        ] {
            assert_eq!(relocated(location, "https://site.test"), done(location));
        }
        let mut headers = HeaderMap::new();
        let upstream_page = "http://127.0.0.1:3000/app/page.html";
        headers.insert(header::CONTENT_LOCATION, upstream_page.parse().unwrap());
        relocate(
            &mut headers,
            "127.0.0.1:3000",
            "http://127.0.0.1:3000/app",
            "https://site.test",
        );
        assert_eq!(
            headers[header::CONTENT_LOCATION],
            "https://site.test/page.html"
        );
    }
}
