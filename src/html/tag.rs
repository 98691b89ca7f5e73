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

/// Byte classes of the tokenizer's tag states.
const SPACE: u8 = 1;
/// Ends a tag name or an attribute name: white space, `/`, `>` (and `=` for a name).
const NAME_END: u8 = 2;
const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut spaces = [b'\t', b'\n', b'\x0C', b'\r', b' '];
    let mut at = 0;
    while at < spaces.len() {
        classes[spaces[at] as usize] = SPACE | NAME_END;
        at += 1;
    }
    spaces = [b'/', b'>', b'=', b'=', b'='];
    at = 0;
    while at < spaces.len() {
        classes[spaces[at] as usize] |= NAME_END;
        at += 1;
    }
    classes
};

fn is_space(b: u8) -> bool {
    CLASSES[b as usize] & SPACE != 0
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

/// The tag name of the start tag `tag`, ASCII lower-cased into `buffer`; `None` when it is
/// longer than `buffer`.
pub(crate) fn lower_name<'b>(tag: &[u8], buffer: &'b mut [u8]) -> Option<&'b [u8]> {
    lower(name(tag), buffer)
}

/// The tag name `raw` ASCII lower-cased into `buffer`; `None` when it is longer.
pub(crate) fn lower<'b>(raw: &[u8], buffer: &'b mut [u8]) -> Option<&'b [u8]> {
    let lower = buffer.get_mut(..raw.len())?;
    // In one pass: lower-casing a copy just made reads bytes still on their way to memory
    // in other sizes than they were written, which stalls the processor.
    for (lower, raw) in lower.iter_mut().zip(raw) {
        *lower = raw.to_ascii_lowercase();
    }
    Some(lower)
}

/// Reads the attributes of the start tag beginning at `bytes[0]`, whose name is `name_len`
/// bytes long ([`name`]; its callers have just read it), as the tokenizer does, handing
/// each to `on_attribute` (which returns `true` to stop early); returns where the tag's `>`
/// stands, or `None` when the input ends first (or reading stopped).
///
/// A `>` ends the tag anywhere but inside a quoted value, and a quote opens a value only
/// where a value may start (elsewhere it is part of a name or an unquoted value).
fn read(
    bytes: &[u8],
    name_len: usize,
    mut on_attribute: impl FnMut(RawAttribute) -> bool,
) -> Option<usize> {
    let len = bytes.len();
    let mut i = 1 + name_len;
    loop {
        // Before attribute name.
        while i < len && (is_space(bytes[i]) || bytes[i] == b'/') {
            i += 1;
        }
        match bytes.get(i) {
            None => return None,
            Some(b'>') => return Some(i),
            Some(_) => {}
        }
        // Attribute name: a leading `=` belongs to the name.
        let name_start = i;
        i += 1;
        while i < len && CLASSES[bytes[i] as usize] & NAME_END == 0 {
            i += 1;
        }
        let name = name_start..i;
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        if bytes.get(i) != Some(&b'=') {
            let attribute = RawAttribute {
                name,
                value: None,
                quoted: false,
            };
            if on_attribute(attribute) {
                return None;
            }
            continue;
        }
        i += 1;
        while i < len && is_space(bytes[i]) {
            i += 1;
        }
        let (value, quoted) = match bytes.get(i) {
            None | Some(b'>') => (None, false),
            Some(&quote @ (b'"' | b'\'')) => {
                let start = i + 1;
                let close = memchr::memchr(quote, &bytes[start..]).map_or(len, |n| start + n);
                i = (close + 1).min(len);
                (Some(start..close), true)
            }
            Some(_) => {
                let start = i;
                while i < len && !is_space(bytes[i]) && bytes[i] != b'>' {
                    i += 1;
                }
                (Some(start..i), false)
            }
        };
        if on_attribute(RawAttribute {
            name,
            value,
            quoted,
        }) {
            return None;
        }
    }
}

/// The attributes of the start tag beginning at `tag[0]`, whose name is `name_len` bytes
/// long, in order (duplicates included: the first one counts), written into `out`; returns
/// where the tag's `>` stands, or `None` when the input ends first.
pub(crate) fn attributes(
    tag: &[u8],
    name_len: usize,
    out: &mut Vec<RawAttribute>,
) -> Option<usize> {
    out.clear();
    read(tag, name_len, |attribute| {
        out.push(attribute);
        false
    })
}

/// Where the start tag beginning at `bytes[0]` (`<name`) ends: the index of its closing
/// `>`, or `None` when the input ends first.
#[cfg(test)]
pub(crate) fn end(bytes: &[u8]) -> Option<usize> {
    read(bytes, name(bytes).len(), |_| false)
}

/// Whether the start tag beginning at `bytes[0]`, whose name is `name_len` bytes long, has
/// an attribute `wanted` says yes to (given its name as written), and how far reading went;
/// `None` when the input ends before the tag does.
pub(crate) fn any_attribute(
    bytes: &[u8],
    name_len: usize,
    mut wanted: impl FnMut(&[u8]) -> bool,
) -> Option<(bool, usize)> {
    let mut found = None;
    let end = read(bytes, name_len, |attribute| {
        let yes = wanted(&bytes[attribute.name.clone()]);
        if yes {
            found = Some(attribute.name.end);
        }
        yes
    });
    match (found, end) {
        (Some(read), _) => Some((true, read)),
        (None, Some(end)) => Some((false, end)),
        (None, None) => None,
    }
}

/// The first attribute of `attrs` named `name` (ASCII case-insensitive).
pub(crate) fn find<'a>(
    tag: &[u8],
    attrs: &'a [RawAttribute],
    name: &str,
) -> Option<&'a RawAttribute> {
    attrs.iter().find(|a| {
        a.name.len() == name.len() && tag[a.name.clone()].eq_ignore_ascii_case(name.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tag: &str) -> Vec<(String, Option<String>)> {
        let mut attrs = Vec::new();
        attributes(tag.as_bytes(), name(tag.as_bytes()).len(), &mut attrs);
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
