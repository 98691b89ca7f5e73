//! Loading manifests (any supported format) and hashing a directory into one.

use crate::args::{ManifestSource, RuleArgs};
use crate::files;
use anyhow::{Context, Result, bail};
use cachebust::manifest::file_url_path;
use cachebust::manifest::import::{Format, detect_and_import, import};
use cachebust::{Builder, Manifest};
use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use walkdir::WalkDir;

/// The images `manifest` and `--hash` version when no `--include` is given.
pub const DEFAULT_INCLUDE: &[&str] = &[
    "**/*.{png,jpg,jpeg,gif,webp,avif,svg,ico,bmp,tif,tiff,apng,jxl}",
    "**/*.{PNG,JPG,JPEG,GIF,WEBP,AVIF,SVG,ICO,BMP,TIF,TIFF,APNG,JXL}",
];

/// Hex characters of the blake3 hash kept as a version.
const VERSION_LEN: usize = 10;

/// Loads every `-m` file and the `--hash` directory (served at the root) into one manifest,
/// later sources winning.
pub fn load(source: &ManifestSource) -> Result<Manifest> {
    load_served_at(source, "/", None)
}

/// [`load`], with the `--hash` directory's files served below `hashed_at` (a URL path ending
/// in `/`), and `out` (a rewrite's output directory) left out of the hashing where it lies
/// inside that directory.
pub fn load_served_at(
    source: &ManifestSource,
    hashed_at: &str,
    out: Option<&Path>,
) -> Result<Manifest> {
    if source.manifests.is_empty() && source.hash.is_none() {
        bail!("no manifest: give -m FILE (repeatable) or --hash DIR");
    }
    // A bad --manifest-format is reported before the directory is hashed.
    format_of(source)?;
    let mut manifest = hashed(source, hashed_at, out)?;
    for path in &source.manifests {
        let json = cachebust::manifest::read_file(path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        manifest.extend(
            parse(&name, &json, source).with_context(|| format!("manifest {}", path.display()))?,
        );
    }
    Ok(manifest)
}

/// The `--hash` directory's files as a manifest (empty without `--hash`), served below
/// `hashed_at`, `out` left out.
pub fn hashed(source: &ManifestSource, hashed_at: &str, out: Option<&Path>) -> Result<Manifest> {
    let mut manifest = Manifest::new();
    if let Some(dir) = &source.hash {
        let hashed = hash_dir(dir, &[], &[], hashed_at, out)?;
        let json = serde_json::to_string(&hashed)?;
        manifest.extend(
            Manifest::from_json(&json).with_context(|| format!("hashing {}", dir.display()))?,
        );
    }
    Ok(manifest)
}

/// One manifest's text, in `--manifest-format` or the format detected (from `name`, the
/// file's name, and the text).
pub fn parse(name: &str, json: &str, source: &ManifestSource) -> Result<Manifest> {
    let format = format_of(source)?;
    let prefix = source.manifest_prefix.as_deref();
    match format {
        Some(format) => import(format, json, prefix).with_context(|| format!("{format} format")),
        // Detected and read in one pass when it can be: a large manifest is read before
        // any page, while the other cores wait.
        None => {
            let (format, imported) = detect_and_import(name, json, prefix)?;
            imported.with_context(|| format!("{format} format"))
        }
    }
}

fn format_of(source: &ManifestSource) -> Result<Option<Format>> {
    source
        .manifest_format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// Applies the rule flags to a builder.
pub fn rules(mut builder: Builder, rules: &RuleArgs) -> Builder {
    for host in &rules.hosts {
        builder = builder.with_site_host(host);
    }
    builder = builder.with_param(&rules.param);
    if let Some(version) = &rules.global_version {
        builder = builder.with_global_version(version);
    }
    for domain in &rules.cloudimage_domain {
        builder = builder.with_cloudimage_domain(domain);
    }
    for domain in &rules.optimole_domain {
        builder = builder.with_optimole_domain(domain);
    }
    if let Some(label) = &rules.encoding {
        builder = builder.with_encoding(label);
    }
    builder
}

fn globs(patterns: &[String], what: &str) -> Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        set.add(Glob::new(pattern).with_context(|| format!("{what} pattern {pattern:?}"))?);
    }
    Ok(set.build()?)
}

/// Hashes the files under `dir` matching `include` (default: images) and not `exclude`:
/// keys the files' URL paths with `dir` served at `served_at` (a URL path ending in `/`),
/// short blake3 versions, sorted. `skip`, a directory inside `dir` (a rewrite's `--out`),
/// is left out: its files are copies a former run wrote. Files are read and hashed on the
/// current rayon pool (a site's images outweigh its pages); an error is the first in the
/// walk's order, whatever order the workers met them in.
pub fn hash_dir(
    dir: &Path,
    include: &[String],
    exclude: &[String],
    served_at: &str,
    skip: Option<&Path>,
) -> Result<BTreeMap<String, String>> {
    let default: Vec<String> = DEFAULT_INCLUDE.iter().map(|s| s.to_string()).collect();
    let include = globs(
        if include.is_empty() {
            &default
        } else {
            include
        },
        "--include",
    )?;
    let exclude = globs(exclude, "--exclude")?;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut wanted = Vec::new();
    let walk = WalkDir::new(dir).follow_links(false).sort_by_file_name();
    for entry in walk.into_iter().filter_entry(files::leave_out(dir, skip)) {
        let entry = entry.with_context(|| format!("walking {}", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let relative = entry.path().strip_prefix(dir).expect("below the root");
        let Some(relative) = relative.to_str() else {
            eprintln!(
                "cachebust: skipping {}: the name is not UTF-8",
                entry.path().display()
            );
            continue;
        };
        let relative = relative.replace(std::path::MAIN_SEPARATOR, "/");
        if !include.is_match(&relative) || exclude.is_match(&relative) {
            continue;
        }
        wanted.push((entry.into_path(), relative));
    }
    let hashed: Vec<Result<(String, String)>> = wanted
        .par_iter()
        .map(|(path, relative)| {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let hash = blake3::hash(&bytes).to_hex();
            Ok((
                format!("{served_at}{}", file_url_path(relative)),
                hash[..VERSION_LEN].to_owned(),
            ))
        })
        .collect();
    hashed.into_iter().collect()
}

/// `path` as the URL path of a directory: root-relative, `.`/`..` resolved, ending in `/`.
pub fn url_directory(path: &str) -> Result<String> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains(['?', '#']) {
        bail!("{path:?} is not a URL path (such as /blog/)");
    }
    let mut url = url::Url::parse("http://localhost/")?.join(path)?;
    as_directory(&mut url);
    Ok(url.path().to_owned())
}

/// Makes `url` a directory's: its path ends in `/`.
pub fn as_directory(url: &mut url::Url) {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
}
