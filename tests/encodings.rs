//! RULES §6.5: every ASCII-compatible encoding round-trips; invalid bytes pass through.

use cachebust::{Builder, Buster, Manifest};

fn buster(encoding: Option<&str>) -> Buster {
    let manifest =
        Manifest::from_json(r#"{"/img/a.png": "v1", "/img/caf\u00e9.png": "c2"}"#).unwrap();
    let builder = Builder::new(manifest);
    match encoding {
        Some(label) => builder.with_encoding(label),
        None => builder,
    }
    .build()
    .unwrap()
}

/// A page with bytes that are invalid or unusual in most encodings, in text, in attributes
/// next to a rewritten one, and in `<style>`.
fn page(prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let parts: [(&[u8], &[u8]); 5] = [
        (
            b"<p>\x80\x81\xfe\xff \x5c\xe9</p>",
            b"<p>\x80\x81\xfe\xff \x5c\xe9</p>",
        ),
        (
            b"<img alt=\"\xff\x81\x5c\" src=\"/img/a.png\">",
            b"<img alt=\"\xff\x81\x5c\" src=\"/img/a.png?vh=v1\">",
        ),
        (
            b"<style>p{content:'\x81\x5c\xff'}q{background:url(/img/a.png)}</style>",
            b"<style>p{content:'\x81\x5c\xff'}q{background:url(/img/a.png?vh=v1)}</style>",
        ),
        (
            b"<noscript>\xff<img src=/img/a.png></noscript>",
            b"<noscript>\xff<img src=\"/img/a.png?vh=v1\"></noscript>",
        ),
        (
            b"<div style=\"x:\x81;background:url(/img/a.png)\"></div>",
            b"<div style=\"x:\x81;background:url(/img/a.png?vh=v1)\"></div>",
        ),
    ];
    let mut input = prefix.to_vec();
    let mut expected = prefix.to_vec();
    for (i, e) in parts {
        input.extend_from_slice(i);
        expected.extend_from_slice(e);
    }
    (input, expected)
}

const ASCII_COMPATIBLE: &[&str] = &[
    "utf-8",
    "ibm866",
    "iso-8859-2",
    "iso-8859-3",
    "iso-8859-4",
    "iso-8859-5",
    "iso-8859-6",
    "iso-8859-7",
    "iso-8859-8",
    "iso-8859-8-i",
    "iso-8859-10",
    "iso-8859-13",
    "iso-8859-14",
    "iso-8859-15",
    "iso-8859-16",
    "koi8-r",
    "koi8-u",
    "macintosh",
    "windows-874",
    "windows-1250",
    "windows-1251",
    "windows-1252",
    "windows-1253",
    "windows-1254",
    "windows-1255",
    "windows-1256",
    "windows-1257",
    "windows-1258",
    "x-mac-cyrillic",
    "gbk",
    "gb18030",
    "big5",
    "euc-jp",
    "shift_jis",
    "euc-kr",
    "x-user-defined",
];

#[test]
fn every_ascii_compatible_encoding_round_trips() {
    for label in ASCII_COMPATIBLE {
        let (input, expected) = page(b"");
        let empty = Builder::new(Manifest::new())
            .with_encoding(label)
            .build()
            .unwrap();
        assert!(
            empty.rewrite_bytes(&input).0 == input,
            "{label}: identity broken"
        );
        let (out, report) = buster(Some(label)).rewrite_bytes(&input);
        // Where the bytes around a URL do not decode in this encoding, that value is left
        // alone; everything else is rewritten, and nothing else changes.
        assert!(out.len() >= input.len(), "{label}");
        assert!(report.rewritten >= 1, "{label}: {report:?}");
        if *label == "utf-8" || label.starts_with("windows-125") || label.starts_with("iso-8859-1")
        {
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected),
                "{label}"
            );
        }
        let (again, _) = buster(Some(label)).rewrite_bytes(&out);
        assert!(again == out, "{label}: not idempotent");
    }
}

#[test]
fn meta_charset_is_sniffed_and_the_first_wins() {
    let (body, expected_body) = page(b"");
    let head = b"<meta charset=\"windows-1252\"><meta charset=\"utf-8\">";
    let input = [&head[..], &body].concat();
    let (out, report) = buster(None).rewrite_bytes(&input);
    assert_eq!(out, [&head[..], &expected_body].concat());
    assert_eq!(
        report.skipped.unparseable, 0,
        "windows-1252 decodes every byte: {report:?}"
    );

    // A non-ASCII file name in windows-1252 is decoded as such for the lookup.
    let page = b"<meta http-equiv=content-type content='text/html; charset=ISO-8859-1'><img src=\"/img/caf\xe9.png\">";
    let (out, _) = buster(None).rewrite_bytes(page);
    assert_eq!(out, b"<meta http-equiv=content-type content='text/html; charset=ISO-8859-1'><img src=\"/img/caf\xe9.png?vh=c2\">");
}

