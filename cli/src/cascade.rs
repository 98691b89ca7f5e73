//! Versions that cascade (RULES §4): every asset of a directory hashed, and a stylesheet's
//! version the hash of its bytes *after* its own references are rewritten, so that a
//! changed image changes the URL of every stylesheet that uses it, and of every stylesheet
//! that `@import`s (or otherwise references) that one.
//!
//! Stylesheets are versioned in dependency order, level by level: those that reference no
//! other stylesheet of the directory first, with the other assets' versions; then those
//! whose references are all versioned; and so on, each level's stylesheets in parallel
//! with one buster. A cycle of references (`a.css` imports `b.css`, which imports
//! `a.css`) has no such order: it is reported, its files named, and each member is then
//! versioned by its own bytes, with its references to the cycle's members written with a
//! fixed placeholder version (so that the version does not depend on itself, and a run
//! over its own output in place gives the same version again). Its other references are
//! versioned as usual, so a changed image changes it; a change inside another member does
//! not (the cycle's limit, documented).
//!
//! A stylesheet's references to other stylesheets are found with the library's CSS
//! scanner ([`cachebust::css::url_spans`]) and resolved against the stylesheet's URL; one
//! written with CSS escapes is not followed (it is still rewritten, with the version its
//! target has by then).

use crate::args::RuleArgs;
use crate::manifests;
use anyhow::{Context, Result};
use cachebust::{Builder, Manifest};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use url::Url;

/// Hex characters of the blake3 hash kept as a version.
pub const VERSION_LEN: usize = 10;

/// The version of `bytes`.
pub fn version_of(bytes: &[u8]) -> String {
    version_of_digest(&blake3::hash(bytes))
}

/// The version of bytes whose blake3 digest is `digest` (hashed as they streamed).
pub fn version_of_digest(digest: &blake3::Hash) -> String {
    digest.to_hex()[..VERSION_LEN].to_owned()
}

/// One file to version: where it is, and the key it is served at.
#[derive(Debug, Clone)]
pub struct Asset {
    pub path: PathBuf,
    pub key: String,
}

/// Every asset's version, and what was noticed on the way (cycles).
#[derive(Debug, Default)]
pub struct Versions {
    pub versions: BTreeMap<String, String>,
    pub warnings: Vec<String>,
}

pub fn is_stylesheet(key: &str) -> bool {
    key.rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("css"))
}

/// How references name a versioned asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `?vh=V` on the asset's own URL.
    Query,
    /// The URL of a renamed copy, `img/a.V.png` (see [`copy_path`]).
    Rename,
}

/// The path of `path`'s renamed copy for `version` (a key or a relative file path): the
/// version before the last extension of the file name, `img/a.png` -> `img/a.V.png`
/// (`LICENSE` -> `LICENSE.V`; dotfiles such as `.htaccess` are never versioned).
pub fn copy_path(path: &str, version: &str) -> String {
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let named = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{version}.{ext}"),
        _ => format!("{name}.{version}"),
    };
    if path.contains('/') {
        format!("{dir}/{named}")
    } else {
        named
    }
}

