//! One document being rewritten: the state its handlers share, and the lol_html settings
//! that register them.
//!
//! lol_html re-serialises a start tag whose attributes are set (one space between
//! attributes, ` />`), and decodes `<style>` text handed to a text handler (invalid bytes
//! become U+FFFD). Neither keeps the author's bytes, so neither is used: a handler replaces a
//! start tag it edits with a random marker and keeps the edited *original* bytes of the tag,
//! and brackets `<style>` and `<noscript>` text with markers; the output sink
//! ([`super::sink`]) puts the bytes in place.

use super::attributes::Rule;
use super::charref::decode_attribute;
use super::retained::Retained;
use super::sink::SinkState;
use crate::config::Shared;
use crate::report::{Report, SkipReason};
use crate::value::Ctx;
use encoding_rs::Encoding;
use lol_html::html_content::{ContentType, Element};
use lol_html::send::{SendHandlerTypes, Settings};
use lol_html::{AsciiCompatibleEncoding, ElementContentHandlers, HandlerResult, MemorySettings};
use rand::Rng;
use rand::distr::Alphanumeric;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use url::Url;

/// What a bracketed text holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextKind {
    /// An HTML `<style>`: raw CSS.
    Css,
    /// An SVG `<style>`: CSS with character references (or a CDATA section).
    SvgCss,
    /// `<noscript>`: HTML, rewritten like the page.
    Html,
}

/// What a marker stands for.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// A bracketed text, with the context it was found in.
    Text {
        kind: TextKind,
        base: Option<Url>,
        force: Option<SkipReason>,
    },
    /// A start tag's new bytes.
    Tag(Vec<u8>),
}

/// The start tag whose edits are being gathered (several selectors can match one element).
#[derive(Debug)]
struct TagEdits {
    start: usize,
    id: u64,
    edits: Vec<(Range<usize>, Vec<u8>)>,
}

/// The state handlers and the sink share.
#[derive(Debug, Default)]
pub(crate) struct DocState {
    pub(crate) report: Report,
    /// Set by the first `<base href>`.
    pub(crate) base: Option<Url>,
    base_seen: bool,
    pub(crate) jobs: HashMap<u64, Job>,
    next_id: u64,
    current_tag: Option<TagEdits>,
    pub(crate) scratch: String,
}

/// One document: its settings, its shared state, and the marker of its jobs.
pub(crate) struct Doc {
    pub(crate) shared: Arc<Shared>,
    pub(crate) page: Arc<Url>,
    pub(crate) encoding: &'static Encoding,
    /// Where the first `<base href>` starts, as found by the look-ahead.
    pub(crate) base_offset: Option<usize>,
    /// Set for a `<noscript>`'s content: no `<base>` applies inside, and its context's skip
    /// reason applies to everything.
    pub(crate) nested_force: Option<Option<SkipReason>>,
    pub(crate) state: Mutex<DocState>,
    pub(crate) sink: Mutex<SinkState>,
    pub(crate) input: Mutex<Retained>,
    /// Markers inserted but not yet seen by the sink: while zero, the sink copies output
    /// without looking at it.
    pub(crate) outstanding: AtomicUsize,
    /// `cachebust` + 24 random alphanumerics + `:`, then `t<id>;` for a tag, `s<id>;` and
    /// `e;` around a text.
    pub(crate) marker: String,
}

static FIXED_SELECTORS: LazyLock<[lol_html::Selector; 3]> = LazyLock::new(|| {
    ["base[href]", "style", "noscript"].map(|s| s.parse().expect("static selector"))
});

fn opted_out(el: &Element<'_, '_, SendHandlerTypes>) -> bool {
    el.get_attribute("data-cachebust")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("off"))
}

