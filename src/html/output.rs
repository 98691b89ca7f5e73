//! The output side. The handlers never change anything through lol_html, so lol_html's
//! output is the input, byte for byte, and an edit can be named by input offsets: the
//! handlers queue [`Event`]s (a value's new bytes, where a `<style>` or `<noscript>` text
//! starts and ends) and [`Output`] applies them to the bytes as they go out. A text is
//! collected raw (up to the text buffer cap), rewritten, and written in its place.

use super::document::{Doc, DocState};
use super::events::{Event, TextJob, TextKind};
use crate::decoded::{Edits, apply_edits_bytes};
use crate::html::attributes::ValueKind;
use crate::memo::Scratch;
use crate::report::{Outcome, Report, SkipReason};
use crate::value::Ctx;

/// A text being collected.
#[derive(Debug)]
struct Inside {
    job: Box<TextJob>,
    text: Vec<u8>,
    /// Past the cap: the text went out unchanged and the rest follows it.
    overflowed: bool,
}

/// Rewrites the content of a `<noscript>` (HTML, a document of its own in the context its
/// job says) into `out`. The output is given it, so that it need not know the path that
/// rewrites documents (see [`super::whole::rewrite_nested`]).
pub(crate) type Nested = fn(&Doc<'_>, &TextJob, &[u8], &mut Vec<u8>) -> Report;

/// Applies a document's events to its bytes as they go out.
#[derive(Debug)]
pub(crate) struct Output {
    /// The input offset of the next byte.
    position: usize,
    /// The end of the range a replacement stands for.
    skip_to: usize,
    inside: Option<Inside>,
    nested: Nested,
}

impl Output {
    pub(crate) fn new(nested: Nested) -> Self {
        Output {
            position: 0,
            skip_to: 0,
            inside: None,
            nested,
        }
    }

    /// Writes the next input `bytes` to `out`, with the events that fall inside them.
    pub(crate) fn feed(&mut self, doc: &Doc<'_>, mut bytes: &[u8], out: &mut Vec<u8>) {
        let mut guard = doc.lock_state();
        let state = &mut *guard;
        loop {
            if self.skip_to > self.position {
                let skipped = (self.skip_to - self.position).min(bytes.len());
                bytes = &bytes[skipped..];
                self.position += skipped;
            }
            let end = self.position + bytes.len();
            let Some(event) = state.events.queue.front().filter(|event| event.at() <= end) else {
                break;
            };
            let at = event.at().max(self.position);
            let (before, after) = bytes.split_at(at - self.position);
            self.emit(doc, &mut state.report, before, out);
            bytes = after;
            self.position = at;
            match state.events.queue.pop_front().expect("just seen") {
                Event::Replace { range, text } => {
                    let DocState { events, report, .. } = &mut *state;
                    self.emit(doc, report, &events.arena[text], out);
                    self.skip_to = range.end;
                }
                Event::TextStart { job, .. } => {
                    self.close_unfinished(out);
                    self.inside = Some(Inside {
                        job,
                        text: Vec::new(),
                        overflowed: false,
                    });
                }
                Event::TextEnd { .. } => self.finish_text(doc, state, out),
            }
        }
        self.emit(doc, &mut state.report, bytes, out);
        self.position += bytes.len();
        if state.events.queue.is_empty() {
            state.events.arena.clear();
        }
    }

    /// The input is over: a text whose end never came goes out unchanged.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        self.close_unfinished(out);
    }

    fn emit(&mut self, doc: &Doc<'_>, report: &mut Report, bytes: &[u8], out: &mut Vec<u8>) {
        let Some(inside) = &mut self.inside else {
            out.extend_from_slice(bytes);
            return;
        };
        if inside.overflowed {
            out.extend_from_slice(bytes);
        } else if inside.text.len() + bytes.len() > doc.shared.limits.text_buffer {
            inside.overflowed = true;
            out.append(&mut inside.text);
            out.extend_from_slice(bytes);
            report.record(Outcome::Skipped(SkipReason::TooLarge), "");
        } else {
            inside.text.extend_from_slice(bytes);
        }
    }

    fn close_unfinished(&mut self, out: &mut Vec<u8>) {
        if let Some(mut inside) = self.inside.take() {
            out.append(&mut inside.text);
        }
    }

    fn finish_text(&mut self, doc: &Doc<'_>, state: &mut DocState, out: &mut Vec<u8>) {
        let Some(inside) = self.inside.take() else {
            return;
        };
        if inside.overflowed {
            return;
        }
        let DocState {
            report, scratch, ..
        } = state;
        rewrite_text(
            doc,
            &inside.job,
            &inside.text,
            self.nested,
            report,
            scratch,
            out,
        );
    }
}

/// Rewrites one text into `out`.
fn rewrite_text(
    doc: &Doc<'_>,
    job: &TextJob,
    text: &[u8],
    nested: Nested,
    report: &mut Report,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    let ctx = Ctx {
        shared: &doc.shared,
        page: &doc.page,
        base: job.base.as_ref().unwrap_or(&doc.page),
        force: job.force,
        utf8: doc.encoding == encoding_rs::UTF_8,
    };
    match job.kind {
        TextKind::Css => ctx.bust_css_bytes(text, doc.encoding, report, scratch, out),
        TextKind::SvgCss => svg_css(&ctx, text, doc.encoding, report, scratch, out),
        TextKind::Html => {
            report.merge(&nested(doc, job, text, out));
        }
    }
}

/// An SVG `<style>`: its text is parsed as markup, so character references are decoded; a
/// CDATA section holds raw CSS. Anything else with markup in it is left alone.
fn svg_css(
    ctx: &Ctx<'_>,
    text: &[u8],
    encoding: &'static encoding_rs::Encoding,
    report: &mut Report,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) {
    let trimmed_start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let body = &text[trimmed_start..];
    if let Some(inner) = body.strip_prefix(b"<![CDATA[") {
        if let Some(end) = memchr::memmem::find(inner, b"]]>") {
            if !inner[end + 3..].contains(&b'<') {
                let split = trimmed_start + 9;
                out.extend_from_slice(&text[..split]);
                ctx.bust_css_bytes(&inner[..end], encoding, report, scratch, out);
                out.extend_from_slice(&inner[end..]);
                return;
            }
        }
    }
    if text.contains(&b'<') {
        out.extend_from_slice(text);
        return;
    }
    let mut edits = Edits::default();
    ctx.bust_attribute_bytes(ValueKind::Css, text, encoding, report, scratch, &mut edits);
    apply_edits_bytes(text, &edits, out);
}
