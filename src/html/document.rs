//! One document being rewritten: the handler, the state it shares with the output, and the
//! lol_html settings that register it.
//!
//! lol_html re-serialises a start tag whose attributes are set (one space between
//! attributes, ` />`), and decodes `<style>` text handed to a text handler (invalid bytes
//! become U+FFFD). Neither keeps the author's bytes, so neither is used: nothing is changed
//! through lol_html, whose output is therefore the input itself. The handler reads a start
//! tag's original bytes (the whole document, or the tail of a stream kept in [`Retained`]),
//! and queues edits by input offset; it marks where `<style>` and `<noscript>` texts start
//! and end. The output ([`super::output`]) applies them. The handler only notes where each
//! start tag is; the tags are read in batches, whenever lol_html returns
//! ([`Doc::read_pending`]). A whole document's tags placed among the plan's candidates
//! ([`super::scan`]) are read once lol_html is done, each from where it starts.

use super::attributes::{Condition, Rule};
use super::charref::decode_attribute;
use super::events::{Event, Events, TextJob, TextKind};
use super::lock;
use super::retained::Retained;
use super::tag::{self, RawAttribute};
use crate::config::Shared;
use crate::decoded::{Edits, shift};
use crate::memo::Scratch;
use crate::report::{Report, SkipReason};
use crate::value::Ctx;
use encoding_rs::Encoding;
use lol_html::html_content::Element;
use lol_html::send::{SendHandlerTypes, Settings};
use lol_html::{AsciiCompatibleEncoding, ElementContentHandlers, HandlerResult, MemorySettings};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use url::Url;

/// The state the handlers and the output share.
#[derive(Debug, Default)]
pub(crate) struct DocState {
    pub(crate) report: Report,
    /// Set by the first `<base href>`.
    pub(crate) base: Option<Url>,
    base_seen: bool,
    pub(crate) events: Events,
    /// Reused from element to element.
    attributes: Vec<RawAttribute>,
    /// A tag's edits, reused from tag to tag.
    edits: Edits,
    pub(crate) scratch: Scratch,
    /// Start tags lol_html reported and the handler has not read yet (see
    /// [`Doc::read_pending`]).
    pending: Vec<Range<usize>>,
}

/// Where the handlers read a start tag's bytes.
pub(crate) enum Input<'i> {
    /// A stream: the tail lol_html may still refer to.
    Streamed(Mutex<Retained>),
    /// The whole document.
    Whole(&'i [u8]),
}

/// The input at hand, held for a while.
enum InputView<'a> {
    Whole(&'a [u8]),
    Streamed(MutexGuard<'a, Retained>),
}

impl InputView<'_> {
    fn get(&self, range: Range<usize>) -> Option<&[u8]> {
        match self {
            InputView::Whole(input) => input.get(range),
            InputView::Streamed(retained) => retained.get(range),
        }
    }
}

/// One document: its settings, its input and its shared state.
pub(crate) struct Doc<'i> {
    pub(crate) shared: Arc<Shared>,
    pub(crate) page: Arc<Url>,
    pub(crate) encoding: &'static Encoding,
    /// Where the first `<base href>` starts, as found by the look-ahead.
    pub(crate) base_offset: Option<usize>,
    /// Set for a `<noscript>`'s content: no `<base>` applies inside, and its context's skip
    /// reason applies to everything.
    pub(crate) nested_force: Option<Option<SkipReason>>,
    /// Shared with end tag handlers, which lol_html wants `'static`.
    pub(crate) state: Arc<Mutex<DocState>>,
    pub(crate) input: Input<'i>,
}

static ANY_ELEMENT: LazyLock<lol_html::Selector> =
    LazyLock::new(|| "*".parse().expect("static selector"));

impl<'i> Doc<'i> {
    pub(crate) fn new(
        shared: Arc<Shared>,
        page: Arc<Url>,
        encoding: &'static Encoding,
        base_offset: Option<usize>,
        base: Option<Url>,
        nested_force: Option<Option<SkipReason>>,
        input: Input<'i>,
    ) -> Arc<Doc<'i>> {
        Arc::new(Doc {
            shared,
            page,
            encoding,
            base_offset,
            nested_force,
            state: Arc::new(Mutex::new(DocState {
                base,
                ..DocState::default()
            })),
            input,
        })
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, DocState> {
        lock(&self.state)
    }

    /// The kept input of a stream (nothing to keep for a whole document).
    pub(crate) fn retain(&self, chunk: &[u8]) {
        if let Input::Streamed(retained) = &self.input {
            lock(retained).push(chunk);
        }
    }

