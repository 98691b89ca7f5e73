//! Data-driven fixtures: `tests/fixtures/<case>/` holds `input.html`, `manifest.json`,
//! `expected.html`, and optionally `config.json` (builder settings, and `manifest_format` to
//! import `manifest.json` from another tool) and `report.json` (the
//! counts the run must report). Every case runs whole, one byte at a time, and at random
//! chunk sizes; `CACHEBUST_CHUNK=N` pins the chunk size, `CACHEBUST_SEED=N` the random one,
//! `CACHEBUST_CASE=name` runs one case.

mod common;

use cachebust::Manifest;
use cachebust::manifest::import::import;
use common::{Rng, buster, rewrite_chunked};
use serde_json::Value;
use std::fs;
use std::path::Path;

fn check_report(case: &str, report: &cachebust::Report, expected: &Value) {
    let actual = serde_json::to_value(report).unwrap();
    for (key, want) in expected.as_object().expect("report.json is an object") {
        if let Some(want_map) = want.as_object() {
            for (reason, n) in want_map {
                assert_eq!(
                    &actual[key][reason], n,
                    "{case}: report {key}.{reason}\n{actual:#}"
                );
            }
        } else {
            assert_eq!(&actual[key], want, "{case}: report {key}\n{actual:#}");
        }
    }
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let only = std::env::var("CACHEBUST_CASE").ok();
    let pinned: Option<usize> = std::env::var("CACHEBUST_CHUNK")
        .ok()
        .map(|s| s.parse().unwrap());
    let seed: u64 = std::env::var("CACHEBUST_SEED")
        .ok()
        .map_or(0x9E37_79B9_7F4A_7C15, |s| s.parse().unwrap());
    let mut cases: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let mut ran = 0;
    let mut failures = Vec::new();
    for dir in cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        if only.as_deref().is_some_and(|o| o != case) {
            continue;
        }
        let read = |name: &str| fs::read(dir.join(name)).ok();
        let input = read("input.html").unwrap_or_else(|| panic!("{case}: no input.html"));
        let expected = read("expected.html").unwrap_or_else(|| panic!("{case}: no expected.html"));
        let manifest_json =
            String::from_utf8(read("manifest.json").unwrap_or_else(|| b"{}".to_vec())).unwrap();
        let config: Value =
            read("config.json").map_or(Value::Null, |b| serde_json::from_slice(&b).unwrap());
        let manifest = match config.get("manifest_format").and_then(Value::as_str) {
            Some(format) => import(format.parse().unwrap(), &manifest_json, None),
            None => Manifest::from_json(&manifest_json),
        }
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        let buster = buster(manifest, &config);

        let mut rng = Rng(seed ^ (ran as u64 + 1));
        let mut runs: Vec<(String, Box<dyn FnMut() -> usize>)> = Vec::new();
        match pinned {
            Some(n) => runs.push((format!("chunk {n}"), Box::new(move || n))),
            None => {
                runs.push(("whole".into(), Box::new(|| usize::MAX)));
                runs.push(("byte by byte".into(), Box::new(|| 1)));
                for _ in 0..4 {
                    let mut r = Rng(rng.next() | 1);
                    runs.push(("random chunks".into(), Box::new(move || 1 + r.below(64))));
                }
            }
        }
        for (how, next) in runs {
            let (out, report) = rewrite_chunked(&buster, &input, next);
            if out != expected {
                failures.push(format!(
                    "{case} ({how}):\n  expected: {}\n  actual:   {}",
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&out)
                ));
                break;
            }
            if let Some(want) = read("report.json") {
                check_report(&case, &report, &serde_json::from_slice(&want).unwrap());
            }
        }
        // Guarantee 2: a second run over the output changes nothing.
        let (again, _) = rewrite_chunked(&buster, &expected, || usize::MAX);
        if again != expected {
            failures.push(format!(
                "{case}: not idempotent:\n  {}",
                String::from_utf8_lossy(&again)
            ));
        }
        ran += 1;
    }
    assert!(ran > 0, "no fixture ran");
    assert!(
        failures.is_empty(),
        "{} fixture failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{ran} fixtures passed");
}
