//! The output side: lol_html's output passes through here. Outside bracketed texts it is
//! copied as it is; a bracketed `<style>` or `<noscript>` text is collected raw (up to the
//! text buffer cap), rewritten, and written in its place, markers removed.

use super::document::{Doc, DocState, Job, TextJob, TextKind};
use super::rewriter::Rewriter;
use crate::html::attributes::ValueKind;
use crate::report::{Outcome, Report, SkipReason};
use crate::value::Ctx;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A bracketed text being collected.
#[derive(Debug)]
struct Inside {
    id: u64,
    text: Vec<u8>,
    /// Past the cap: the text went out unchanged and the rest follows it.
    overflowed: bool,
}

/// The sink's state; lives in the [`Doc`] so that it survives a bail-out of lol_html.
#[derive(Debug, Default)]
pub(crate) struct SinkState {
    /// Output ready for the caller's sink.
    pub(crate) staged: Vec<u8>,
    /// Output that may end in part of a marker.
    pending: Vec<u8>,
    inside: Option<Inside>,
}

/// The lol_html output sink of a document.
pub(crate) struct MarkerSink(pub(crate) Arc<Doc>);

impl lol_html::OutputSink for MarkerSink {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        let doc = &*self.0;
        let mut sink = doc.lock_sink();
        if doc.outstanding.load(Ordering::Relaxed) == 0
            && sink.inside.is_none()
            && sink.pending.is_empty()
        {
            sink.staged.extend_from_slice(chunk);
            return;
        }
        if sink.pending.is_empty() {
            // Most chunks hold no partial marker: look at them where they are.
            let used = sink.process_slice(doc, chunk, false);
            sink.pending.extend_from_slice(&chunk[used..]);
        } else {
            sink.pending.extend_from_slice(chunk);
            sink.process(doc, false);
        }
    }
}

impl SinkState {
    /// Moves what is certain of `pending` on; at the end, everything.
    pub(crate) fn process(&mut self, doc: &Doc, at_end: bool) {
        let pending = std::mem::take(&mut self.pending);
        let used = self.process_slice(doc, &pending, at_end);
        let mut pending = pending;
        pending.drain(..used);
        self.pending = pending;
        if at_end {
            self.close_unfinished();
        }
    }

    /// Handles `bytes`, markers included, and returns how many were used: the rest may be
    /// the start of a marker split across chunks.
    fn process_slice(&mut self, doc: &Doc, bytes: &[u8], at_end: bool) -> usize {
        let marker_len = doc.marker.len();
        let mut at = 0;
        loop {
            let rest = &bytes[at..];
            let Some(pos) = doc.finder.find(rest) else {
                let keep = if at_end {
                    0
                } else {
                    rest.len().min(marker_len - 1)
                };
                self.emit(doc, &rest[..rest.len() - keep]);
                return bytes.len() - keep;
            };
            self.emit(doc, &rest[..pos]);
            let after = &rest[pos + marker_len..];
            let Some(semi) = memchr::memchr(b';', &after[..after.len().min(24)]) else {
                if at_end || after.len() >= 24 {
                    // Not one of ours after all: keep the bytes.
                    self.emit(doc, &rest[pos..pos + marker_len]);
                    at += pos + marker_len;
                    continue;
                }
                return at + pos;
            };
            self.on_marker(doc, &after[..semi]);
            at += pos + marker_len + semi + 1;
        }
    }

    /// Acts on a marker (`t<id>`, `s<id>`, `e`).
    fn on_marker(&mut self, doc: &Doc, tag: &[u8]) {
        doc.outstanding.fetch_sub(1, Ordering::Relaxed);
        let id = || std::str::from_utf8(&tag[1..]).ok()?.parse::<u64>().ok();
        match (tag.first(), id()) {
            (Some(b'e'), _) => self.finish_job(doc),
            (Some(b't'), Some(id)) => {
                if let Some(Job::Tag(bytes)) = doc.lock_state().jobs.remove(&id) {
                    self.emit(doc, &bytes);
                }
            }
            (Some(b's'), Some(id)) => {
                self.close_unfinished();
                self.inside = Some(Inside {
                    id,
                    text: Vec::new(),
                    overflowed: false,
                });
            }
            _ => {}
        }
    }

    fn emit(&mut self, doc: &Doc, bytes: &[u8]) {
        let Some(inside) = &mut self.inside else {
            self.staged.extend_from_slice(bytes);
            return;
        };
        if inside.overflowed {
            self.staged.extend_from_slice(bytes);
        } else if inside.text.len() + bytes.len() > doc.shared.limits.text_buffer {
            inside.overflowed = true;
            self.staged.append(&mut inside.text);
            self.staged.extend_from_slice(bytes);
            doc.lock_state()
                .report
                .record(Outcome::Skipped(SkipReason::TooLarge), "");
        } else {
            inside.text.extend_from_slice(bytes);
        }
    }

    /// A text whose end marker never came (end of input, bail-out) goes out unchanged.
    fn close_unfinished(&mut self) {
        if let Some(mut inside) = self.inside.take() {
            self.staged.append(&mut inside.text);
        }
    }

    fn finish_job(&mut self, doc: &Doc) {
        let Some(inside) = self.inside.take() else {
            return;
        };
        let mut state = doc.lock_state();
        let job = state.jobs.remove(&inside.id);
        if inside.overflowed {
            return;
        }
        let Some(Job::Text(job)) = job else {
            drop(state);
            self.staged.extend_from_slice(&inside.text);
            return;
        };
        // Rewriting the text touches only this document's report and scratch space (a
        // `<noscript>`'s content has a document of its own), so the lock can stay held.
        let DocState {
            report, scratch, ..
        } = &mut *state;
        rewrite_text(doc, &job, &inside.text, report, scratch, &mut self.staged);
    }
}

/// Rewrites one bracketed text into `out`.
fn rewrite_text(
    doc: &Doc,
    job: &TextJob,
    text: &[u8],
    report: &mut Report,
    scratch: &mut String,
    out: &mut Vec<u8>,
) {
    let ctx = Ctx {
        shared: &doc.shared,
        page: &doc.page,
        base: job.base.as_ref().unwrap_or(&doc.page),
        force: job.force,
    };
    match job.kind {
        TextKind::Css => ctx.bust_css_bytes(text, doc.encoding, report, scratch, out),
        TextKind::SvgCss => svg_css(&ctx, text, doc.encoding, report, scratch, out),
        TextKind::Html => {
            let mut rewriter = Rewriter::nested(
                Arc::clone(&doc.shared),
                Arc::clone(&doc.page),
                doc.encoding,
                job.base.clone(),
                job.force,
                |chunk: &[u8]| out.extend_from_slice(chunk),
            );
            rewriter.write(text);
            report.merge(&rewriter.end());
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
    scratch: &mut String,
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
    let new = if text.contains(&b'<') {
        None
    } else {
        ctx.bust_attribute_bytes(ValueKind::Css, text, encoding, report, scratch)
    };
    out.extend_from_slice(new.as_deref().unwrap_or(text));
}
