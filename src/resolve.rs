//! From a reference as written to the asset it names and its manifest entry (RULES §3, §5).
//!
//! A reference is resolved against the document base (the first `<base href>`, else the
//! page URL). Its host decides the scope: a *site host* (the page's host and configured
//! aliases) looks up the absolute key, then the root-relative path key; an image CDN
//! (Cloudimage, Optimole, by host or configured custom domain) looks up the key of the
//! origin URL it wraps; any other host looks up its absolute key only, and is `foreign`
//! when the manifest names nothing on it.

use crate::config::Shared;
use crate::manifest::Found;
use crate::manifest::key::{is_plain_path, path_key, plain_shape, url_key};
use crate::report::SkipReason;
use std::ops::Range;
use url::Url;

/// The pieces of a reference as written: spans into its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parts {
    pub(crate) authority: Option<Range<usize>>,
    pub(crate) path: Range<usize>,
    /// The query's text, without the `?`.
    pub(crate) query: Option<Range<usize>>,
    /// Where the `#` stands, if any.
    pub(crate) fragment: Option<usize>,
}

/// Splits a URL as written into authority, path, query and fragment (WHATWG shape, with `\`
/// as a slash, as the URL parser reads http and https).
pub(crate) fn parts(t: &str) -> Parts {
    let b = t.as_bytes();
    let mut at = 0;
    let scheme_len = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'-')))
        .filter(|&n| n > 0 && b[n] == b':' && b[0].is_ascii_alphabetic());
    if let Some(n) = scheme_len {
        at = n + 1;
    }
    let slash = |c: u8| c == b'/' || c == b'\\';
    let mut authority = None;
    if b.len() >= at + 2 && slash(b[at]) && slash(b[at + 1]) {
        let start = at + 2;
        let end = b[start..]
            .iter()
            .position(|&c| matches!(c, b'/' | b'\\' | b'?' | b'#'))
            .map_or(b.len(), |n| start + n);
        authority = Some(start..end);
        at = end;
    }
    let fragment = memchr::memchr(b'#', &b[at..]).map(|n| at + n);
    let before_fragment = fragment.unwrap_or(b.len());
    let query_mark = memchr::memchr(b'?', &b[at..before_fragment]).map(|n| at + n);
    Parts {
        authority,
        path: at..query_mark.unwrap_or(before_fragment),
        query: query_mark.map(|q| q + 1..before_fragment),
        fragment,
    }
}

/// How the version is written into a resolved reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Style {
    /// `?param=V` on the reference's own query.
    Query,
    /// Cloudimage: `vh=V` after the existing operations.
    Cloudimage,
    /// Optimole: a `cb:V` first path segment; `token` spans an existing one's value.
    Optimole {
        token: Option<Range<usize>>,
        insert_at: usize,
    },
}

/// A reference resolved to the asset it names.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) parts: Parts,
    pub(crate) style: Style,
    /// Where the asset's path is written (inside a CDN URL, the origin's path).
    pub(crate) asset_path: Range<usize>,
    /// Set when the entry is a rename: what writing the new path needs.
    pub(crate) rename: Option<RenameFrom>,
}

/// Where a renamed reference points now.
#[derive(Debug, Clone)]
pub(crate) struct RenameFrom {
    /// The asset's resolved path, percent-encoded (`/img/a.png`).
    pub(crate) path: String,
    /// What a relative `asset_path` is relative to; `None` when it is written absolute.
    pub(crate) relative_to: Option<Url>,
}

fn rename_from(
    lookup: &Lookup<'_>,
    path: impl FnOnce() -> String,
    relative_to: impl FnOnce() -> Option<Url>,
) -> Option<RenameFrom> {
    matches!(lookup, Lookup::Entry(Found::Rename(_))).then(|| RenameFrom {
        path: path(),
        relative_to: relative_to(),
    })
}

/// What the manifest says about a resolved reference.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'m> {
    Entry(Found<'m>),
    /// No entry; the configured global version applies.
    Global(&'m str),
    /// The reference already names a renamed file of the manifest.
    RenameTarget,
    /// In scope, no entry, no global version.
    Missing,
}

/// Resolves references of one document.
pub(crate) struct Resolver<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) page: &'a Url,
    pub(crate) base: &'a Url,
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Empty, or only a fragment (`#id`, `%23id`): it names the page itself.
fn names_the_page(t: &str) -> bool {
    t.is_empty() || t.starts_with('#') || starts_with_ignore_case(t, "%23")
}

