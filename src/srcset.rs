//! `srcset` values, split with the WHATWG "parse a srcset attribute" algorithm.
//!
//! Every candidate URL is a reference; the bytes between them (commas, white space,
//! descriptors) are never touched. Commas inside a URL belong to the URL
//! (`data:,a` is one URL), and a parenthesised descriptor may hold commas. HTML's white
//! space is ASCII white space as [`u8::is_ascii_whitespace`] has it (tab, LF, FF, CR, space).
//!
//! ```
//! use cachebust::srcset;
//! let value = "a.jpg 1x, b,c.jpg 2x,d.jpg";
//! let urls: Vec<&str> = srcset::candidates(value).map(|c| c.url).collect();
//! assert_eq!(urls, ["a.jpg", "b,c.jpg", "d.jpg"]);
//! ```

use std::ops::Range;

/// One image candidate: its URL and the descriptors written after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<'a> {
    /// The URL as written.
    pub url: &'a str,
    /// Where the URL stands in the srcset value.
    pub url_span: Range<usize>,
    /// The descriptors as tokenized (`"1x"`, `"300w"`, ...), unvalidated.
    pub descriptors: Vec<&'a str>,
}

/// The candidates of a srcset value, in order. Iterating allocates only for descriptors.
pub fn candidates(srcset: &str) -> Candidates<'_> {
    Candidates {
        input: srcset,
        at: 0,
    }
}

/// The iterator returned by [`candidates`].
#[derive(Debug, Clone)]
pub struct Candidates<'a> {
    input: &'a str,
    at: usize,
}

/// Where the first white space of `bytes` is. A URL is most of a srcset and has none:
/// eight bytes at a time are passed over while none of them is below `!` (every HTML space
/// is), and the word that has one is looked at byte by byte.
fn find_space(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x21; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut at = 0;
    for word in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        // The high bit of a byte below 0x21 survives (and of no byte, when none is).
        if word.wrapping_sub(ONES) & !word & HIGH != 0 {
            break;
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .map(|n| at + n)
}

impl<'a> Iterator for Candidates<'a> {
    type Item = Candidate<'a>;

    fn next(&mut self) -> Option<Candidate<'a>> {
        let (url_span, descriptors) = self.next_span(true)?;
        Some(Candidate {
            url: &self.input[url_span.clone()],
            url_span,
            descriptors: descriptors.unwrap_or_default(),
        })
    }
}

impl<'a> Candidates<'a> {
    /// The span of the next URL, and its descriptors when `collect` is set.
    fn next_span(&mut self, collect: bool) -> Option<(Range<usize>, Option<Vec<&'a str>>)> {
        let bytes = self.input.as_bytes();
        // Splitting loop: skip white space and commas.
        let rest = &bytes[self.at..];
        let skipped = rest
            .iter()
            .position(|b| !b.is_ascii_whitespace() && *b != b',')?;
        let start = self.at + skipped;
        let url_len = find_space(&bytes[start..]).unwrap_or(bytes.len() - start);
        self.at = start + url_len;
        let mut end = self.at;
        let mut descriptors = collect.then(Vec::new);
        if bytes[end - 1] == b',' {
            while end > start && bytes[end - 1] == b',' {
                end -= 1;
            }
        } else {
            self.descriptors(&mut descriptors);
        }
        Some((start..end, descriptors))
    }

    /// The descriptor tokenizer: runs to the comma that ends this candidate.
    fn descriptors(&mut self, out: &mut Option<Vec<&'a str>>) {
        let bytes = self.input.as_bytes();
        if out.is_none() {
            // Only where the candidate ends matters: at the first comma, unless a
            // parenthesis (which may hold commas) comes first.
            let rest = &bytes[self.at..];
            match rest.iter().position(|&b| b == b',' || b == b'(') {
                None => {
                    self.at = bytes.len();
                    return;
                }
                Some(n) if rest[n] == b',' => {
                    self.at += n + 1;
                    return;
                }
                Some(_) => {}
            }
        }
        self.at += bytes[self.at..]
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len() - self.at);
        let input = self.input;
        let mut token_start: Option<usize> = None;
        let mut in_parens = false;
        let push = |start: Option<usize>, end: usize, out: &mut Option<Vec<&'a str>>| {
            if let (Some(start), Some(out)) = (start, out.as_mut()) {
                out.push(&input[start..end]);
            }
        };
        while self.at < bytes.len() {
            let b = bytes[self.at];
            if in_parens {
                if b == b')' {
                    in_parens = false;
                }
            } else if b.is_ascii_whitespace() {
                push(token_start.take(), self.at, out);
            } else if b == b',' {
                push(token_start.take(), self.at, out);
                self.at += 1;
                return;
            } else {
                token_start.get_or_insert(self.at);
                if b == b'(' {
                    in_parens = true;
                }
            }
            self.at += 1;
        }
        push(token_start, self.at, out);
    }
}

/// Calls `f` with the span of every candidate URL, allocating nothing.
pub(crate) fn for_each_url(srcset: &str, mut f: impl FnMut(Range<usize>)) {
    let mut iter = candidates(srcset);
    while let Some((span, _)) = iter.next_span(false) {
        f(span);
    }
}

