//! Writing a version into a reference with the smallest edit (SPEC §4).
//!
//! - query style: `a.jpg` → `a.jpg?vh=V`, `a.jpg?w=5` → `a.jpg?w=5&vh=V`, `a.jpg#x` →
//!   `a.jpg?vh=V#x`; an existing `vh=` has its value replaced (every one of them, so a
//!   duplicated parameter cannot keep a stale value);
//! - Optimole: a `cb:V` first path segment, or the existing token replaced;
//! - rename: the path replaced by the renamed one; only the file name where the directory is
//!   the same, and a relative reference stays relative.

use crate::decoded::Edit;
use crate::resolve::{Style, Target};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What to write.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp<'a> {
    Version(&'a str),
    /// A root-relative, percent-encoded path.
    Rename(&'a str),
}

/// The edits (in `t`'s coordinates) that write `stamp` into the reference `t`, or `None`
/// when it already carries it.
pub(crate) fn edits(
    t: &str,
    target: &Target,
    stamp: Stamp<'_>,
    param: &str,
    amp: &str,
) -> Option<Vec<Edit>> {
    match (stamp, &target.style) {
        (Stamp::Rename(path), _) => rename(t, target, path),
        (Stamp::Version(v), Style::Query) => query(t, target, param, v, amp),
        (Stamp::Version(v), Style::Cloudimage) => query(t, target, "vh", v, amp),
        (Stamp::Version(v), Style::Optimole { token, insert_at }) => match token {
            Some(span) if &t[span.clone()] == v => None,
            Some(span) => Some(vec![Edit {
                range: span.clone(),
                text: v.to_owned(),
            }]),
            None => Some(vec![Edit::insert(*insert_at, format!("cb:{v}/"))]),
        },
    }
}

fn query(t: &str, target: &Target, param: &str, version: &str, amp: &str) -> Option<Vec<Edit>> {
    let parts = &target.parts;
    let Some(q) = parts.query.clone() else {
        return Some(vec![Edit::insert(
            parts.path.end,
            format!("?{param}={version}"),
        )]);
    };
    let mut edits = Vec::new();
    let mut found = false;
    let mut at = q.start;
    for pair in t[q.clone()].split('&') {
        let (name, value) = match pair.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (pair, None),
        };
        if name == param {
            found = true;
            match value {
                Some(value) if value == version => {}
                Some(value) => {
                    let start = at + name.len() + 1;
                    edits.push(Edit {
                        range: start..start + value.len(),
                        text: version.to_owned(),
                    });
                }
                None => edits.push(Edit::insert(at + name.len(), format!("={version}"))),
            }
        }
        at += pair.len() + 1;
    }
    if found {
        return (!edits.is_empty()).then_some(edits);
    }
    // Even after a trailing `&`: in an attribute that `&` may be a `&amp` written without its
    // `;`, which a name written right after it would swallow (`&ampvh=`).
    let separator = if q.is_empty() { "" } else { amp };
    let text = concat(&[separator, param, "=", version]);
    Some(vec![Edit::insert(q.end, text)])
}

fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// Characters a renamed path cannot carry as they are into an attribute, CSS or a srcset.
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
    .add(b'\\')
    .add(b',');

fn dir(path: &str) -> &str {
    &path[..path.rfind('/').map_or(0, |n| n + 1)]
}

fn rename(t: &str, target: &Target, new_path: &str) -> Option<Vec<Edit>> {
    let from = target
        .rename
        .as_ref()
        .expect("a rename entry resolves with its context");
    let written = &t[target.asset_path.clone()];
    let encode = |s: &str| utf8_percent_encode(s, PATH_WRITE).to_string();
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
        return None;
    }
    Some(vec![Edit { range, text }])
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
