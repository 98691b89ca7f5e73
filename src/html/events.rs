//! What the handlers note down for the output to do: [`Event`]s at input offsets (a
//! value's new bytes, where a `<style>` or `<noscript>` text starts and ends, with the
//! [`TextJob`] that says how to rewrite it). The handlers ([`super::document`]) write them;
//! the output ([`super::output`]) applies them. Neither knows the other.

use crate::report::SkipReason;
use std::collections::VecDeque;
use std::ops::Range;
use url::Url;

/// What a text to rewrite holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// An HTML `<style>`: raw CSS.
    Css,
    /// An SVG `<style>`: CSS with character references (or a CDATA section).
    SvgCss,
    /// `<noscript>`: HTML, rewritten like the page.
    Html,
}

/// A text to rewrite and the context it was found in.
#[derive(Debug, Clone)]
pub(crate) struct TextJob {
    pub(crate) kind: TextKind,
    pub(crate) base: Option<Url>,
    pub(crate) force: Option<SkipReason>,
}

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
    pub(crate) fn at(&self) -> usize {
        match self {
            Event::Replace { range, .. } => range.start,
            Event::TextStart { at, .. } | Event::TextEnd { at } => *at,
        }
    }
}

/// The events of a document, in input order, and the bytes they write.
#[derive(Debug, Default)]
pub(crate) struct Events {
    pub(crate) queue: VecDeque<Event>,
    /// The bytes replacements write, one after the other.
    pub(crate) arena: Vec<u8>,
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
    /// (see [`Doc::read_pending`](super::document::Doc::read_pending)).
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
