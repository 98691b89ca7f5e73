//! URL references in CSS: `url(...)` quoted or not, the strings of `image-set()` and
//! `-webkit-image-set()`, and `@import "..."`.
//!
//! The scanner follows the CSS Syntax tokenizer closely enough to never mistake a comment, a
//! string or another function for a URL (`content: "url(x)"`, `/* url(x) */` and `myurl(x)`
//! hold none). It works on bytes, so `<style>` text in any ASCII-compatible encoding can be
//! scanned where it stands, and it allocates nothing unless a URL holds escapes. CSS's white
//! space (after preprocessing) is ASCII white space as [`u8::is_ascii_whitespace`] has it.
//!
//! ```
//! let css = r#"a { background: url("a.png") } /* url(b.png) */ b { content: "url(c.png)" }
//!              @import 'd.css'; e { background: image-set(url(e.png) 1x, "f.png" 2x) }"#;
//! let urls: Vec<&str> = cachebust::css::url_spans(css).into_iter().map(|r| &css[r]).collect();
//! assert_eq!(urls, ["a.png", "d.css", "e.png", "f.png"]);
//! ```

use crate::decoded::{Decoded, DecodedBuilder};
use std::ops::Range;

/// A URL found in CSS: the span of its text (inside the quotes or the `url(` `)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UrlToken {
    pub(crate) span: Range<usize>,
    /// Whether the text holds a `\` escape, so that [`decode_escapes`] is needed.
    pub(crate) escaped: bool,
}

/// The spans of every URL in `css`, in order.
pub fn url_spans(css: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    scan(css.as_bytes(), |token| spans.push(token.span));
    spans
}

const fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_name(b: u8) -> bool {
    NAME[b as usize]
}

/// Which bytes [`is_name`] takes: identifiers (`background-image`) are much of CSS.
const NAME: [bool; 256] = {
    let mut name = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        name[b] = is_name_start(c) || c.is_ascii_digit() || c == b'-';
        b += 1;
    }
    name
};

fn is_valid_escape(css: &[u8], at: usize) -> bool {
    css.get(at) == Some(&b'\\') && !matches!(css.get(at + 1), None | Some(b'\n' | b'\r' | b'\x0C'))
}

/// Whether an identifier starts at `at` (CSS Syntax "would start an identifier").
fn starts_identifier(css: &[u8], at: usize) -> bool {
    match css[at] {
        b'-' => {
            css.get(at + 1)
                .is_some_and(|&n| is_name_start(n) || n == b'-')
                || is_valid_escape(css, at + 1)
        }
        b => is_name_start(b) || is_valid_escape(css, at),
    }
}

/// Where the name (identifier) starting at `at` ends; escapes included.
fn name_end(css: &[u8], mut at: usize) -> usize {
    while at < css.len() {
        at += css[at..]
            .iter()
            .position(|&b| !is_name(b))
            .unwrap_or(css.len() - at);
        if is_valid_escape(css, at) {
            at = escape_end(css, at);
        } else {
            break;
        }
    }
    at
}

/// Where the escape starting with the `\` at `at` ends.
fn escape_end(css: &[u8], at: usize) -> usize {
    let mut end = at + 1;
    let hex = css[end..]
        .iter()
        .take(6)
        .take_while(|b| b.is_ascii_hexdigit())
        .count();
    if hex == 0 {
        // `\` + any one character (a UTF-8 sequence is copied whole by the decoder).
        return end + utf8_len(css.get(end).copied().unwrap_or(0)).min(css.len() - end);
    }
    end += hex;
    if css.get(end) == Some(&b'\r') && css.get(end + 1) == Some(&b'\n') {
        end += 2;
    } else if css.get(end).is_some_and(|b| b.is_ascii_whitespace()) {
        end += 1;
    }
    end
}

fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Whether the name in `css[range]` is `expected` (ASCII lower case), escapes decoded.
fn name_is(css: &[u8], range: Range<usize>, expected: &str) -> bool {
    let raw = &css[range];
    if !raw.contains(&b'\\') {
        return raw.eq_ignore_ascii_case(expected.as_bytes());
    }
    std::str::from_utf8(raw).is_ok_and(|s| decode_escapes(s).text.eq_ignore_ascii_case(expected))
}

/// The string starting at the quote `at`: the span of its text, where scanning goes on, and
/// whether it is a good string (a raw newline makes a bad one, which holds no URL).
fn string_at(css: &[u8], at: usize) -> (Range<usize>, usize, bool) {
    let quote = css[at];
    let mut i = at + 1;
    while i < css.len() {
        // A URL is most of the string: search for where it may end rather than step to it.
        let stop = memchr::memchr2(quote, b'\\', &css[i..]).map_or(css.len(), |n| i + n);
        if let Some(n) = memchr::memchr3(b'\n', b'\r', b'\x0C', &css[i..stop]) {
            return (at + 1..i + n, i + n, false);
        }
        match css.get(stop) {
            Some(b'\\') => i = stop + 2,
            Some(_) => return (at + 1..stop, stop + 1, true),
            None => break,
        }
    }
    (at + 1..css.len(), css.len(), true)
}

fn content(css: &[u8], span: Range<usize>) -> UrlToken {
    let escaped = css[span.clone()].contains(&b'\\');
    UrlToken { span, escaped }
}

/// Calls `f` for every URL in `css`.
pub(crate) fn scan(css: &[u8], mut f: impl FnMut(UrlToken)) {
    // A URL needs a function (`url(`, `image-set(`) or `@import`: most `style` attributes
    // (`color: red`) have neither, and need no scanning.
    if memchr::memchr2(b'(', b'@', css).is_none() {
        return;
    }
    let mut parens = Parens::default();
    let mut import_pending = false;
    let mut i = 0;
    while i < css.len() {
        let b = css[i];
        match b {
            b'/' if css.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&css[i + 2..], b"*/").map_or(css.len(), |n| i + 2 + n + 2);
                continue;
            }
            b'"' | b'\'' => {
                let (text, end, good) = string_at(css, i);
                if good && (import_pending || parens.in_image_set()) {
                    f(content(css, text));
                }
                import_pending = false;
                i = end;
                continue;
            }
            b'@' => {
                let end = name_end(css, i + 1);
                import_pending = name_is(css, i + 1..end, "import");
                i = end.max(i + 1);
                continue;
            }
            b'#' => {
                i = name_end(css, i + 1);
                import_pending = false;
                continue;
            }
            b'(' => parens.push(false),
            b')' => {
                parens.pop();
            }
            b'0'..=b'9' => {
                // A number or a dimension (`5url(` is a dimension, not a function).
                while i < css.len() && (css[i].is_ascii_digit() || css[i] == b'.') {
                    i += 1;
                }
                i = name_end(css, i);
                import_pending = false;
                continue;
            }
            _ if b.is_ascii_whitespace() => {}
            _ if starts_identifier(css, i) => {
                let end = name_end(css, i);
                import_pending = false;
                if css.get(end) != Some(&b'(') {
                    i = end;
                    continue;
                }
                if name_is(css, i..end, "url") {
                    i = url_function(css, end + 1, &mut parens, &mut f);
                    continue;
                }
                let image_set =
                    name_is(css, i..end, "image-set") || name_is(css, i..end, "-webkit-image-set");
                parens.push(image_set);
                i = end + 1;
                continue;
            }
            _ => import_pending = false,
        }
        i += 1;
    }
}

/// For each open parenthesis, whether it is an `image-set(`, whose strings are URLs: a stack
/// of bits, which needs no allocation until it is deeper than any real style sheet's.
#[derive(Default)]
struct Parens {
    depth: usize,
    bits: u64,
    deeper: Vec<bool>,
}

