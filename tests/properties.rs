//! Property tests for the guarantees of RULES §6.

mod common;

use cachebust::{Builder, Buster, Manifest};
use common::rewrite_chunked;
use proptest::prelude::*;

fn manifest() -> Manifest {
    Manifest::from_json(
        r#"{"/img/a.png": "v1", "/img/b c.png": "v-2", "https://cdn.example.com/x.jpg": "c.3",
            "/css/s.css": "s~4", "https://sample.li/p.jpg": "ci5"}"#,
    )
    .unwrap()
}

fn buster() -> Buster {
    Builder::new(manifest())
        .with_page_url("https://example.com/dir/page.html")
        .build()
        .unwrap()
}

fn empty() -> Buster {
    Builder::new(Manifest::new()).build().unwrap()
}

/// URLs as they appear in pages: in and out of the manifest, relative and absolute, with
/// queries, fragments, entities and odd spacing.
fn url() -> impl Strategy<Value = String> {
    let path = prop::sample::select(vec![
        "/img/a.png",
        "../img/a.png",
        "a.png",
        "/img/b c.png",
        "/img/b%20c.png",
        "https://cdn.example.com/x.jpg",
        "//cdn.example.com/x.jpg",
        "https://other.org/img/a.png",
        "data:image/png;base64,AA==",
        "#frag",
        "",
        "https://t.cloudimg.io/v7/sample.li/p.jpg",
        "https://k.i.optimole.com/w:1/https://sample.li/p.jpg",
        "/css/s.css",
        "javascript:void(0)",
        "/img/a.png?X-Amz-Signature=1",
        "http://[bad",
    ]);
    let query = prop::sample::select(vec![
        "",
        "?",
        "?w=1",
        "?w=1&amp;h=2",
        "?a=1&copy=2",
        "?x=%20",
    ]);
    let fragment = prop::sample::select(vec!["", "#top", "#a?b"]);
    let pad = prop::sample::select(vec!["", " ", "\n\t"]);
    (pad.clone(), path, query, fragment, pad).prop_map(|(a, p, q, f, b)| format!("{a}{p}{q}{f}{b}"))
}

fn quoted(value: String) -> impl Strategy<Value = String> {
    prop::sample::select(vec!['"', '\'', ' ']).prop_map(move |q| match q {
        ' ' if !value.is_empty() && !value.contains([' ', '\n', '\t', '"', '\'', '>', '=']) => {
            value.clone()
        }
        '\'' if !value.contains('\'') => format!("'{value}'"),
        _ => format!("\"{}\"", value.replace('"', "&quot;")),
    })
}

