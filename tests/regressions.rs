//! Inputs the fuzzers found, kept so that they run under plain `cargo test`.

use cachebust::{Builder, Manifest};

/// srcset: a bare parameter of the configured name (`?v`) gets the version as its value.
#[test]
fn a_bare_parameter_gets_a_value() {
    let buster = Builder::new(Manifest::new())
        .with_param("v")
        .with_global_version("Z")
        .build()
        .unwrap();
    assert_eq!(buster.bust_srcset(":,at?v").0, ":,at?v=Z");
    assert_eq!(buster.bust_srcset(":,at?v=Z").0, ":,at?v=Z");
}
