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

/// One replacement of a raw byte range (empty for an insertion) by a span of its
/// [`Edits`]' text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) range: Range<usize>,
    text: Range<usize>,
}

/// Edits in the order they apply, their new bytes kept in one buffer: writing a version
/// costs no allocation once the buffers have grown.
#[derive(Debug, Default, Clone)]
pub(crate) struct Edits {
    list: Vec<Edit>,
    text: Vec<u8>,
}

impl Edits {
    /// How many edits there are: a mark for [`Edits::since`].
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
        self.text.clear();
    }

    /// Replaces `range` by `parts`, written one after the other.
    pub(crate) fn push(&mut self, range: Range<usize>, parts: &[&[u8]]) {
        let start = self.text.len();
        for part in parts {
            self.text.extend_from_slice(part);
        }
        self.list.push(Edit {
            range,
            text: start..self.text.len(),
        });
    }

    /// Inserts an edit before the one at `mark` (the first of a value's, say).
    pub(crate) fn insert(&mut self, mark: usize, range: Range<usize>, text: &[u8]) {
        self.push(range, &[text]);
        self.list[mark..].rotate_right(1);
    }

    /// Pushes a copy of `other`'s edits from `mark` on.
    pub(crate) fn push_all(&mut self, other: &Edits, mark: usize) {
        for (range, text) in other.iter_since(mark) {
            self.push(range, &[text]);
        }
    }

    /// The edits pushed since `mark`, to move them to other coordinates.
    pub(crate) fn since(&mut self, mark: usize) -> &mut [Edit] {
        &mut self.list[mark..]
    }

    /// Sorts the edits by where they apply (edits at one place keep their order).
    pub(crate) fn sort(&mut self) {
        self.list.sort_by_key(|edit| edit.range.start);
    }

    /// The edits since `mark` with their new bytes.
    pub(crate) fn iter_since(&self, mark: usize) -> impl Iterator<Item = (Range<usize>, &[u8])> {
        self.list[mark..]
            .iter()
            .map(|edit| (edit.range.clone(), &self.text[edit.text.clone()]))
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (Range<usize>, &[u8])> {
        self.iter_since(0)
    }
}

/// Moves `edits` from decoded coordinates to the raw text's.
pub(crate) fn map_back(edits: &mut [Edit], decoded: &Decoded<'_>) {
    if decoded.offsets.is_empty() {
        return;
    }
    for edit in edits {
        edit.range = decoded.raw_range(edit.range.clone());
    }
}

/// Moves `edits` `by` bytes on.
pub(crate) fn shift(edits: &mut [Edit], by: usize) {
    if by == 0 {
        return;
    }
    for edit in edits {
        edit.range = edit.range.start + by..edit.range.end + by;
    }
}

/// Applies `edits` (sorted, not overlapping) to `raw`, into `out`.
pub(crate) fn apply_edits_bytes(raw: &[u8], edits: &Edits, out: &mut Vec<u8>) {
    let mut at = 0;
    for (range, text) in edits.iter() {
        out.extend_from_slice(&raw[at..range.start]);
        out.extend_from_slice(text);
        at = range.end;
    }
    out.extend_from_slice(&raw[at..]);
}

/// Applies `edits` (sorted, not overlapping, each writing UTF-8) to `raw`.
pub(crate) fn apply_edits(raw: &str, edits: &Edits) -> String {
    let mut out = Vec::with_capacity(raw.len() + edits.text.len());
    apply_edits_bytes(raw.as_bytes(), edits, &mut out);
    String::from_utf8(out).expect("edits of text write text")
}