/// Pieces of HTML around the references the rules name, and hostile text between them.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (
            url(),
            prop::sample::select(vec![
                "img src",
                "img data-src",
                "script src",
                "video poster",
                "link rel=icon href",
                "link rel=stylesheet href",
                "a href",
                "iframe src",
                "td background",
                "input type=image src",
                "use href",
                "meta property=og:image content",
                "source src",
                "embed src",
                "object data",
                "img data-cachebust=off src"
            ])
        )
            .prop_flat_map(|(u, tag)| quoted(u).prop_map(move |v| {
                let (name, attr) = tag.rsplit_once(' ').unwrap();
                format!("<{name} {attr}={v}>").into_bytes()
            })),
        (url(), url()).prop_flat_map(|(a, b)| quoted(format!("{a} 1x, {b} 2x"))
            .prop_map(|v| format!("<img srcset={v}>").into_bytes())),
        (url(), url()).prop_map(|(a, b)| format!(
            "<style>p{{background:url({a})}} /* url({b}) */ q{{b:url('{b}')}}</style>"
        )
        .into_bytes()),
        url().prop_map(|a| format!("<div style=\"background:url(&quot;{a}&quot;)\">").into_bytes()),
        // `style` where only a careful reading of the tag finds it (the whole-document
        // entry point registers handlers by element name, found before rewriting).
        (
            url(),
            prop::sample::select(vec![
                "<div title=\"<b>\" style=\"background:url(U)\">",
                "<div title=\"<b \" style=\"background:url(U)\">",
                "<a<b style=\"background:url(U)\">",
                "<x:y STYLE=\"background:url(U)\">",
                "<p title='x\"' style='background:url(U)'>",
                "<span title=a<i style=\"background:url(U)\">",
                "<li =\"x\" style=\"background:url(U)\">",
                "<em/style=\"background:url(U)\">",
                "<!-- <u title=\" --><q style=\"background:url(U)\">",
                "<script>'<s title=\"'</script><td style=\"background:url(U)\">",
                "<table\nStyle\n=\n'background:url(U)'>",
            ])
        )
            .prop_map(|(a, template)| template
                .replace('U', &a.replace(['"', '\'', '>'], ""))
                .into_bytes()),
        url().prop_map(|a| format!("<noscript><img src=\"{a}\"></noscript>").into_bytes()),
        url().prop_map(|a| format!("<base href=\"{a}\">").into_bytes()),
        url().prop_map(|a| format!(
            "<svg><style>r{{fill:url({a})}}</style><image href=\"{a}\"/></svg>"
        )
        .into_bytes()),
        prop::collection::vec(any::<u8>(), 0..24),
        prop::sample::select(vec![
            "<!-- <img src=/img/a.png> -->",
            "<script>x='<img src=/img/a.png>'</script>",
            "<textarea><img src=/img/a.png></textarea>",
            "</p>",
            "<p>caf\u{e9}</p>",
            "&amp;&lt;",
            "<template><img src=/img/a.png></template>",
            "<plaintext>",
            "<![CDATA[x]]>"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn page() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(piece(), 0..12).prop_map(|pieces| pieces.concat())
}

fn chunked(buster: &Buster, input: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut sizes = sizes.iter().cycle();
    rewrite_chunked(buster, input, || *sizes.next().unwrap()).0
}

/// Whether `output` is `input` with only version insertions (`?vh=V`, `&vh=V`, `&amp;vh=V`,
/// `vh=V`, `cb:V/`) and quotes added around a rewritten unquoted value.
fn only_insertions(input: &[u8], output: &[u8]) -> bool {
    let inserted = regex::bytes::Regex::new(
        r#"^(?:(?:\?|&amp;|&)?vh=[A-Za-z0-9._~-]+|cb:[A-Za-z0-9._~-]+/|")"#,
    )
    .unwrap();
    // Alignment with backtracking (an insertion can start with the byte that follows it in
    // the input); `failed` remembers positions already known not to align.
    let mut failed = std::collections::HashSet::new();
    let mut stack = vec![(0usize, 0usize)];
    while let Some((i, o)) = stack.pop() {
        if o == output.len() {
            if i == input.len() {
                return true;
            }
            continue;
        }
        if !failed.insert((i, o)) {
            continue;
        }
        if i < input.len() && input[i] == output[o] {
            stack.push((i + 1, o + 1));
        }
        if let Some(m) = inserted.find(&output[o..]) {
            stack.push((i, o + m.end()));
        }
    }
    false
}

/// 300 cases a property, or `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

fn count(bytes: &[u8], c: u8) -> usize {
    bytes.iter().filter(|&&b| b == c).count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// §6.1: an empty manifest gives back any input byte for byte.
    #[test]
    fn empty_manifest_is_identity(input in prop_oneof![page(), prop::collection::vec(any::<u8>(), 0..400)],
                                  sizes in prop::collection::vec(1usize..40, 1..6)) {
        prop_assert_eq!(chunked(&empty(), &input, &sizes), input.clone());
        prop_assert_eq!(empty().rewrite_bytes(&input).0, input);
    }

    /// §6.2: running twice is running once.
    #[test]
    fn idempotent(input in page()) {
        let b = buster();
        let (once, _) = b.rewrite_bytes(&input);
        let (twice, report) = b.rewrite_bytes(&once);
        prop_assert_eq!(&twice, &once);
        prop_assert_eq!(report.rewritten, 0);
    }

    /// §6.2: a new manifest over an old output gives what it gives over the original.
    #[test]
    fn new_manifest_over_old_output(input in page()) {
        let old = buster();
        let newer = Builder::new(Manifest::from_json(
            r#"{"/img/a.png": "v9", "/img/b c.png": "w", "https://cdn.example.com/x.jpg": "c.4", "/css/s.css": "s5", "https://sample.li/p.jpg": "ci6"}"#).unwrap())
            .with_page_url("https://example.com/dir/page.html").build().unwrap();
        let (old_output, _) = old.rewrite_bytes(&input);
        prop_assert_eq!(newer.rewrite_bytes(&old_output).0, newer.rewrite_bytes(&input).0);
    }

    /// §6.3: the output does not depend on chunking, nor what the report counts (a stream
    /// has a handler on every element, a whole document on the elements it needs).
    #[test]
    fn chunk_invariant(input in page(), sizes in prop::collection::vec(1usize..50, 1..8)) {
        let b = buster();
        let mut sizes = sizes.iter().cycle();
        let (streamed, streamed_report) = rewrite_chunked(&b, &input, || *sizes.next().unwrap());
        let (whole, whole_report) = b.rewrite_bytes(&input);
        prop_assert_eq!(streamed, whole);
        prop_assert_eq!(
            (streamed_report.rewritten, streamed_report.current, streamed_report.missing),
            (whole_report.rewritten, whole_report.current, whole_report.missing)
        );
        prop_assert_eq!(streamed_report.skipped, whole_report.skipped);
    }

    /// §6.4: bytes outside rewritten URLs are unchanged; `<` and `>` counts never change.
    #[test]
    fn only_versions_are_inserted(input in page()) {
        let (output, _) = buster().rewrite_bytes(&input);
        prop_assert!(only_insertions(&input, &output),
            "\ninput:  {}\noutput: {}", String::from_utf8_lossy(&input), String::from_utf8_lossy(&output));
        prop_assert_eq!(count(&output, b'<'), count(&input, b'<'));
        prop_assert_eq!(count(&output, b'>'), count(&input, b'>'));
    }

    /// §6.7: no panic on arbitrary bytes, with a manifest and a global version.
    #[test]
    fn arbitrary_bytes_do_not_panic(input in prop::collection::vec(any::<u8>(), 0..600),
                                    sizes in prop::collection::vec(1usize..64, 1..4)) {
        let b = Builder::new(manifest()).with_global_version("g").build().unwrap();
        let whole = b.rewrite_bytes(&input).0;
        prop_assert_eq!(chunked(&b, &input, &sizes), whole);
    }

    /// Busting one URL twice is busting it once, and never touches what is not a URL.
    #[test]
    fn bust_url_is_idempotent(u in url()) {
        let b = buster();
        let once = b.bust_url(&u).url.into_owned();
        prop_assert_eq!(b.bust_url(&once).url.into_owned(), once.clone());
        prop_assert!(only_insertions(u.as_bytes(), once.as_bytes()));
    }
}
