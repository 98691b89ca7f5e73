//! The HTML rewriter: identity with an empty manifest, idempotence, chunk invariance (output
//! and report counts, a stream against the whole document), `<` and `>` counts unchanged,
//! and nothing but versions (and the quotes of a re-quoted attribute) changed.
#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    config: common::Config,
    cuts: Vec<u8>,
    html: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let empty = cachebust::Builder::new(cachebust::Manifest::new())
        .build()
        .unwrap();
    assert_eq!(
        common::chunked(&empty, &input.html, &input.cuts),
        input.html,
        "identity"
    );

    let buster = input.config.buster();
    let (once, whole_report) = buster.rewrite_bytes(&input.html);
    let (streamed, streamed_report) =
        common::chunked_with_report(&buster, &input.html, &input.cuts);
    assert_eq!(streamed, once, "chunk invariance");
    // A stream has a handler on every element, a whole document only on those it needs:
    // they must find the same references.
    let counts = |r: &cachebust::Report| (r.rewritten, r.current, r.missing, r.skipped);
    assert_eq!(
        counts(&streamed_report),
        counts(&whole_report),
        "same report"
    );
    let (twice, _) = buster.rewrite_bytes(&once);
    assert_eq!(twice, once, "idempotence");
    assert_eq!(common::count(&once, b'<'), common::count(&input.html, b'<'));
    assert_eq!(common::count(&once, b'>'), common::count(&input.html, b'>'));
    assert!(
        common::only_versions_changed(&input.html, &once),
        "only versions change"
    );
});
