//! Busting values: one reference, a srcset, CSS, or an HTML attribute holding one of them.
//!
//! Each value is decoded (HTML character references, CSS escapes) to find its references,
//! every reference is resolved and stamped, and the edits are mapped back onto the raw text,
//! so that the only bytes that change are the version's.

use crate::config::Shared;
use crate::css;
use crate::decoded::{
    Decoded, DecodedBuilder, Edits, apply_edits, apply_edits_bytes, map_back, shift,
};
use crate::html::attributes::ValueKind;
use crate::html::decode_attribute;
use crate::manifest::Found;
use crate::memo::Scratch;
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
    /// Whether the text is UTF-8 (a `str`, or a UTF-8 document): a renamed path is then
    /// written with its non-ASCII characters as they are; in any other encoding they are
    /// percent-encoded, which every encoding can carry.
    pub(crate) utf8: bool,
}

impl Ctx<'_> {
    /// Busts one reference, appending its edits (in `value`'s coordinates) to `out`.
    pub(crate) fn bust_reference(
        &self,
        value: &str,
        amp: &str,
        report: &mut Report,
        scratch: &mut Scratch,
        out: &mut Edits,
    ) {
        let outcome = self.bust_one(value, amp, scratch, out);
        let written = value.trim_ascii();
        report.record(outcome, written);
        if self.shared.list_references {
            report
                .references
                .push(crate::listing::describe(self, written, outcome));
        }
    }

    /// What happens to one reference; its edits (in `value`'s coordinates) go to `out`.
    fn bust_one(&self, value: &str, amp: &str, scratch: &mut Scratch, out: &mut Edits) -> Outcome {
        // HTML's white space is ASCII's, byte for byte.
        let trimmed = value.trim_ascii();
        let offset = value.len() - value.trim_ascii_start().len();
        let start = out.len();
        let outcome = match self.force {
            Some(reason) => Outcome::Skipped(reason),
            None => self.stamp(trimmed, amp, scratch, out),
        };
        shift(out.since(start), offset);
        outcome
    }

    fn stamp(&self, t: &str, amp: &str, scratch: &mut Scratch, out: &mut Edits) -> Outcome {
        let resolver = Resolver {
            shared: self.shared,
            page: self.page,
            base: self.base,
        };
        let base = self.base.as_str();
        if let Some(outcome) = scratch.replay(base, t, amp, out) {
            return outcome;
        }
        let mark = out.len();
        let outcome = self.stamp_afresh(&resolver, t, amp, &mut scratch.path, out);
        scratch.remember(t, amp, outcome, out, mark);
        outcome
    }

    fn stamp_afresh(
        &self,
        resolver: &Resolver<'_>,
        t: &str,
        amp: &str,
        path: &mut String,
        out: &mut Edits,
    ) -> Outcome {
        let (target, lookup) = match resolver.resolve(t, path) {
            Ok(found) => found,
            Err(reason) => return Outcome::Skipped(reason),
        };
        let stamp = match lookup {
            Lookup::Entry(Found::Version(v)) => Stamp::Version(v),
            Lookup::Global(v) => Stamp::Version(v),
            Lookup::Entry(Found::Rename(path)) => Stamp::Rename(path),
            Lookup::RenameTarget => return Outcome::Current,
            Lookup::Missing => return Outcome::Missing,
        };
        if stamp::write(t, &target, stamp, &self.shared.param, amp, self.utf8, out) {
            Outcome::Rewritten
        } else {
            Outcome::Current
        }
    }

    /// Busts every reference in `text`, a value of `kind` with no HTML escaping; the edits
    /// (in `text`'s coordinates) go to `out`.
    pub(crate) fn bust_text(
        &self,
        kind: ValueKind,
        text: &str,
        amp: &str,
        report: &mut Report,
        scratch: &mut Scratch,
        out: &mut Edits,
    ) {
        match kind {
            ValueKind::Url => self.bust_reference(text, amp, report, scratch, out),
            ValueKind::Srcset => srcset::for_each_url(text, |span| {
                let start = out.len();
                self.bust_reference(&text[span.clone()], amp, report, scratch, out);
                shift(out.since(start), span.start);
            }),
            ValueKind::Css => self.bust_css_tokens(text.as_bytes(), amp, report, scratch, out),
        }
    }

    /// Busts the URLs of CSS text given as bytes of an ASCII-compatible encoding; the edits
    /// (in byte offsets of `css_text`) go to `out`.
    fn bust_css_tokens(
        &self,
        css_text: &[u8],
        amp: &str,
        report: &mut Report,
        scratch: &mut Scratch,
        out: &mut Edits,
    ) {
        css::scan(css_text, |token| {
            let raw = std::str::from_utf8(&css_text[token.span.clone()]);
            // A text cut short after a `\` (the end of the input) would turn what is written
            // after it into an escape: `url("/a\` + `?vh=V` reads as `/a?vh=V`.
            let cut_escape = raw.is_ok_and(|r| (r.len() - r.trim_end_matches('\\').len()) % 2 == 1);
            let (Ok(raw), false) = (raw, cut_escape) else {
                report.record(Outcome::Skipped(SkipReason::Unparseable), "");
                return;
            };
            let decoded = if token.escaped {
                css::decode_escapes(raw)
            } else {
                Decoded::identity(raw)
            };
            let start = out.len();
            self.bust_reference(&decoded.text, amp, report, scratch, out);
            map_back(out.since(start), &decoded);
            shift(out.since(start), token.span.start);
        });
    }

    /// Busts a raw HTML attribute value (entities still encoded, as lol_html hands it
    /// over); the new raw value, or `None` when nothing changes.
    pub(crate) fn bust_attribute(
        &self,
        kind: ValueKind,
        raw: &str,
        report: &mut Report,
        scratch: &mut Scratch,
    ) -> Option<String> {
        let mut edits = Edits::default();
        self.attribute_edits(kind, raw, report, scratch, &mut edits);
        (!edits.is_empty()).then(|| apply_edits(raw, &edits))
    }

    /// The edits, in `raw`'s coordinates, that bust a raw HTML attribute value.
    fn attribute_edits(
        &self,
        kind: ValueKind,
        raw: &str,
        report: &mut Report,
        scratch: &mut Scratch,
        out: &mut Edits,
    ) {
        // Most values hold no `&` at all, so no character reference: the text is the value.
        if memchr::memchr(b'&', raw.as_bytes()).is_none() {
            self.bust_text(kind, raw, "&", report, scratch, out);
            return;
        }
        let amp = if raw.contains("&amp;") { "&amp;" } else { "&" };
        let decoded = decode_attribute(raw);
        let start = out.len();
        self.bust_text(kind, &decoded.text, amp, report, scratch, out);
        map_back(out.since(start), &decoded);
    }

    /// Busts a raw attribute value given as bytes of the document's encoding; pushes the
    /// edits (in `raw`'s coordinates) to `out`. A reference holding bytes that do not
    /// decode (an invalid sequence) is left alone, reported `unparseable`; the others in
    /// the same value are busted.
    pub(crate) fn bust_attribute_bytes(
        &self,
        kind: ValueKind,
        raw: &[u8],
        encoding: &'static Encoding,
        report: &mut Report,
        scratch: &mut Scratch,
        out: &mut Edits,
    ) {
        match text_of(raw, encoding) {
            ByteText::Mapped(text) => {
                let start = out.len();
                self.attribute_edits(kind, &text.text, report, scratch, out);
                map_back(out.since(start), &text);
            }
            ByteText::Reencoded(text) => {
                if let Some(new) = self.bust_attribute(kind, &text, report, scratch) {
                    out.push(0..raw.len(), &[&encoding.encode(&new).0]);
                }
            }
        }
    }

    /// Busts CSS text in the document's encoding (a `<style>` element's raw bytes),
    /// appending the result to `out`. Bytes outside URLs are copied as they are.
    pub(crate) fn bust_css_bytes(
        &self,
        css_bytes: &[u8],
        encoding: &'static Encoding,
        report: &mut Report,
        scratch: &mut Scratch,
        out: &mut Vec<u8>,
    ) {
        let mut edits = Edits::default();
        match text_of(css_bytes, encoding) {
            ByteText::Mapped(text) => {
                self.bust_css_tokens(text.text.as_bytes(), "&", report, scratch, &mut edits);
                map_back(edits.since(0), &text);
                apply_edits_bytes(css_bytes, &edits, out);
            }
            ByteText::Reencoded(text) => {
                self.bust_css_tokens(text.as_bytes(), "&", report, scratch, &mut edits);
                if edits.is_empty() {
                    out.extend_from_slice(css_bytes);
                } else {
                    out.extend_from_slice(&encoding.encode(&apply_edits(&text, &edits)).0);
                }
            }
        }
    }
}

