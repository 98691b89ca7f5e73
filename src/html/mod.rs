//! The HTML side: which attributes hold references, the handlers that find them, and the
//! output that applies their edits and rewrites `<style>` and `<noscript>` texts byte for
//! byte. Two paths share the parts:
//!
//! - `pages`: the page entry points of [`Buster`](crate::Buster); each picks a path.
//! - The stream path, `stream`: the [`Rewriter`], which buffers a look-ahead (the
//!   encoding, a `<base>`), then hands lol_html the document chunk by chunk.
//! - The whole-document path, `whole`: the page is all there, so `plan` says which
//!   elements it needs and, under `fast-scan`, `scan` finds their start tags without
//!   lol_html's selector engine.
//! - Shared by both: `encoding` (the encoding chosen, bail-outs reported), `scout` (the
//!   look-ahead), `document` (the handlers: they read start tags and texts and note
//!   `events`), `output` (applies the events as the bytes go out; a `<noscript>` is
//!   rewritten through the function it is given, so it knows neither path), `tag`,
//!   `charref` and `entities` (reading tags and character references), `retained`, and
//!   [`attributes`] (the table of what is rewritten).
//!
//! Dependencies run one way: `pages` → `stream` → `whole` → `output` → `document` →
//! `events`.

pub mod attributes;
mod charref;
mod document;
mod encoding;
mod entities;
mod events;
mod output;
mod pages;
mod plan;
mod retained;
#[cfg(feature = "fast-scan")]
mod scan;
mod scout;
mod stream;
mod tag;
mod whole;

pub(crate) use charref::decode_attribute;

/// Locks state shared with lol_html's handlers. A handler that panicked left it consistent
/// enough to pass the rest of the document on, so a poisoned lock is taken as it is.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Decodes the character references of a raw attribute value as a browser does
/// (`&amp;` → `&`, `&#x2F;` → `/`; `&copy=` stays literal before `=`).
///
/// ```
/// assert_eq!(cachebust::html::decode_attribute_value("a.jpg?w=1&amp;h=2"), "a.jpg?w=1&h=2");
/// assert_eq!(cachebust::html::decode_attribute_value("?a=1&copy=2"), "?a=1&copy=2");
/// ```
pub fn decode_attribute_value(raw: &str) -> std::borrow::Cow<'_, str> {
    decode_attribute(raw).text
}
pub use stream::{Rewriter, Sink};

/// The any-element rules that apply to an element whose own rules are `rules`: those for an
/// attribute the element's rules do not name (a row for `img` `data-bg` and one for `*`
/// `data-bg` version the attribute once, by the `img` row).
pub(crate) fn any_element_rules<'a>(
    rules: &'a [crate::Rule],
    shared: &'a crate::config::Shared,
) -> impl Iterator<Item = &'a crate::Rule> {
    shared
        .any_element_rules
        .iter()
        .filter(move |any| !rules.iter().any(|own| own.attribute == any.attribute))
}
