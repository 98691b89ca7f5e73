//! The catalogue of hostile inputs (issue "nothing lost, nothing broken"): each with its
//! expected outcome per the rules (docs/RULES.md).

mod common;

use cachebust::{Builder, Buster, Manifest, Outcome, SkipReason};
use common::rewrite_chunked;
use std::time::Instant;

fn buster() -> Buster {
    let manifest = Manifest::from_json(
        r#"{"/img/a.png": "v1", "/img/a b.png": "sp", "/img/a/b.png": "sl", "/img/caf\u00e9.png": "nfc"}"#,
    )
    .unwrap();
    Builder::new(manifest)
        .with_page_url("https://example.com/")
        .build()
        .unwrap()
}

fn rewrite(input: &str) -> String {
    String::from_utf8(buster().rewrite_bytes(input.as_bytes()).0).unwrap()
}

// ---- Streams

#[test]
fn every_split_point_of_every_fixture_gives_the_same_output() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let b = buster();
    for entry in std::fs::read_dir(root).unwrap() {
        let input = std::fs::read(entry.unwrap().path().join("input.html")).unwrap();
        let (whole, _) = b.rewrite_bytes(&input);
        for split in 1..input.len() {
            let mut out = Vec::new();
            let mut rewriter = b.rewriter(|c: &[u8]| out.extend_from_slice(c));
            rewriter.write(&input[..split]);
            rewriter.write(&input[split..]);
            rewriter.end();
            assert!(
                out == whole,
                "split at {split} of {}",
                String::from_utf8_lossy(&input)
            );
        }
    }
}

