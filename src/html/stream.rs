//! The streaming rewriter: `write` chunks in, rewritten bytes out to a sink, `end` for the
//! [`Report`].

use super::document::{Doc, Input};
use super::encoding::{bail_out_message, choose_encoding, rewritable};
use super::lock;
use super::output::Output;
use super::retained::Retained;
use super::scout::Scout;
use crate::config::Shared;
use crate::report::Report;
use encoding_rs::Encoding;
use lol_html::errors::RewritingError;
use std::sync::{Arc, Mutex};
use url::Url;

/// lol_html's output: the input again (nothing is changed through lol_html), collected
/// for [`Output`] to apply the document's events to.
struct Staging(Arc<Mutex<Vec<u8>>>);

impl lol_html::OutputSink for Staging {
    fn handle_chunk(&mut self, chunk: &[u8]) {
        lock(&self.0).extend_from_slice(chunk);
    }
}

type Html = lol_html::send::HtmlRewriter<'static, Staging>;

/// The most input handed to lol_html at once.
const SLICE: usize = 64 << 10;

enum Phase {
    /// Buffering the start of the document until its encoding and `<base>` are known.
    LookAhead {
        buffered: Vec<u8>,
        scout: Box<Scout>,
    },
    Rewriting {
        html: Box<Html>,
        doc: Arc<Doc<'static>>,
        staged: Arc<Mutex<Vec<u8>>>,
    },
    /// After a bail-out, or for a document that cannot be rewritten: bytes go straight
    /// through (past the document's remaining events, if there is a document).
    Passthrough { doc: Option<Arc<Doc<'static>>> },
}

/// Where a [`Rewriter`] writes: any `FnMut(&[u8])`, or a `Vec<u8>` that collects.
///
/// ```
/// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
/// let mut rewriter = buster.rewriter(Vec::new());
/// rewriter.write(b"<p>hi</p>");
/// let (out, _report) = rewriter.finish();
/// assert_eq!(out, b"<p>hi</p>");
/// # Ok::<(), cachebust::Error>(())
/// ```
pub trait Sink {
    /// Takes the next rewritten bytes.
    fn write(&mut self, chunk: &[u8]);
}

impl<F: FnMut(&[u8])> Sink for F {
    fn write(&mut self, chunk: &[u8]) {
        self(chunk)
    }
}

impl Sink for Vec<u8> {
    fn write(&mut self, chunk: &[u8]) {
        self.extend_from_slice(chunk)
    }
}

/// Rewrites one document as it streams: [`Rewriter::write`] each chunk, then
/// [`Rewriter::end`]. The output goes to the sink as soon as it is known; the output does not
/// depend on how the input is split.
///
/// Nothing is ever lost: if rewriting must stop (a memory limit, say), the rest of the
/// document passes through unchanged and [`Report::bail_out`] says why.
///
/// ```
/// let manifest = cachebust::Manifest::from_json(r#"{"/img/a.png": "v2"}"#)?;
/// let buster = cachebust::Builder::new(manifest).build()?;
/// let mut out = Vec::new();
/// let mut rewriter = buster.rewriter(|chunk: &[u8]| out.extend_from_slice(chunk));
/// rewriter.write(b"<img sr");
/// rewriter.write(b"c=\"/img/a.png\">");
/// let report = rewriter.end();
/// assert_eq!(out, b"<img src=\"/img/a.png?vh=v2\">");
/// assert_eq!(report.rewritten, 1);
/// # Ok::<(), cachebust::Error>(())
/// ```
pub struct Rewriter<O: Sink> {
    shared: Arc<Shared>,
    page: Arc<Url>,
    sink: O,
    phase: Phase,
    output: Output,
    /// Output on its way to the sink, reused.
    out: Vec<u8>,
    /// Warnings raised before a document was set up.
    report: Report,
    /// An encoding the caller imposes ([`Rewriter::with_charset`]).
    charset: Option<&'static Encoding>,
}

impl<O: Sink> Rewriter<O> {
    pub(crate) fn new(shared: Arc<Shared>, page: Arc<Url>, sink: O) -> Self {
        let lookahead = shared.limits.base_lookahead;
        let want_charset = shared.encoding.is_none();
        Rewriter {
            shared,
            page,
            sink,
            phase: Phase::LookAhead {
                buffered: Vec::new(),
                scout: Box::new(Scout::new(lookahead, want_charset)),
            },
            output: Output::new(super::whole::rewrite_nested),
            out: Vec::new(),
            report: Report::default(),
            charset: None,
        }
    }

    /// Rewrites the next chunk of the document.
    pub fn write(&mut self, chunk: &[u8]) {
        match &mut self.phase {
            Phase::LookAhead { buffered, scout } => {
                buffered.extend_from_slice(chunk);
                let bom_known = buffered.len() >= 3;
                if scout.feed(chunk) && bom_known {
                    self.decide();
                }
            }
            Phase::Rewriting { .. } => {
                // Slices keep the kept input and the staged output small whatever the
                // caller's chunk size; the output does not depend on it.
                for slice in chunk.chunks(SLICE) {
                    let Phase::Rewriting { html, doc, .. } = &mut self.phase else {
                        self.pass(slice);
                        continue;
                    };
                    doc.retain(slice);
                    let result = html.write(slice);
                    doc.read_pending();
                    if let Err(error) = result {
                        self.bail_out(&error);
                    }
                    self.drain();
                }
            }
            Phase::Passthrough { .. } => self.pass(chunk),
        }
    }

