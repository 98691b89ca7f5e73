//! srcset: the same candidates, with the same descriptors, in the same order; only URLs
//! gain versions.
#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use cachebust::srcset::candidates;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    config: common::Config,
    srcset: String,
}

fuzz_target!(|input: Input| {
    let buster = input.config.buster();
    let (out, _) = buster.bust_srcset(&input.srcset);
    let before: Vec<_> = candidates(&input.srcset).collect();
    let after: Vec<_> = candidates(&out).collect();
    assert_eq!(
        before.len(),
        after.len(),
        "candidates kept: {:?} -> {:?}",
        input.srcset,
        out
    );
    let mut prev = (0, 0);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.descriptors, a.descriptors, "descriptors kept");
        // Each URL is busted as it would be alone, and the bytes between URLs are kept.
        assert_eq!(buster.bust_url(b.url).url, a.url);
        assert_eq!(
            &input.srcset[prev.0..b.url_span.start],
            &out[prev.1..a.url_span.start]
        );
        prev = (b.url_span.end, a.url_span.end);
    }
    assert_eq!(&input.srcset[prev.0..], &out[prev.1..]);
    assert_eq!(buster.bust_srcset(&out).0, out, "idempotent");
});
