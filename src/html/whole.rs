//! The whole-document entry point: the page is all there, so the handlers read start tags
//! straight from it (nothing is copied aside), lol_html finds only the elements the page
//! needs ([`super::plan`]), by name and without its selector engine where it can
//! ([`super::scan`]), and the output is the input with the events applied, in one pass at
//! the end.

use super::document::{Doc, Input};
use super::encoding::{bail_out_message, choose_encoding, rewritable};
use super::events::TextJob;
use super::output::Output;
use super::plan::{Plan, contains_ignore_case, plan};
#[cfg(feature = "fast-scan")]
use super::scan;
use super::scout::{Findings, META_PRESCAN, Scout};
use crate::config::Shared;
use crate::report::{Report, SkipReason};
use encoding_rs::Encoding;
use std::sync::Arc;
use url::Url;

/// How much the look-ahead reads at a time: it stops at the first piece that settles it.
const SCOUT_PIECE: usize = 4 << 10;

/// Rewrites the document `html` (UTF-8 whatever it says when `force_utf8`; in `charset`,
/// a response's, unless a BOM says otherwise, as a stream would read it), appending the
/// result to `out`.
pub(crate) fn rewrite(
    shared: &Arc<Shared>,
    page: &Arc<Url>,
    html: &[u8],
    force_utf8: bool,
    charset: Option<&'static Encoding>,
    out: &mut Vec<u8>,
) -> Report {
    // A page whose BOM or configuration names an encoding lol_html cannot read (UTF-16) is
    // passed through without a look at it. (A `<meta>` can name one too, ISO-2022-JP say:
    // that is known only after the look, and `rewrite_with` passes such a page through.)
    let settled = choose_encoding(html, &Findings::default(), force_utf8, charset, shared);
    if rewritable(settled).is_err() {
        let context = Context {
            encoding: settled,
            base_offset: None,
            nested: None,
        };
        return rewrite_with(shared, page, html, context, Plan::nothing(), out);
    }
    let want_charset = !force_utf8 && charset.is_none() && shared.encoding.is_none();
    let plan = plan(html, shared);
    let mut scout = Scout::new(scout_limit(html, shared, &plan, want_charset), want_charset);
    for piece in html.chunks(SCOUT_PIECE) {
        if scout.feed(piece) {
            break;
        }
    }
    let findings = scout.findings();
    let encoding = choose_encoding(html, &findings, force_utf8, charset, shared);
    let context = Context {
        encoding,
        base_offset: findings.base_offset,
        nested: None,
    };
    rewrite_with(shared, page, html, context, plan, out)
}

/// How far the look-ahead must read `html`, knowing its `plan`: the page is all there, so
/// when it holds no `<base>` the look need not go past the `<meta charset>` range, nor
/// start when no `<meta>` stands there either.
fn scout_limit(html: &[u8], shared: &Shared, plan: &Plan, want_charset: bool) -> usize {
    let lookahead = shared.limits.base_lookahead;
    // The plan names `base` when any `<` is followed by that name (and it knows no more when
    // it gave up on names).
    let may_hold_base = plan
        .elements
        .names()
        .is_none_or(|names| names.iter().any(|name| name == "base"));
    if may_hold_base {
        return lookahead;
    }
    let prescan = &html[..META_PRESCAN.min(lookahead).min(html.len())];
    if want_charset && contains_ignore_case(prescan, b"<meta") {
        prescan.len()
    } else {
        0
    }
}

/// Rewrites the content of a `<noscript>` of `doc`, found in the context `job` says, into
/// `out`.
pub(crate) fn rewrite_nested(
    doc: &Doc<'_>,
    job: &TextJob,
    html: &[u8],
    out: &mut Vec<u8>,
) -> Report {
    let context = Context {
        encoding: doc.encoding,
        base_offset: None,
        nested: Some((job.base.clone(), job.force)),
    };
    rewrite_with(
        &doc.shared,
        &doc.page,
        html,
        context,
        plan(html, &doc.shared),
        out,
    )
}

