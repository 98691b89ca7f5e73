//! Inputs that once went wrong (most found by the fuzzers), kept so that they run under plain
//! `cargo test`.

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

/// srcset: a candidate that is only `?` names the page itself; it gets the version in its
/// empty query, and the white space around it (and its descriptor `b`) is kept.
#[test]
fn a_bare_question_mark_candidate() {
    let buster = Builder::new(Manifest::new())
        .with_page_url("https://example.com/dir/page.html")
        .with_global_version("3f9a")
        .build()
        .unwrap();
    assert_eq!(buster.bust_srcset("\n\n?\n\nb").0, "\n\n?vh=3f9a\n\nb");
    assert_eq!(buster.bust_srcset("?&").0, "?&&vh=3f9a");
}

/// srcset: a URL's trailing commas end it; the version goes before them.
#[test]
fn trailing_commas_stay_after_the_version() {
    let buster = Builder::new(Manifest::new())
        .with_page_url("https://example.com/dir/page.html")
        .with_global_version("3f9a")
        .build()
        .unwrap();
    assert_eq!(buster.bust_srcset(",a,").0, ",a?vh=3f9a,");
}

/// srcset: an existing parameter's value is replaced whole, whatever it held.
#[test]
fn an_old_value_is_replaced_whole() {
    let buster = Builder::new(Manifest::new())
        .with_param("v")
        .with_global_version("Z")
        .build()
        .unwrap();
    assert_eq!(buster.bust_srcset("777777?v=7777a77t7:?v").0, "777777?v=Z");
}