fn is_absolute_http(s: &str) -> bool {
    starts_with_ignore_case(s, "http://") || starts_with_ignore_case(s, "https://")
}

impl Resolver<'_> {
    /// Resolves `t` (trimmed, decoded) or says why it is left alone.
    pub(crate) fn resolve(
        &self,
        t: &str,
        scratch: &mut String,
    ) -> Result<(Target, Lookup<'_>), SkipReason> {
        if names_the_page(t) {
            return Err(SkipReason::Fragment);
        }
        // A plain path is ASCII, so it cannot hold the stand-in below: looked at first, it
        // keeps the common reference off a search of its bytes.
        if let Some(found) = self.plain_path(t, scratch) {
            return found;
        }
        self.resolve_parsed(t, scratch)
    }

    /// [`Resolver::resolve`] the long way, with the manifest key the reference is looked up
    /// by: the one found, else the one tried last (the path key on a site host). For
    /// listing references, off the rewriting path.
    pub(crate) fn resolve_keyed(
        &self,
        t: &str,
    ) -> Result<(Target, Lookup<'_>, String), SkipReason> {
        if names_the_page(t) {
            return Err(SkipReason::Fragment);
        }
        let mut key = String::new();
        let (target, lookup) = self.resolve_parsed(t, &mut key)?;
        Ok((target, lookup, key))
    }

    /// Everything past the fast path: the URL parser, CDN grammars, scope. `scratch` ends
    /// holding the key looked up last.
    fn resolve_parsed(
        &self,
        t: &str,
        scratch: &mut String,
    ) -> Result<(Target, Lookup<'_>), SkipReason> {
        // Bytes the document's encoding cannot decode (see `value::INVALID`): not a URL
        // anyone wrote, and rewriting it would not be byte-exact.
        if t.contains(crate::value::INVALID) {
            return Err(SkipReason::Unparseable);
        }
        let url = Url::options()
            .base_url(Some(self.base))
            .parse(t)
            .map_err(|_| SkipReason::Unparseable)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(SkipReason::Scheme);
        }
        // The URL parser drops tabs and newlines that the spans below would keep.
        if t.bytes().any(|c| c < 0x20 || c == 0x7F) {
            return Err(SkipReason::Unparseable);
        }
        if is_signed(&url) {
            return Err(SkipReason::Signed);
        }
        let parts = parts(t);
        let host = url.host_str().unwrap_or_default();
        let cdn = if self.shared.is_cloudimage(host) {
            self.cloudimage(t, &parts)
        } else if self.shared.is_optimole(host) {
            self.optimole(t, &parts)
        } else {
            None
        };
        if let Some((style, asset, asset_path, relative_to)) = cdn {
            let site = self.is_site_host(asset.host_str().unwrap_or_default());
            let lookup = self.lookup(&asset, site, true, scratch);
            let target = Target {
                parts,
                style,
                asset_path,
                rename: rename_from(&lookup, || asset.path().to_owned(), || relative_to),
            };
            return Ok((target, lookup));
        }
        let site = self.is_site_host(host);
        let in_scope = site || self.shared.manifest.has_host(host);
        let lookup = self.lookup(&url, site, in_scope, scratch);
        if !in_scope && matches!(lookup, Lookup::Missing | Lookup::Global(_)) {
            return Err(SkipReason::Foreign);
        }
        let relative = parts.authority.is_none() && !t[parts.path.clone()].starts_with(['/', '\\']);
        let target = self.query_target(parts, &lookup, relative, || url.path().to_owned());
        Ok((target, lookup))
    }

    /// A reference written plainly (no CDN), versioned through its own query.
    fn query_target(
        &self,
        parts: Parts,
        lookup: &Lookup<'_>,
        relative: bool,
        path: impl FnOnce() -> String,
    ) -> Target {
        Target {
            asset_path: parts.path.clone(),
            parts,
            style: Style::Query,
            rename: rename_from(lookup, path, || relative.then(|| self.base.clone())),
        }
    }

    /// The common case without the URL parser: a relative or root-relative path of plain
    /// characters (no `%`, `\\`, dot segment, white space or non-ASCII) on a site host whose
    /// URLs the manifest does not name. `None` sends the reference the long way.
    fn plain_path(
        &self,
        t: &str,
        scratch: &mut String,
    ) -> Option<Result<(Target, Lookup<'_>), SkipReason>> {
        let bytes = t.as_bytes();
        let shape = plain_shape(bytes)?;
        let path_end = shape.path_end;
        let (path, rest) = (&t[..path_end], &bytes[path_end..]);
        if !rest
            .iter()
            .all(|&c| is_plain_path(c) || c == b'?' || c == b'#')
        {
            return None;
        }
        let host = self.base.host_str()?;
        if !matches!(self.base.scheme(), "http" | "https")
            || !self.is_site_host(host)
            || self.shared.manifest.has_host(host)
        {
            return None;
        }
        let fragment = rest.iter().position(|&c| c == b'#').map(|n| path_end + n);
        let query =
            (rest.first() == Some(&b'?')).then(|| path_end + 1..fragment.unwrap_or(bytes.len()));
        let query_text = query.clone().map(|q| &t[q]);
        if (shape.double_dash || query_text.is_some()) && is_signed_parts(host, path, query_text) {
            return Some(Err(SkipReason::Signed));
        }
        let parts = Parts {
            authority: None,
            path: 0..path_end,
            query,
            fragment,
        };
        let relative = !path.starts_with('/');
        let key = if relative {
            let base_path = self.base.path();
            if base_path.contains('%') {
                return None;
            }
            scratch.clear();
            scratch.push_str(&base_path[..base_path.rfind('/').map_or(0, |n| n + 1)]);
            scratch.push_str(path);
            scratch.as_str()
        } else {
            path
        };
        let manifest = &self.shared.manifest;
        let lookup = match manifest.lookup_path(key) {
            Some(entry) => Lookup::Entry(entry),
            None if manifest.is_rename_target(key) => Lookup::RenameTarget,
            None => match &self.shared.global_version {
                Some(version) => Lookup::Global(version),
                None => Lookup::Missing,
            },
        };
        let target = self.query_target(parts, &lookup, relative, || key.to_owned());
        Some(Ok((target, lookup)))
    }

    fn is_site_host(&self, host: &str) -> bool {
        self.page.host_str() == Some(host) || self.shared.site_hosts.contains(host)
    }

    fn lookup(&self, url: &Url, site: bool, in_scope: bool, scratch: &mut String) -> Lookup<'_> {
        let manifest = &self.shared.manifest;
        url_key(url, scratch);
        if let Some(entry) = manifest.lookup_url(scratch) {
            return Lookup::Entry(entry);
        }
        if site {
            path_key(url, scratch);
            if let Some(entry) = manifest.lookup_path(scratch) {
                return Lookup::Entry(entry);
            }
            if manifest.is_rename_target(scratch) {
                return Lookup::RenameTarget;
            }
        }
        match &self.shared.global_version {
            Some(version) if in_scope => Lookup::Global(version),
            _ => Lookup::Missing,
        }
    }

    /// Cloudimage: `/[v7/]ORIGIN?ops`.
    fn cloudimage(
        &self,
        t: &str,
        parts: &Parts,
    ) -> Option<(Style, Url, Range<usize>, Option<Url>)> {
        let mut at = parts.path.start + 1;
        if t.get(at..)?.starts_with("v7/") {
            at += 3;
        }
        let end = parts.path.end;
        let origin = t.get(at..end).filter(|o| !o.is_empty())?;
        if is_absolute_http(origin) {
            let asset = Url::parse(origin).ok()?;
            let path = parts_path(origin, at);
            return Some((Style::Cloudimage, asset, path, None));
        }
        if let Some(rest) = origin.strip_prefix('_') {
            let close = rest.find("_/")?;
            let alias = self.shared.cloudimage_aliases.get(&rest[..close])?;
            let path_start = at + 1 + close + 2;
            let asset = alias.join(&t[path_start..end]).ok()?;
            return Some((
                Style::Cloudimage,
                asset,
                path_start..end,
                Some(alias.clone()),
            ));
        }
        // `sample.li/a.jpg` names a host; a lone `a.jpg` is a file.
        let first_segment = origin.split('/').next().unwrap_or_default();
        if first_segment.contains('.') && origin.len() > first_segment.len() {
            let asset = Url::parse(&format!("http://{origin}")).ok()?;
            let path_start = at + first_segment.len();
            return Some((Style::Cloudimage, asset, path_start..end, None));
        }
        let root = match &self.shared.cloudimage_prefix {
            Some(prefix) => prefix.clone(),
            None => self.page.join("/").ok()?,
        };
        let asset = root.join(origin).ok()?;
        Some((Style::Cloudimage, asset, at..end, Some(root)))
    }

    /// Optimole: `/[cb:TOKEN/](OP:VALUE/)*ORIGIN`.
    fn optimole(&self, t: &str, parts: &Parts) -> Option<(Style, Url, Range<usize>, Option<Url>)> {
        let insert_at = parts.path.start + 1;
        let mut at = insert_at;
        let mut token = None;
        // Segments end within the path: a `/` after a `?` or `#` starts none.
        let segment_end = |from: usize| t.get(from..parts.path.end)?.find('/').map(|n| from + n);
        if t.get(at..)?.starts_with("cb:") {
            let end = segment_end(at)?;
            token = Some(at + 3..end);
            at = end + 1;
        }
        while !is_absolute_http(t.get(at..)?) {
            let end = segment_end(at)?;
            if !t[at..end].contains(':') {
                return None;
            }
            at = end + 1;
        }
        let end = parts.fragment.unwrap_or(t.len());
        let origin = &t[at..end];
        let asset = Url::parse(origin).ok()?;
        let path = parts_path(origin, at);
        Some((Style::Optimole { token, insert_at }, asset, path, None))
    }
}

