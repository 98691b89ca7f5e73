//! Stylesheets as documents: any bytes, any charset, any chunks. The empty manifest gives
//! the input back, a second run changes nothing, a stream gives the whole document's
//! output, and removing the versions written gives the input back.
#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use cachebust::{Builder, Manifest};
use libfuzzer_sys::fuzz_target;

const CHARSETS: [Option<&str>; 5] = [None, Some("utf-8"), Some("windows-1252"), Some("gbk"), Some("shift_jis")];

#[derive(Debug, Arbitrary)]
struct Input {
    config: common::Config,
    charset: u8,
    cuts: Vec<u8>,
    css: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let charset = CHARSETS[input.charset as usize % CHARSETS.len()];
    let empty = Builder::new(Manifest::new()).build().unwrap();
    let mut out = Vec::new();
    empty.rewrite_css_to(&input.css, charset, &mut out);
    assert_eq!(out, input.css, "the empty manifest is the identity");

    let buster = input.config.buster();
    let mut once = Vec::new();
    buster.rewrite_css_to(&input.css, charset, &mut once);
    let mut twice = Vec::new();
    buster.rewrite_css_to(&once, charset, &mut twice);
    assert_eq!(twice, once, "idempotent");

    let mut stream = buster.stylesheet_rewriter();
    if let Some(charset) = charset {
        stream = stream.with_charset(charset);
    }
    let mut streamed = Vec::new();
    let mut at = 0;
    for &cut in input.cuts.iter().chain(std::iter::repeat(&7)) {
        if at >= input.css.len() {
            break;
        }
        let end = (at + 1 + cut as usize).min(input.css.len());
        streamed.extend(stream.write(&input.css[at..end]));
        at = end;
    }
    streamed.extend(stream.finish().0);
    assert_eq!(streamed, once, "a stream gives the whole document's output");

    // Only versions were written (where the input held none to replace, and no renames).
    let has = |needle: &[u8]| input.css.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle));
    if !has(b"vh") && !has(b"v=") && !has(b"optimole") && !has(b"optml") {
        let mut back = once.clone();
        for param in [&b"?vh="[..], b"&vh=", b"?v=", b"&v="] {
            while let Some(at) = back.windows(param.len()).position(|w| w == param) {
                let end = back[at + param.len()..]
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || b"._~-".contains(b)))
                    .map_or(back.len(), |n| at + param.len() + n);
                back.drain(at..end);
            }
        }
        assert_eq!(back, input.css, "bytes outside the versions are kept");
    }
});