    /// The lol_html settings for this document: its handler on the elements `selector`
    /// matches (every element for a stream, whose content is not known yet; the names a
    /// whole page needs, see [`super::plan`]). (One `*` selector costs lol_html less than a
    /// selector per row of the attribute table: `[style]` alone already takes every tag
    /// through the full lexer.)
    pub(crate) fn settings<'s>(
        self: &Arc<Self>,
        selector: &'s lol_html::Selector,
    ) -> Settings<'i, 's>
    where
        'i: 's,
    {
        let limits = self.shared.limits;
        let encoding =
            AsciiCompatibleEncoding::new(self.encoding).expect("checked ASCII-compatible");
        let doc = Arc::clone(self);
        Settings::new_send()
            .with_encoding(encoding)
            .with_strict(false)
            .with_graceful_bail_out_on_content_handler_error(true)
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(limits.parser_memory)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            .append_element_content_handler((
                Cow::Borrowed(selector),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_, _>| doc.on_element(el)),
            ))
    }

    /// The selector of a stream: every element.
    pub(crate) fn every_element() -> &'static lol_html::Selector {
        &ANY_ELEMENT
    }

    fn on_element(&self, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        let range = el.source_location().bytes();
        match self.with_input(range.clone(), |tag| opens_text(tag).is_some()) {
            Some(false) => {
                self.note_start_tag(range);
                Ok(())
            }
            // Whose text is rewritten too: its end tag has to be seen.
            Some(true) => {
                let opening = Opening {
                    can_have_content: el.can_have_content(),
                    svg: el.namespace_uri() == SVG_NAMESPACE,
                };
                if !self.text_start_tag(range, opening) {
                    return Ok(());
                }
                let shared_state = Arc::clone(&self.state);
                el.on_end_tag(Box::new(move |end| {
                    let at = end.source_location().bytes().start;
                    lock(&shared_state).events.push(Event::TextEnd { at });
                    Ok(())
                }))
            }
            None => {
                self.read_pending();
                self.on_unretained_element(el)
            }
        }
    }

    /// Puts aside the start tag at `range` of the input (of an element whose text is not
    /// rewritten), to be read with the next batch.
    pub(crate) fn note_start_tag(&self, range: Range<usize>) {
        let mut state = self.lock_state();
        state.pending.push(range);
        if state.pending.len() >= PENDING_BATCH {
            drop(state);
            self.read_pending();
        }
    }

    /// Reads the start tag at `range` of the input, of an element whose text is rewritten
    /// too (after the tags put aside before it); returns whether its text starts there, in
    /// which case the caller reports where it ends ([`Doc::text_end`]).
    pub(crate) fn text_start_tag(&self, range: Range<usize>, opening: Opening) -> bool {
        self.read_pending();
        self.with_input(range.clone(), |tag| {
            self.read_start_tag(
                &mut self.lock_state(),
                Some(opening),
                tag,
                false,
                range.start,
            )
        })
        .expect("kept until the write that reported it returns")
    }

    /// The text started by [`Doc::text_start_tag`] ends at `at` (its end tag).
    #[cfg_attr(not(feature = "fast-scan"), allow(dead_code))] // used by the scan
    pub(crate) fn text_end(&self, at: usize) {
        self.lock_state().events.push(Event::TextEnd { at });
    }

    /// Calls `f` with the input bytes at `range`, if they are at hand (a stream keeps only
    /// its tail).
    fn with_input<R>(&self, range: Range<usize>, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        self.input().get(range).map(f)
    }

    #[cfg_attr(not(feature = "fast-scan"), allow(dead_code))] // used by the scan
    fn whole_input(&self) -> Option<&'i [u8]> {
        match self.input {
            Input::Whole(input) => Some(input),
            Input::Streamed(_) => None,
        }
    }

    fn input(&self) -> InputView<'_> {
        match &self.input {
            Input::Whole(input) => InputView::Whole(input),
            Input::Streamed(retained) => InputView::Streamed(lock(retained)),
        }
    }

    /// Reads the start tags put aside, in document order. lol_html finds them; reading them
    /// in batches, rather than each between two of lol_html's steps, keeps the code and data
    /// of each side in cache (a large page is rewritten about a tenth faster), and takes each
    /// lock once a batch. The caller reads what is left whenever lol_html returns, before the
    /// input it refers to is let go.
    pub(crate) fn read_pending(&self) {
        let mut guard = self.lock_state();
        let state = &mut *guard;
        if state.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut state.pending);
        let input = self.input();
        for range in pending.drain(..) {
            let tag = input
                .get(range.clone())
                .expect("kept until the write that reported it returns");
            self.read_start_tag(state, None, tag, false, range.start);
        }
        state.pending = pending;
    }

    /// Reads a start tag and queues its edits; `opening` is given for an element whose text
    /// is rewritten too. Returns whether such a text starts. `tag` is the tag's bytes, or
    /// with `open`, the input from where it starts (where it ends is found reading it; a
    /// tag the input ends inside is none).
    fn read_start_tag(
        &self,
        state: &mut DocState,
        opening: Option<Opening>,
        tag: &[u8],
        open: bool,
        offset: usize,
    ) -> bool {
        let mut lower = [0u8; 16];
        // No element the table names, nor `style`, `noscript` or `base`, is longer; a longer
        // one (a custom element) may still carry an attribute read on any element.
        let raw_name = tag::name(tag);
        let name = tag::lower(raw_name, &mut lower).unwrap_or_default();
        let rules = self.shared.rules_for(name);
        let text = text_of_element(name);
        // Most elements hold nothing of interest: see that without parsing their attributes
        // (with the tag's bytes at hand: otherwise parsing them is how its end is found).
        let any_rule_may_apply = || {
            let any_rules = &self.shared.any_element_rules;
            match open {
                true => !any_rules.is_empty(),
                false => any_rules
                    .iter()
                    .any(|rule| super::plan::contains_ignore_case(tag, rule.attribute.as_bytes())),
            }
        };
        if rules.is_empty() && text.is_none() && name != b"base" && !any_rule_may_apply() {
            return false;
        }
        let mut attrs = std::mem::take(&mut state.attributes);
        let end = tag::attributes(tag, raw_name.len(), &mut attrs);
        let tag = match (open, end) {
            (false, _) => tag,
            (true, Some(end)) => &tag[..=end],
            (true, None) => {
                state.attributes = attrs;
                return false;
            }
        };
        let element = Start {
            tag,
            offset,
            name_lengths: attrs
                .iter()
                .fold(0, |lengths, a| lengths | length_bit(a.name.len())),
            attrs: &attrs,
        };
        let force = self.force_for(&element);
        self.rewrite_element(state, &element, name, rules, force);
        // After the tag's own edits: events are queued in input order.
        let text_starts = match (text, opening) {
            (Some(html), Some(opening)) => self.mark_text(state, &element, opening, html, force),
            _ => false,
        };
        state.attributes = attrs;
        text_starts
    }

    fn rewrite_element(
        &self,
        state: &mut DocState,
        start: &Start<'_>,
        name: &[u8],
        rules: &[Rule],
        force: Option<SkipReason>,
    ) {
        if name == b"base" && self.nested_force.is_none() {
            if let Some(href) = start.find("href") {
                self.on_base(state, start.value(href));
            }
        }
        let getter = |name: &str| {
            start
                .find(name)
                .map(|a| String::from_utf8_lossy(start.value(a)).into_owned())
        };
        let DocState {
            report,
            base,
            scratch,
            edits,
            events,
            ..
        } = &mut *state;
        let ctx = Ctx {
            shared: &self.shared,
            page: &self.page,
            base: base.as_ref().unwrap_or(&self.page),
            force,
            utf8: self.encoding == encoding_rs::UTF_8,
        };
        edits.clear();
        for rule in rules
            .iter()
            .chain(super::any_element_rules(rules, &self.shared))
        {
            let Some(attr) = start.find(&rule.attribute) else {
                continue;
            };
            if !matches!(rule.condition, Condition::Always) && !rule.condition.holds(&getter) {
                continue;
            }
            let Some(value) = attr.value.clone() else {
                // `<img src>`: an empty reference.
                ctx.bust_attribute(rule.kind, "", report, scratch);
                continue;
            };
            let raw = &start.tag[value.clone()];
            let mark = edits.len();
            ctx.bust_attribute_bytes(rule.kind, raw, self.encoding, report, scratch, edits);
            if edits.len() == mark {
                continue;
            }
            let has_equals = |bytes: &[u8]| memchr::memchr(b'=', bytes).is_some();
            if !attr.quoted
                && (has_equals(raw) || edits.iter_since(mark).any(|(_, text)| has_equals(text)))
            {
                // `=` is a parse error in an unquoted value: quote it.
                edits.insert(mark, 0..0, b"\"");
                edits.push(raw.len()..raw.len(), &[b"\""]);
            }
            shift(edits.since(mark), start.offset + value.start);
        }
        if !edits.is_empty() {
            edits.sort();
            for (range, text) in edits.iter() {
                events.replace(range, text);
            }
        }
    }

    /// A start tag longer than the input kept (the parser's memory limit): its references
    /// cannot be edited in place, and are counted `too-large`.
    fn on_unretained_element(&self, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        let name = el.tag_name();
        let mut state = self.lock_state();
        let DocState {
            report, scratch, ..
        } = &mut *state;
        let ctx = Ctx {
            shared: &self.shared,
            page: &self.page,
            base: &self.page,
            force: Some(SkipReason::TooLarge),
            utf8: self.encoding == encoding_rs::UTF_8,
        };
        let rules = self.shared.rules_for(name.as_bytes());
        for rule in rules
            .iter()
            .chain(super::any_element_rules(rules, &self.shared))
        {
            if let Some(value) = el.get_attribute(&rule.attribute) {
                ctx.bust_attribute(rule.kind, &value, report, scratch);
            }
        }
        Ok(())
    }

    /// The first `<base href>` sets the document base.
    fn on_base(&self, state: &mut DocState, href: &[u8]) {
        if state.base_seen {
            return;
        }
        state.base_seen = true;
        let href = self.encoding.decode_without_bom_handling(href).0;
        let decoded = decode_attribute(&href);
        let href = decoded.text.trim_matches(|c: char| c.is_ascii_whitespace());
        if let Ok(url) = self.page.join(href) {
            if matches!(url.scheme(), "http" | "https") {
                state.base = Some(url);
            }
        }
    }

    /// Why every reference of an element is skipped, if it is.
    fn force_for(&self, start: &Start<'_>) -> Option<SkipReason> {
        let opted_out = start
            .find("data-cachebust")
            .is_some_and(|a| start.value(a).trim_ascii().eq_ignore_ascii_case(b"off"));
        if opted_out {
            return Some(SkipReason::OptedOut);
        }
        if let Some(force) = self.nested_force {
            return force;
        }
        self.base_offset
            .filter(|&base| start.offset < base)
            .map(|_| SkipReason::BeforeBase)
    }

    /// Marks where the text of a `<style>` or `<noscript>` starts, if it has one; the caller
    /// marks where it ends.
    fn mark_text(
        &self,
        state: &mut DocState,
        start: &Start<'_>,
        opening: Opening,
        html: bool,
        force: Option<SkipReason>,
    ) -> bool {
        if !opening.can_have_content {
            return false;
        }
        let kind = match (html, opening.svg) {
            (true, _) => TextKind::Html,
            (false, true) => TextKind::SvgCss,
            (false, false) => TextKind::Css,
        };
        let job = TextJob {
            kind,
            base: state.base.clone(),
            force,
        };
        state.events.push(Event::TextStart {
            at: start.offset + start.tag.len(),
            job: Box::new(job),
        });
        true
    }
}