impl Doc {
    pub(crate) fn new(
        shared: Arc<Shared>,
        page: Arc<Url>,
        encoding: &'static Encoding,
        base_offset: Option<usize>,
        base: Option<Url>,
        nested_force: Option<Option<SkipReason>>,
    ) -> Arc<Doc> {
        let token: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        let keep = shared.limits.parser_memory;
        Arc::new(Doc {
            shared,
            page,
            encoding,
            base_offset,
            nested_force,
            state: Mutex::new(DocState {
                base,
                ..DocState::default()
            }),
            sink: Mutex::new(SinkState::default()),
            input: Mutex::new(Retained::new(keep)),
            outstanding: AtomicUsize::new(0),
            marker: format!("cachebust{token}:"),
        })
    }

    pub(crate) fn lock_state(&self) -> MutexGuard<'_, DocState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn lock_sink(&self) -> MutexGuard<'_, SinkState> {
        self.sink
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn lock_input(&self) -> MutexGuard<'_, Retained> {
        self.input
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Why every reference of `el` is skipped, if it is.
    fn force_for(&self, el: &Element<'_, '_, SendHandlerTypes>) -> Option<SkipReason> {
        if opted_out(el) {
            return Some(SkipReason::OptedOut);
        }
        if let Some(force) = self.nested_force {
            return force;
        }
        let offset = el.source_location().bytes().start;
        self.base_offset
            .filter(|&base| offset < base)
            .map(|_| SkipReason::BeforeBase)
    }

    /// The lol_html settings for this document.
    pub(crate) fn settings(self: &Arc<Self>) -> Settings<'static, 'static> {
        let limits = self.shared.limits;
        let encoding =
            AsciiCompatibleEncoding::new(self.encoding).expect("checked ASCII-compatible");
        let mut settings = Settings::new_send()
            .with_encoding(encoding)
            .with_strict(false)
            .with_graceful_bail_out_on_content_handler_error(true)
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(limits.parser_memory)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            );
        let [base, style, noscript] = &*FIXED_SELECTORS;
        if self.nested_force.is_none() {
            let doc = Arc::clone(self);
            settings = settings.append_element_content_handler((
                Cow::Owned(base.clone()),
                ElementContentHandlers::default().element(move |el: &mut Element<'_, '_, _>| {
                    doc.on_base(el);
                    Ok(())
                }),
            ));
        }
        for (selector, rules) in &self.shared.compiled_attributes {
            let doc = Arc::clone(self);
            let rules = Arc::clone(rules);
            settings = settings.append_element_content_handler((
                Cow::Owned(selector.clone()),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_, _>| doc.on_element(el, &rules)),
            ));
        }
        for (selector, html) in [(style, false), (noscript, true)] {
            let doc = Arc::clone(self);
            settings = settings.append_element_content_handler((
                Cow::Owned(selector.clone()),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_, _>| doc.on_text_element(el, html)),
            ));
        }
        settings
    }

    fn on_base(&self, el: &mut Element<'_, '_, SendHandlerTypes>) {
        let mut state = self.lock_state();
        if state.base_seen {
            return;
        }
        state.base_seen = true;
        let Some(href) = el.get_attribute("href") else {
            return;
        };
        let decoded = decode_attribute(&href);
        let href = decoded.text.trim_matches(|c: char| c.is_ascii_whitespace());
        if let Ok(url) = self.page.join(href) {
            if matches!(url.scheme(), "http" | "https") {
                state.base = Some(url);
            }
        }
    }

    fn on_element(
        &self,
        el: &mut Element<'_, '_, SendHandlerTypes>,
        rules: &[Rule],
    ) -> HandlerResult {
        let tag = el.source_location().bytes();
        let input = self.lock_input();
        let tag_bytes = input.get(tag.clone());
        let force = match tag_bytes {
            // Longer than the parser may buffer: it cannot be edited in place.
            None => Some(SkipReason::TooLarge),
            Some(_) => self.force_for(el),
        };
        let mut guard = self.lock_state();
        let DocState {
            report,
            base,
            scratch,
            ..
        } = &mut *guard;
        let ctx = Ctx {
            shared: &self.shared,
            page: &self.page,
            base: base.as_ref().unwrap_or(&self.page),
            force,
        };
        let mut edits = Vec::new();
        for rule in rules {
            let Some(attribute) = el.attributes().iter().find(|a| a.name() == rule.attribute)
            else {
                continue;
            };
            if !rule.condition.holds(&|name| el.get_attribute(name)) {
                continue;
            }
            let Some(value) = attribute.value_source_location().map(|l| l.bytes()) else {
                // `<img src>`: an empty reference.
                ctx.bust_attribute(rule.kind, "", report, scratch);
                continue;
            };
            let raw = input.get(value.clone()).unwrap_or_default();
            if let Some(new) =
                ctx.bust_attribute_bytes(rule.kind, raw, self.encoding, report, scratch)
            {
                let tag_bytes = tag_bytes.expect("forced skip when absent");
                let quoted = matches!(
                    tag_bytes.get(value.start - tag.start - 1),
                    Some(b'"' | b'\'')
                );
                let local = value.start - tag.start..value.end - tag.start;
                edits.push(if quoted || !new.contains(&b'=') {
                    (local, new)
                } else {
                    // `=` is a parse error in an unquoted value: quote it.
                    (local, [&b"\""[..], &new, b"\""].concat())
                });
            }
        }
        if let (false, Some(tag_bytes)) = (edits.is_empty(), tag_bytes) {
            let id = self.record_tag_edits(&mut guard, tag.start, tag_bytes, edits);
            el.start_tag()
                .replace(&format!("{}t{id};", self.marker), ContentType::Html);
        }
        Ok(())
    }

    /// Adds `edits` to those of the tag at `start`, and stores the tag's new bytes.
    fn record_tag_edits(
        &self,
        state: &mut DocState,
        start: usize,
        tag_bytes: &[u8],
        edits: Vec<(Range<usize>, Vec<u8>)>,
    ) -> u64 {
        let current = match &mut state.current_tag {
            Some(current) if current.start == start => current,
            _ => {
                let id = state.next_id;
                state.next_id += 1;
                self.outstanding.fetch_add(1, Ordering::Relaxed);
                state.current_tag.insert(TagEdits {
                    start,
                    id,
                    edits: Vec::new(),
                })
            }
        };
        current.edits.extend(edits);
        current.edits.sort_by_key(|(range, _)| range.start);
        let mut bytes = Vec::with_capacity(tag_bytes.len() + 32);
        let mut at = 0;
        for (range, new) in &current.edits {
            bytes.extend_from_slice(&tag_bytes[at..range.start]);
            bytes.extend_from_slice(new);
            at = range.end;
        }
        bytes.extend_from_slice(&tag_bytes[at..]);
        let id = current.id;
        state.jobs.insert(id, Job::Tag(bytes));
        id
    }

    /// Brackets the text of a `<style>` or `<noscript>` with markers for the sink.
    fn on_text_element(
        &self,
        el: &mut Element<'_, '_, SendHandlerTypes>,
        html: bool,
    ) -> HandlerResult {
        if !el.can_have_content() {
            return Ok(());
        }
        let kind = match (html, el.namespace_uri()) {
            (true, _) => TextKind::Html,
            (false, "http://www.w3.org/2000/svg") => TextKind::SvgCss,
            (false, _) => TextKind::Css,
        };
        let force = self.force_for(el);
        let id = {
            let mut state = self.lock_state();
            let base = state.base.clone();
            let id = state.next_id;
            state.next_id += 1;
            state.jobs.insert(id, Job::Text { kind, base, force });
            id
        };
        el.prepend(&format!("{}s{id};", self.marker), ContentType::Html);
        // Both markers are counted now: the end tag handler cannot reach the document. An
        // end tag that never comes leaves the count high, which only keeps the sink looking.
        self.outstanding.fetch_add(2, Ordering::Relaxed);
        let end_marker = format!("{}e;", self.marker);
        el.on_end_tag(Box::new(move |end| {
            end.before(&end_marker, ContentType::Html);
            Ok(())
        }))
    }
}
