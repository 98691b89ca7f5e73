//! One URL: busting twice equals busting once; scheme, host, path and fragment are what
//! they were (as the `url` crate parses them), but for Optimole's `cb:` segment.
#![no_main]

#[path = "common.rs"]
mod common;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use url::Url;

#[derive(Debug, Arbitrary)]
struct Input {
    config: common::Config,
    url: String,
}

fuzz_target!(|input: Input| {
    let buster = input.config.buster();
    let once = buster.bust_url(&input.url).url.into_owned();
    assert_eq!(buster.bust_url(&once).url, once, "busting twice");
    let base = buster.page_url();
    if let (Ok(before), Ok(after)) = (base.join(&input.url), base.join(&once)) {
        assert_eq!(before.scheme(), after.scheme());
        assert_eq!(before.host_str(), after.host_str());
        assert_eq!(before.fragment(), after.fragment());
        let optimole = before
            .host_str()
            .is_some_and(|h| h.ends_with(".i.optimole.com") || h.ends_with(".optml.cloud"));
        if !optimole {
            assert_eq!(before.path(), after.path());
        }
    } else {
        assert_eq!(once, input.url, "an unparseable URL is left alone");
    }
    let _ = Url::parse(&once);
});