impl Parens {
    fn push(&mut self, image_set: bool) {
        if self.depth < 64 {
            self.bits = self.bits & !(1 << self.depth) | u64::from(image_set) << self.depth;
        } else {
            self.deeper.push(image_set);
        }
        self.depth += 1;
    }

    fn pop(&mut self) {
        if self.depth > 64 {
            self.deeper.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    /// Whether the innermost open parenthesis is an `image-set(`.
    fn in_image_set(&self) -> bool {
        match self.depth {
            0 => false,
            1..=64 => self.bits & (1 << (self.depth - 1)) != 0,
            _ => self.deeper.last() == Some(&true),
        }
    }
}

/// Scans the arguments of `url(` from `at` (just after the parenthesis); returns where to go
/// on.
fn url_function(css: &[u8], at: usize, parens: &mut Parens, f: &mut impl FnMut(UrlToken)) -> usize {
    let mut i = at;
    while i < css.len() && css[i].is_ascii_whitespace() {
        i += 1;
    }
    if matches!(css.get(i), Some(b'"' | b'\'')) {
        // A function holding a string: the string is the URL; `)` closes it later.
        parens.push(false);
        let (text, end, good) = string_at(css, i);
        if good {
            f(content(css, text));
        }
        return end;
    }
    let start = i;
    while i < css.len() {
        match css[i] {
            b')' => {
                f(content(css, start..i));
                return i + 1;
            }
            b if b.is_ascii_whitespace() => {
                let text_end = i;
                while i < css.len() && css[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i >= css.len() || css[i] == b')' {
                    f(content(css, start..text_end));
                    return (i + 1).min(css.len());
                }
                return bad_url_end(css, i);
            }
            b'"' | b'\'' | b'(' | 0..=8 | 0x0B | 0x0E..=0x1F | 0x7F => return bad_url_end(css, i),
            b'\\' if is_valid_escape(css, i) => i = escape_end(css, i),
            b'\\' => return bad_url_end(css, i),
            _ => i += 1,
        }
    }
    f(content(css, start..i));
    i
}

/// Consumes the remnants of a bad url: up to and including the next unescaped `)`.
fn bad_url_end(css: &[u8], mut i: usize) -> usize {
    while i < css.len() {
        match css[i] {
            b')' => return i + 1,
            b'\\' if is_valid_escape(css, i) => i = escape_end(css, i),
            _ => i += 1,
        }
    }
    i
}

/// Decodes the CSS escapes of a URL's text, keeping offsets back to the escaped text.
pub(crate) fn decode_escapes(raw: &str) -> Decoded<'_> {
    let bytes = raw.as_bytes();
    let Some(first) = memchr::memchr(b'\\', bytes) else {
        return Decoded::identity(raw);
    };
    let mut out = DecodedBuilder::with_capacity(raw.len());
    out.push_verbatim(&raw[..first], 0);
    let mut i = first;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            let next = memchr::memchr(b'\\', &bytes[i..]).map_or(bytes.len(), |n| i + n);
            out.push_verbatim(&raw[i..next], i);
            i = next;
            continue;
        }
        match bytes.get(i + 1) {
            // An escaped newline inside a string is a line continuation: it stands for
            // nothing.
            Some(b'\n' | b'\x0C') => i += 2,
            Some(b'\r') => {
                i += if bytes.get(i + 2) == Some(&b'\n') {
                    3
                } else {
                    2
                }
            }
            None => {
                out.push("\u{FFFD}", i);
                i += 1;
            }
            Some(_) => {
                let end = escape_end(bytes, i);
                let hex = raw[i + 1..end].trim_end_matches(|c: char| c.is_ascii_whitespace());
                let decoded = if hex.bytes().all(|b| b.is_ascii_hexdigit()) && !hex.is_empty() {
                    let value = u32::from_str_radix(hex, 16).unwrap_or(0);
                    match char::from_u32(value) {
                        Some('\0') | None => '\u{FFFD}',
                        Some(c) => c,
                    }
                } else {
                    raw[i + 1..end].chars().next().unwrap_or('\u{FFFD}')
                };
                out.push(decoded.encode_utf8(&mut [0; 4]), i);
                i = end;
            }
        }
    }
    out.finish(raw.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(css: &str) -> Vec<&str> {
        url_spans(css).into_iter().map(|r| &css[r]).collect()
    }

    #[test]
    fn image_sets_are_known_at_any_depth() {
        for depth in [0, 1, 62, 63, 64, 65, 100] {
            let open = "f(".repeat(depth);
            let close = ")".repeat(depth);
            let css =
                format!("a{{b:{open}image-set({open}'x.png'{close} 'y.png'){close} 'z.png'}}");
            let expected = if depth == 0 {
                &["x.png", "y.png"][..]
            } else {
                &["y.png"]
            };
            assert_eq!(urls(&css), expected, "depth {depth}");
            let css = format!("a{{b:{open}image-set('x.png'){close} 'y.png'}}");
            assert_eq!(urls(&css), ["x.png"], "depth {depth}");
        }
        // A `)` too many closes nothing.
        assert_eq!(urls("a{b:image-set())) 'x.png')}"), Vec::<&str>::new());
    }

    #[test]
    fn finds_urls_in_every_form() {
        assert_eq!(urls("a{b:url(x.png)}"), ["x.png"]);
        assert_eq!(urls("a{b:URL( 'x.png' )}"), ["x.png"]);
        assert_eq!(urls("a{b:url(  x.png  )}"), ["x.png"]);
        assert_eq!(urls(r#"a{b:url("x.png")}"#), ["x.png"]);
        assert_eq!(
            urls(r#"@import "a.css";@IMPORT url(b.css) screen;"#),
            ["a.css", "b.css"]
        );
        assert_eq!(urls(r#"@import /* c */ 'a.css';"#), ["a.css"]);
        assert_eq!(
            urls(r#"b{c:-webkit-image-set("a.png" 1x, url(b.png) 2x, 'c.png' type("image/png"))}"#),
            ["a.png", "b.png", "c.png"]
        );
        assert_eq!(urls("b{c:url(a.png),url(b.png)}"), ["a.png", "b.png"]);
    }

    #[test]
    fn ignores_what_is_not_a_url() {
        assert_eq!(
            urls(r#"a{content:"url(x.png)"} /* url(y.png) */"#),
            Vec::<&str>::new()
        );
        assert_eq!(
            urls("a{b:myurl(x.png); c: 5url(y.png); d: #url(z.png)}"),
            Vec::<&str>::new()
        );
        assert_eq!(
            urls("a{b:url(x y.png)} c{d:url(e(f).png)}"),
            Vec::<&str>::new()
        );
        assert_eq!(
            urls("a{b: \"x.png\"} @media print { c{d:'y.png'} }"),
            Vec::<&str>::new()
        );
        assert_eq!(urls("a{b:url('x.png\n')}"), Vec::<&str>::new());
        assert_eq!(urls("a{b:u\\72l(x.png)}"), ["x.png"]);
    }

    #[test]
    fn unterminated_input_is_safe() {
        for css in [
            "url(",
            "url('",
            "url(a",
            "/*",
            "'",
            "\\",
            "@",
            "image-set(",
            "url(a\\",
        ] {
            let _ = urls(css);
        }
        assert_eq!(urls("a{b:url(x.png"), ["x.png"]);
    }

    #[test]
    fn escapes_decode_with_offsets() {
        let d = decode_escapes(r"a\ b\2e png\)");
        assert_eq!(d.text, "a b.png)");
        assert_eq!(d.raw(1), 1);
        assert_eq!(d.raw(2), 3);
        assert_eq!(d.raw(3), 4);
        assert_eq!(d.raw(4), 8);
        assert_eq!(d.raw(d.text.len()), 13);
        assert_eq!(decode_escapes("a\\\nb").text, "ab");
    }
}
