//! CSS: the same URLs are found before and after, and every byte outside them is kept.
#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use cachebust::css::url_spans;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    config: common::Config,
    css: String,
}

fuzz_target!(|input: Input| {
    let buster = input.config.buster();
    let (out, _) = buster.bust_css(&input.css);
    let before = url_spans(&input.css);
    let after = url_spans(&out);
    assert_eq!(before.len(), after.len(), "{:?} -> {:?}", input.css, out);
    // Between URLs, the text is the same.
    let mut prev = (0, 0);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            &input.css[prev.0..b.start],
            &out[prev.1..a.start],
            "tokens other than URLs unchanged"
        );
        prev = (b.end, a.end);
    }
    assert_eq!(&input.css[prev.0..], &out[prev.1..]);
    assert_eq!(buster.bust_css(&out).0, out, "idempotent");
});
