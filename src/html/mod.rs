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

pub(crate) use charref::decode_attribute;
pub use rewriter::Rewriter;
