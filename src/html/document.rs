//! One document being rewritten: the state its handler shares with the sink, and the
//! lol_html settings that register the handler.
//!
//! lol_html re-serialises a start tag whose attributes are set (one space between
//! attributes, ` />`), and decodes `<style>` text handed to a text handler (invalid bytes
//! become U+FFFD). Neither keeps the author's bytes, so neither is used: the handler reads a
//! start tag's original bytes (kept in [`Retained`]), and when it edits them replaces the tag
//! with a random marker standing for the edited bytes; it brackets `<style>` and
//! `<noscript>` text with markers. The output sink ([`super::sink`]) puts the bytes in place.

use super::attributes::{Condition, Rule};
use super::charref::decode_attribute;
use super::retained::Retained;
use super::sink::SinkState;
use super::tag::{self, RawAttribute};
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

/// A bracketed text and the context it was found in.
#[derive(Debug, Clone)]
pub(crate) struct TextJob {
    pub(crate) kind: TextKind,
    pub(crate) base: Option<Url>,
    pub(crate) force: Option<SkipReason>,
}

/// What a marker stands for.
#[derive(Debug, Clone)]
pub(crate) enum Job {
    /// A bracketed text.
    Text(TextJob),
    /// A start tag's new bytes.
    Tag(Vec<u8>),
}

/// The state the handler and the sink share.
#[derive(Debug, Default)]
pub(crate) struct DocState {
    pub(crate) report: Report,
    /// Set by the first `<base href>`.
    pub(crate) base: Option<Url>,
    base_seen: bool,
    pub(crate) jobs: HashMap<u64, Job>,
    next_id: u64,
    /// Reused from element to element.
    attributes: Vec<RawAttribute>,
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
    pub(crate) finder: memchr::memmem::Finder<'static>,
}

