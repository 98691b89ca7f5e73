//! The HTML side: which attributes hold references, the handlers that find them (on every
//! element of a stream, on the elements a whole document needs), and the output that
//! applies their edits and rewrites `<style>` and `<noscript>` texts byte for byte.

pub mod attributes;
mod charref;
mod document;
mod entities;
mod output;
mod plan;
mod retained;
mod rewriter;
#[cfg(feature = "fast-scan")]
mod scan;
mod scout;
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
pub use rewriter::{Rewriter, Sink};

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