/// A candidate's descriptors, validated.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Descriptors {
    /// `300w`
    pub width: Option<u64>,
    /// `2x`
    pub density: Option<f64>,
    /// `200h` (only valid beside a width)
    pub height: Option<u64>,
}

impl Descriptors {
    /// Validates descriptors as browsers do; `None` means the candidate is dropped.
    ///
    /// Descriptors in no known form are ignored (as the web-platform-tests expect); a
    /// duplicate or conflicting one, a zero width or height, or a height without a width
    /// drops the candidate.
    ///
    /// ```
    /// use cachebust::srcset::Descriptors;
    /// assert_eq!(Descriptors::parse(&["2x"]).unwrap().density, Some(2.0));
    /// assert!(Descriptors::parse(&["1x", "1w"]).is_none());
    /// assert!(Descriptors::parse(&["foo"]).is_some());
    /// ```
    pub fn parse(descriptors: &[&str]) -> Option<Descriptors> {
        let mut d = Descriptors::default();
        for token in descriptors {
            let Some((value, unit)) = token.len().checked_sub(1).map(|n| token.split_at(n)) else {
                continue;
            };
            match unit {
                "w" if is_integer(value) => {
                    if d.width.is_some() || d.density.is_some() {
                        return None;
                    }
                    d.width = Some(value.parse().ok().filter(|&w| w > 0)?);
                }
                "h" if is_integer(value) => {
                    if d.height.is_some() || d.density.is_some() {
                        return None;
                    }
                    d.height = Some(value.parse().ok().filter(|&h| h > 0)?);
                }
                "x" if is_float(value) => {
                    // A negative density is ignored like an unknown descriptor.
                    let density: f64 = value.parse().ok()?;
                    if density < 0.0 {
                        continue;
                    }
                    if d.width.is_some() || d.density.is_some() || d.height.is_some() {
                        return None;
                    }
                    d.density = Some(density);
                }
                _ => {}
            }
        }
        if d.height.is_some() && d.width.is_none() {
            return None;
        }
        Some(d)
    }
}

fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A WHATWG "valid floating-point number": `-?D+(.D+)?([eE][+-]?D+)?`.
fn is_float(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let int = digits(s);
    if int == 0 {
        return false;
    }
    let mut rest = &s[int..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = digits(frac);
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    if let Some(exp) = rest.strip_prefix(['e', 'E']) {
        let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        let n = digits(exp);
        return n > 0 && n == exp.len();
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(s: &str) -> Vec<&str> {
        candidates(s).map(|c| c.url).collect()
    }

    #[test]
    fn splits_like_the_whatwg_algorithm() {
        assert_eq!(urls(""), Vec::<&str>::new());
        assert_eq!(urls(" , ,, "), Vec::<&str>::new());
        assert_eq!(urls("a.jpg,b.jpg"), ["a.jpg,b.jpg"]);
        assert_eq!(urls("a.jpg, b.jpg"), ["a.jpg", "b.jpg"]);
        assert_eq!(urls("a.jpg,,, b.jpg"), ["a.jpg", "b.jpg"]);
        assert_eq!(urls("a 1x (x, y), b"), ["a", "b"]);
        assert_eq!(urls("data:,a 1x, data:,b 2x"), ["data:,a", "data:,b"]);
    }

    #[test]
    fn descriptors_are_tokenized() {
        let c: Vec<_> = candidates("a.jpg  300w 200h,b.jpg (x y) 2x").collect();
        assert_eq!(c[0].descriptors, ["300w", "200h"]);
        assert_eq!(c[1].descriptors, ["(x y)", "2x"]);
        assert_eq!(c[1].url_span, 17..22);
    }

    #[test]
    fn spans_agree_with_candidates() {
        let cases = [
            " a.jpg 1x,b.jpg, c.jpg 2x ",
            "a.jpg (1, 2) 1x, b.jpg",
            "a.jpg 1x (, b.jpg",
            "a.jpg x(1,2), b.jpg 2x,c.jpg",
            "a.jpg 1x,,,b.jpg\t2x ,  c.jpg",
            "data:,a 1x, b,c.jpg",
        ];
        for case in cases {
            let mut spans = Vec::new();
            for_each_url(case, |span| spans.push(span));
            let expected: Vec<_> = candidates(case).map(|c| c.url_span).collect();
            assert_eq!(spans, expected, "{case:?}");
        }
    }

    #[test]
    fn spaces_are_found_at_every_position_of_a_word() {
        // Bytes below `!` that are no space, and bytes above ASCII, must not be taken for one.
        for filler in [b'a', 0x01, 0x1F, 0xC3, 0xFF] {
            for len in 0..27 {
                for space in [b'\t', b'\n', b'\x0C', b'\r', b' '] {
                    for at in 0..=len {
                        let mut bytes = vec![filler; len];
                        if at < len {
                            bytes[at] = space;
                        }
                        let expected = bytes.iter().position(|b| b.is_ascii_whitespace());
                        assert_eq!(find_space(&bytes), expected, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn floats() {
        for ok in ["1", "-0", "1.5", "1e0", "1E-1", "1.5e1"] {
            assert!(is_float(ok), "{ok}");
        }
        for bad in ["", "+1", ".5", "1.", "1e", "1e1.5", "Infinity", "NaN", "1x"] {
            assert!(!is_float(bad), "{bad}");
        }
    }
}
