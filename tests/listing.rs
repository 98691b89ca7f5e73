//! Listing references (`Builder::with_reference_list`): every reference the rewriter
//! counts is listed, with what a checker needs (the URL fetched, the key, the version
//! carried and due), and listing never changes the output.

use cachebust::{Builder, Manifest, Outcome, Reference, SkipReason};

fn listed(manifest: &str, page: &str, html: &str) -> (String, Vec<Reference>) {
    let buster = Builder::new(Manifest::from_json(manifest).unwrap())
        .with_page_url(page)
        .with_reference_list(true)
        .with_cloudimage_domain("img.example.com")
        .build()
        .unwrap();
    let (out, report) = buster.rewrite_str(html);
    assert_eq!(report.references.len() as u64, report.references());
    (out, report.references)
}

#[test]
fn query_versions_carried_and_due() {
    let (_, refs) = listed(
        r#"{"/img/a.png": "new", "/img/b.png": "b1"}"#,
        "https://example.com/blog/post.html",
        r#"<img src="../img/a.png?vh=old" srcset="/img/b.png?vh=b1 2x, /img/c.png 3x">
           <img src="mailto:x@example.com"><img src="https://elsewhere.net/x.png">"#,
    );
    type Row<'a> = (
        &'a str,
        Option<String>,
        Option<&'a str>,
        Outcome,
        Option<&'a str>,
        Option<&'a str>,
    );
    fn row(r: &Reference) -> Row<'_> {
        (
            r.text.as_str(),
            r.url.as_ref().map(|u| u.as_str().to_owned()),
            r.key.as_deref(),
            r.outcome,
            r.carries.as_deref(),
            r.version.as_deref(),
        )
    }
    let rows: Vec<_> = refs.iter().map(row).collect();
    assert_eq!(
        rows,
        [
            (
                "../img/a.png?vh=old",
                Some("https://example.com/img/a.png?vh=old".to_owned()),
                Some("/img/a.png"),
                Outcome::Rewritten,
                Some("old"),
                Some("new"),
            ),
            (
                "/img/b.png?vh=b1",
                Some("https://example.com/img/b.png?vh=b1".to_owned()),
                Some("/img/b.png"),
                Outcome::Current,
                Some("b1"),
                Some("b1"),
            ),
            (
                "/img/c.png",
                Some("https://example.com/img/c.png".to_owned()),
                Some("/img/c.png"),
                Outcome::Missing,
                None,
                None,
            ),
            (
                "mailto:x@example.com",
                Some("mailto:x@example.com".to_owned()),
                None,
                Outcome::Skipped(SkipReason::Scheme),
                None,
                None,
            ),
            (
                "https://elsewhere.net/x.png",
                Some("https://elsewhere.net/x.png".to_owned()),
                None,
                Outcome::Skipped(SkipReason::Foreign),
                None,
                None,
            ),
        ]
    );
}

#[test]
fn cdn_tokens_and_renames() {
    let mut manifest = Manifest::from_json(r#"{"https://example.com/p.jpg": "p2"}"#).unwrap();
    manifest
        .insert_rename("/css/app.css", "/css/app.1234.css")
        .unwrap();
    let buster = Builder::new(manifest)
        .with_page_url("https://example.com/")
        .with_reference_list(true)
        .build()
        .unwrap();
    let (_, report) = buster.rewrite_str(
        r#"<img src="https://abc.i.optimole.com/cb:p1/w:100/https://example.com/p.jpg">
           <link rel=stylesheet href="/css/app.css"><link rel=stylesheet href="/css/app.1234.css">"#,
    );
    let refs = &report.references;
    assert_eq!(refs.len(), 3, "{refs:#?}");
    assert_eq!(refs[0].key.as_deref(), Some("//example.com/p.jpg"));
    assert_eq!(
        (refs[0].carries.as_deref(), refs[0].version.as_deref()),
        (Some("p1"), Some("p2"))
    );
    assert_eq!(refs[1].outcome, Outcome::Rewritten);
    assert_eq!(
        (refs[1].carries.as_deref(), refs[1].version.as_deref()),
        (None, Some("/css/app.1234.css"))
    );
    assert_eq!(refs[2].outcome, Outcome::Current);
    assert_eq!(refs[2].carries.as_deref(), Some("/css/app.1234.css"));
}

#[test]
fn stylesheets_list_against_their_own_url() {
    let buster = Builder::new(Manifest::from_json(r#"{"/img/bg.png": "7"}"#).unwrap())
        .with_reference_list(true)
        .build()
        .unwrap()
        .for_page("https://example.com/css/site.css")
        .unwrap();
    let (_, report) = buster.rewrite_css_bytes(b"a { background: url('../img/bg.png') }");
    let refs = &report.references;
    assert_eq!(refs.len(), 1);
    assert_eq!(
        refs[0].url.as_ref().map(|u| u.as_str()),
        Some("https://example.com/img/bg.png")
    );
    assert_eq!(refs[0].version.as_deref(), Some("7"));
}

#[test]
fn listing_changes_no_output_and_serialises() {
    let manifest = r#"{"/a.png": "1", "/b.png": "2"}"#;
    let html = r#"<img src="a.png" style="background:url(/b.png?vh=0)"><img src="data:,x">"#;
    let plain = Builder::new(Manifest::from_json(manifest).unwrap())
        .build()
        .unwrap();
    let (expected, expected_report) = plain.rewrite_str(html);
    let (out, refs) = listed(manifest, "https://example.com/", html);
    assert_eq!(out, expected);
    assert_eq!(expected_report.references, []);
    let json = serde_json_like(&refs[1]);
    assert!(json.contains(r#""outcome":"rewritten""#), "{json}");
    assert!(json.contains(r#""carries":"0""#), "{json}");
    let json = serde_json_like(&refs[2]);
    assert!(json.contains(r#""reason":"scheme""#), "{json}");
}

/// The JSON of a reference, through the report's own serialisation.
fn serde_json_like(reference: &Reference) -> String {
    let mut report = cachebust::Report::default();
    report.references.push(reference.clone());
    serde_json::to_string(&report).unwrap()
}

/// Every reference of the real pages the fast path resolves is resolved the same way by
/// the listing's long way: it gets a key, and the global version as the one due.
#[test]
fn real_pages_list_every_counted_reference() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/real-pages");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("no corpus at {}: skipped", dir.display());
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "html") {
            continue;
        }
        let page = std::fs::read(&path).unwrap();
        let buster = Builder::new(Manifest::new())
            .with_page_url("https://www.cloudflare.com/a/b.html")
            .with_global_version("g1")
            .with_reference_list(true)
            .build()
            .unwrap();
        let (_, report) = buster.rewrite_bytes(&page);
        assert_eq!(
            report.references.len() as u64,
            report.references() - report.skipped.too_large
        );
        for r in &report.references {
            if matches!(r.outcome, Outcome::Rewritten | Outcome::Current) {
                assert!(r.key.is_some(), "{}: {r:?}", path.display());
                assert_eq!(r.version.as_deref(), Some("g1"), "{r:?}");
            }
        }
    }
}
