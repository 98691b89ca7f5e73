//! The input bytes lol_html may still refer to: a start tag can span chunks, and lol_html
//! buffers it whole (within its memory limit) before the element handlers see it. Keeping
//! that much of the input lets a handler edit the tag's original bytes instead of letting
//! lol_html re-serialise it.

/// The tail of the input stream, at least `keep` bytes of it.
#[derive(Debug)]
pub(crate) struct Retained {
    bytes: Vec<u8>,
    /// The stream offset of `bytes[0]`.
    start: usize,
    keep: usize,
}

impl Retained {
    pub(crate) fn new(keep: usize) -> Self {
        Retained {
            bytes: Vec::new(),
            start: 0,
            keep,
        }
    }

    /// Appends the next input chunk, dropping what is older than `keep` bytes (in halves, so
    /// that the copying stays linear).
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if self.bytes.len() + chunk.len() > 2 * self.keep {
            let drop = (self.bytes.len() + chunk.len())
                .saturating_sub(self.keep)
                .min(self.bytes.len());
            self.bytes.drain(..drop);
            self.start += drop;
        }
        self.bytes.extend_from_slice(chunk);
    }

    /// The input bytes at stream offsets `range`, if they are still held.
    pub(crate) fn get(&self, range: std::ops::Range<usize>) -> Option<&[u8]> {
        let start = range.start.checked_sub(self.start)?;
        let end = range.end.checked_sub(self.start)?;
        self.bytes.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tail() {
        let mut r = Retained::new(4);
        for chunk in [&b"abc"[..], b"defg", b"hij"] {
            r.push(chunk);
        }
        assert_eq!(r.get(6..10), Some(&b"ghij"[..]));
        assert_eq!(r.get(0..2), None);
        let mut big = Retained::new(2);
        big.push(b"0123456789");
        assert_eq!(big.get(0..10), Some(&b"0123456789"[..]));
    }
}
