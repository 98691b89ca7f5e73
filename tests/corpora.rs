//! External corpora (`../shared/corpora`): the WPT srcset cases, the html5lib inputs and three
//! real pages. Each test skips with a message when the corpora are absent.

mod common;

use cachebust::srcset::{Descriptors, candidates};
use cachebust::{Builder, Manifest};
use common::{Rng, corpus, rewrite_chunked};
use serde_json::Value;
use std::fs;

/// The candidate a browser with a device pixel ratio of 1 picks: the smallest density of at
/// least 1, the first of equals; `None` when no candidate is valid.
fn pick(srcset: &str) -> Option<String> {
    let mut best: Option<(f64, String)> = None;
    for candidate in candidates(srcset) {
        let Some(d) = Descriptors::parse(&candidate.descriptors) else {
            continue;
        };
        let density = d.density.unwrap_or(if d.width.is_some() {
            f64::INFINITY
        } else {
            1.0
        });
        let better = match &best {
            None => true,
            Some((b, _)) => {
                (density >= 1.0 && (density < *b || *b < 1.0)) || (*b < 1.0 && density > *b)
            }
        };
        if better {
            best = Some((density, candidate.url.to_owned()));
        }
    }
    best.map(|(_, url)| url)
}

/// Cases where the WPT expectation depends on a browser quirk this parser does not model:
/// a descriptor holding U+0001 (`1\u{1}w`) makes browsers drop the candidate, while every other
/// unknown descriptor is ignored.
const KNOWN_DIFFERENCES: &[&str] = &["data:,a 1&#x1;w"];

#[test]
fn wpt_srcset_parsing() {
    let Some(path) = corpus("wpt/srcset-parse.json") else {
        return;
    };
    let data: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
    let cases = data["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let raw = case["srcset_raw"].as_str().unwrap();
        // The attribute as written, decoded as an HTML attribute value (the JSON's decoded
        // field loses control characters).
        let decoded = html_decode(raw);
        let picked = pick(&decoded).unwrap_or_default();
        let expected = case["expect_current_src"].as_str().unwrap();
        let expected_decoded = html_decode(expected);
        let same = picked == expected
            || picked == expected_decoded
            // The browser resolves control characters away in URLs it reports.
            || picked.replace(|c: char| c.is_control(), "") == expected.replace(|c: char| c.is_control(), "");
        if same == KNOWN_DIFFERENCES.contains(&raw) {
            failures.push(format!(
                "{raw:?}: picked {picked:?}, WPT expects {expected:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} srcset cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{} WPT srcset cases agree", cases.len());
}

fn html_decode(raw: &str) -> String {
    cachebust::html::decode_attribute_value(raw).into_owned()
}

/// The html5lib inputs: every tokenizer `input` and every tree-construction `#data`.
fn html5lib_inputs() -> Option<Vec<String>> {
    let root = corpus("html5lib")?;
    let mut inputs = Vec::new();
    for entry in fs::read_dir(root.join("tokenizer")).unwrap() {
        let path = entry.unwrap().path();
        let json: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        for test in json["tests"].as_array().into_iter().flatten() {
            if let Some(input) = test["input"].as_str() {
                inputs.push(input.to_owned());
            }
        }
    }
    for entry in fs::read_dir(root.join("tree-construction")).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        for block in text.split("#data\n").skip(1) {
            let data = block.split("\n#errors").next().unwrap_or(block);
            inputs.push(data.to_owned());
        }
    }
    Some(inputs)
}

#[test]
fn html5lib_inputs_pass_through_an_empty_manifest() {
    let Some(inputs) = html5lib_inputs() else {
        return;
    };
    let buster = Builder::new(Manifest::new()).build().unwrap();
    let mut rng = Rng(7);
    for input in &inputs {
        let (out, _) = rewrite_chunked(&buster, input.as_bytes(), || 1 + rng.below(16));
        assert_eq!(out, input.as_bytes(), "identity broken for {input:?}");
    }
    eprintln!("{} html5lib inputs unchanged", inputs.len());
}

#[test]
fn html5lib_inputs_with_a_manifest_keep_their_markup() {
    let Some(inputs) = html5lib_inputs() else {
        return;
    };
    let manifest =
        Manifest::from_json(r#"{"/a": "1", "/x": "2", "/foo": "3", "/b": "4"}"#).unwrap();
    let buster = Builder::new(manifest)
        .with_global_version("g")
        .build()
        .unwrap();
    for input in &inputs {
        let (once, _) = buster.rewrite_bytes(input.as_bytes());
        let count = |b: &[u8], c: u8| b.iter().filter(|&&x| x == c).count();
        assert_eq!(
            count(&once, b'<'),
            count(input.as_bytes(), b'<'),
            "{input:?}"
        );
        assert_eq!(
            count(&once, b'>'),
            count(input.as_bytes(), b'>'),
            "{input:?}"
        );
        let (twice, _) = buster.rewrite_bytes(&once);
        assert_eq!(twice, once, "not idempotent for {input:?}");
        let (chunked, _) = rewrite_chunked(&buster, input.as_bytes(), || 3);
        assert_eq!(chunked, once, "chunking changed the output for {input:?}");
    }
}

#[test]
fn real_pages() {
    for name in [
        "cloudflare.com.html",
        "ecma402-spec.html",
        "html-parsing-spec.html",
    ] {
        let Some(path) = corpus(&format!("real-pages/{name}")) else {
            return;
        };
        let page = fs::read(path).unwrap();
        let empty = Builder::new(Manifest::new()).build().unwrap();
        let (out, _) = rewrite_chunked(&empty, &page, || 4096);
        assert!(out == page, "{name}: an empty manifest changed the page");

        let global = Builder::new(Manifest::new())
            .with_page_url("https://www.cloudflare.com/")
            .with_global_version("g1")
            .build()
            .unwrap();
        let (once, report) = global.rewrite_bytes(&page);
        assert!(
            report.rewritten > 0,
            "{name}: nothing rewritten: {report:?}"
        );
        assert!(report.bail_out.is_none(), "{name}: {report:?}");
        let (twice, again) = global.rewrite_bytes(&once);
        assert!(twice == once, "{name}: not idempotent");
        assert_eq!(again.rewritten, 0, "{name}");
        assert_eq!(again.current, report.rewritten + report.current, "{name}");
        let mut rng = Rng(11);
        let (chunked, _) = rewrite_chunked(&global, &page, || 1 + rng.below(3000));
        assert!(chunked == once, "{name}: chunking changed the output");
        eprintln!(
            "{name}: {} rewritten, {} skipped",
            report.rewritten,
            report.skipped.total()
        );
    }
}
