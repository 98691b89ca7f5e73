//! What both paths (the stream and the whole document) decide the same way before and
//! after lol_html runs: the document's encoding, whether lol_html can read it, and how a
//! bail-out is reported.

use super::scout::Findings;
use crate::config::Shared;
use encoding_rs::{Encoding, UTF_8};
use lol_html::AsciiCompatibleEncoding;
use lol_html::errors::RewritingError;

/// The report's message when rewriting stops part way (the rest passes through).
pub(crate) fn bail_out_message(error: &RewritingError) -> String {
    format!("rewriting stopped and the rest of the document passed through unchanged: {error}")
}

/// The document's encoding: a BOM, else the caller's, the configuration's, or the page's
/// `<meta charset>` (as the HTML standard reads it), else UTF-8.
pub(crate) fn choose_encoding(
    start: &[u8],
    findings: &Findings,
    force_utf8: bool,
    charset: Option<&'static Encoding>,
    shared: &Shared,
) -> &'static Encoding {
    if force_utf8 {
        return UTF_8;
    }
    let bom = Encoding::for_bom(start).map(|(encoding, _)| encoding);
    let meta = findings.charset.map(|e| {
        // The HTML standard reads a declared UTF-16 as UTF-8, x-user-defined as 1252.
        if e == encoding_rs::UTF_16BE || e == encoding_rs::UTF_16LE {
            UTF_8
        } else if e == encoding_rs::X_USER_DEFINED {
            encoding_rs::WINDOWS_1252
        } else {
            e
        }
    });
    bom.or(charset)
        .or(shared.encoding)
        .or(meta)
        .unwrap_or(UTF_8)
}

/// Whether lol_html can read `encoding`; if not, the warning to give.
pub(crate) fn rewritable(encoding: &'static Encoding) -> Result<(), String> {
    match AsciiCompatibleEncoding::new(encoding) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{} is not an ASCII-compatible encoding; the document was passed through unchanged",
            encoding.name()
        )),
    }
}
