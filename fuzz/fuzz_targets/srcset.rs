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
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.descriptors, a.descriptors, "descriptors kept");
        assert!(
            a.url
                .starts_with(b.url.split(['?', '#']).next().unwrap_or_default())
        );
    }
    assert!(common::only_versions_changed(
        input.srcset.as_bytes(),
        out.as_bytes()
    ));
    assert_eq!(buster.bust_srcset(&out).0, out, "idempotent");
});