/// What is known of a document before it is rewritten.
struct Context {
    encoding: &'static Encoding,
    base_offset: Option<usize>,
    /// For a `<noscript>`'s content: its base, and the skip reason of everything in it.
    nested: Option<(Option<Url>, Option<SkipReason>)>,
}

fn rewrite_with(
    shared: &Arc<Shared>,
    page: &Arc<Url>,
    html: &[u8],
    context: Context,
    plan: Plan,
    out: &mut Vec<u8>,
) -> Report {
    if let Err(warning) = rewritable(context.encoding) {
        let mut report = Report::default();
        report.warnings.push(warning);
        out.extend_from_slice(html);
        return report;
    }
    let (base, nested_force) = match context.nested {
        Some((base, force)) => (base, Some(force)),
        None => (None, None),
    };
    let doc = Doc::new(
        Arc::clone(shared),
        Arc::clone(page),
        context.encoding,
        context.base_offset,
        base,
        nested_force,
        Input::Whole(html),
    );
    let names = plan.elements.names();
    // Without the `fast-scan` feature, whole documents go through lol_html's selectors, as
    // streams do: the same output, at the selector engine's cost.
    #[cfg(feature = "fast-scan")]
    let scanned = scan::can_scan(names, plan.foreign).then(|| {
        scan::start_tags(
            html,
            doc.encoding,
            shared.limits.parser_memory,
            names,
            plan.candidates.as_ref(),
            &mut &*doc,
        )
    });
    #[cfg(not(feature = "fast-scan"))]
    let scanned: Option<Result<(), lol_html::errors::RewritingError>> = None;
    let result = if names.is_some_and(<[String]>::is_empty) {
        Ok(())
    } else if let Some(scanned) = scanned {
        scanned
    } else {
        let named;
        let selector = match names {
            None => Doc::every_element(),
            Some(names) => {
                named = names.join(",").parse().expect("checked names");
                &named
            }
        };
        let mut rewriter = lol_html::send::HtmlRewriter::new(doc.settings(selector), |_: &[u8]| {});
        rewriter.write(html).and_then(|()| rewriter.end())
    };
    let bail_out = result.err().map(|error| bail_out_message(&error));
    doc.read_pending();
    out.reserve(html.len() + html.len() / 8);
    let mut output = Output::new(rewrite_nested);
    output.feed(&doc, html, out);
    output.finish(out);
    let mut report = std::mem::take(&mut doc.lock_state().report);
    report.bail_out = bail_out;
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Manifest};

    #[test]
    fn the_look_ahead_reads_only_what_the_page_may_hold() {
        let buster = Builder::new(Manifest::new()).build().unwrap();
        let limit = |html: &str, want_charset: bool| {
            let plan = plan(html.as_bytes(), &buster.shared);
            scout_limit(html.as_bytes(), &buster.shared, &plan, want_charset)
        };
        let lookahead = buster.shared.limits.base_lookahead;
        let filler = "<p>text</p>".repeat(200);
        // A `<base>` anywhere (even past the look-ahead's range): the whole range.
        assert_eq!(
            limit(&format!("<html>{filler}<BASE href=/>"), false),
            lookahead
        );
        // No `<base>`: a `<meta>` in the first 1024 bytes is all there is to look for.
        assert_eq!(
            limit(&format!("<Meta charset=x>{filler}"), true),
            META_PRESCAN
        );
        assert_eq!(limit(&format!("<meta charset=x>{filler}"), false), 0);
        assert_eq!(limit(&format!("{filler}<meta charset=x>"), true), 0);
        assert_eq!(limit(&format!("<p>{filler}"), true), 0);
        // Too many names for the plan: it cannot tell, so the whole range.
        let many: String = (0..20).map(|n| format!("<e{n} style=x>")).collect();
        assert_eq!(limit(&many, true), lookahead);
    }
}
