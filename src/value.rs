//! Busting values: one reference, a srcset, CSS, or an HTML attribute holding one of them.
//!
//! Each value is decoded (HTML character references, CSS escapes) to find its references,
//! every reference is resolved and stamped, and the edits are mapped back onto the raw text,
//! so that the only bytes that change are the version's.

use crate::config::Shared;
use crate::css;
use crate::decoded::{Decoded, Edit, apply_edits, apply_edits_bytes};
use crate::html::attributes::ValueKind;
use crate::html::decode_attribute;
use crate::manifest::Entry;
use crate::report::{Outcome, Report, SkipReason};
use crate::resolve::{Lookup, Resolver};
use crate::srcset;
use crate::stamp::{self, Stamp};
use encoding_rs::Encoding;
use url::Url;

/// The resolution context of one document (or one URL).
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) page: &'a Url,
    pub(crate) base: &'a Url,
    /// Every reference is skipped for this reason (`before-base`, `opted-out`, ...).
    pub(crate) force: Option<SkipReason>,
}

fn is_html_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0C' | '\r' | ' ')
}

impl Ctx<'_> {
    /// Busts one reference; the edits are in `value`'s coordinates.
    pub(crate) fn bust_reference(
        &self,
        value: &str,
        amp: &str,
        report: &mut Report,
        scratch: &mut String,
    ) -> Vec<Edit> {
        let (outcome, edits) = self.bust_one(value, amp, scratch);
        report.record(outcome, value.trim_matches(is_html_space));
        edits
    }

    /// What happens to one reference, and the edits (in `value`'s coordinates).
    fn bust_one(&self, value: &str, amp: &str, scratch: &mut String) -> (Outcome, Vec<Edit>) {
        let trimmed = value.trim_matches(is_html_space);
        let offset = value.len() - value.trim_start_matches(is_html_space).len();
        let (outcome, edits) = match self.force {
            Some(reason) => (Outcome::Skipped(reason), Vec::new()),
            None => self.stamp(trimmed, amp, scratch),
        };
        (
            outcome,
            edits.into_iter().map(|e| e.shifted(offset)).collect(),
        )
    }

    fn stamp(&self, t: &str, amp: &str, scratch: &mut String) -> (Outcome, Vec<Edit>) {
        let resolver = Resolver {
            shared: self.shared,
            page: self.page,
            base: self.base,
        };
        let (target, lookup) = match resolver.resolve(t, scratch) {
            Ok(found) => found,
            Err(reason) => return (Outcome::Skipped(reason), Vec::new()),
        };
        let stamp = match lookup {
            Lookup::Entry(Entry::Version(v)) => Stamp::Version(v),
            Lookup::Global(v) => Stamp::Version(v),
            Lookup::Entry(Entry::Rename(path)) => Stamp::Rename(path),
            Lookup::RenameTarget => return (Outcome::Current, Vec::new()),
            Lookup::Missing => return (Outcome::Missing, Vec::new()),
        };
        match stamp::edits(t, &target, stamp, &self.shared.param, amp) {
            Some(edits) => (Outcome::Rewritten, edits),
            None => (Outcome::Current, Vec::new()),
        }
    }

    /// Busts every reference in `text`, a value of `kind` with no HTML escaping.
    pub(crate) fn bust_text(
        &self,
        kind: ValueKind,
        text: &str,
        amp: &str,
        report: &mut Report,
        scratch: &mut String,
    ) -> Vec<Edit> {
        match kind {
            ValueKind::Url => self.bust_reference(text, amp, report, scratch),
            ValueKind::Srcset => {
                let mut edits = Vec::new();
                srcset::for_each_url(text, |span| {
                    let found = self.bust_reference(&text[span.clone()], amp, report, scratch);
                    edits.extend(found.into_iter().map(|e| e.shifted(span.start)));
                });
                edits
            }
            ValueKind::Css => self.bust_css_tokens(text.as_bytes(), amp, report, scratch),
        }
    }

    /// Busts the URLs of CSS text given as bytes of an ASCII-compatible encoding; the edits
    /// are in byte offsets of `css_text`.
    fn bust_css_tokens(
        &self,
        css_text: &[u8],
        amp: &str,
        report: &mut Report,
        scratch: &mut String,
    ) -> Vec<Edit> {
        let mut edits = Vec::new();
        css::scan(css_text, |token| {
            let Ok(raw) = std::str::from_utf8(&css_text[token.span.clone()]) else {
                report.record(Outcome::Skipped(SkipReason::Unparseable), "");
                return;
            };
            let decoded = if token.escaped {
                css::decode_escapes(raw)
            } else {
                Decoded::identity(raw)
            };
            let found = self.bust_reference(&decoded.text, amp, report, scratch);
            edits.extend(found.into_iter().map(|e| {
                Edit {
                    range: decoded.raw_range(e.range),
                    text: e.text,
                }
                .shifted(token.span.start)
            }));
        });
        edits
    }

    /// Busts a raw HTML attribute value (entities still encoded, as lol_html hands it
    /// over); the new raw value, or `None` when nothing changes.
    pub(crate) fn bust_attribute(
        &self,
        kind: ValueKind,
        raw: &str,
        report: &mut Report,
        scratch: &mut String,
    ) -> Option<String> {
        let amp = if raw.contains("&amp;") { "&amp;" } else { "&" };
        let decoded = decode_attribute(raw);
        let edits = self.bust_text(kind, &decoded.text, amp, report, scratch);
        if edits.is_empty() {
            return None;
        }
        let raw_edits: Vec<Edit> = edits
            .into_iter()
            .map(|e| Edit {
                range: decoded.raw_range(e.range),
                text: e.text,
            })
            .collect();
        Some(apply_edits(raw, &raw_edits))
    }

    /// Busts a raw attribute value given as bytes of the document's encoding; the new raw
    /// bytes, or `None` when nothing changes. Bytes that do not decode (an invalid sequence)
    /// leave the value alone, its references reported `unparseable`.
    pub(crate) fn bust_attribute_bytes(
        &self,
        kind: ValueKind,
        raw: &[u8],
        encoding: &'static Encoding,
        report: &mut Report,
        scratch: &mut String,
    ) -> Option<Vec<u8>> {
        let decoded = decode_exactly(raw, encoding);
        let Some(text) = decoded else {
            let lossy = encoding.decode_without_bom_handling(raw).0;
            self.skipping(SkipReason::Unparseable)
                .bust_attribute(kind, &lossy, report, scratch);
            return None;
        };
        let new = self.bust_attribute(kind, &text, report, scratch)?;
        Some(match encoding == encoding_rs::UTF_8 || new.is_ascii() {
            true => new.into_bytes(),
            false => encoding.encode(&new).0.into_owned(),
        })
    }

    /// The same context, every reference skipped for `reason` (unless already skipped).
    fn skipping(&self, reason: SkipReason) -> Ctx<'_> {
        Ctx {
            force: self.force.or(Some(reason)),
            ..*self
        }
    }

    /// Busts CSS text in the document's encoding (a `<style>` element's raw bytes),
    /// appending the result to `out`. Bytes outside URLs are copied as they are.
    pub(crate) fn bust_css_bytes(
        &self,
        css_bytes: &[u8],
        encoding: &'static Encoding,
        report: &mut Report,
        scratch: &mut String,
        out: &mut Vec<u8>,
    ) {
        if encoding == encoding_rs::UTF_8 || css_bytes.is_ascii() {
            // ASCII bytes mean ASCII characters here: scan in place.
            let edits = self.bust_css_tokens(css_bytes, "&", report, scratch);
            apply_edits_bytes(css_bytes, &edits, out);
            return;
        }
        // Multi-byte encodings can hide ASCII bytes inside characters: decode, rewrite, and
        // encode back, keeping the original wherever that would not give the same bytes.
        let Some(text) = decode_exactly(css_bytes, encoding) else {
            let lossy = encoding.decode_without_bom_handling(css_bytes).0;
            self.skipping(SkipReason::Unparseable).bust_css_tokens(
                lossy.as_bytes(),
                "&",
                report,
                scratch,
            );
            out.extend_from_slice(css_bytes);
            return;
        };
        let edits = self.bust_css_tokens(text.as_bytes(), "&", report, scratch);
        if edits.is_empty() {
            out.extend_from_slice(css_bytes);
        } else {
            let new_text = apply_edits(&text, &edits);
            out.extend_from_slice(&encoding.encode(&new_text).0);
        }
    }
}

