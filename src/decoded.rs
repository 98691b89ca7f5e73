//! Text decoded from an escaped form (HTML character references, CSS escapes), with a map
//! back to the escaped bytes, so that an edit found in the decoded text lands at the right
//! place in the author's bytes and everything else stays as written.

use std::borrow::Cow;
use std::ops::Range;

/// Decoded text and, when decoding changed anything, where each decoded byte came from.
#[derive(Debug, Clone)]
pub(crate) struct Decoded<'a> {
    pub(crate) text: Cow<'a, str>,
    /// Empty when `text` is the raw text itself; otherwise `text.len() + 1` raw offsets.
    offsets: Vec<usize>,
}

impl<'a> Decoded<'a> {
    /// Text that needed no decoding: positions map to themselves.
    pub(crate) fn identity(text: &'a str) -> Self {
        Decoded {
            text: Cow::Borrowed(text),
            offsets: Vec::new(),
        }
    }

    /// Owned text of the same length as the raw text, each byte standing for itself.
    pub(crate) fn same_length(text: String) -> Decoded<'static> {
        Decoded {
            text: Cow::Owned(text),
            offsets: Vec::new(),
        }
    }

    /// The raw offset of decoded offset `at` (which may be `text.len()`).
    pub(crate) fn raw(&self, at: usize) -> usize {
        if self.offsets.is_empty() {
            at
        } else {
            self.offsets[at]
        }
    }

    pub(crate) fn raw_range(&self, range: Range<usize>) -> Range<usize> {
        self.raw(range.start)..self.raw(range.end)
    }
}

/// Builds a [`Decoded`] piece by piece.
pub(crate) struct DecodedBuilder {
    text: String,
    offsets: Vec<usize>,
}

impl DecodedBuilder {
    pub(crate) fn with_capacity(len: usize) -> Self {
        DecodedBuilder {
            text: String::with_capacity(len),
            offsets: Vec::with_capacity(len + 1),
        }
    }

    /// Appends `decoded`, which came from raw bytes starting at `raw_start`.
    pub(crate) fn push(&mut self, decoded: &str, raw_start: usize) {
        self.text.push_str(decoded);
        self.offsets
            .extend(std::iter::repeat_n(raw_start, decoded.len()));
    }

    /// Appends raw text copied unchanged, starting at `raw_start`.
    pub(crate) fn push_verbatim(&mut self, raw: &str, raw_start: usize) {
        self.text.push_str(raw);
        self.offsets.extend(raw_start..raw_start + raw.len());
    }

    pub(crate) fn finish(mut self, raw_len: usize) -> Decoded<'static> {
        self.offsets.push(raw_len);
        Decoded {
            text: Cow::Owned(self.text),
            offsets: self.offsets,
        }
    }
}

/// One replacement of a raw byte range (empty for an insertion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) range: Range<usize>,
    pub(crate) text: String,
}

impl Edit {
    pub(crate) fn insert(at: usize, text: String) -> Self {
        Edit {
            range: at..at,
            text,
        }
    }
}

/// Moves `edits` from decoded coordinates to the raw text's.
pub(crate) fn map_back(edits: &mut [Edit], decoded: &Decoded<'_>) {
    for edit in edits {
        edit.range = decoded.raw_range(edit.range.clone());
    }
}

/// Moves `edits` `by` bytes on.
pub(crate) fn shift(edits: &mut [Edit], by: usize) {
    for edit in edits {
        edit.range = edit.range.start + by..edit.range.end + by;
    }
}

/// Applies `edits` (sorted, not overlapping) to `raw`.
pub(crate) fn apply_edits(raw: &str, edits: &[Edit]) -> String {
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(raw.len() + extra);
    let mut at = 0;
    for edit in edits {
        out.push_str(&raw[at..edit.range.start]);
        out.push_str(&edit.text);
        at = edit.range.end;
    }
    out.push_str(&raw[at..]);
    out
}

/// The byte-slice twin of [`apply_edits`], for raw `<style>` text in any encoding.
pub(crate) fn apply_edits_bytes(raw: &[u8], edits: &[Edit], out: &mut Vec<u8>) {
    let mut at = 0;
    for edit in edits {
        out.extend_from_slice(&raw[at..edit.range.start]);
        out.extend_from_slice(edit.text.as_bytes());
        at = edit.range.end;
    }
    out.extend_from_slice(&raw[at..]);
}
