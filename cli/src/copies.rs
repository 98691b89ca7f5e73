//! Renamed copies (`--rename`, RULES §4), for caches whose key ignores the query string
//! (CloudFront's default cache policy): beside each asset, a copy named by its version
//! (`img/a.png` -> `img/a.3f9a2c1b7d.png`), and references pointed at the copies as rename
//! entries point them (a relative reference stays relative). The original stays, for URLs
//! that cannot change.
//!
//! - A stylesheet's copy holds its rewritten references (to other copies), and its version
//!   is the hash of those bytes: the cascade, with renamed references.
//! - A copy is recognised by its name (a version of ten hex digits before the extension,
//!   beside the file it copies) and never versioned or copied again.
//! - A reference to an older copy (a page rewritten in place by a former run) is pointed at
//!   the current one, so running again after an asset changed converges.
//! - Copies are written before the pages that name them (atomically, unchanged ones not
//!   touched): a run killed at any point leaves no page naming a missing copy, and the next
//!   run finishes the work. `--prune` removes the copies no current entry names, and
//!   nothing else.

use crate::args::RuleArgs;
use crate::cascade::{self, Asset, Style, copy_path};
use crate::files::Durability;
use crate::{files, manifests};
use anyhow::{Context, Result};
use cachebust::{Buster, Manifest};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};

use std::path::{Path, PathBuf};
use url::Url;

/// One copy to write.
pub struct Copy {
    /// The asset it copies.
    pub original: PathBuf,
    /// The original's key (URL path).
    pub key: String,
    /// The copy's path relative to the hashed directory.
    pub relative: String,
    pub stylesheet: bool,
}

/// What `--rename` makes of a directory.
pub struct Renamed {
    /// Rename entries: each asset to its copy, and each older copy to the current one.
    pub manifest: Manifest,
    /// Each asset's key and its copy's.
    pub entries: BTreeMap<String, String>,
    /// Each asset's relative path and its copy's (for `--format rev`).
    pub relative: BTreeMap<String, String>,
    pub copies: Vec<Copy>,
    pub warnings: Vec<String>,
}

/// Versions the assets of `dir` (served at `served_at` on `origin`) with renamed
/// references, and plans their copies.
pub fn plan(
    dir: &Path,
    include: &[String],
    exclude: &[String],
    served_at: &str,
    skip: Option<&Path>,
    origin: &Url,
    rules: &RuleArgs,
) -> Result<Renamed> {
    let listed = manifests::list_files(dir, include, exclude, skip)?;
    let key_of = |relative: &str| cascade::key_of(served_at, relative);
    let assets: Vec<Asset> = listed
        .files
        .iter()
        .map(|(path, relative)| Asset {
            path: path.clone(),
            key: key_of(relative),
        })
        .collect();
    // A page or stylesheet rewritten in place by a former run names an older copy: it is
    // pointed at the current one (in the cascade too, so a stylesheet's version is that of
    // the bytes its copy will hold).
    let mut aliases = cascade::Aliases::new();
    for (_, relative) in &listed.copies {
        if let Some(original) = cascade::original_of(relative) {
            aliases
                .entry(key_of(&original))
                .or_default()
                .push(key_of(relative));
        }
    }
    let versions = cascade::version_assets(&assets, origin, rules, Style::Rename, &aliases)?;
    let mut entries = BTreeMap::new();
    let mut relative_entries = BTreeMap::new();
    let mut copies = Vec::with_capacity(assets.len());
    for ((path, relative), asset) in listed.files.iter().zip(&assets) {
        let version = &versions.versions[&asset.key];
        let copy = copy_path(relative, version);
        let copy_key = copy_path(&asset.key, version);
        // The current copy is no alias of itself.
        if let Some(older) = aliases.get_mut(&asset.key) {
            older.retain(|k| *k != copy_key);
        }
        entries.insert(asset.key.clone(), copy_key);
        relative_entries.insert(relative.clone(), copy.clone());
        copies.push(Copy {
            original: path.clone(),
            key: asset.key.clone(),
            relative: copy,
            stylesheet: cascade::is_stylesheet(&asset.key),
        });
    }
    let manifest = cascade::manifest_of(&versions.versions, Style::Rename, &aliases)?;
    Ok(Renamed {
        manifest,
        entries,
        relative: relative_entries,
        copies,
        warnings: versions.warnings,
    })
}

/// Writes the copies below `root` (the hashed directory, or where `--out` puts it), a
/// stylesheet's rewritten by `buster` at its original's URL (`origin` joined with its key);
/// with `check`, writes nothing. Returns the copies written (or that would be).
pub fn write(
    renamed: &Renamed,
    root: &Path,
    buster: &Buster,
    origin: &Url,
    check: bool,
) -> Vec<Result<Option<PathBuf>>> {
    renamed
        .copies
        .par_iter()
        .map(|copy| {
            let target = root.join(&copy.relative);
            let make_dir = || -> Result<()> {
                if let Some(dir) = target.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("creating {}", dir.display()))?;
                }
                Ok(())
            };
            if !copy.stylesheet {
                // Named by its bytes' hash: a copy there of the original's length is it
                // (one cut short by a crash is not, and is made again).
                let length = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
                if length(&target).is_some() && length(&target) == length(&copy.original) {
                    return Ok(None);
                }
                if !check {
                    make_dir()?;
                    files::copy_atomic(&copy.original, &target, Durability::AtEnd)?;
                }
                return Ok(Some(target));
            }
            let bytes = std::fs::read(&copy.original)
                .with_context(|| format!("reading {}", copy.original.display()))?;
            let url = origin
                .join(&copy.key)
                .with_context(|| format!("the URL of {}", copy.original.display()))?;
            let bytes = buster.for_page(url.as_str())?.rewrite_css_bytes(&bytes).0;
            if std::fs::read(&target).is_ok_and(|existing| existing == bytes) {
                return Ok(None);
            }
            if !check {
                make_dir()?;
                files::write_atomic_like(&target, &bytes, &copy.original, Durability::AtEnd)?;
            }
            Ok(Some(target))
        })
        .collect()
}

/// Removes the copies below `root` that no current entry names (`--prune`); nothing that
/// is not a copy is ever removed. Returns what was (or, with `check`, would be) removed.
pub fn prune(renamed: &Renamed, root: &Path, check: bool) -> Result<Vec<PathBuf>> {
    let current: HashSet<&str> = renamed.copies.iter().map(|c| c.relative.as_str()).collect();
    let listed = manifests::list_files(root, &[], &[], None)?;
    let mut removed = Vec::new();
    for (path, relative) in listed.copies {
        if current.contains(relative.as_str()) {
            continue;
        }
        if !check {
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
        }
        removed.push(path);
    }
    Ok(removed)
}

/// `--write-manifest`: the rename entries, as cachebust reads them back (`native`: keys
/// and copies as URL paths) or as gulp-rev writes them (`rev`: paths relative to the
/// directory).
pub fn manifest_json(renamed: &Renamed, rev: bool) -> Result<String> {
    let map = if rev {
        &renamed.relative
    } else {
        &renamed.entries
    };
    Ok(serde_json::to_string_pretty(map)? + "\n")
}