/// What an undecodable byte reads as: a browser reads U+FFFD, and so a URL holding one is
/// what it fetches (`Resolver::resolve` says `unparseable` of it).
pub(crate) const INVALID: &str = "\u{FFFD}";

/// Text in the document's encoding, made editable.
enum ByteText<'a> {
    /// Decoded with a map back to the bytes: UTF-8 and single-byte encodings, where an ASCII
    /// byte is always an ASCII character, and multi-byte text holding invalid sequences
    /// (see [`multibyte_pieces`]). Undecodable bytes stand in as [`INVALID`], so a URL
    /// holding one is unparseable.
    Mapped(Decoded<'a>),
    /// Multi-byte encodings, where a trail byte can look like ASCII: decoded text that
    /// encodes back to the same bytes, to be edited and encoded again.
    Reencoded(std::borrow::Cow<'a, str>),
}

fn text_of<'a>(bytes: &'a [u8], encoding: &'static Encoding) -> ByteText<'a> {
    if encoding == encoding_rs::UTF_8 || bytes.is_ascii() {
        return ByteText::Mapped(match std::str::from_utf8(bytes) {
            Ok(text) => Decoded::identity(text),
            Err(_) => {
                let mut out = DecodedBuilder::with_capacity(bytes.len() + 16);
                let mut at = 0;
                for chunk in bytes.utf8_chunks() {
                    out.push_verbatim(chunk.valid(), at);
                    at += chunk.valid().len();
                    for _ in chunk.invalid() {
                        out.push(INVALID, at);
                        at += 1;
                    }
                }
                out.finish(bytes.len())
            }
        });
    }
    if encoding.is_single_byte() {
        let mut out = DecodedBuilder::with_capacity(bytes.len() * 2);
        for (at, &byte) in bytes.iter().enumerate() {
            let (decoded, had_errors) =
                encoding.decode_without_bom_handling(std::slice::from_ref(&byte));
            out.push(if had_errors { INVALID } else { &decoded }, at);
        }
        return ByteText::Mapped(out.finish(bytes.len()));
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if !had_errors {
        let (back, _, unmappable) = encoding.encode(&text);
        if !unmappable && *back == *bytes {
            return ByteText::Reencoded(text);
        }
    }
    ByteText::Mapped(multibyte_pieces(bytes, encoding))
}

/// Whether `b` is a character of its own in every ASCII-compatible multi-byte encoding
/// lol_html reads (GBK and gb18030, Big5, EUC-JP, EUC-KR, Shift_JIS): never a trail byte.
/// Their trail bytes are 0x40 and up, except gb18030's digits. The URL delimiters are all
/// such bytes: white space, quotes, parentheses, `/`, `.`, `?`, `#`, `=`, `&`, `;`, `,`.
fn stands_alone(b: u8) -> bool {
    b < 0x30 || (0x3A..0x40).contains(&b)
}

/// Text in a multi-byte encoding that holds invalid sequences, decoded piece by piece
/// between bytes that [`stand alone`](stands_alone): a piece that does not decode stands in
/// as [`INVALID`] per byte, so that only a URL holding it is unparseable, and every other URL
/// of the text, and the delimiters around it, read as written. Pieces that decode map
/// back to where they start; a version is only ever written at a delimiter.
fn multibyte_pieces(bytes: &[u8], encoding: &'static Encoding) -> Decoded<'static> {
    let mut out = DecodedBuilder::with_capacity(bytes.len() * 2);
    let mut start = 0;
    while start < bytes.len() {
        if stands_alone(bytes[start]) {
            out.push_verbatim(
                std::str::from_utf8(&bytes[start..=start]).expect("ASCII"),
                start,
            );
            start += 1;
            continue;
        }
        let end = bytes[start..]
            .iter()
            .position(|&b| stands_alone(b))
            .map_or(bytes.len(), |at| start + at);
        let piece = &bytes[start..end];
        if piece.is_ascii() {
            out.push_verbatim(std::str::from_utf8(piece).expect("ASCII"), start);
        } else {
            match encoding.decode_without_bom_handling_and_without_replacement(piece) {
                Some(text) => out.push(&text, start),
                None => {
                    for at in start..end {
                        out.push(INVALID, at);
                    }
                }
            }
        }
        start = end;
    }
    out.finish(bytes.len())
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
    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            shared: &self.shared,
            page: &self.page,
            base: &self.page,
            force: None,
            utf8: true,
        }
    }

    fn bust_plain<'a>(
        &self,
        kind: ValueKind,
        text: &'a str,
    ) -> (std::borrow::Cow<'a, str>, Report) {
        let mut report = Report::default();
        let mut edits = Edits::default();
        self.ctx().bust_text(
            kind,
            text,
            "&",
            &mut report,
            &mut Scratch::default(),
            &mut edits,
        );
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
        let mut edits = Edits::default();
        let outcome = self
            .ctx()
            .bust_one(url, "&", &mut Scratch::default(), &mut edits);
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