/// Whether `text` has the shape of a version cachebust made: [`VERSION_LEN`] lower-case
/// hex digits.
pub fn is_version(text: &str) -> bool {
    text.len() == VERSION_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The version in the name of a renamed copy (`a.0123456789.png`: `0123456789`).
pub fn version_in_copy(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let parts: Vec<&str> = name.split('.').collect();
    version_part(&parts).map(|at| parts[at])
}

/// The path of the file `path` is a renamed copy of, when its name has the shape of one
/// (`a.0123456789.png`: a version of [`VERSION_LEN`] lower-case hex digits before the
/// extension); whether that file exists is for the caller to see.
pub fn original_of(path: &str) -> Option<String> {
    let (dir, name) = path.rsplit_once('/').map_or(("", path), |(d, n)| (d, n));
    let mut parts: Vec<&str> = name.split('.').collect();
    let at = version_part(&parts)?;
    parts.remove(at);
    let name = parts.join(".");
    Some(if path.contains('/') {
        format!("{dir}/{name}")
    } else {
        name
    })
}

/// Where the version stands among the dot-separated parts of a renamed copy's name (before
/// the extension, or last in a name without one), when the name has that shape and
/// something before the version.
fn version_part(parts: &[&str]) -> Option<usize> {
    let at = match parts.len() {
        n if n >= 3 && is_version(parts[n - 2]) => n - 2,
        2 if is_version(parts[1]) => 1,
        _ => return None,
    };
    (!parts[..at].iter().all(|p| p.is_empty())).then_some(at)
}

/// Older renamed copies of an asset, by the asset's key: references to them are pointed at
/// the current copy.
pub type Aliases = HashMap<String, Vec<String>>;

/// A manifest of `versions` written in `style`; renamed, each asset's `aliases` (older
/// copies) point at its current copy too.
pub fn manifest_of(
    versions: &BTreeMap<String, String>,
    style: Style,
    aliases: &Aliases,
) -> Result<Manifest> {
    match style {
        Style::Query => Manifest::from_versions(
            versions
                .iter()
                .map(|(key, version)| (key.clone(), version.clone())),
        )
        .context("the versions so far"),
        Style::Rename => {
            let mut manifest = Manifest::new();
            for (key, version) in versions {
                let copy = copy_path(key, version);
                for older in aliases
                    .get(key)
                    .into_iter()
                    .flatten()
                    .filter(|k| **k != copy)
                {
                    manifest
                        .insert_rename(older, &copy)
                        .with_context(|| format!("the older copy {older}"))?;
                }
                manifest
                    .insert_rename(key, &copy)
                    .with_context(|| format!("the renamed copy of {key}"))?;
            }
            Ok(manifest)
        }
    }
}

/// Versions `assets` (read and hashed on the current rayon pool): stylesheets by their
/// rewritten bytes (references written in `style`), in dependency order. `origin` is the
/// site's URL (scheme and host) that keys are paths of; `rules` the rewriting flags (site
/// hosts, parameter...).
pub fn version_assets(
    assets: &[Asset],
    origin: &Url,
    rules: &RuleArgs,
    style: Style,
    aliases: &Aliases,
) -> Result<Versions> {
    let read: Vec<Result<(usize, Vec<u8>)>> = assets
        .par_iter()
        .enumerate()
        .map(|(at, asset)| {
            let bytes = std::fs::read(&asset.path)
                .with_context(|| format!("reading {}", asset.path.display()))?;
            Ok((at, bytes))
        })
        .collect();
    let mut contents: Vec<Vec<u8>> = vec![Vec::new(); assets.len()];
    let mut out = Versions::default();
    let mut sheets = Vec::new();
    for result in read {
        let (at, bytes) = result?;
        if is_stylesheet(&assets[at].key) {
            sheets.push(at);
            contents[at] = bytes;
        } else {
            out.versions
                .insert(assets[at].key.clone(), version_of(&bytes));
        }
    }
    if sheets.is_empty() {
        return Ok(out);
    }
    // Which stylesheets each one references.
    let by_key: HashMap<&str, usize> = sheets
        .iter()
        .enumerate()
        .map(|(n, &at)| (assets[at].key.as_str(), n))
        .collect();
    let alias_of: HashMap<&str, &String> = aliases
        .iter()
        .flat_map(|(key, older)| older.iter().map(move |o| (o.as_str(), key)))
        .collect();
    let hosts: Vec<String> = std::iter::once(origin.host_str().unwrap_or("").to_ascii_lowercase())
        .chain(rules.hosts.iter().map(|h| h.to_ascii_lowercase()))
        .collect();
    let edges: Vec<Vec<usize>> = sheets
        .par_iter()
        .map(|&at| {
            let url = origin.join(&assets[at].key).ok();
            let text = String::from_utf8_lossy(&contents[at]);
            let mut deps: Vec<usize> = url
                .map(|sheet| {
                    cachebust::css::url_spans(&text)
                        .into_iter()
                        .filter_map(|span| {
                            let target = sheet.join(text[span].trim()).ok()?;
                            let host = target.host_str()?.to_ascii_lowercase();
                            if !hosts.contains(&host) {
                                return None;
                            }
                            let path = target.path();
                            // A reference to an older copy is one to its original.
                            let path = alias_of.get(path).map_or(path, |k| k.as_str());
                            by_key.get(path).copied()
                        })
                        .collect()
                })
                .unwrap_or_default();
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect();
    let (levels, cycles) = levels(&edges);
    let name = |n: usize| assets[sheets[n]].path.display().to_string();
    for cycle in &cycles {
        let mut names: Vec<String> = cycle.iter().map(|&n| name(n)).collect();
        names.push(names[0].clone());
        out.warnings.push(format!(
            "a cycle of stylesheet references: {}; each is versioned by its own bytes",
            names.join(" -> ")
        ));
    }
    let mut so_far = out.versions.clone();
    for level in levels {
        let buster = buster_of(&so_far, origin, rules, style, aliases)?;
        let mut versioned: Vec<(usize, String)> = Vec::new();
        // Stylesheets outside cycles, in parallel with one buster.
        let plain: Vec<usize> = level
            .iter()
            .filter(|c| c.len() == 1 && !edges[c[0]].contains(&c[0]))
            .map(|c| c[0])
            .collect();
        let results: Vec<Result<(usize, String)>> = plain
            .par_iter()
            .map(|&n| {
                let at = sheets[n];
                Ok((
                    at,
                    version_of(&rewritten(&buster, origin, &assets[at], &contents[at])?),
                ))
            })
            .collect();
        for result in results {
            versioned.push(result?);
        }
        // A cycle: its members' references to each other get a placeholder version.
        for component in level
            .iter()
            .filter(|c| c.len() > 1 || edges[c[0]].contains(&c[0]))
        {
            let mut with_placeholders = so_far.clone();
            for &n in component {
                with_placeholders.insert(assets[sheets[n]].key.clone(), CYCLE.to_owned());
            }
            let buster = buster_of(&with_placeholders, origin, rules, style, aliases)?;
            for &n in component {
                let at = sheets[n];
                versioned.push((
                    at,
                    version_of(&rewritten(&buster, origin, &assets[at], &contents[at])?),
                ));
            }
        }
        for (at, version) in versioned {
            so_far.insert(assets[at].key.clone(), version.clone());
            out.versions.insert(assets[at].key.clone(), version);
        }
    }
    Ok(out)
}

/// The version a cycle's members give each other while their own are computed.
const CYCLE: &str = "cycle";

fn buster_of(
    versions: &BTreeMap<String, String>,
    origin: &Url,
    rules: &RuleArgs,
    style: Style,
    aliases: &Aliases,
) -> Result<cachebust::Buster> {
    let manifest = manifest_of(versions, style, aliases)?;
    Ok(manifests::rules(Builder::new(manifest).with_page_url(origin.as_str()), rules).build()?)
}

/// `asset`'s bytes rewritten as the stylesheet at its URL.
fn rewritten(
    buster: &cachebust::Buster,
    origin: &Url,
    asset: &Asset,
    bytes: &[u8],
) -> Result<Vec<u8>> {
    let url = origin
        .join(&asset.key)
        .with_context(|| format!("the URL of {}", asset.path.display()))?;
    Ok(buster.for_page(url.as_str())?.rewrite_css_bytes(bytes).0)
}

/// The stylesheets' components (groups of stylesheets that reference each other, one
/// stylesheet for most) in levels: each level's references all lie in earlier levels or
/// in the component itself. And the cycles: components of more than one stylesheet, or
/// of one that references itself, in the order found.
fn levels(edges: &[Vec<usize>]) -> (Vec<Vec<Vec<usize>>>, Vec<Vec<usize>>) {
    let components = strongly_connected(edges);
    let mut component_of = vec![0; edges.len()];
    for (c, members) in components.iter().enumerate() {
        for &n in members {
            component_of[n] = c;
        }
    }
    // Tarjan's algorithm gives components dependencies first: a level is one more than
    // the deepest level referenced from outside the component.
    let mut level_of: Vec<usize> = vec![0; components.len()];
    let mut levels: Vec<Vec<Vec<usize>>> = Vec::new();
    let mut cycles = Vec::new();
    for (c, members) in components.iter().enumerate() {
        let level = members
            .iter()
            .flat_map(|&n| &edges[n])
            .map(|&d| component_of[d])
            .filter(|&d| d != c)
            .map(|d| level_of[d] + 1)
            .max()
            .unwrap_or(0);
        level_of[c] = level;
        if levels.len() <= level {
            levels.resize(level + 1, Vec::new());
        }
        levels[level].push(members.clone());
        if members.len() > 1 || edges[members[0]].contains(&members[0]) {
            cycles.push(members.clone());
        }
    }
    (levels, cycles)
}

/// Tarjan's strongly connected components, iteratively (a long chain of imports must not
/// overflow the stack), each component's members sorted; components come out with those
/// they reference before them.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut members = Vec::new();
                loop {
                    let w = stack.pop().expect("on the stack");
                    on_stack[w] = false;
                    members.push(w);
                    if w == v {
                        break;
                    }
                }
                members.sort_unstable();
                components.push(members);
            }
        }
    }
    components
}

