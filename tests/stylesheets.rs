//! Stylesheets as documents (RULES §2): every CSS case in a `.css` of a sub-folder, the
//! encoding decided as a browser decides it, invalid bytes in legacy multi-byte encodings,
//! and the guarantees of §6 for stylesheets.

use cachebust::{Builder, Buster, Manifest, SkipReason};
use proptest::prelude::*;

const VERSIONS: &str = r#"{
    "/img/a.png": "va", "/img/b.png": "vb", "/img/c 1.png": "vc", "/img/d.png": "vd",
    "/css/base.css": "vbase", "/css/print.css": "vprint", "/fonts/f.woff2": "vf",
    "https://cdn.example.net/x.png": "vx", "/img/café.png": "vcafe", "/img/한.png": "vko"
}"#;

fn sheet(url: &str) -> Buster {
    Builder::new(Manifest::from_json(VERSIONS).unwrap())
        .build()
        .unwrap()
        .for_page(url)
        .unwrap()
}

/// Every CSS context of RULES §2, in a stylesheet at /css/theme/dark.css: its references
/// resolve against the stylesheet's URL, not a page's.
#[test]
fn every_css_case_relative_to_a_stylesheet_in_a_sub_folder() {
    let input = r#"@charset "utf-8";
@import "../base.css";
@import url(../print.css) print;
@import url("https://fonts.example.org/css?family=X");
@font-face { src: url(/fonts/f.woff2) format("woff2"), url(data:font/woff2;base64,AAAA) }
.a { background: url(../../img/a.png) }
.b { background-image: url( '../../img/b.png' ) , url("../../img/c%201.png") }
.c { background: image-set("../../img/a.png" 1x, url(../../img/b.png) 2x) }
.d { background: -webkit-image-set(url(../../img/d.png) 1x) }
.e { background: url(\2e\2e/\2e\2e/img/a\2epng) }
/* url(../../img/a.png) is a comment */
.f { content: "url(../../img/a.png)"; mask: url(#mask); fill: url(%23grad) }
.g { background: url(https://cdn.example.net/x.png), url(https://elsewhere.example/y.png) }
.h { background: url(../../img/a.png?w=2#frag) }
.i { background: url(../../img/a.png?vh=old) }
.j { background: myurl(../../img/a.png) }
.k { background: url(../../img/missing.png) }
"#;
    let expected = r#"@charset "utf-8";
@import "../base.css?vh=vbase";
@import url(../print.css?vh=vprint) print;
@import url("https://fonts.example.org/css?family=X");
@font-face { src: url(/fonts/f.woff2?vh=vf) format("woff2"), url(data:font/woff2;base64,AAAA) }
.a { background: url(../../img/a.png?vh=va) }
.b { background-image: url( '../../img/b.png?vh=vb' ) , url("../../img/c%201.png?vh=vc") }
.c { background: image-set("../../img/a.png?vh=va" 1x, url(../../img/b.png?vh=vb) 2x) }
.d { background: -webkit-image-set(url(../../img/d.png?vh=vd) 1x) }
.e { background: url(\2e\2e/\2e\2e/img/a\2epng?vh=va) }
/* url(../../img/a.png) is a comment */
.f { content: "url(../../img/a.png)"; mask: url(#mask); fill: url(%23grad) }
.g { background: url(https://cdn.example.net/x.png?vh=vx), url(https://elsewhere.example/y.png) }
.h { background: url(../../img/a.png?w=2&vh=va#frag) }
.i { background: url(../../img/a.png?vh=va) }
.j { background: myurl(../../img/a.png) }
.k { background: url(../../img/missing.png) }
"#;
    let (out, report) =
        sheet("https://site.test/css/theme/dark.css").rewrite_css_bytes(input.as_bytes());
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    assert_eq!(report.rewritten, 13);
    assert_eq!(report.missing, 1);
    assert_eq!(report.skipped.get(SkipReason::Foreign), 2);
    assert_eq!(report.skipped.get(SkipReason::Scheme), 1);
    assert_eq!(report.skipped.get(SkipReason::Fragment), 2);
}

/// `@charset` names a legacy encoding, invalid bytes sit before, inside and after URLs:
/// only the URL holding one is unparseable, every byte passes through.
#[test]
fn legacy_multibyte_stylesheets_and_pages_keep_their_other_urls() {
    for label in [
        "gb2312",
        "gbk",
        "gb18030",
        "big5",
        "euc-kr",
        "shift_jis",
        "euc-jp",
    ] {
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap();
        let (word, _, _) = encoding.encode("漢字");
        let mut css = format!("@charset \"{label}\";\n/* ").into_bytes();
        css.extend_from_slice(&word);
        css.extend_from_slice(b" \xff\xff */ .a { background: url(/img/a.png) }\n.b { background: url(/img/\x81\xff.png) }\n");
        css.extend_from_slice(
            b".c { background: url(\"/img/b.png\") } \xff\n.d::after { content: \"",
        );
        css.extend_from_slice(&word);
        css.extend_from_slice(b"\" ; background: url(/img/d.png) }\n");
        let (out, report) = sheet("https://site.test/css/x.css").rewrite_css_bytes(&css);
        let expected = String::from_utf8_lossy(&css)
            .replace("/img/a.png)", "/img/a.png?vh=va)")
            .replace("/img/b.png\"", "/img/b.png?vh=vb\"")
            .replace("/img/d.png)", "/img/d.png?vh=vd)");
        assert_eq!(String::from_utf8_lossy(&out), expected, "{label}");
        // Byte for byte outside the versions.
        let mut stripped = out.clone();
        for version in [&b"?vh=va"[..], b"?vh=vb", b"?vh=vd"] {
            let at = stripped
                .windows(version.len())
                .position(|w| w == version)
                .unwrap();
            stripped.drain(at..at + version.len());
        }
        assert_eq!(stripped, css, "{label}");
        assert_eq!(report.rewritten, 3, "{label}");
        assert_eq!(report.skipped.get(SkipReason::Unparseable), 1, "{label}");

        // The same in a page: `<style>`, a `style` attribute and a srcset.
        let mut page = format!("<meta charset={label}><style>").into_bytes();
        page.extend_from_slice(&css[css.iter().position(|&b| b == b'\n').unwrap()..]);
        page.extend_from_slice(b"</style><p style=\"background:url(/img/a.png); x: '\xff\xff'\">");
        page.extend_from_slice(b"<img srcset=\"/img/a.png 1x, /img/\xff.png 2x, /img/b.png 3x\">");
        let buster = sheet("https://site.test/");
        let (out, report) = buster.rewrite_bytes(&page);
        assert_eq!(
            report.rewritten,
            3 + 1 + 2,
            "{label}: {}",
            String::from_utf8_lossy(&out)
        );
        assert_eq!(report.skipped.get(SkipReason::Unparseable), 2, "{label}");
        let (again, _) = buster.rewrite_bytes(&out);
        assert_eq!(again, out, "{label}: idempotent");
    }
}

#[test]
fn encodings_a_browser_would_use() {
    // A BOM wins; UTF-16 passes through with a warning.
    let bom = b"\xEF\xBB\xBF.a{background:url(/img/a.png)}";
    let (out, _) = sheet("https://site.test/a.css").rewrite_css_bytes(bom);
    assert_eq!(out, b"\xEF\xBB\xBF.a{background:url(/img/a.png?vh=va)}");
    let utf16: Vec<u8> = b"\xFF\xFE"
        .iter()
        .copied()
        .chain(
            "a{background:url(/img/a.png)}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let (out, report) = sheet("https://site.test/a.css").rewrite_css_bytes(&utf16);
    assert_eq!(out, utf16);
    assert_eq!(report.warnings.len(), 1);
    // windows-1252 from @charset, from a response, or from the referring page's setting.
    let latin = b"a{background:url(/img/caf\xe9.png)}";
    let declared = [&b"@charset \"windows-1252\";"[..], latin].concat();
    let (out, _) = sheet("https://site.test/a.css").rewrite_css_bytes(&declared);
    assert!(
        out.ends_with(b"caf\xe9.png?vh=vcafe)}"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let mut out = Vec::new();
    sheet("https://site.test/a.css").rewrite_css_to(latin, Some("latin1"), &mut out);
    assert!(out.ends_with(b"caf\xe9.png?vh=vcafe)}"));
    let fallback = Builder::new(Manifest::from_json(VERSIONS).unwrap())
        .with_encoding("windows-1252")
        .build()
        .unwrap();
    let (out, _) = fallback.rewrite_css_bytes(latin);
    assert!(out.ends_with(b"caf\xe9.png?vh=vcafe)}"));
    // Without any, UTF-8: the lone byte is invalid and its URL unparseable.
    let (out, report) = sheet("https://site.test/a.css").rewrite_css_bytes(latin);
    assert_eq!(out, latin);
    assert_eq!(report.skipped.get(SkipReason::Unparseable), 1);
}

#[test]
fn a_streamed_stylesheet_past_its_limit_passes_through() {
    let buster = Builder::new(Manifest::from_json(VERSIONS).unwrap())
        .with_stylesheet_limit(64)
        .build()
        .unwrap();
    let css = ".a{background:url(/img/a.png)}".repeat(4);
    let mut sheet = buster.stylesheet_rewriter();
    let mut out = Vec::new();
    for chunk in css.as_bytes().chunks(10) {
        out.extend(sheet.write(chunk));
    }
    let (rest, report) = sheet.finish();
    out.extend(rest);
    assert_eq!(out, css.as_bytes());
    assert_eq!(report.skipped.get(SkipReason::TooLarge), 1);
    assert!(report.bail_out.is_some());
}

/// CSS-shaped input: the pieces a stylesheet is made of, and some noise.
fn css_input() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"url(".to_vec()),
        Just(b")".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"/*".to_vec()),
        Just(b"*/".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"@import ".to_vec()),
        Just(b"image-set(".to_vec()),
        Just(b"/img/a.png".to_vec()),
        Just(b"../img/b.png".to_vec()),
        Just(b"?vh=x".to_vec()),
        Just(b"@charset \"gbk\";".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just(b"data:".to_vec()),
        prop::collection::vec(any::<u8>(), 0..4),
        "[ a-z{};:,.#]{0,6}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// RULES §6 for stylesheets: the empty manifest is the identity, a second run changes
    /// nothing, a stream in any chunks gives the whole document's output, and the bytes
    /// outside the versions are the input's.
    #[test]
    fn stylesheet_guarantees(css in css_input(), cut in prop::collection::vec(1usize..16, 1..8)) {
        let empty = Builder::new(Manifest::new()).build().unwrap().for_page("https://site.test/css/a.css").unwrap();
        prop_assert_eq!(empty.rewrite_css_bytes(&css).0, css.clone());
        let buster = sheet("https://site.test/css/a.css");
        let (once, _) = buster.rewrite_css_bytes(&css);
        let (twice, _) = buster.rewrite_css_bytes(&once);
        prop_assert_eq!(&twice, &once);
        let mut stream = buster.stylesheet_rewriter();
        let mut streamed = Vec::new();
        let mut at = 0;
        for size in cut.iter().cycle() {
            if at >= css.len() { break; }
            let end = (at + size).min(css.len());
            streamed.extend(stream.write(&css[at..end]));
            at = end;
        }
        let (rest, _) = stream.finish();
        streamed.extend(rest);
        prop_assert_eq!(&streamed, &once);
        // Only versions were added: removing every `?vh=`/`&vh=` value inserted gives the
        // input back, where the input held none.
        if !css.windows(3).any(|w| w == b"vh=") {
            let text = String::from_utf8_lossy(&once).into_owned();
            let stripped = regex::Regex::new(r"[?&]vh=v[a-z]+").unwrap().replace_all(&text, "");
            let input = String::from_utf8_lossy(&css).into_owned();
            prop_assert_eq!(stripped.as_ref(), input.as_str());
        }
    }
}

/// A stylesheet in an encoding whose bytes are not ASCII's (UTF-16, ISO-2022-JP) passes
/// through unchanged, with a warning: the CSS scanner could not read it.
#[test]
fn stylesheets_not_ascii_compatible_pass_through() {
    let buster = Builder::new(Manifest::from_json(VERSIONS).unwrap())
        .build()
        .unwrap();
    let utf16: Vec<u8> = b"\xFF\xFE"
        .iter()
        .copied()
        .chain(
            "a{background:url(/img/a.png)}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let (out, report) = buster.rewrite_css_bytes(&utf16);
    assert_eq!(out, utf16);
    assert!(report.warnings[0].contains("UTF-16LE"), "{report:?}");
    let ascii = b"a{background:url(/img/a.png)}";
    let mut out = Vec::new();
    let report = buster.rewrite_css_to(ascii, Some("iso-2022-jp"), &mut out);
    assert_eq!(out, ascii);
    assert!(report.warnings[0].contains("ISO-2022-JP"), "{report:?}");
    assert_eq!(report.rewritten, 0);
}