static ANY_ELEMENT: LazyLock<lol_html::Selector> =
    LazyLock::new(|| "*".parse().expect("static selector"));

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
            finder: memchr::memmem::Finder::new(format!("cachebust{token}:").as_bytes())
                .into_owned(),
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

    /// The lol_html settings for this document: one handler for every element. (One `*`
    /// selector dispatching on the tag name costs lol_html less than a selector per row of
    /// the attribute table: `[style]` alone already takes every tag through the full lexer.)
    pub(crate) fn settings(self: &Arc<Self>) -> Settings<'static, 'static> {
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
                Cow::Borrowed(&*ANY_ELEMENT),
                ElementContentHandlers::default()
                    .element(move |el: &mut Element<'_, '_, _>| doc.on_element(el)),
            ))
    }

    fn on_element(&self, el: &mut Element<'_, '_, SendHandlerTypes>) -> HandlerResult {
        let range = el.source_location().bytes();
        let input = self.lock_input();
        let Some(tag) = input.get(range.clone()) else {
            drop(input);
            return self.on_unretained_element(el);
        };
        let mut lower = [0u8; 16];
        let raw_name = tag::name(tag);
        // No element the table or the SPEC names is that long.
        let Some(name) = lower.get_mut(..raw_name.len()) else {
            return Ok(());
        };
        name.copy_from_slice(raw_name);
        name.make_ascii_lowercase();
        let name: &[u8] = name;
        let rules = self.shared.rules_for(name);
        let text = match name {
            b"style" => Some(false),
            b"noscript" => Some(true),
            _ => None,
        };
        // Most elements hold nothing of interest: see that without parsing their attributes.
        let any_rule_may_apply = self
            .shared
            .any_element_rules
            .iter()
            .any(|rule| contains_ignore_case(tag, rule.attribute.as_bytes()));
        if rules.is_empty() && text.is_none() && name != b"base" && !any_rule_may_apply {
            return Ok(());
        }
        let mut guard = self.lock_state();
        let state = &mut *guard;
        let mut attrs = std::mem::take(&mut state.attributes);
        tag::attributes(tag, &mut attrs);
        let element = Start {
            tag,
            offset: range.start,
            attrs: &attrs,
        };
        let result = self.rewrite_element(el, state, &element, name, rules, text);
        state.attributes = attrs;
        result
    }

    fn rewrite_element(
        &self,
        el: &mut Element<'_, '_, SendHandlerTypes>,
        state: &mut DocState,
        start: &Start<'_>,
        name: &[u8],
        rules: &[Rule],
        text: Option<bool>,
    ) -> HandlerResult {
        if name == b"base" && self.nested_force.is_none() {
            if let Some(href) = start.find("href") {
                self.on_base(state, start.value(href));
            }
        }
        let force = self.force_for(start);
        if let Some(html) = text {
            self.bracket_text(el, state, html, force)?;
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
            ..
        } = &mut *state;
        let ctx = Ctx {
            shared: &self.shared,
            page: &self.page,
            base: base.as_ref().unwrap_or(&self.page),
            force,
        };
        let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();
        for rule in rules.iter().chain(&self.shared.any_element_rules) {
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
            let Some(new) =
                ctx.bust_attribute_bytes(rule.kind, raw, self.encoding, report, scratch)
            else {
                continue;
            };
            edits.push(if attr.quoted || !new.contains(&b'=') {
                (value, new)
            } else {
                // `=` is a parse error in an unquoted value: quote it.
                (value, [&b"\""[..], &new, b"\""].concat())
            });
        }
        if !edits.is_empty() {
            self.replace_tag(el, state, start.tag, edits);
        }
        Ok(())
    }

    /// Replaces the start tag by a marker standing for its bytes with `edits` applied.
    fn replace_tag(
        &self,
        el: &mut Element<'_, '_, SendHandlerTypes>,
        state: &mut DocState,
        tag: &[u8],
        mut edits: Vec<(Range<usize>, Vec<u8>)>,
    ) {
        edits.sort_by_key(|(range, _)| range.start);
        let mut bytes = Vec::with_capacity(tag.len() + 32);
        let mut at = 0;
        for (range, new) in &edits {
            bytes.extend_from_slice(&tag[at..range.start]);
            bytes.extend_from_slice(new);
            at = range.end;
        }
        bytes.extend_from_slice(&tag[at..]);
        // Text that encodes to these very bytes can replace the tag directly; anything else
        // (invalid bytes, non-ASCII in another encoding) goes through a marker.
        if let Ok(text) = std::str::from_utf8(&bytes) {
            if self.encoding == encoding_rs::UTF_8 || text.is_ascii() {
                el.start_tag().replace(text, ContentType::Html);
                return;
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        state.jobs.insert(id, Job::Tag(bytes));
        self.outstanding.fetch_add(1, Ordering::Relaxed);
        el.start_tag()
            .replace(&format!("{}t{id};", self.marker), ContentType::Html);
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
        };
        let rules = self.shared.rules_for(name.as_bytes());
        for rule in rules.iter().chain(&self.shared.any_element_rules) {
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

    /// Brackets the text of a `<style>` or `<noscript>` with markers for the sink.
    fn bracket_text(
        &self,
        el: &mut Element<'_, '_, SendHandlerTypes>,
        state: &mut DocState,
        html: bool,
        force: Option<SkipReason>,
    ) -> HandlerResult {
        if !el.can_have_content() {
            return Ok(());
        }
        let kind = match (html, el.namespace_uri()) {
            (true, _) => TextKind::Html,
            (false, "http://www.w3.org/2000/svg") => TextKind::SvgCss,
            (false, _) => TextKind::Css,
        };
        let base = state.base.clone();
        let id = state.next_id;
        state.next_id += 1;
        state
            .jobs
            .insert(id, Job::Text(TextJob { kind, base, force }));
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

/// Whether `needle` (ASCII lower case) occurs in `haystack`, ASCII case-insensitively.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr2_iter(first, first.to_ascii_uppercase(), haystack).any(|at| {
        haystack
            .get(at..at + needle.len())
            .is_some_and(|candidate| candidate.eq_ignore_ascii_case(needle))
    })
}

/// A start tag's bytes, where it starts in the input, and its attributes.
struct Start<'a> {
    tag: &'a [u8],
    offset: usize,
    attrs: &'a [RawAttribute],
}

impl Start<'_> {
    fn find(&self, name: &str) -> Option<&RawAttribute> {
        tag::find(self.tag, self.attrs, name)
    }

    fn value(&self, attr: &RawAttribute) -> &[u8] {
        attr.value.clone().map_or(&b""[..], |v| &self.tag[v])
    }
}