/// `bytes` decoded from `encoding`, if they decode without error and encode back to
/// themselves (so that an edit of the text can be written back as bytes).
fn decode_exactly<'a>(
    bytes: &'a [u8],
    encoding: &'static Encoding,
) -> Option<std::borrow::Cow<'a, str>> {
    if encoding == encoding_rs::UTF_8 || bytes.is_ascii() {
        return std::str::from_utf8(bytes)
            .ok()
            .map(std::borrow::Cow::Borrowed);
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return None;
    }
    let (back, _, unmappable) = encoding.encode(&text);
    (!unmappable && *back == *bytes).then_some(text)
}

/// The result of busting one URL: the URL to write, and what happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Busted<'a> {
    /// The URL with its version, or the input itself (borrowed) when nothing changed.
    pub url: std::borrow::Cow<'a, str>,
    /// What happened, and if nothing did, why.
    pub outcome: Outcome,
}

impl crate::Buster {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            shared: &self.shared,
            page: &self.page,
            base: &self.page,
            force: None,
        }
    }

    fn bust_plain<'a>(
        &self,
        kind: ValueKind,
        text: &'a str,
    ) -> (std::borrow::Cow<'a, str>, Report) {
        let mut report = Report::default();
        let edits = self
            .ctx()
            .bust_text(kind, text, "&", &mut report, &mut String::new());
        let out = if edits.is_empty() {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(apply_edits(text, &edits))
        };
        (out, report)
    }

    /// Busts one URL, as rendering code writes it (no HTML escaping). Relative URLs resolve
    /// against the page URL. Nothing is allocated for the result when nothing changes.
    ///
    /// ```
    /// use cachebust::{Outcome, SkipReason};
    /// let m = cachebust::Manifest::from_json(r#"{"/img/a.jpg": "3f9a"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// assert_eq!(buster.bust_url("/img/a.jpg?w=500#top").url, "/img/a.jpg?w=500&vh=3f9a#top");
    /// assert_eq!(buster.bust_url("/img/a.jpg?vh=3f9a").outcome, Outcome::Current);
    /// assert_eq!(buster.bust_url("data:,x").outcome, Outcome::Skipped(SkipReason::Scheme));
    /// assert!(matches!(buster.bust_url("/img/b.jpg").url, std::borrow::Cow::Borrowed(_)));
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn bust_url<'a>(&self, url: &'a str) -> Busted<'a> {
        let (outcome, edits) = self.ctx().bust_one(url, "&", &mut String::new());
        let url = if edits.is_empty() {
            std::borrow::Cow::Borrowed(url)
        } else {
            std::borrow::Cow::Owned(apply_edits(url, &edits))
        };
        Busted { url, outcome }
    }

    /// Busts every candidate of a srcset value; descriptors, commas and white space are kept
    /// byte for byte.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.jpg": "1", "/a@2x.jpg": "2"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let (srcset, report) = buster.bust_srcset("/a.jpg 1x,  /a@2x.jpg 2x");
    /// assert_eq!(srcset, "/a.jpg?vh=1 1x,  /a@2x.jpg?vh=2 2x");
    /// assert_eq!(report.rewritten, 2);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn bust_srcset<'a>(&self, srcset: &'a str) -> (std::borrow::Cow<'a, str>, Report) {
        self.bust_plain(ValueKind::Srcset, srcset)
    }

    /// Busts the URLs of a CSS text (a stylesheet, or declarations of a `style` attribute),
    /// keeping the author's quoting; comments and `data:` URLs are left alone.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/bg.png": "7"}"#)?;
    /// let buster = cachebust::Builder::new(m).build()?;
    /// let (css, _) = buster.bust_css("a { background: url('/bg.png') } /* url(/bg.png) */");
    /// assert_eq!(css, "a { background: url('/bg.png?vh=7') } /* url(/bg.png) */");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn bust_css<'a>(&self, css: &'a str) -> (std::borrow::Cow<'a, str>, Report) {
        self.bust_plain(ValueKind::Css, css)
    }
}
