//! The small commands: `manifest` and `url`.

use crate::args::{CopyFormat, ManifestArgs, UrlArgs};
use crate::{copies, files, manifests};
use anyhow::{Context, Result};
use cachebust::{Builder, Outcome};
use std::io::Write;
use std::process::ExitCode;

/// `cachebust manifest DIR`: hash the files under DIR into a native manifest.
pub fn manifest(args: ManifestArgs) -> Result<ExitCode> {
    let served_at = manifests::url_directory(&args.prefix).context("--prefix")?;
    let origin = url::Url::parse(&args.base_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .with_context(|| format!("--base-url {:?} is not an http(s) URL", args.base_url))?;
    if args.copies.rename {
        return renamed_manifest(&args, &served_at, &origin);
    }
    let hashed = manifests::hash_dir(
        &args.dir,
        &args.include,
        &args.exclude,
        &served_at,
        None,
        &origin,
        &args.rules,
    )?;
    for warning in &hashed.warnings {
        eprintln!("cachebust: warning: {warning}");
    }
    let entries = hashed.versions;
    let json = serde_json::to_string_pretty(&entries)? + "\n";
    match &args.out {
        Some(path) => files::write_atomic(path, json.as_bytes())?,
        None => std::io::stdout().lock().write_all(json.as_bytes())?,
    }
    eprintln!("cachebust: {} files hashed", entries.len());
    Ok(ExitCode::SUCCESS)
}

/// `cachebust manifest DIR --rename`: the copies written beside the assets, and their
/// rename entries as the manifest.
fn renamed_manifest(args: &ManifestArgs, served_at: &str, origin: &url::Url) -> Result<ExitCode> {
    let renamed = copies::plan(
        &args.dir,
        &args.include,
        &args.exclude,
        served_at,
        None,
        origin,
        &args.rules,
    )?;
    for warning in &renamed.warnings {
        eprintln!("cachebust: warning: {warning}");
    }
    let buster = manifests::rules(
        Builder::new(renamed.manifest.clone()).with_page_url(origin.as_str()),
        &args.rules,
    )
    .build()?;
    let mut written = 0;
    for result in copies::write(&renamed, &args.dir, &buster, origin, false) {
        if result?.is_some() {
            written += 1;
        }
    }
    if written > 0 {
        files::sync_filesystem(&args.dir)?;
    }
    let pruned = if args.copies.prune {
        copies::prune(&renamed, &args.dir, false)?.len()
    } else {
        0
    };
    let json = copies::manifest_json(&renamed, args.copies.format == CopyFormat::Rev)?;
    match &args.out {
        Some(path) => files::write_atomic(path, json.as_bytes())?,
        None => std::io::stdout().lock().write_all(json.as_bytes())?,
    }
    if let Some(path) = &args.copies.write_manifest {
        files::write_atomic(path, json.as_bytes())?;
    }
    eprintln!(
        "cachebust: {} files hashed, {written} copies written, {pruned} pruned",
        renamed.copies.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `cachebust url URL... -m FILE`: print each URL busted, one a line.
pub fn url(args: UrlArgs) -> Result<ExitCode> {
    let manifest = manifests::load(&args.source, &args.rules)?;
    let mut builder = manifests::rules(Builder::new(manifest), &args.rules);
    if let Some(page) = &args.page_url {
        builder = builder.with_page_url(page);
    }
    let buster = builder.build()?;
    let mut stdout = std::io::stdout().lock();
    for url in &args.urls {
        let busted = buster.bust_url(url);
        writeln!(stdout, "{}", busted.url)?;
        match busted.outcome {
            Outcome::Rewritten | Outcome::Current => {}
            Outcome::Missing => eprintln!("cachebust: {url}: no entry in the manifest"),
            Outcome::Skipped(reason) => eprintln!("cachebust: {url}: left alone ({reason})"),
            _ => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}
