//! Writing a version into a reference with the smallest edit (RULES §4).
//!
//! - query style: `a.jpg` → `a.jpg?vh=V`, `a.jpg?w=5` → `a.jpg?w=5&vh=V`, `a.jpg#x` →
//!   `a.jpg?vh=V#x`; an existing `vh=` has its value replaced (every one of them, so a
//!   duplicated parameter cannot keep a stale value);
//! - Optimole: a `cb:V` first path segment, or the existing token replaced;
//! - rename: the path replaced by the renamed one; only the file name where the directory is
//!   the same, and a relative reference stays relative.

use crate::decoded::Edits;
use crate::resolve::{Style, Target};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What to write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp<'a> {
    Version(&'a str),
    /// A root-relative, percent-encoded path.
    Rename(&'a str),
}

/// Writes `stamp` into the reference `t`: pushes the edits (in `t`'s coordinates) to
/// `out`, or nothing when it already carries it. Returns whether it pushed any.
pub(crate) fn write(
    t: &str,
    target: &Target,
    stamp: Stamp<'_>,
    param: &str,
    amp: &str,
    utf8: bool,
    out: &mut Edits,
) -> bool {
    match (stamp, &target.style) {
        (Stamp::Rename(path), _) => rename(t, target, path, utf8, out),
        (Stamp::Version(v), Style::Query) => query(t, target, param, v, amp, out),
        (Stamp::Version(v), Style::Cloudimage) => query(t, target, "vh", v, amp, out),
        (Stamp::Version(v), Style::Optimole { token, insert_at }) => match token {
            Some(span) if &t[span.clone()] == v => false,
            Some(span) => {
                out.push(span.clone(), &[v.as_bytes()]);
                true
            }
            None => {
                out.push(*insert_at..*insert_at, &[b"cb:", v.as_bytes(), b"/"]);
                true
            }
        },
    }
}

/// The version the reference `t` carries in `target`'s style, if any: the value of its
/// version parameter (the first, as [`write()`] makes every one alike), or its `cb:` token.
/// A renamed reference carries its new path, which the caller knows.
pub(crate) fn carried(t: &str, target: &Target, param: &str) -> Option<String> {
    let param = match &target.style {
        Style::Query => param,
        Style::Cloudimage => "vh",
        Style::Optimole { token, .. } => return token.clone().map(|span| t[span].to_owned()),
    };
    let query = &t[target.parts.query.clone()?];
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == param).then(|| value.to_owned())
    })
}

fn query(t: &str, target: &Target, param: &str, version: &str, amp: &str, out: &mut Edits) -> bool {
    let parts = &target.parts;
    let (param, version) = (param.as_bytes(), version.as_bytes());
    let Some(q) = parts.query.clone() else {
        let end = parts.path.end;
        out.push(end..end, &[b"?", param, b"=", version]);
        return true;
    };
    let mark = out.len();
    let mut found = false;
    let mut at = q.start;
    for pair in t[q.clone()].split('&') {
        let (name, value) = match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        };
        if name.as_bytes() == param {
            found = true;
            match value {
                Some(value) if value.as_bytes() == version => {}
                Some(value) => {
                    let start = at + name.len() + 1;
                    out.push(start..start + value.len(), &[version]);
                }
                None => {
                    let end = at + name.len();
                    out.push(end..end, &[b"=", version]);
                }
            }
        }
        at += pair.len() + 1;
    }
    if found {
        return out.len() > mark;
    }
    // Even after a trailing `&`: in an attribute that `&` may be a `&amp` written without its
    // `;`, which a name written right after it would swallow (`&ampvh=`).
    let separator = if q.is_empty() { "" } else { amp };
    out.push(q.end..q.end, &[separator.as_bytes(), param, b"=", version]);
    true
}

/// Characters a renamed path cannot carry as they are into an attribute, CSS or a srcset.
/// A comma can (a srcset's URL holds its commas), except at the end of a srcset URL, where
/// [`encode_path`] escapes it.
const PATH_WRITE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'&')
    .add(b'\\');