/// CSS: a URL cut short after a `\` at the end of the input is left alone (anything written
/// after the `\` would become an escape).
#[test]
fn a_url_cut_after_a_backslash_is_left_alone() {
    let buster = Builder::new(Manifest::from_json(r#"{"/": "v1"}"#).unwrap())
        .with_global_version("3f9a")
        .build()
        .unwrap();
    for css in ["; urnd: url(\"/\\", "a{b:url('/x\\\\\\"] {
        let (out, report) = buster.bust_css(css);
        assert_eq!(out, css);
        assert_eq!(report.skipped.unparseable, 1, "{css}");
    }
    // Unquoted, a lone `\` at the end makes a bad url: no reference at all.
    assert_eq!(buster.bust_css("a{b:url(/x\\").0, "a{b:url(/x\\");
    // An escaped backslash is whole: the URL is rewritten after it.
    assert_eq!(
        buster.bust_css("a{b:url(/x\\\\)}").0,
        "a{b:url(/x\\\\?vh=3f9a)}"
    );
}

/// A query ending in `&amp` (no `;`) keeps its `&` apart from the new parameter: written
/// right after it, `vh` would be swallowed into `&ampvh`.
#[test]
fn a_trailing_amp_without_semicolon() {
    let buster = Builder::new(Manifest::from_json(r#"{"/a.png": "v1"}"#).unwrap())
        .build()
        .unwrap();
    let (once, _) = buster.rewrite_str(r#"<img src="/a.png?x=1&amp">"#);
    assert_eq!(once, r#"<img src="/a.png?x=1&amp&vh=v1">"#);
    let (twice, report) = buster.rewrite_str(&once);
    assert_eq!(twice, once);
    assert_eq!(report.current, 1);
}

/// An element whose name is longer than any the attribute table names (a custom element)
/// still has its `style` attribute rewritten, whole or streamed.
#[test]
fn a_long_custom_element_keeps_its_style_rewritten() {
    let buster = Builder::new(Manifest::from_json(r#"{"/a.png": "1"}"#).unwrap())
        .build()
        .unwrap();
    for name in [
        "my-product-card-item",
        "x-an-element-name-far-longer-than-thirty-two-bytes",
    ] {
        let page = format!("<{name} style=\"background:url(/a.png)\"></{name}>");
        let expected = format!("<{name} style=\"background:url(/a.png?vh=1)\"></{name}>");
        assert_eq!(buster.rewrite_str(&page).0, expected);
        let mut out = Vec::new();
        let mut rewriter = buster.rewriter(|chunk: &[u8]| out.extend_from_slice(chunk));
        rewriter.write(page.as_bytes());
        rewriter.end();
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

/// A whole page's start tags are read in batches after lol_html reports them, but their
/// edits still come out in document order: inside an SVG `<style>` (whose text is rewritten
/// and whose end lol_html reports before the tags inside it are read), after a `<base>`,
/// around `<noscript>`, and across a batch's end. The whole page and a stream, which reads
/// each tag as it comes, agree byte for byte.
#[test]
fn tags_read_in_batches_keep_document_order() {
    let buster = Builder::new(
        Manifest::from_json(r#"{"/a.png": "1", "/b.png": "2", "/c.png": "3", "/x/d.png": "4"}"#)
            .unwrap(),
    )
    .with_page_url("https://example.com/")
    .build()
    .unwrap();
    let many: String = (0..600)
        .map(|n| format!("<img src=\"/{}.png\">", ["a", "b", "c"][n % 3]))
        .collect();
    let pages = [
        "<svg><style>.s{background:url(/a.png)}<image href=\"/b.png\"/>\
         <a style=\"fill:url(/c.png)\"></a></style></svg><img src=\"/c.png\">"
            .to_string(),
        "<img src=\"/a.png\"><base href=\"/x/\"><img src=\"d.png\"><style>p{background:url(d.png)}</style>\
         <noscript><img src=\"d.png\"></noscript><img src=\"/b.png\">"
            .to_string(),
        format!("{many}<style>i{{background:url(/a.png)}}</style>{many}<svg><style>{many}</style></svg>"),
    ];
    for page in pages {
        let (whole, report) = buster.rewrite_str(&page);
        let mut out = Vec::new();
        let mut rewriter = buster.rewriter(|chunk: &[u8]| out.extend_from_slice(chunk));
        rewriter.write(page.as_bytes());
        let streamed_report = rewriter.end();
        assert_eq!(whole, String::from_utf8(out).unwrap(), "{page}");
        assert_eq!(report.rewritten, streamed_report.rewritten, "{page}");
        assert_eq!(
            report.rewritten as usize,
            whole.matches("?vh=").count(),
            "{whole}"
        );
    }
    // The tag inside gets its version; the text around it, CSS with markup inside, is left
    // as written (a documented decision).
    let (svg, _) = buster.rewrite_str(
        "<svg><style>.s{background:url(/a.png)}<image href=\"/b.png\"/></style></svg>",
    );
    assert_eq!(
        svg,
        "<svg><style>.s{background:url(/a.png)}<image href=\"/b.png?vh=2\"/></style></svg>"
    );
}

/// Optimole: a `/` after the `#` starts no segment of the path (reading on past the `#`
/// once panicked); a fragment after the origin stays after it.
#[test]
fn an_optimole_path_ends_at_its_fragment() {
    let manifest = Manifest::from_json(r#"{"https://example.com/a.png": "v1"}"#).unwrap();
    let buster = Builder::new(manifest).build().unwrap();
    let odd = "https://k.i.optimole.com/cbT#T:1/w:1/https://example.com/a.png";
    assert_eq!(buster.bust_url(odd).url, odd);
    let odd = "https://k.i.optimole.com/w:1/x?y#z:1/https://example.com/a.png";
    assert_eq!(buster.bust_url(odd).url, odd);
    assert_eq!(
        buster
            .bust_url("https://k.i.optimole.com/w:1/https://example.com/a.png#x")
            .url,
        "https://k.i.optimole.com/cb:v1/w:1/https://example.com/a.png#x"
    );
}

/// A gulp-rev entry naming a file with a comma is written as the manifest says: the comma
/// escaped (`%2C`) was another cache key, and a 404 where the server does not decode.
#[test]
fn renamed_paths_keep_their_commas() {
    use cachebust::manifest::import::{Format, import};
    let manifest = import(
        Format::Rev,
        r#"{"img/a,b.png": "img/a,b-851215.png"}"#,
        None,
    )
    .unwrap();
    let buster = cachebust::Builder::new(manifest).build().unwrap();
    let (html, report) =
        buster.rewrite_str(r#"<img src="/img/a,b.png" srcset="/img/a,b.png 1x, img/a,b.png 2x">"#);
    assert_eq!(
        html,
        r#"<img src="/img/a,b-851215.png" srcset="/img/a,b-851215.png 1x, img/a,b-851215.png 2x">"#
    );
    assert_eq!(report.rewritten, 3);
    // Idempotent: the renamed path is recognised as current.
    assert_eq!(buster.rewrite_str(&html).0, html);
}

/// A renamed file named with non-ASCII letters is written as the manifest names it in a
/// UTF-8 page (`caf%C3%A9.1b86d92129a2.png` was another cache key, and a 404 where the
/// server does not decode), and percent-encoded where the page's encoding could not carry
/// the UTF-8 bytes.
#[test]
fn renamed_paths_keep_their_letters_in_utf8() {
    use cachebust::manifest::import::{Format, import};
    let manifest = import(
        Format::Rev,
        r#"{"img/café.png": "img/café.1b86d92129a2.png", "img/a b.png": "img/a b.1f.png"}"#,
        None,
    )
    .unwrap();
    let buster = cachebust::Builder::new(manifest).build().unwrap();
    let (html, report) =
        buster.rewrite_str(r#"<img src="/img/café.png"><img src="img/a%20b.png">"#);
    assert_eq!(
        html,
        r#"<img src="/img/café.1b86d92129a2.png"><img src="img/a%20b.1f.png">"#
    );
    assert_eq!(report.rewritten, 2);
    assert_eq!(buster.rewrite_str(&html).0, html, "idempotent");
    // A windows-1252 page: the bytes of é in UTF-8 would be two other letters there.
    let (latin, _) =
        buster.rewrite_bytes(b"<meta charset=windows-1252><img src=\"/img/caf\xe9.png\">");
    assert_eq!(
        latin,
        b"<meta charset=windows-1252><img src=\"/img/caf%C3%A9.1b86d92129a2.png\">".to_vec()
    );
    assert_eq!(
        buster.bust_url("/img/café.png").url,
        "/img/café.1b86d92129a2.png"
    );
}
