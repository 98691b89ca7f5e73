//! The manifest loader never panics, and whatever it loads is valid: every entry can be
//! inserted again, and every version is a valid token.
#![no_main]

use cachebust::manifest::check_version;
use cachebust::{Entry, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cachebust::manifest::import::Format::detect("m.json", text);
    let Ok(manifest) = Manifest::from_json(text) else {
        return;
    };
    let mut again = Manifest::new();
    for (key, entry) in manifest.iter() {
        match entry {
            Entry::Version(v) => {
                assert!(check_version(v).is_ok());
                again.insert(key, v).expect("a loaded entry inserts again");
            }
            other => panic!("the native format holds versions only: {other:?}"),
        }
        assert!(manifest.get(key).is_some(), "a loaded key is found");
    }
    assert_eq!(again.len(), manifest.len());
});