/// A renamed path as written into a reference: [`PATH_WRITE`] escaped, and a last comma
/// (which a srcset would read as the end of its candidate). In UTF-8 text its non-ASCII
/// characters are written as they are (`café.1b86.png`, as the manifest names the file):
/// the stored path holds them percent-encoded, and they are decoded back; elsewhere they
/// stay percent-encoded, which any encoding carries.
fn encode_path(path: &str, utf8: bool) -> String {
    let mut text = if utf8 {
        let mut text = String::with_capacity(path.len());
        let mut buf = [0u8; 4];
        for c in decode_non_ascii(path).chars() {
            if c.is_ascii() {
                text.extend(utf8_percent_encode(c.encode_utf8(&mut buf), PATH_WRITE));
            } else {
                text.push(c);
            }
        }
        text
    } else {
        utf8_percent_encode(path, PATH_WRITE).to_string()
    };
    if text.ends_with(',') {
        text.pop();
        text.push_str("%2C");
    }
    text
}

/// `path` with the percent-escapes that spell non-ASCII UTF-8 characters decoded; every
/// other escape (`%20`, `%23`, an escape of an invalid sequence) kept.
fn decode_non_ascii(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains('%') {
        return std::borrow::Cow::Borrowed(path);
    }
    let bytes = path.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let escaped = |at: usize| -> Option<u8> {
        if bytes.get(at) != Some(&b'%') {
            return None;
        }
        Some(hex(*bytes.get(at + 1)?)? * 16 + hex(*bytes.get(at + 2)?)?)
    };
    let mut out = String::with_capacity(path.len());
    let mut at = 0;
    while at < bytes.len() {
        // A run of escaped bytes of 0x80 and above: decoded when it is valid UTF-8.
        let mut run = Vec::new();
        let mut end = at;
        while let Some(b) = escaped(end).filter(|b| *b >= 0x80) {
            run.push(b);
            end += 3;
        }
        if !run.is_empty() {
            match std::str::from_utf8(&run) {
                Ok(text) => out.push_str(text),
                Err(_) => out.push_str(&path[at..end]),
            }
            at = end;
            continue;
        }
        let c = path[at..].chars().next().expect("in bounds");
        out.push(c);
        at += c.len_utf8();
    }
    std::borrow::Cow::Owned(out)
}

fn dir(path: &str) -> &str {
    &path[..path.rfind('/').map_or(0, |n| n + 1)]
}

fn rename(t: &str, target: &Target, new_path: &str, utf8: bool, out: &mut Edits) -> bool {
    let from = target
        .rename
        .as_ref()
        .expect("a rename entry resolves with its context");
    let written = &t[target.asset_path.clone()];
    let encode = |s: &str| encode_path(s, utf8);
    let same_dir = dir(&from.path) == dir(new_path);
    let (range, text) = if same_dir {
        let name_start = written.rfind(['/', '\\']).map_or(0, |n| n + 1);
        let file = &new_path[dir(new_path).len()..];
        (
            target.asset_path.start + name_start..target.asset_path.end,
            encode(file),
        )
    } else {
        let text = match &from.relative_to {
            None => new_path.to_owned(),
            Some(base) => relative_path(base.path(), new_path),
        };
        (target.asset_path.clone(), encode(&text))
    };
    if t[range.clone()] == text {
        return false;
    }
    out.push(range, &[text.as_bytes()]);
    true
}

/// The relative path from the directory of `from` to `to` (both root-relative).
fn relative_path(from: &str, to: &str) -> String {
    let from_dirs: Vec<&str> = dir(from).split('/').filter(|s| !s.is_empty()).collect();
    let to_segments: Vec<&str> = to.split('/').skip(1).collect();
    let (to_dirs, file) = to_segments.split_at(to_segments.len().saturating_sub(1));
    let common = from_dirs
        .iter()
        .zip(to_dirs)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_dirs.len() - common);
    for segment in &to_dirs[common..] {
        out.push_str(segment);
        out.push('/');
    }
    out.push_str(file.first().copied().unwrap_or_default());
    if out
        .split('/')
        .next()
        .is_some_and(|first| first.contains(':'))
    {
        out.insert_str(0, "./");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path("/blog/post.html", "/assets/a.js"),
            "../assets/a.js"
        );
        assert_eq!(relative_path("/index.html", "/assets/a.js"), "assets/a.js");
        assert_eq!(relative_path("/a/b/c.html", "/a/x/y.js"), "../x/y.js");
        assert_eq!(relative_path("/a/", "/a/b/y.js"), "b/y.js");
        assert_eq!(relative_path("/", "/c:d.js"), "./c:d.js");
    }
}
