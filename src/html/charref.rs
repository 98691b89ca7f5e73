//! HTML character references in attribute values, decoded the way a browser decodes them
//! (WHATWG "character reference state", attribute-value flavour), with offsets back to the
//! raw text. lol_html hands attribute values over raw (`&amp;` stays `&amp;`).

use super::entities::{LEGACY, WITH_SEMICOLON};
use crate::decoded::{Decoded, DecodedBuilder};

/// Decodes the character references of a raw attribute value.
pub(crate) fn decode_attribute(raw: &str) -> Decoded<'_> {
    let Some(first) = memchr::memchr(b'&', raw.as_bytes()) else {
        return Decoded::identity(raw);
    };
    let bytes = raw.as_bytes();
    let mut out = DecodedBuilder::with_capacity(raw.len());
    out.push_verbatim(&raw[..first], 0);
    let mut at = first;
    while at < raw.len() {
        if bytes[at] != b'&' {
            let next = memchr::memchr(b'&', &bytes[at..]).map_or(raw.len(), |n| at + n);
            out.push_verbatim(&raw[at..next], at);
            at = next;
            continue;
        }
        match reference_at(raw, at) {
            Some((decoded, len)) => {
                match decoded {
                    Decoded1::Char(c) => out.push(c.encode_utf8(&mut [0; 4]), at),
                    Decoded1::Str(s) => out.push(s, at),
                }
                at += len;
            }
            None => {
                out.push_verbatim("&", at);
                at += 1;
            }
        }
    }
    out.finish(raw.len())
}

enum Decoded1 {
    Char(char),
    Str(&'static str),
}

/// The reference starting at `raw[at] == '&'`: what it decodes to and how many raw bytes it
/// spans, or `None` when the `&` is literal.
fn reference_at(raw: &str, at: usize) -> Option<(Decoded1, usize)> {
    let rest = &raw.as_bytes()[at + 1..];
    if rest.first() == Some(&b'#') {
        return numeric(rest).map(|(c, len)| (Decoded1::Char(c), len + 1));
    }
    let run = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    if run == 0 {
        return None;
    }
    let name = &raw[at + 1..at + 1 + run];
    let next = rest.get(run).copied();
    if next == Some(b';') {
        if let Ok(i) = WITH_SEMICOLON.binary_search_by(|(n, _)| n.cmp(&name)) {
            return Some((Decoded1::Str(WITH_SEMICOLON[i].1), run + 2));
        }
    }
    // A legacy name without `;` decodes in an attribute only when it is not followed by `=`
    // or an alphanumeric: `&copy=` and `&region=` stay literal in a query string.
    if next != Some(b'=') {
        if let Ok(i) = LEGACY.binary_search_by(|(n, _)| n.cmp(&name)) {
            return Some((Decoded1::Str(LEGACY[i].1), run + 1));
        }
    }
    None
}

/// `#123;` or `#x1F;` (the `&` already consumed): the character and the bytes spanned.
fn numeric(rest: &[u8]) -> Option<(char, usize)> {
    let hex = matches!(rest.get(1), Some(b'x' | b'X'));
    let digits_start = if hex { 2 } else { 1 };
    let digits = rest[digits_start..]
        .iter()
        .take_while(|b| {
            if hex {
                b.is_ascii_hexdigit()
            } else {
                b.is_ascii_digit()
            }
        })
        .count();
    if digits == 0 {
        return None;
    }
    let radix = if hex { 16 } else { 10 };
    let mut value: u32 = 0;
    for &b in &rest[digits_start..digits_start + digits] {
        let d = (b as char).to_digit(radix).expect("checked digit");
        value = value.saturating_mul(radix).saturating_add(d);
    }
    let mut len = digits_start + digits;
    if rest.get(len) == Some(&b';') {
        len += 1;
    }
    Some((numeric_char(value), len))
}

fn numeric_char(value: u32) -> char {
    const WINDOWS_1252: [u32; 32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8D, 0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013,
        0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ];
    match value {
        0 => '\u{FFFD}',
        0x80..=0x9F => char::from_u32(WINDOWS_1252[(value - 0x80) as usize]).unwrap_or('\u{FFFD}'),
        _ => char::from_u32(value).unwrap_or('\u{FFFD}'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(raw: &str) -> String {
        decode_attribute(raw).text.into_owned()
    }

    #[test]
    fn decodes_like_a_browser_in_attributes() {
        assert_eq!(decode("a.jpg?w=1&amp;h=2"), "a.jpg?w=1&h=2");
        assert_eq!(decode("&quot;x&quot;"), "\"x\"");
        assert_eq!(decode("caf&eacute;.png"), "café.png");
        assert_eq!(decode("&#x9;a&#10;&#47;"), "\ta\n/");
        assert_eq!(decode("&#128;&#0;&#x110000;"), "€\u{FFFD}\u{FFFD}");
        assert_eq!(
            decode("a?x=1&region=2&copy=3&copy;&amp"),
            "a?x=1&region=2&copy=3©&"
        );
        assert_eq!(decode("&ampx; &# &#x; & &;"), "&ampx; &# &#x; & &;");
        assert_eq!(decode("&nbsp;x"), "\u{a0}x");
    }

    #[test]
    fn offsets_point_back_into_the_raw_text() {
        let raw = "a&amp;b&#x2F;c";
        let d = decode_attribute(raw);
        assert_eq!(d.text, "a&b/c");
        assert_eq!(d.raw(1), 1);
        assert_eq!(d.raw(2), 6);
        assert_eq!(d.raw(3), 7);
        assert_eq!(d.raw(4), 13);
        assert_eq!(d.raw(5), raw.len());
    }
}
