//! RULES §6.6: memory is bounded by configuration; what cannot be rewritten within the bounds
//! passes through unchanged, and the report says so.

mod common;

use cachebust::{Builder, Manifest};
use common::rewrite_chunked;

fn manifest() -> Manifest {
    Manifest::from_json(r#"{"/img/a.png": "v1"}"#).unwrap()
}

/// Asserts equality without printing megabytes.
fn assert_same(actual: &[u8], expected: &[u8], what: &str) {
    if actual != expected {
        let at = actual
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(actual.len().min(expected.len()));
        let show = |b: &[u8]| {
            String::from_utf8_lossy(&b[at.saturating_sub(40)..(at + 40).min(b.len())]).into_owned()
        };
        panic!(
            "{what}: differs at byte {at}: {:?} vs {:?} (lengths {} and {})",
            show(actual),
            show(expected),
            actual.len(),
            expected.len()
        );
    }
}

#[test]
fn a_parser_memory_bail_out_passes_the_rest_through() {
    let buster = Builder::new(manifest())
        .with_parser_memory_limit(4096)
        .with_base_lookahead(0)
        .build()
        .unwrap();
    let huge = format!("<img src=\"/img/a.png\" data-x=\"{}\">", "x".repeat(20_000));
    let rest = format!("{huge}<img src=\"/img/a.png\"><p>after</p>");
    let input = format!("<img src=\"/img/a.png\">{rest}");
    for chunk in [1000, 7] {
        let (out, report) = rewrite_chunked(&buster, input.as_bytes(), || chunk);
        assert_same(
            &out,
            format!("<img src=\"/img/a.png?vh=v1\">{rest}").as_bytes(),
            &format!("chunk {chunk}"),
        );
        let why = report
            .bail_out
            .clone()
            .expect("the report says rewriting stopped");
        assert!(why.contains("passed through unchanged"), "{why}");
        assert_eq!(report.rewritten, 1, "chunk {chunk}: {report:?}");
    }
    // Whole, the tag needs no buffering: everything is rewritten.
    let (out, report) = buster.rewrite_bytes(input.as_bytes());
    assert!(report.bail_out.is_none());
    assert_eq!(report.rewritten, 3);
    assert_eq!(out.len(), input.len() + 3 * "?vh=v1".len());
}

#[test]
fn writes_after_a_bail_out_go_straight_through() {
    let buster = Builder::new(manifest())
        .with_parser_memory_limit(4096)
        .with_base_lookahead(0)
        .build()
        .unwrap();
    let mut out = Vec::new();
    let mut rewriter = buster.rewriter(|c: &[u8]| out.extend_from_slice(c));
    rewriter.write(format!("<p data-x=\"{}", "y".repeat(10_000)).as_bytes());
    rewriter.write(b"\"><img src=\"/img/a.png\">");
    let report = rewriter.end();
    assert!(report.bail_out.is_some());
    assert_same(
        &out,
        format!(
            "<p data-x=\"{}\"><img src=\"/img/a.png\">",
            "y".repeat(10_000)
        )
        .as_bytes(),
        "after bail-out",
    );
}

#[test]
fn text_over_the_buffer_cap_passes_unchanged() {
    let buster = Builder::new(manifest())
        .with_text_buffer_limit(64)
        .build()
        .unwrap();
    let big = format!(
        "<style>{}p{{background:url(/img/a.png)}}</style>",
        "/* padding */".repeat(10)
    );
    let input = format!(
        "{big}<style>q{{background:url(/img/a.png)}}</style><noscript>{}<img src=/img/a.png></noscript>",
        " ".repeat(80)
    );
    for chunk in [usize::MAX, 5] {
        let (out, report) = rewrite_chunked(&buster, input.as_bytes(), || chunk);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "{big}<style>q{{background:url(/img/a.png?vh=v1)}}</style><noscript>{}<img src=/img/a.png></noscript>",
                " ".repeat(80)
            )
        );
        assert_eq!(report.skipped.too_large, 2);
        assert_eq!(report.rewritten, 1);
    }
}

#[test]
fn a_200k_data_url_split_across_chunks() {
    let buster = Builder::new(manifest()).build().unwrap();
    let data = format!("data:image/png;base64,{}", "QUJD".repeat(50_000));
    let input = format!("<img src=\"{data}\"><img src=\"/img/a.png\">");
    let (out, report) = rewrite_chunked(&buster, input.as_bytes(), || 4096);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("<img src=\"{data}\"><img src=\"/img/a.png?vh=v1\">")
    );
    assert_eq!((report.skipped.scheme, report.rewritten), (1, 1));
    assert!(report.bail_out.is_none());
}

#[test]
fn unterminated_input_is_passed_through() {
    let buster = Builder::new(manifest()).build().unwrap();
    for (input, expected) in [
        ("<img src=\"/img/a.png", "<img src=\"/img/a.png"),
        ("<img src=/img/a.png", "<img src=/img/a.png"),
        (
            "<style>p{background:url(/img/a.png)}",
            "<style>p{background:url(/img/a.png)}",
        ),
        (
            "<noscript><img src=/img/a.png>",
            "<noscript><img src=/img/a.png>",
        ),
        ("<!-- <img src=/img/a.png>", "<!-- <img src=/img/a.png>"),
        (
            "<img src=\"/img/a.png\"><",
            "<img src=\"/img/a.png?vh=v1\"><",
        ),
    ] {
        for chunk in [usize::MAX, 3] {
            let (out, _) = rewrite_chunked(&buster, input.as_bytes(), || chunk);
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }
}
