//! Normalised asset keys: how manifest keys and page references are made comparable.
//!
//! RULES §1: host lower-cased, default port dropped, `.`/`..` resolved (all three done by the
//! `url` parser), path percent-decoded with invalid UTF-8 left encoded, scheme ignored.

use percent_encoding::percent_decode_str;
use std::borrow::Cow;
use std::sync::LazyLock;
use url::Url;

/// The base that root-relative and scheme-relative keys are parsed against. Its host never
/// reaches a key: only the path of a root-relative key is kept.
pub(crate) static KEY_BASE: LazyLock<Url> =
    LazyLock::new(|| Url::parse("http://cachebust.invalid/").expect("static URL"));

/// Appends `path` percent-decoded to `out`; bytes that do not form UTF-8 stay `%XX`.
pub(crate) fn push_decoded_path(path: &str, out: &mut String) {
    if !path.contains('%') {
        out.push_str(path);
        return;
    }
    let bytes: Vec<u8> = percent_decode_str(path).collect();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for byte in chunk.invalid() {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// Writes the path key of `url` (`/img/a.png`) into `out`.
pub(crate) fn path_key(url: &Url, out: &mut String) {
    out.clear();
    push_decoded_path(url.path(), out);
}

/// Writes the host key of `url` (`host[:port]/path`, no scheme) into `out`.
pub(crate) fn url_key(url: &Url, out: &mut String) {
    out.clear();
    if let Some(host) = url.host_str() {
        out.push_str(host);
    }
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    push_decoded_path(url.path(), out);
}

/// What a manifest key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind<'k> {
    /// `/img/a.png`: that path on any site host; borrowed when the key is its own normal
    /// form (the common key), so loading a large manifest copies no key to normalise it.
    Path(Cow<'k, str>),
    /// `https://host/img/a.png` or `//host/img/a.png`: that URL, scheme ignored.
    Url { key: String, host: String },
}

/// Normalises a manifest key, or says what is wrong with it. A root-relative path of plain
/// characters (the common key) is its own normal form: the URL parser would give it back
/// unchanged, so it is not asked.
pub(crate) fn normalise_key(key: &str) -> Result<KeyKind<'_>, String> {
    let bytes = key.as_bytes();
    if bytes.first() == Some(&b'/')
        && plain_shape(bytes).is_some_and(|shape| shape.path_end == bytes.len())
    {
        return Ok(KeyKind::Path(Cow::Borrowed(key)));
    }
    parse_key(key).map(|(kind, _)| kind)
}

/// Parses and normalises a manifest key, or says what is wrong with it.
pub(crate) fn parse_key(key: &str) -> Result<(KeyKind<'static>, Url), String> {
    if key.is_empty() {
        return Err("a key cannot be empty".into());
    }
    if key.trim() != key {
        return Err("a key cannot start or end with white space".into());
    }
    if let Some((at, ch)) = key.char_indices().find(|&(_, c)| c == '?' || c == '#') {
        let what = if ch == '?' { "query" } else { "fragment" };
        return Err(format!("keys hold no {what} (found {ch:?} at byte {at})"));
    }
    let lower = key.get(..8).unwrap_or(key).to_ascii_lowercase();
    let absolute = lower.starts_with("http://") || lower.starts_with("https://");
    let scheme_relative = key.starts_with("//");
    if !(absolute || scheme_relative || key.starts_with('/')) {
        return Err(
            "a key is a root-relative path (/img/a.png) or an absolute URL (https://host/a.png)"
                .into(),
        );
    }
    let url = KEY_BASE
        .join(key)
        .map_err(|e| format!("not a valid URL: {e}"))?;
    let mut text = String::new();
    if absolute || scheme_relative {
        let host = match url.host_str() {
            Some(host) if !host.is_empty() => host.to_owned(),
            _ => return Err("the URL has no host".into()),
        };
        url_key(&url, &mut text);
        Ok((KeyKind::Url { key: text, host }, url))
    } else {
        path_key(&url, &mut text);
        Ok((KeyKind::Path(Cow::Owned(text)), url))
    }
}

/// What one pass over a path learns: whether references and keys written plainly can skip
/// the URL parser (`Resolver::plain_path` in `resolve.rs`, [`normalise_key`]).
pub(crate) struct PlainShape {
    /// Where the path ends (at `?`, `#` or the end).
    pub(crate) path_end: usize,
    /// Whether the path holds `--` (as a Cloudinary signature does).
    pub(crate) double_dash: bool,
}

/// The shape of a path of plain characters with no dot segment, not starting with `//`,
/// with no `:` before its first `/`; `None` for anything else.
pub(crate) fn plain_shape(bytes: &[u8]) -> Option<PlainShape> {
    if bytes.starts_with(b"//") {
        return None;
    }
    let mut double_dash = false;
    let ends_segment = |at: usize| matches!(bytes.get(at), None | Some(b'/' | b'?' | b'#'));
    let mut at = 0;
    loop {
        // Most bytes are letters and digits: passed over with one look at the table each.
        at += bytes[at..]
            .iter()
            .position(|&c| PLAIN_PATH[c as usize] != PLAIN)
            .unwrap_or(bytes.len() - at);
        let Some(&c) = bytes.get(at) else {
            break;
        };
        if PLAIN_PATH[c as usize] != PLAIN_SPECIAL {
            if matches!(c, b'?' | b'#') && at > 0 {
                return Some(PlainShape {
                    path_end: at,
                    double_dash,
                });
            }
            return None;
        }
        let previous = at.checked_sub(1).map_or(b'/', |n| bytes[n]);
        match c {
            b'.' if previous == b'/' => {
                let dots = if bytes.get(at + 1) == Some(&b'.') {
                    2
                } else {
                    1
                };
                if ends_segment(at + dots) {
                    return None;
                }
            }
            // A scheme, not a path (`/` is passed over above: look back for one).
            b':' if !bytes[..at].contains(&b'/') => return None,
            b'-' if previous == b'-' => double_dash = true,
            _ => {}
        }
        at += 1;
    }
    (!bytes.is_empty()).then_some(PlainShape {
        path_end: bytes.len(),
        double_dash,
    })
}

/// Characters a path can hold and still skip the URL parser: those that need no
/// decoding and mean the same to the URL parser as they are (`?` and `#` end the path).
/// [`PLAIN_SPECIAL`] marks those [`plain_shape`] looks at twice; the others are
/// [`PLAIN`], or `0`.
const PLAIN_PATH: [u8; 256] = {
    let mut plain = [0; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        plain[c] = if matches!(b, b'.' | b':' | b'-') {
            PLAIN_SPECIAL
        } else if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'_' | b'~'
                    | b'/'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'@'
            )
        {
            PLAIN
        } else {
            0
        };
        c += 1;
    }
    plain
};
const PLAIN: u8 = 1;
const PLAIN_SPECIAL: u8 = 2;

