//! Helpers shared by the integration tests.
#![allow(dead_code)]

use cachebust::{AttributeTable, Builder, Buster, Manifest, Report, ValueKind};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `../shared/corpora/<rel>`, or `None` (with a message) when the corpora are absent.
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} is absent (the shared corpora sit beside the repository)",
            path.display()
        );
        None
    }
}

/// Builds a buster from a fixture's `config.json` (every field optional).
pub fn buster(manifest: Manifest, config: &Value) -> Buster {
    let mut builder = Builder::new(manifest);
    let str_of = |v: &Value| v.as_str().expect("a string").to_owned();
    if let Some(v) = config.get("page_url") {
        builder = builder.with_page_url(&str_of(v));
    }
    for host in config
        .get("site_hosts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        builder = builder.with_site_host(&str_of(host));
    }
    if let Some(v) = config.get("param") {
        builder = builder.with_param(&str_of(v));
    }
    if let Some(v) = config.get("global_version") {
        builder = builder.with_global_version(&str_of(v));
    }
    for d in config
        .get("cloudimage_domains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        builder = builder.with_cloudimage_domain(&str_of(d));
    }
    for d in config
        .get("optimole_domains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        builder = builder.with_optimole_domain(&str_of(d));
    }
    for (name, origin) in config
        .get("cloudimage_aliases")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        builder = builder.with_cloudimage_alias(name, &str_of(origin));
    }
    if let Some(v) = config.get("cloudimage_prefix") {
        builder = builder.with_cloudimage_origin_prefix(&str_of(v));
    }
    if let Some(v) = config.get("encoding") {
        builder = builder.with_encoding(&str_of(v));
    }
    if let Some(v) = config.get("text_buffer_limit") {
        builder = builder.with_text_buffer_limit(v.as_u64().unwrap() as usize);
    }
    if let Some(v) = config.get("parser_memory_limit") {
        builder = builder.with_parser_memory_limit(v.as_u64().unwrap() as usize);
    }
    let mut table = AttributeTable::default();
    if config.get("images_only").and_then(Value::as_bool) == Some(true) {
        table = table.images_only();
    }
    for row in config
        .get("add_attributes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let row: Vec<String> = row.as_array().unwrap().iter().map(str_of).collect();
        let kind = match row[2].as_str() {
            "url" => ValueKind::Url,
            "srcset" => ValueKind::Srcset,
            "css" => ValueKind::Css,
            other => panic!("unknown kind {other}"),
        };
        table = table.with(&row[0], &row[1], kind);
    }
    builder
        .with_attributes(table)
        .build()
        .expect("fixture config builds")
}

/// Streams `input` through `buster` in chunks whose sizes `next_size` picks.
pub fn rewrite_chunked(
    buster: &Buster,
    input: &[u8],
    mut next_size: impl FnMut() -> usize,
) -> (Vec<u8>, Report) {
    let mut out = Vec::new();
    let mut rewriter = buster.rewriter(|chunk: &[u8]| out.extend_from_slice(chunk));
    let mut at = 0;
    while at < input.len() {
        let end = (at + next_size().max(1)).min(input.len());
        rewriter.write(&input[at..end]);
        at = end;
    }
    let report = rewriter.end();
    (out, report)
}

/// A small deterministic generator (xorshift), so failures can be replayed from a seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
