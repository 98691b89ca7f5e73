//! The output side. The handlers never change anything through lol_html, so lol_html's
//! output is the input, byte for byte, and an edit can be named by input offsets: the
//! handlers queue [`Event`]s (a value's new bytes, where a `<style>` or `<noscript>` text
//! starts and ends) and [`Output`] applies them to the bytes as they go out. A text is
//! collected raw (up to the text buffer cap), rewritten, and written in its place.

use super::document::{Doc, DocState, TextJob, TextKind};
use crate::decoded::{Edits, apply_edits_bytes};
use crate::html::attributes::ValueKind;
use crate::memo::Scratch;
use crate::report::{Outcome, Report, SkipReason};
use crate::value::Ctx;
use std::collections::VecDeque;
use std::ops::Range;

/// Something to do at an input offset.
#[derive(Debug)]
pub(crate) enum Event {
    /// Replace the input bytes `range` with `text` (a span of the events' bytes).
    Replace {
        range: Range<usize>,
        text: Range<usize>,
    },
    /// A text to rewrite starts here. (Boxed: a job takes 96 bytes, and unboxed it would make
    /// every event, replacements by far the most common, that large rather than 40; a page
    /// may queue hundreds of thousands.)
    TextStart { at: usize, job: Box<TextJob> },
    /// The text ends here.
    TextEnd { at: usize },
}

impl Event {
    fn at(&self) -> usize {
        match self {
            Event::Replace { range, .. } => range.start,
            Event::TextStart { at, .. } | Event::TextEnd { at } => *at,
        }
    }
}

/// The events of a document, in input order, and the bytes they write.
#[derive(Debug, Default)]
pub(crate) struct Events {
    queue: VecDeque<Event>,
    /// The bytes replacements write, one after the other.
    arena: Vec<u8>,
}

impl Events {
    /// Queues the replacement of the input bytes `range` by `text`.
    pub(crate) fn replace(&mut self, range: Range<usize>, text: &[u8]) {
        let start = self.arena.len();
        self.arena.extend_from_slice(text);
        let text = start..self.arena.len();
        self.push(Event::Replace { range, text });
    }

    /// Makes room for the edits of about `tags` start tags: an image listing's tag has
    /// three or four references, most written with one insertion of some 24 bytes.
    #[cfg_attr(not(feature = "fast-scan"), allow(dead_code))] // used by the scan
    pub(crate) fn reserve(&mut self, tags: usize) {
        self.queue.reserve(tags.saturating_mul(4));
        self.arena.reserve(tags.saturating_mul(32));
    }

    /// Queues `event` in input order: after the others, but for the end of an SVG
    /// `<style>`'s text, which lol_html reports before the start tags inside it are read
    /// (see [`super::document::Doc::read_pending`]).
    pub(crate) fn push(&mut self, event: Event) {
        if self.queue.back().is_none_or(|last| last.at() <= event.at()) {
            self.queue.push_back(event);
        } else {
            let at = self
                .queue
                .partition_point(|queued| queued.at() <= event.at());
            self.queue.insert(at, event);
        }
    }
}

/// A text being collected.
#[derive(Debug)]
struct Inside {
    job: Box<TextJob>,
    text: Vec<u8>,
    /// Past the cap: the text went out unchanged and the rest follows it.
    overflowed: bool,
}

/// Applies a document's events to its bytes as they go out.
#[derive(Debug, Default)]
pub(crate) struct Output {
    /// The input offset of the next byte.
    position: usize,
    /// The end of the range a replacement stands for.
    skip_to: usize,
    inside: Option<Inside>,
}

impl Output {
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
        rewrite_text(doc, &inside.job, &inside.text, report, scratch, out);
    }
}

/// Rewrites one text into `out`.
fn rewrite_text(
    doc: &Doc<'_>,
    job: &TextJob,
    text: &[u8],
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
            report.merge(&super::whole::rewrite_nested(doc, job, text, out));
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