pub(crate) fn is_plain_path(c: u8) -> bool {
    PLAIN_PATH[c as usize] != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(key: &str) -> KeyKind<'static> {
        parse_key(key).unwrap().0
    }

    #[test]
    fn plain_paths_are_their_own_normal_form() {
        for key in [
            "/img/a.png",
            "/",
            "/a/b/c-1_2~3.webp",
            "/a,b.png",
            "/x:y/z.png",
            "/it's(1)!$&*+;=@.png",
            "/a..b/.c/d.",
            "/img/a%20b.png",
            "/img/./a.png",
            "/img/../a.png",
            "/img/a b.png",
            "/café.png",
            "/a\\b.png",
            "//host/a.png",
            "/a.png?x",
            "/a.png#x",
        ] {
            let by_parser = parse_key(key).map(|(kind, _)| kind);
            assert_eq!(normalise_key(key), by_parser, "{key}");
        }
    }

    #[test]
    fn paths_are_decoded_and_dot_segments_resolved() {
        assert_eq!(
            kind("/img/./x/../a%20b.png"),
            KeyKind::Path("/img/a b.png".into())
        );
        assert_eq!(kind("/caf%C3%A9.png"), KeyKind::Path("/café.png".into()));
        assert_eq!(kind("/bad%FF.png"), KeyKind::Path("/bad%FF.png".into()));
    }

    #[test]
    fn urls_lose_scheme_case_and_default_port() {
        let expected = KeyKind::Url {
            key: "cdn.example.com/a.png".into(),
            host: "cdn.example.com".into(),
        };
        assert_eq!(kind("https://CDN.example.com:443/a.png"), expected);
        assert_eq!(kind("//cdn.example.com/a.png"), expected);
        assert_eq!(
            kind("http://cdn.example.com:8080/a.png"),
            KeyKind::Url {
                key: "cdn.example.com:8080/a.png".into(),
                host: "cdn.example.com".into()
            }
        );
    }

    #[test]
    fn bad_keys_say_why() {
        assert!(parse_key("/a.png?x=1").unwrap_err().contains("query"));
        assert!(parse_key("/a.png#x").unwrap_err().contains("fragment"));
        assert!(
            parse_key("img/a.png")
                .unwrap_err()
                .contains("root-relative")
        );
        assert!(
            parse_key("ftp://h/a.png")
                .unwrap_err()
                .contains("root-relative")
        );
        assert!(parse_key("").unwrap_err().contains("empty"));
        assert!(parse_key(" /a.png").unwrap_err().contains("white space"));
    }
}