/// What lol_html tells of an element whose text is rewritten.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opening {
    /// Not a void or self-closed foreign element.
    pub(crate) can_have_content: bool,
    /// In the SVG namespace (whose `<style>` text holds character references).
    pub(crate) svg: bool,
}

const SVG_NAMESPACE: &str = "http://www.w3.org/2000/svg";

/// A whole document's elements, found without lol_html's selectors.
#[cfg(feature = "fast-scan")]
impl super::scan::Found for &Doc<'_> {
    fn start_tag(&mut self, range: Range<usize>, html_text: bool) -> bool {
        if html_text {
            let opening = Opening {
                can_have_content: true,
                svg: false,
            };
            return self.text_start_tag(range, opening);
        }
        self.note_start_tag(range);
        false
    }

    fn start_tag_at(&mut self, at: usize) {
        // Only a whole document is scanned: a stream's tags come with their ranges.
        if let Some(tag) = self.whole_input().and_then(|input| input.get(at..)) {
            self.read_pending();
            self.read_start_tag(&mut self.lock_state(), None, tag, true, at);
        }
    }

    fn text_end(&mut self, at: usize) {
        Doc::text_end(self, at);
    }

    fn expect(&mut self, tags: usize) {
        self.lock_state().events.reserve(tags);
    }
}