/// A buster whose parser may use `mib` MiB.
fn roomy(mib: usize) -> Buster {
    Builder::new(Manifest::from_json(r#"{"/img/a.png": "v1"}"#).unwrap())
        .with_parser_memory_limit(mib << 20)
        .build()
        .unwrap()
}

#[test]
fn deep_nesting_and_many_tags() {
    let nested = format!(
        "{}<img src=/img/a.png>{}",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let rewritten = nested.len() + "\"?vh=v1\"".len();
    // A stream gets a handler on every element, and lol_html's stack of open elements for
    // it outgrows the default parser memory: the page passes through unchanged, and says so.
    let (out, report) = rewrite_chunked(&buster(), nested.as_bytes(), || 65536);
    assert!(out == nested.as_bytes());
    assert!(report.bail_out.is_some());
    // With room, it is rewritten.
    let (out, report) = rewrite_chunked(&roomy(64), nested.as_bytes(), || 65536);
    assert_eq!(out.len(), rewritten);
    assert!(report.bail_out.is_none());
    // A whole document has its elements found by name (feature `fast-scan`), with no such
    // stack: rewritten within the default. Without the feature it goes through the
    // selectors as a stream does, and passes through the same way.
    let (out, report) = buster().rewrite_bytes(nested.as_bytes());
    if cfg!(feature = "fast-scan") {
        assert_eq!(out.len(), rewritten);
        assert!(report.bail_out.is_none());
    } else {
        assert!(out == nested.as_bytes());
        assert!(report.bail_out.is_some());
    }
    // Unless it may hold a `<style>` in SVG, which only the stack can end: then it goes
    // through lol_html's selectors.
    let styled = format!("<svg></svg><style>p{{}}</style>{nested}");
    let (out, report) = buster().rewrite_bytes(styled.as_bytes());
    assert!(out == styled.as_bytes());
    assert!(report.bail_out.is_some());
    let mismatched = "<a></b>".repeat(1_000_000);
    // A million open `<a>`s outgrow the default parser memory: the page passes through
    // unchanged (reported), and nothing is lost either way.
    let (out, _) = rewrite_chunked(&buster(), mismatched.as_bytes(), || 65536);
    assert!(out == mismatched.as_bytes());
    let (out, report) = rewrite_chunked(&roomy(256), mismatched.as_bytes(), || 65536);
    assert!(out == mismatched.as_bytes());
    assert!(report.bail_out.is_none());
}

#[test]
fn a_tag_with_100000_attributes() {
    let attrs: String = (0..100_000).map(|i| format!(" a{i}=x")).collect();
    let input = format!("<img{attrs} src=/img/a.png>");
    let rewritten = format!("<img{attrs} src=\"/img/a.png?vh=v1\">");
    // A stream has lol_html lex the tag, every attribute held in its parser memory: past
    // the default, the page passes through unchanged, and says so.
    let (out, report) = rewrite_chunked(&buster(), input.as_bytes(), || 65536);
    assert!(out == input.as_bytes(), "past the parser memory: unchanged");
    assert!(report.bail_out.is_some());
    let (out, report) = rewrite_chunked(&roomy(64), input.as_bytes(), || 65536);
    assert!(String::from_utf8(out).unwrap() == rewritten);
    assert_eq!(report.rewritten, 1);
    // A whole document's tags are located without lol_html lexing them (it names them
    // only, feature `fast-scan`): rewritten within the default. Without the feature, as a
    // stream.
    let (out, report) = buster().rewrite_bytes(input.as_bytes());
    if cfg!(feature = "fast-scan") {
        assert!(String::from_utf8(out).unwrap() == rewritten);
        assert!(report.bail_out.is_none());
        assert_eq!(report.rewritten, 1);
    } else {
        assert!(out == input.as_bytes());
        assert!(report.bail_out.is_some());
    }
}

#[test]
fn raw_text_contexts_hold_no_references() {
    for (input, expected) in [
        (
            "<plaintext><img src=/img/a.png>",
            "<plaintext><img src=/img/a.png>",
        ),
        (
            "<textarea><img src=/img/a.png></textarea>",
            "<textarea><img src=/img/a.png></textarea>",
        ),
        (
            "<title><img src=/img/a.png></title>",
            "<title><img src=/img/a.png></title>",
        ),
        (
            "<script>document.write('<img src=/img/a.png>')</script>",
            "<script>document.write('<img src=/img/a.png>')</script>",
        ),
        (
            "<!-- <img src=/img/a.png> -->",
            "<!-- <img src=/img/a.png> -->",
        ),
        (
            "<template><img src=/img/a.png></template>",
            "<template><img src=\"/img/a.png?vh=v1\"></template>",
        ),
        (
            "<iframe srcdoc=\"<img src=/img/a.png>\"></iframe>",
            "<iframe srcdoc=\"<img src=/img/a.png>\"></iframe>",
        ),
    ] {
        assert_eq!(rewrite(input), expected, "{input}");
    }
}

#[test]
fn select_xmp_is_not_an_error() {
    // lol_html's strict mode refuses this ambiguity; cachebust runs non-strict and goes on.
    let input = "<select><xmp><script>x</script></xmp></select><img src=/img/a.png>";
    let (out, report) = buster().rewrite_bytes(input.as_bytes());
    assert!(report.bail_out.is_none());
    assert!(
        String::from_utf8(out)
            .unwrap()
            .ends_with("<img src=\"/img/a.png?vh=v1\">")
    );
}

#[test]
fn svg_style_decodes_entities() {
    assert_eq!(
        rewrite("<svg><style>r{fill:url(&quot;/img/a.png&quot;)}</style></svg>"),
        "<svg><style>r{fill:url(&quot;/img/a.png?vh=v1&quot;)}</style></svg>"
    );
    assert_eq!(
        rewrite("<svg><style><![CDATA[r{fill:url(/img/a.png)}]]></style></svg>"),
        "<svg><style><![CDATA[r{fill:url(/img/a.png?vh=v1)}]]></style></svg>"
    );
}

#[test]
fn duplicate_upper_case_attributes_nul_and_cr() {
    assert_eq!(
        rewrite("<IMG SRC=/img/a.png src=/other.png>"),
        "<IMG SRC=\"/img/a.png?vh=v1\" src=/other.png>"
    );
    assert_eq!(
        rewrite("<img src=\"/img/a.png\"\r\nalt=x>"),
        "<img src=\"/img/a.png?vh=v1\"\r\nalt=x>"
    );
    assert_eq!(
        rewrite("<img src=\"/img/a\0.png\">\0<p>\0</p>"),
        "<img src=\"/img/a\0.png\">\0<p>\0</p>"
    );
}

// ---- URLs

#[test]
fn url_traps() {
    let b = buster();
    let skipped = |url: &str, reason| {
        assert_eq!(b.bust_url(url).outcome, Outcome::Skipped(reason), "{url:?}")
    };
    skipped("java\tscript:alert(1)", SkipReason::Scheme);
    skipped(" JAVASCRIPT:alert(1)", SkipReason::Scheme);
    skipped("java\nscript:x", SkipReason::Scheme);
    skipped("\\\\other.org/img/a.png", SkipReason::Foreign);
    assert_eq!(
        b.bust_url("\\\\example.com\\img\\a.png").url,
        "\\\\example.com\\img\\a.png?vh=v1"
    );
    assert_eq!(b.bust_url("/img/a.png#x?y").url, "/img/a.png?vh=v1#x?y");
    assert_eq!(b.bust_url("/img/a%20b.png").url, "/img/a%20b.png?vh=sp");
    assert_eq!(
        b.bust_url("/img/a%2Fb.png").url,
        "/img/a%2Fb.png?vh=sl",
        "%2F decodes to / (RULES §1)"
    );
    assert_eq!(
        b.bust_url("/img/caf\u{e9}.png").url,
        "/img/caf\u{e9}.png?vh=nfc"
    );
    // NFD spelling: another key (no Unicode normalisation).
    assert_eq!(b.bust_url("/img/cafe\u{301}.png").outcome, Outcome::Missing);
    assert_eq!(
        b.bust_url("/img/a.png?vh=old&vh=old").url,
        "/img/a.png?vh=v1&vh=v1"
    );
    assert_eq!(
        rewrite("<img src=\"/img/a.png?x=1&region=eu&copy=2\">"),
        "<img src=\"/img/a.png?x=1&region=eu&copy=2&vh=v1\">"
    );
}

// ---- Time

/// Best of three runs, in seconds.
fn time(input: &[u8]) -> f64 {
    let b = roomy(512);
    (0..3)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(b.rewrite_bytes(input));
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min)
}

/// Makes an input of about `n` units.
type Generator = fn(usize) -> String;

#[test]
fn time_grows_linearly_on_adversarial_inputs() {
    let generators: [(&str, Generator); 6] = [
        ("nested", |n| {
            format!("{}{}", "<div>".repeat(n), "</div>".repeat(n))
        }),
        ("open tags", |n| "<img src=".repeat(n)),
        ("attributes", |n| format!("<img{}>", " a=b".repeat(n))),
        ("srcset commas", |n| {
            format!("<img srcset=\"{}\">", "/img/a.png 1x,".repeat(n))
        }),
        ("css", |n| {
            format!("<style>{}</style>", "a{b:url(/img/a.png)}/*".repeat(n))
        }),
        ("entities", |n| {
            format!("<img src=\"/img/a.png?{}\">", "&amp;".repeat(n))
        }),
    ];
    for (name, generate) in generators {
        let mut n = 2_000;
        // Grow until one run takes long enough to be measured.
        while time(generate(n).as_bytes()) < 0.05 && n < 1_000_000 {
            n *= 2;
        }
        // Timing on a shared machine is noisy: a linear cost passes one of three tries, a
        // quadratic one (16x) none.
        let tries: Vec<(f64, f64)> = (0..3)
            .map(|_| {
                (
                    time(generate(n).as_bytes()),
                    time(generate(4 * n).as_bytes()),
                )
            })
            .collect();
        assert!(
            tries
                .iter()
                .any(|(small, large)| *large <= 5.0 * small + 0.01),
            "{name}: (n={n}, 4n) took {tries:?}"
        );
    }
}

// ---- Manifests

#[test]
fn hostile_manifests_are_clear_errors() {
    for version in [
        "a\"b", "a'b", "a<b", "a>b", "a&b", "a,b", "a(b", "a)b", "a\\b", "a/b", "a#b", "a%b",
        "a+b", "a b", "é",
    ] {
        let json = format!(
            r#"{{"/a.png": {}}}"#,
            serde_json::to_string(version).unwrap()
        );
        let err = Manifest::from_json(&json).unwrap_err().to_string();
        assert!(err.contains("/a.png"), "{version:?}: {err}");
    }
    for key in ["/a/../b.png?x", "/a.png#f", "img/a.png"] {
        let json = format!(r#"{{{}: "v1"}}"#, serde_json::to_string(key).unwrap());
        assert!(
            Manifest::from_json(&json)
                .unwrap_err()
                .to_string()
                .contains(key),
            "{key}"
        );
    }
    assert!(
        Manifest::from_json(r#"{"/a/../b.png": "v1"}"#)
            .unwrap()
            .get("/b.png")
            .is_some()
    );
    let deep = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
    assert!(Manifest::from_json(&deep).is_err());
    // A manifest file too large to be one is refused before it is read.
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    let err = Manifest::load(&huge).unwrap_err().to_string();
    assert!(err.contains("huge.json") && err.contains("bytes"), "{err}");
}
