//! Loading manifests (any supported format) and hashing a directory into one.

use crate::args::{ManifestSource, RuleArgs};
use crate::cascade;
use crate::files;
use anyhow::{Context, Result, bail};
use cachebust::manifest::import::{Format, detect_and_import, import};
use cachebust::{Builder, Manifest};
use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Loads every `-m` file and the `--hash` directory (served at the root) into one manifest,
/// later sources winning.
pub fn load(source: &ManifestSource, rules: &RuleArgs) -> Result<Manifest> {
    load_served_at(source, rules, &localhost(), "/", None)
}

/// The origin keys are paths of when no site URL is given.
pub fn localhost() -> url::Url {
    url::Url::parse("http://localhost/").expect("a valid URL")
}

/// The rules of a command that has no rule flags: the defaults.
pub fn default_rules() -> RuleArgs {
    RuleArgs {
        hosts: Vec::new(),
        param: "vh".to_owned(),
        global_version: None,
        cloudimage_domain: Vec::new(),
        optimole_domain: Vec::new(),
        encoding: None,
        attrs: Vec::new(),
    }
}

/// [`load`], with the `--hash` directory's files served below `hashed_at` (a URL path ending
/// in `/`), and `out` (a rewrite's output directory) left out of the hashing where it lies
/// inside that directory.
pub fn load_served_at(
    source: &ManifestSource,
    rules: &RuleArgs,
    origin: &url::Url,
    hashed_at: &str,
    out: Option<&Path>,
) -> Result<Manifest> {
    if source.manifests.is_empty() && source.hash.is_none() {
        bail!("no manifest: give -m FILE (repeatable) or --hash DIR");
    }
    // A bad --manifest-format is reported before the directory is hashed.
    format_of(source)?;
    let mut manifest = hashed(source, rules, origin, hashed_at, out)?;
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
/// `hashed_at` on `origin`, `out` left out; stylesheets' versions cascade (a cycle is
/// reported on stderr).
pub fn hashed(
    source: &ManifestSource,
    rules: &RuleArgs,
    origin: &url::Url,
    hashed_at: &str,
    out: Option<&Path>,
) -> Result<Manifest> {
    let mut manifest = Manifest::new();
    if let Some(dir) = &source.hash {
        let hashed = hash_dir(
            dir,
            &source.include,
            &source.exclude,
            hashed_at,
            out,
            origin,
            rules,
        )?;
        for warning in &hashed.warnings {
            eprintln!("cachebust: warning: {warning}");
        }
        manifest.extend(
            Manifest::from_versions(hashed.versions)
                .with_context(|| format!("hashing {}", dir.display()))?,
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
    if !rules.attrs.is_empty() {
        let mut table = cachebust::AttributeTable::default();
        for rule in &rules.attrs {
            table = table.with(&rule.element, &rule.attribute, rule.kind);
        }
        builder = builder.with_attributes(table);
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

/// The files of `dir` that are assets: every file that is not a page (`.html`, `.htm`),
/// dotfiles and dot-directories left out, narrowed by `include` (globs relative to `dir`;
/// every file when empty) and `exclude`; `skip` (a rewrite's `--out` inside `dir`) left
/// out. Each with its path relative to `dir`, `/`-separated, in walk order. Renamed
/// copies (`a.0123456789.png` beside `a.png`) are listed apart: they are never versioned
/// again.
pub fn list_files(
    dir: &Path,
    include: &[String],
    exclude: &[String],
    skip: Option<&Path>,
) -> Result<Listed> {
    let include = (!include.is_empty())
        .then(|| globs(include, "--include"))
        .transpose()?;
    let exclude = globs(exclude, "--exclude")?;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut wanted = Vec::new();
    let mut copies = Vec::new();
    let walk = WalkDir::new(dir).follow_links(false).sort_by_file_name();
    let hidden = |entry: &walkdir::DirEntry| {
        entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.')
    };
    let keep = files::leave_out(dir, skip);
    for entry in walk.into_iter().filter_entry(|e| keep(e) && !hidden(e)) {
        let entry = entry.with_context(|| format!("walking {}", dir.display()))?;
        if !entry.file_type().is_file() || files::is_html(entry.path()) {
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
        if let Some(original) = cascade::original_of(&relative)
            && dir.join(&original).is_file()
        {
            copies.push((entry.into_path(), relative));
            continue;
        }
        if include.as_ref().is_some_and(|i| !i.is_match(&relative)) || exclude.is_match(&relative) {
            continue;
        }
        wanted.push((entry.into_path(), relative));
    }
    Ok(Listed {
        files: wanted,
        copies,
    })
}

/// What [`list_files`] found: assets, and renamed copies of assets.
pub struct Listed {
    pub files: Vec<(PathBuf, String)>,
    pub copies: Vec<(PathBuf, String)>,
}

/// Versions the assets of `dir` ([`list_files`]) keyed by their URL paths with `dir`
/// served at `served_at` (a URL path ending in `/`) on `origin`: short blake3 versions,
/// stylesheets' cascading (see [`cascade`]). Files are read and hashed on
/// the current rayon pool (a site's images outweigh its pages); an error is the first in
/// the walk's order, whatever order the workers met them in.
pub fn hash_dir(
    dir: &Path,
    include: &[String],
    exclude: &[String],
    served_at: &str,
    skip: Option<&Path>,
    origin: &url::Url,
    rules: &RuleArgs,
) -> Result<cascade::Versions> {
    let assets = cascade::assets_of(dir, include, exclude, served_at, skip)?;
    cascade::version_assets(
        &assets,
        origin,
        rules,
        cascade::Style::Query,
        &cascade::Aliases::new(),
    )
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
