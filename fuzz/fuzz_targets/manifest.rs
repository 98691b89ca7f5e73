//! The manifest loader never panics, and whatever it loads is valid: every entry can be
//! inserted again, and every version is a valid token. Detecting while importing (one
//! pass) agrees with detecting, then importing.
#![no_main]

use cachebust::manifest::check_version;
use cachebust::{Entry, Manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    use cachebust::manifest::import::{Format, detect_and_import, import};
    match (
        Format::detect("m.json", text),
        detect_and_import("m.json", text, None),
    ) {
        (Ok(format), Ok((same, imported))) => {
            assert_eq!(format, same, "detected alike");
            match (import(format, text, None), imported) {
                (Ok(two_passes), Ok(one_pass)) => {
                    assert_eq!(two_passes, one_pass, "imported alike")
                }
                (Err(_), Err(_)) => {}
                (two, one) => panic!("imported differently: {two:?} {one:?}"),
            }
        }
        (Err(_), Err(_)) => {}
        (two, one) => panic!("detected differently: {two:?} {one:?}"),
    }
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