/// The path span of the absolute URL `origin`, which starts at `offset` of the reference.
fn parts_path(origin: &str, offset: usize) -> Range<usize> {
    let path = parts(origin).path;
    path.start + offset..path.end + offset
}

/// Signed URLs (RULES §5): a new parameter would break the signature.
fn is_signed(url: &Url) -> bool {
    is_signed_parts(url.host_str().unwrap_or_default(), url.path(), url.query())
}

fn is_signed_parts(host: &str, path: &str, query: Option<&str>) -> bool {
    let cloudinary = path.as_bytes().windows(4).any(|w| w == b"/s--")
        && path.split('/').any(|s| {
            s.len() == 13
                && s.starts_with("s--")
                && s.ends_with("--")
                && s[3..11]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        });
    if cloudinary {
        return true;
    }
    let Some(query) = query else {
        return false;
    };
    let (mut signature, mut key_pair, mut sig, mut se, mut s) = (false, false, false, false, false);
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or_default();
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if is("X-Amz-Signature") || is("X-Goog-Signature") || is("ci_sign") {
            return true;
        }
        signature |= is("Signature");
        key_pair |= is("Key-Pair-Id");
        sig |= is("sig");
        se |= is("se");
        s |= is("s");
    }
    (signature && key_pair) || (sig && se) || (s && host.ends_with(".imgix.net"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_of_every_shape() {
        let p = parts("https://h.com:8/a/b.png?x=1#f?g");
        assert_eq!(p.authority, Some(8..15));
        assert_eq!(p.path, 15..23);
        assert_eq!(p.query, Some(24..27));
        assert_eq!(p.fragment, Some(27));
        let p = parts("../a.png#x");
        assert_eq!(
            (p.authority, p.path, p.query, p.fragment),
            (None, 0..8, None, Some(8))
        );
        let p = parts("//h/a.png?");
        assert_eq!(
            (p.authority, p.path, p.query),
            (Some(2..3), 3..9, Some(10..10))
        );
        let p = parts("\\\\h\\a.png");
        assert_eq!((p.authority, p.path), (Some(2..3), 3..9));
        let p = parts("a:b/c.png");
        assert_eq!(p.path, 2..9);
    }

    #[test]
    fn signatures() {
        let signed = [
            "https://b.s3.amazonaws.com/a.jpg?X-Amz-Signature=abc&X-Amz-Date=1",
            "https://storage.googleapis.com/a.jpg?x-goog-signature=1",
            "https://d1.cloudfront.net/a.jpg?Expires=1&Signature=x&Key-Pair-Id=K",
            "https://a.blob.core.windows.net/c/a.jpg?se=2030&sig=x",
            "https://t.cloudimg.io/a.jpg?ci_sign=x",
            "https://a.imgix.net/a.jpg?w=1&s=abc",
            "https://res.cloudinary.com/d/image/upload/s--abcdEF12--/a.jpg",
        ];
        for url in signed {
            assert!(is_signed(&Url::parse(url).unwrap()), "{url}");
        }
        let unsigned = [
            "https://a.com/a.jpg?Signature=x",
            "https://a.com/a.jpg?sig=x",
            "https://a.com/a.jpg?s=x",
            "https://t.cloudimg.io/a.jpg?ci_seal=x",
            "https://res.cloudinary.com/d/image/upload/s--abc--/a.jpg",
        ];
        for url in unsigned {
            assert!(!is_signed(&Url::parse(url).unwrap()), "{url}");
        }
    }
}
