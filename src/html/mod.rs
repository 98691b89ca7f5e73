//! The HTML side: which attributes hold references, the streaming rewriter over lol_html,
//! and the output sink that rewrites `<style>` and `<noscript>` texts byte for byte.

pub mod attributes;
mod charref;
mod document;
mod entities;
mod retained;
mod rewriter;
mod scout;
mod sink;
mod tag;

pub(crate) use charref::decode_attribute;

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
