//! A start tag's raw bytes, read the way the HTML tokenizer reads them: its name and its
//! attributes with the exact spans of their values. Reading the bytes directly keeps every
//! byte the author wrote and costs no allocation.

use std::ops::Range;

/// One attribute of a start tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawAttribute {
    pub(crate) name: Range<usize>,
    /// The value's bytes, inside the quotes if any; `None` for `<img src>`.
    pub(crate) value: Option<Range<usize>>,
    /// Whether the value is quoted.
    pub(crate) quoted: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// The tag name of the start tag `tag` (`<name ...>`), as written.
pub(crate) fn name(tag: &[u8]) -> &[u8] {
    let rest = tag.get(1..).unwrap_or_default();
    let end = rest
        .iter()
        .position(|&b| is_space(b) || b == b'/' || b == b'>')
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The attributes of the start tag `tag`, in order (duplicates included: the first one
/// counts), written into `out`.
pub(crate) fn attributes(tag: &[u8], out: &mut Vec<RawAttribute>) {
    out.clear();
    let end = tag.len() - usize::from(tag.last() == Some(&b'>'));
    let mut i = 1 + name(tag).len();
    while i < end {
        // Before attribute name.
        while i < end && (is_space(tag[i]) || tag[i] == b'/') {
            i += 1;
        }
        if i >= end {
            break;
        }
        // Attribute name: a leading `=` belongs to the name.
        let name_start = i;
        i += 1;
        while i < end && !(is_space(tag[i]) || matches!(tag[i], b'/' | b'=' | b'>')) {
            i += 1;
        }
        let name = name_start..i;
        while i < end && is_space(tag[i]) {
            i += 1;
        }
        if i >= end || tag[i] != b'=' {
            out.push(RawAttribute {
                name,
                value: None,
                quoted: false,
            });
            continue;
        }
        i += 1;
        while i < end && is_space(tag[i]) {
            i += 1;
        }
        if i >= end {
            out.push(RawAttribute {
                name,
                value: None,
                quoted: false,
            });
            break;
        }
        match tag[i] {
            quote @ (b'"' | b'\'') => {
                let start = i + 1;
                let close = tag[start..end]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(end, |n| start + n);
                out.push(RawAttribute {
                    name,
                    value: Some(start..close),
                    quoted: true,
                });
                i = close + 1;
            }
            _ => {
                let start = i;
                while i < end && !is_space(tag[i]) {
                    i += 1;
                }
                out.push(RawAttribute {
                    name,
                    value: Some(start..i),
                    quoted: false,
                });
            }
        }
    }
}

/// Where the start tag beginning at `bytes[0]` (`<name`) ends: the index of its closing
/// `>`, found as the tokenizer finds it (a `>` ends the tag anywhere but inside a quoted
/// value, and a quote opens a value only where a value may start); `None` when the input
/// ends first.
pub(crate) fn end(bytes: &[u8]) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        BeforeName,
        Name,
        AfterName,
        BeforeValue,
        Unquoted,
    }
    let mut state = State::BeforeName;
    let mut i = 1 + name(bytes).len();
    while let Some(&b) = bytes.get(i) {
        if b == b'>' {
            return Some(i);
        }
        state = match (state, b) {
            (State::BeforeValue, b'"' | b'\'') => {
                i += 1 + memchr::memchr(b, &bytes[i + 1..])?;
                // After a quoted value anything but `>` starts over before a name.
                State::BeforeName
            }
            (State::BeforeValue, b) if is_space(b) => State::BeforeValue,
            (State::BeforeValue, _) => State::Unquoted,
            (State::Unquoted, b) if is_space(b) => State::BeforeName,
            (State::Unquoted, _) => State::Unquoted,
            (_, b'/') => State::BeforeName,
            (State::Name | State::AfterName, b'=') => State::BeforeValue,
            (State::Name | State::AfterName, b) if is_space(b) => State::AfterName,
            (State::BeforeName, b) if is_space(b) => State::BeforeName,
            // Anything else, a leading `=` or a quote included, is (part of) a name.
            _ => State::Name,
        };
        i += 1;
    }
    None
}

/// The first attribute of `attrs` named `name` (ASCII case-insensitive).
pub(crate) fn find<'a>(
    tag: &[u8],
    attrs: &'a [RawAttribute],
    name: &str,
) -> Option<&'a RawAttribute> {
    attrs
        .iter()
        .find(|a| tag[a.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tag: &str) -> Vec<(String, Option<String>)> {
        let mut attrs = Vec::new();
        attributes(tag.as_bytes(), &mut attrs);
        attrs
            .iter()
            .map(|a| {
                (
                    tag[a.name.clone()].to_owned(),
                    a.value.clone().map(|v| tag[v].to_owned()),
                )
            })
            .collect()
    }

    #[test]
    fn reads_attributes_as_the_tokenizer_does() {
        assert_eq!(name(b"<IMG src=a>"), b"IMG");
        assert_eq!(name(b"<br/>"), b"br");
        assert_eq!(parse("<img src=a/>"), [("src".into(), Some("a/".into()))]);
        assert_eq!(
            parse("<img\n src = \"a b\"\talt='x' hidden data-x=y/ z>"),
            [
                ("src".into(), Some("a b".into())),
                ("alt".into(), Some("x".into())),
                ("hidden".into(), None),
                ("data-x".into(), Some("y/".into())),
                ("z".into(), None)
            ]
        );
        assert_eq!(parse("<img/src=a>"), [("src".into(), Some("a".into()))]);
        assert_eq!(
            parse("<img src=\"a\"alt=b>"),
            [
                ("src".into(), Some("a".into())),
                ("alt".into(), Some("b".into()))
            ]
        );
        assert_eq!(
            parse("<img =x src>"),
            [("=x".into(), None), ("src".into(), None)]
        );
        assert_eq!(
            parse("<img src=\"a>b\">"),
            [("src".into(), Some("a>b".into()))]
        );
        assert_eq!(
            parse("<img src='unterminated"),
            [("src".into(), Some("unterminated".into()))]
        );
        assert_eq!(parse("<img src="), [("src".into(), None)]);
    }

    #[test]
    fn finds_the_end_as_the_tokenizer_does() {
        let end_of = |tag: &str| end(tag.as_bytes());
        assert_eq!(end_of("<a>"), Some(2));
        assert_eq!(end_of("<a title=\"x>y\">"), Some(14));
        assert_eq!(end_of("<a title = 'x>y' b>"), Some(18));
        // A quote that does not follow `=` is part of a name, and does not hide a `>`.
        assert_eq!(end_of("<a b\"c>\">"), Some(6));
        assert_eq!(end_of("<a x=\"1\" =\"2>"), Some(12));
        assert_eq!(end_of("<a x=y\"z>"), Some(8));
        assert_eq!(end_of("<a x=/>"), Some(6));
        assert_eq!(end_of("<a/x='>'>"), Some(8));
        assert_eq!(end_of("<a x=\"unterminated>"), None);
        assert_eq!(end_of("<a"), None);
    }
}
