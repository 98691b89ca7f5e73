//! Stylesheets as documents: a `.css` file, or a `text/css` response, rewritten with the
//! CSS rules of pages (`url()` quoted or not, `image-set()`, `@import`; comments and
//! `data:` left alone), its references resolving against the stylesheet's own URL (the
//! [`Buster`]'s page URL, set with [`Buster::for_page`]).
//!
//! The encoding is decided as a browser decides it (CSS Syntax §3.2): a byte order mark,
//! else the protocol's charset (a response's `Content-Type`), else an `@charset "…";` rule
//! at the very start, else the configured encoding ([`Builder::with_encoding`], the
//! referring page's), else UTF-8. Invalid bytes pass through untouched; only a URL that holds
//! one is `unparseable`. A stylesheet in UTF-16 passes through unchanged, with a warning.
//!
//! A stylesheet is rewritten whole: [`StylesheetRewriter`] takes it in chunks and buffers
//! it up to [`Builder::with_stylesheet_limit`] (16 MiB by default); a longer one passes
//! through unchanged and the report says so (`too-large`). So the output never depends on
//! how the input was split, and memory is bounded by that limit.
//!
//! [`Builder::with_encoding`]: crate::Builder::with_encoding
//! [`Builder::with_stylesheet_limit`]: crate::Builder::with_stylesheet_limit
//!
//! ```
//! let manifest = cachebust::Manifest::from_json(r#"{"/img/bg.png": "7", "/css/base.css": "b2"}"#)?;
//! let buster = cachebust::Builder::new(manifest).build()?;
//! let sheet = buster.for_page("https://example.com/css/site.css")?;
//! let (css, report) = sheet.rewrite_css_bytes(
//!     b"@import 'base.css'; a { background: url(../img/bg.png) } /* url(../img/bg.png) */",
//! );
//! assert_eq!(
//!     css,
//!     b"@import 'base.css?vh=b2'; a { background: url(../img/bg.png?vh=7) } /* url(../img/bg.png) */"
//! );
//! assert_eq!(report.rewritten, 2);
//! # Ok::<(), cachebust::Error>(())
//! ```

use crate::config::Buster;
use crate::memo::Scratch;
use crate::report::{Outcome, Report, SkipReason};
use encoding_rs::{Encoding, UTF_8};

/// The encoding of a stylesheet `css`, and how many bytes of byte order mark start it.
/// `protocol` is a response's charset label, `fallback` the referring document's encoding.
fn decide_encoding(
    css: &[u8],
    protocol: Option<&'static Encoding>,
    fallback: Option<&'static Encoding>,
) -> (&'static Encoding, usize) {
    if let Some((encoding, bom)) = Encoding::for_bom(css) {
        return (encoding, bom);
    }
    let declared = || {
        // `@charset "label";` exactly, in the first 1024 bytes.
        let rest = css.strip_prefix(b"@charset \"")?;
        let end = rest.iter().take(1024 - 10).position(|&b| b == b'"')?;
        if rest.get(end + 1) != Some(&b';') {
            return None;
        }
        let encoding = Encoding::for_label(&rest[..end])?;
        // A declared UTF-16 is read as UTF-8: the bytes are ASCII-compatible.
        Some(
            if encoding == encoding_rs::UTF_16BE || encoding == encoding_rs::UTF_16LE {
                UTF_8
            } else {
                encoding
            },
        )
    };
    (protocol.or_else(declared).or(fallback).unwrap_or(UTF_8), 0)
}