/// The assets of `dir` to version, keyed below `served_at`: every file that is not a page,
/// dotfiles (and dot-directories) left out, narrowed by `include` (globs relative to
/// `dir`; all when empty) and `exclude`; `skip` (a rewrite's `--out` inside `dir`) and
/// renamed copies left out.
pub fn assets_of(
    dir: &Path,
    include: &[String],
    exclude: &[String],
    served_at: &str,
    skip: Option<&Path>,
) -> Result<Vec<Asset>> {
    let listed = manifests::list_files(dir, include, exclude, skip)?;
    Ok(listed
        .files
        .into_iter()
        .map(|(path, relative)| Asset {
            key: key_of(served_at, &relative),
            path,
        })
        .collect())
}

/// The key of the file at `relative` (a `/`-separated path) in a directory served at
/// `served_at`: its URL path.
pub fn key_of(served_at: &str, relative: &str) -> String {
    format!(
        "{served_at}{}",
        cachebust::manifest::file_url_path(relative)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_named_by_their_version_and_recognised() {
        let v = "0123456789";
        for (path, copy) in [
            ("img/a.png", "img/a.0123456789.png"),
            ("/img/a.b.png", "/img/a.b.0123456789.png"),
            ("LICENSE", "LICENSE.0123456789"),
            ("/img/caf%C3%A9.png", "/img/caf%C3%A9.0123456789.png"),
        ] {
            assert_eq!(copy_path(path, v), copy);
            assert_eq!(original_of(copy).as_deref(), Some(path), "{copy}");
            assert_eq!(version_in_copy(copy), Some(v), "{copy}");
        }
        for not_a_copy in [
            "img/a.png",
            "img/a.012345678.png",
            "img/a.0123456789X.png",
            "img/.0123456789.png",
            "img/a.ABCDEF0123.png",
        ] {
            assert_eq!(original_of(not_a_copy), None, "{not_a_copy}");
            assert_eq!(version_in_copy(not_a_copy), None, "{not_a_copy}");
        }
    }

    #[test]
    fn levels_put_references_first_and_cycles_apart() {
        // 0 -> 1 -> 2; 3 -> 4 -> 3 (a cycle); 5 -> 3; 6 -> 6 (itself).
        let edges = vec![vec![1], vec![2], vec![], vec![4], vec![3], vec![3], vec![6]];
        let (levels, cycles) = levels(&edges);
        assert_eq!(
            levels,
            vec![
                vec![vec![2], vec![3, 4], vec![6]],
                vec![vec![1], vec![5]],
                vec![vec![0]]
            ]
        );
        assert_eq!(cycles, vec![vec![3, 4], vec![6]]);
        let _ = Style::Query;
        // A long chain does not overflow the stack.
        let chain: Vec<Vec<usize>> = (0..200_000)
            .map(|n| if n == 0 { vec![] } else { vec![n - 1] })
            .collect();
        let (levels, cycles) = super::levels(&chain);
        assert_eq!(levels.len(), 200_000);
        assert!(cycles.is_empty());
    }
}