/// How many start tags are put aside before they are read.
const PENDING_BATCH: usize = 256;

/// Whether an element of (lower-case) `name` has its text rewritten: `Some(true)` for HTML
/// (`<noscript>`), `Some(false)` for CSS (`<style>`).
fn text_of_element(name: &[u8]) -> Option<bool> {
    match name {
        b"style" => Some(false),
        b"noscript" => Some(true),
        _ => None,
    }
}

/// [`text_of_element`] for the start tag `tag`.
fn opens_text(tag: &[u8]) -> Option<bool> {
    let mut lower = [0u8; 8];
    tag::lower_name(tag, &mut lower).and_then(text_of_element)
}

/// A start tag's bytes, where it starts in the input, and its attributes.
struct Start<'a> {
    tag: &'a [u8],
    offset: usize,
    attrs: &'a [RawAttribute],
    /// The [`length_bit`]s of the attributes' names: most attributes looked for are not
    /// there, and most often no name is as long as theirs.
    name_lengths: u64,
}

/// A bit for names of `len` bytes (the longest share one).
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

impl Start<'_> {
    fn find(&self, name: &str) -> Option<&RawAttribute> {
        if self.name_lengths & length_bit(name.len()) == 0 {
            return None;
        }
        tag::find(self.tag, self.attrs, name)
    }

    fn value(&self, attr: &RawAttribute) -> &[u8] {
        attr.value.clone().map_or(&b""[..], |v| &self.tag[v])
    }
}