impl Buster {
    /// Rewrites a whole stylesheet given as bytes, its references resolving against this
    /// buster's page URL (the stylesheet's own: see [`Buster::for_page`]). See the module
    /// [`stylesheet`](crate::stylesheet) for the encoding and the rules.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/img/a.png": "1"}"#)?;
    /// let sheet = cachebust::Builder::new(m).build()?.for_page("http://localhost/css/a.css")?;
    /// let (out, report) = sheet.rewrite_css_bytes(br#"b { background: url("../img/a.png") }"#);
    /// assert_eq!(out, br#"b { background: url("../img/a.png?vh=1") }"#);
    /// assert_eq!(report.rewritten, 1);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewrite_css_bytes(&self, css: &[u8]) -> (Vec<u8>, Report) {
        let mut out = Vec::with_capacity(css.len() + css.len() / 32);
        let report = self.rewrite_css_to(css, None, &mut out);
        (out, report)
    }

    /// Rewrites a whole stylesheet like [`Buster::rewrite_css_bytes`], read in `charset` (a
    /// response's `Content-Type` label) unless a byte order mark says otherwise, appending
    /// the result to `out`.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/img/café.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let mut out = Vec::new();
    /// buster.rewrite_css_to(b"a { background: url(/img/caf\xe9.png) }", Some("windows-1252"), &mut out);
    /// assert_eq!(out, b"a { background: url(/img/caf\xe9.png?vh=1) }");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn rewrite_css_to(&self, css: &[u8], charset: Option<&str>, out: &mut Vec<u8>) -> Report {
        let protocol = charset.and_then(|label| Encoding::for_label(label.trim().as_bytes()));
        let (encoding, bom) = decide_encoding(css, protocol, self.shared.encoding);
        let mut report = Report::default();
        // UTF-16, ISO-2022-JP and the replacement encoding: the CSS scanner reads ASCII bytes.
        if !encoding.is_ascii_compatible() {
            report.warnings.push(format!(
                "the stylesheet is in {}, which is not ASCII-compatible; passed through unchanged",
                encoding.name()
            ));
            out.extend_from_slice(css);
            return report;
        }
        out.extend_from_slice(&css[..bom]);
        let ctx = crate::value::Ctx {
            utf8: encoding == UTF_8,
            ..self.ctx()
        };
        ctx.bust_css_bytes(
            &css[bom..],
            encoding,
            &mut report,
            &mut Scratch::default(),
            out,
        );
        report
    }

    /// A rewriter that takes a stylesheet in chunks (a response body): see
    /// [`StylesheetRewriter`].
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let mut sheet = buster.stylesheet_rewriter();
    /// let mut out = sheet.write(b"a{background:url(/a");
    /// out.extend(sheet.write(b".png)}"));
    /// let (rest, report) = sheet.finish();
    /// out.extend(rest);
    /// assert_eq!(out, b"a{background:url(/a.png?vh=1)}");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn stylesheet_rewriter(&self) -> StylesheetRewriter {
        StylesheetRewriter {
            buster: self.clone(),
            charset: None,
            buffer: Vec::new(),
            overflowed: false,
        }
    }
}

/// A stylesheet taken in chunks: buffered up to the stylesheet limit, rewritten whole when
/// it ends; past the limit, everything passes through unchanged (reported), so the output
/// never depends on the chunks.
pub struct StylesheetRewriter {
    buster: Buster,
    charset: Option<String>,
    buffer: Vec<u8>,
    /// The stylesheet outgrew the limit: what comes is passed on as it comes.
    overflowed: bool,
}

impl StylesheetRewriter {
    /// Reads the stylesheet in `charset` (a `Content-Type` label) unless a byte order mark
    /// says otherwise.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let sheet = buster.stylesheet_rewriter().with_charset("windows-1252");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_charset(mut self, label: &str) -> Self {
        self.charset = Some(label.to_owned());
        self
    }

    /// Takes the next chunk; returns the bytes ready to send (none until the end, unless the
    /// stylesheet outgrew the limit).
    pub fn write(&mut self, chunk: &[u8]) -> Vec<u8> {
        if self.overflowed {
            return chunk.to_vec();
        }
        self.buffer.extend_from_slice(chunk);
        if self.buffer.len() > self.buster.shared.limits.stylesheet {
            self.overflowed = true;
            return std::mem::take(&mut self.buffer);
        }
        Vec::new()
    }

    /// Ends the stylesheet: the last bytes to send, and the report.
    pub fn finish(self) -> (Vec<u8>, Report) {
        if self.overflowed {
            let mut report = Report::default();
            report.record(Outcome::Skipped(SkipReason::TooLarge), "");
            report.bail_out = Some(format!(
                "the stylesheet is longer than the stylesheet limit ({} bytes); passed through unchanged",
                self.buster.shared.limits.stylesheet
            ));
            return (Vec::new(), report);
        }
        let mut out = Vec::with_capacity(self.buffer.len() + self.buffer.len() / 32);
        let report = self
            .buster
            .rewrite_css_to(&self.buffer, self.charset.as_deref(), &mut out);
        (out, report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_is_decided_as_a_browser_decides_it() {
        let w1252 = encoding_rs::WINDOWS_1252;
        let sjis = encoding_rs::SHIFT_JIS;
        assert_eq!(decide_encoding(b"a{}", None, None), (UTF_8, 0));
        assert_eq!(
            decide_encoding(b"\xEF\xBB\xBFa{}", Some(w1252), None),
            (UTF_8, 3)
        );
        assert_eq!(
            decide_encoding(b"@charset \"shift_jis\"; a{}", None, Some(w1252)),
            (sjis, 0)
        );
        // The protocol wins over @charset; @charset over the referring document's.
        assert_eq!(
            decide_encoding(b"@charset \"shift_jis\"; a{}", Some(w1252), None),
            (w1252, 0)
        );
        // Only the exact form counts.
        for loose in [
            &b"@charset 'shift_jis';"[..],
            b" @charset \"shift_jis\";",
            b"@CHARSET \"shift_jis\";",
            b"@charset \"shift_jis\"",
        ] {
            assert_eq!(decide_encoding(loose, None, Some(w1252)), (w1252, 0));
        }
        assert_eq!(
            decide_encoding(b"@charset \"utf-16\";", None, None),
            (UTF_8, 0)
        );
    }
}