    /// Finishes the document and returns what was done.
    pub fn end(self) -> Report {
        self.finish().1
    }

    /// The sink, to take what has been written so far (a `Vec<u8>` sink, say).
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let mut rewriter = buster.rewriter(Vec::new());
    /// rewriter.write(b"<p>hi</p>");
    /// let so_far = std::mem::take(rewriter.sink_mut());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn sink_mut(&mut self) -> &mut O {
        &mut self.sink
    }

    /// Reads the document's bytes in `label`'s encoding (a `charset` from a `Content-Type`
    /// header, say), whatever the configuration or the page says. Only before the first
    /// [`Rewriter::write`]; an unknown label is ignored.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// let mut rewriter = buster.rewriter(Vec::new()).with_charset("utf-16le");
    /// rewriter.write(b"<\0p\0>\0");
    /// let (out, report) = rewriter.finish();
    /// assert_eq!(out, b"<\0p\0>\0");
    /// assert_eq!(report.warnings.len(), 1);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_charset(mut self, label: &str) -> Self {
        if let Some(encoding) = Encoding::for_label(label.trim().as_bytes()) {
            self.charset = Some(encoding);
        }
        self
    }

    /// Finishes the document; returns the sink and what was done.
    pub fn finish(mut self) -> (O, Report) {
        if matches!(self.phase, Phase::LookAhead { .. }) {
            self.decide();
        }
        match std::mem::replace(&mut self.phase, Phase::Passthrough { doc: None }) {
            Phase::Rewriting { html, doc, staged } => {
                let result = html.end();
                doc.read_pending();
                self.phase = Phase::Passthrough { doc: Some(doc) };
                if let Err(error) = result {
                    self.report.bail_out = Some(bail_out_message(&error));
                }
                self.pass_staged(&staged);
            }
            other => self.phase = other,
        }
        self.output.finish(&mut self.out);
        self.flush();
        let mut report = std::mem::take(&mut self.report);
        if let Phase::Passthrough { doc: Some(doc) } = &self.phase {
            let mut merged = std::mem::take(&mut doc.lock_state().report);
            merged.merge(&report);
            report = merged;
        }
        (self.sink, report)
    }

    /// The look-ahead is over: choose the encoding and start rewriting what was buffered.
    fn decide(&mut self) {
        let Phase::LookAhead { buffered, scout } =
            std::mem::replace(&mut self.phase, Phase::Passthrough { doc: None })
        else {
            return;
        };
        let findings = scout.findings();
        let encoding = choose_encoding(&buffered, &findings, false, self.charset, &self.shared);
        if let Err(warning) = rewritable(encoding) {
            self.report.warnings.push(warning);
            self.sink.write(&buffered);
            return;
        }
        let doc = Doc::new(
            Arc::clone(&self.shared),
            Arc::clone(&self.page),
            encoding,
            findings.base_offset,
            None,
            None,
            Input::Streamed(Mutex::new(Retained::new(self.shared.limits.parser_memory))),
        );
        let staged = Arc::new(Mutex::new(Vec::new()));
        let html = Box::new(Html::new(
            doc.settings(Doc::every_element()),
            Staging(Arc::clone(&staged)),
        ));
        self.phase = Phase::Rewriting { html, doc, staged };
        if !buffered.is_empty() {
            self.write(&buffered);
        }
    }

    /// lol_html has flushed what it held, unchanged; from now on bytes go straight through.
    fn bail_out(&mut self, error: &RewritingError) {
        self.report.bail_out = Some(bail_out_message(error));
        if let Phase::Rewriting { doc, staged, .. } =
            std::mem::replace(&mut self.phase, Phase::Passthrough { doc: None })
        {
            self.phase = Phase::Passthrough { doc: Some(doc) };
            self.pass_staged(&staged);
        }
    }

    /// Writes input bytes lol_html is done with: through the document's events, if any.
    fn pass(&mut self, bytes: &[u8]) {
        match &self.phase {
            Phase::Rewriting { doc, .. } | Phase::Passthrough { doc: Some(doc) } => {
                let doc = Arc::clone(doc);
                self.output.feed(&doc, bytes, &mut self.out);
                self.flush();
            }
            _ => self.sink.write(bytes),
        }
    }

    /// Hands lol_html's output on.
    fn drain(&mut self) {
        if let Phase::Rewriting { staged, .. } = &self.phase {
            let staged = Arc::clone(staged);
            self.pass_staged(&staged);
        }
    }

    /// Passes on what lol_html wrote to `staged`, and gives the emptied buffer back to be
    /// reused (lol_html writes nothing meanwhile: only `write` and `end` run it).
    fn pass_staged(&mut self, staged: &Mutex<Vec<u8>>) {
        let mut bytes = std::mem::take(&mut *lock(staged));
        self.pass(&bytes);
        bytes.clear();
        *lock(staged) = bytes;
    }

    fn flush(&mut self) {
        if !self.out.is_empty() {
            self.sink.write(&self.out);
            self.out.clear();
        }
    }
}