/// A `<meta charset>` counts when its whole tag lies in the first 1024 bytes, however the
/// page is split: one that runs past them is ignored by a whole page and a stream alike (it
/// once counted only when the chunk that crossed byte 1024 also held the tag's end).
#[test]
fn a_meta_charset_counts_within_the_first_1024_bytes_whatever_the_chunks() {
    let page_with_meta_ending_at = |end: usize| {
        let mut html = b"<base href=/><!--".to_vec();
        let tail = b" charset=windows-1252>";
        html.resize(end - tail.len() - 10, b'x');
        html.extend_from_slice(b"--><meta a");
        html.extend_from_slice(tail);
        assert_eq!(html.len(), end);
        html.extend_from_slice(b"<img src=\"/img/caf\xe9.png\"><body>");
        html
    };
    for (end, counts) in [(1024, true), (1025, false), (1200, false)] {
        let html = page_with_meta_ending_at(end);
        let buster = buster(None);
        let (whole, report) = buster.rewrite_bytes(&html);
        let rewritten = whole.ends_with(b"<img src=\"/img/caf\xe9.png?vh=c2\"><body>");
        assert_eq!(rewritten, counts, "meta ending at {end}: {report:?}");
        for size in [1, 7, 64, 1000, 1024, 4096] {
            let mut rewriter = buster.rewriter(Vec::new());
            for chunk in html.chunks(size) {
                rewriter.write(chunk);
            }
            let (streamed, _) = rewriter.finish();
            assert!(streamed == whole, "meta ending at {end}, chunks of {size}");
        }
    }
}

#[test]
fn invalid_utf8_in_a_url_leaves_it_alone() {
    let input = b"<img src=\"/img/caf\xe9.png\" alt=\"\xff\"><img src=\"/img/a.png\" alt=\"\xff\">";
    let (out, report) = buster(None).rewrite_bytes(input);
    assert_eq!(
        out,
        b"<img src=\"/img/caf\xe9.png\" alt=\"\xff\"><img src=\"/img/a.png?vh=v1\" alt=\"\xff\">"
    );
    assert_eq!(report.skipped.unparseable, 1);
}

#[test]
fn configured_encoding_beats_meta_and_bom_beats_both() {
    let input = b"<meta charset=utf-8><img src=\"/img/caf\xe9.png\">";
    let (out, _) = buster(Some("windows-1252")).rewrite_bytes(input);
    assert_eq!(
        out,
        b"<meta charset=utf-8><img src=\"/img/caf\xe9.png?vh=c2\">"
    );
    let with_bom = "\u{feff}<meta charset=windows-1252><img src=\"/img/café.png\">".as_bytes();
    let (out, _) = buster(Some("windows-1252")).rewrite_bytes(with_bom);
    assert_eq!(
        out,
        "\u{feff}<meta charset=windows-1252><img src=\"/img/café.png?vh=c2\">".as_bytes()
    );
}

#[test]
fn utf16_passes_through_with_a_warning() {
    let text = "<img src=\"/img/a.png\">";
    for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
        let mut input = bom.to_vec();
        for unit in text.encode_utf16() {
            let bytes = if bom[0] == 0xFF {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            };
            input.extend_from_slice(&bytes);
        }
        let (out, report) = buster(None).rewrite_bytes(&input);
        assert_eq!(out, input);
        assert!(
            report.warnings.iter().any(|w| w.contains("UTF-16")),
            "{report:?}"
        );
    }
    let (out, report) = buster(Some("utf-16le")).rewrite_bytes(b"<img src=\"/img/a.png\">");
    assert_eq!(out, b"<img src=\"/img/a.png\">");
    assert_eq!(report.warnings.len(), 1);
}

#[test]
fn shift_jis_trail_bytes_do_not_confuse_css() {
    // 表 is 0x95 0x5C in Shift_JIS: its second byte is a backslash.
    let input = b"<style>p{content:'\x95\x5c'}q{background:url(/img/a.png)}</style><img alt=\"\x95\x5c\" src=\"/img/a.png\">";
    let (out, report) = buster(Some("shift_jis")).rewrite_bytes(input);
    assert_eq!(
        out,
        b"<style>p{content:'\x95\x5c'}q{background:url(/img/a.png?vh=v1)}</style><img alt=\"\x95\x5c\" src=\"/img/a.png?vh=v1\">"
    );
    assert_eq!(report.rewritten, 2);
}
