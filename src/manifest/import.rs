//! Importers: other build tools' manifests turned into [`Manifest`] entries.
//!
//! | format | tool | file | entries |
//! |---|---|---|---|
//! | [`Format::Native`] | cachebust | `{"/img/a.png": "3f9a"}` | versions |
//! | [`Format::Rev`] | gulp-rev, webpack-assets-manifest, grunt-filerev | `{"css/app.css": "css/app-d41d8c.css"}` | renames |
//! | [`Format::Mix`] | Laravel Mix | `{"/js/app.js": "/js/app.js?id=ab12"}` | versions (the `id`) |
//! | [`Format::Vite`] | Vite | `.vite/manifest.json` (`{"src/a.png": {"file": "assets/a-Xy.png"}}`) | renames |
//! | [`Format::Propshaft`] | Rails Propshaft | `.manifest.json` | renames |
//! | [`Format::Django`] | Django `ManifestStaticFilesStorage` | `staticfiles.json` | renames |
//!
//! Tools whose keys are not URL paths take a *prefix*: the URL path (or URL) their files are
//! served under, joined to every key and to every relative renamed path. Defaults: `/assets`
//! for Propshaft, `/static/` for Django (`STATIC_URL`), `/` for the others (Vite's `base`).
//!
//! ```
//! use cachebust::manifest::import::{import, Format};
//! use cachebust::Entry;
//!
//! let json = r#"{"paths": {"css/base.css": "css/base.5af66c1b1797.css"}, "version": "1.1"}"#;
//! assert_eq!(Format::detect("staticfiles.json", json)?, Format::Django);
//! let manifest = import(Format::Django, json, None)?;
//! assert_eq!(
//!     manifest.get("/static/css/base.css"),
//!     Some(&Entry::Rename("/static/css/base.5af66c1b1797.css".into()))
//! );
//! # Ok::<(), cachebust::Error>(())
//! ```

use super::{Manifest, parse_string_map};
use crate::error::Error;
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// A manifest format [`import`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// cachebust's own `{"key": "version"}`.
    Native,
    /// A flat map of original path to renamed path (gulp-rev, webpack-assets-manifest, grunt).
    Rev,
    /// Laravel Mix's `mix-manifest.json`: path to path with `?id=HASH`.
    Mix,
    /// Vite's `.vite/manifest.json`.
    Vite,
    /// Rails Propshaft's `.manifest.json` (plain or with `digested_path` objects).
    Propshaft,
    /// Django's `staticfiles.json`.
    Django,
}

impl Format {
    /// Every format, in the order [`Format::detect`] tries them.
    pub const ALL: [Format; 6] = [
        Format::Django,
        Format::Vite,
        Format::Propshaft,
        Format::Mix,
        Format::Native,
        Format::Rev,
    ];

    /// The name used on the command line (`--manifest-format`).
    ///
    /// ```
    /// assert_eq!(cachebust::manifest::import::Format::Vite.name(), "vite");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Rev => "rev",
            Format::Mix => "mix",
            Format::Vite => "vite",
            Format::Propshaft => "propshaft",
            Format::Django => "django",
        }
    }

    /// The prefix used when none is given.
    ///
    /// ```
    /// assert_eq!(cachebust::manifest::import::Format::Django.default_prefix(), "/static/");
    /// ```
    pub fn default_prefix(self) -> &'static str {
        match self {
            Format::Propshaft => "/assets",
            Format::Django => "/static/",
            _ => "/",
        }
    }

    /// Guesses the format from the file name and its content.
    ///
    /// ```
    /// use cachebust::manifest::import::Format;
    /// assert_eq!(Format::detect("rev-manifest.json", r#"{"a.css": "a-1f.css"}"#)?, Format::Rev);
    /// assert_eq!(Format::detect("v.json", r#"{"/a.css": "1f"}"#)?, Format::Native);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn detect(file_name: &str, json: &str) -> Result<Format, Error> {
        let value: Value = serde_json::from_str(json).map_err(Error::ManifestSyntax)?;
        let Value::Object(map) = &value else {
            return Err(Error::Import {
                format: "any",
                reason: "the manifest is not a JSON object".into(),
            });
        };
        let base_name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        if map.get("paths").is_some_and(Value::is_object) && map.contains_key("version") {
            return Ok(Format::Django);
        }
        if map.values().any(|v| v.get("file").is_some()) {
            return Ok(Format::Vite);
        }
        if base_name == ".manifest.json" || map.values().any(|v| v.get("digested_path").is_some()) {
            return Ok(Format::Propshaft);
        }
        let strings: Vec<(&String, &str)> = map
            .iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?)))
            .collect();
        if strings.len() != map.len() {
            return Err(Error::Import {
                format: "any",
                reason: "values are neither all strings nor a known tool's objects".into(),
            });
        }
        if !strings.is_empty() && strings.iter().all(|(_, v)| v.contains("?id=")) {
            return Ok(Format::Mix);
        }
        // Rename maps name files relative to their output directory and map them to paths;
        // native keys are URL paths or URLs and map to versions (checked on import, so that
        // a bad version is reported as such rather than read as a rename).
        let native_key = |k: &str| k.starts_with('/') || k.starts_with("http");
        if strings
            .iter()
            .all(|(k, v)| native_key(k) && !v.contains('/'))
        {
            return Ok(Format::Native);
        }
        Ok(Format::Rev)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, String> {
        Ok(match name {
            "native" => Format::Native,
            "rev" | "gulp-rev" | "webpack" | "grunt" => Format::Rev,
            "mix" | "laravel-mix" => Format::Mix,
            "vite" => Format::Vite,
            "propshaft" => Format::Propshaft,
            "django" => Format::Django,
            _ => {
                return Err(format!(
                    "unknown manifest format {name:?}; known: native, rev (gulp-rev, webpack, \
                     grunt), mix, vite, propshaft, django"
                ));
            }
        })
    }
}

/// Imports a manifest of `format`; `prefix` overrides [`Format::default_prefix`].
///
/// ```
/// use cachebust::manifest::import::{import, Format};
/// let vite = r#"{"src/logo.png": {"file": "assets/logo-Bf2.png", "src": "src/logo.png"}}"#;
/// let manifest = import(Format::Vite, vite, Some("/build/"))?;
/// assert_eq!(
///     manifest.get("/build/src/logo.png"),
///     Some(&cachebust::Entry::Rename("/build/assets/logo-Bf2.png".into()))
/// );
/// # Ok::<(), cachebust::Error>(())
/// ```
pub fn import(format: Format, json: &str, prefix: Option<&str>) -> Result<Manifest, Error> {
    let prefix = prefix.unwrap_or(format.default_prefix());
    let err = |reason: String| Error::Import {
        format: format.name(),
        reason,
    };
    let mut manifest = Manifest::new();
    match format {
        Format::Native => {
            if prefix == "/" {
                return Manifest::from_json(json);
            }
            for (key, version) in parse_string_map(json).map_err(Error::ManifestSyntax)? {
                manifest.insert(&join(prefix, &key), &version)?;
            }
        }
        // webpack-assets-manifest with `integrity` writes {"src": ..., "integrity": ...}.
        Format::Rev => add_renames(&mut manifest, prefix, json, "src", &err)?,
        Format::Mix => {
            for (key, value) in parse_string_map(json).map_err(Error::ManifestSyntax)? {
                let version = value
                    .split_once('?')
                    .and_then(|(_, query)| {
                        query.split('&').find_map(|pair| pair.strip_prefix("id="))
                    })
                    .ok_or_else(|| err(format!("key {key:?}: {value:?} has no ?id=")))?;
                manifest.insert(&join(prefix, &key), version)?;
            }
        }
        Format::Vite => {
            let map: serde_json::Map<String, Value> =
                serde_json::from_str(json).map_err(Error::ManifestSyntax)?;
            for (key, chunk) in &map {
                let file = chunk
                    .get("file")
                    .and_then(Value::as_str)
                    .ok_or_else(|| err(format!("key {key:?}: no \"file\"")))?;
                let source = chunk.get("src").and_then(Value::as_str).unwrap_or(key);
                // Virtual modules and shared chunks have no source file a page references, and
                // an HTML entry's "file" is its script, not a new name for the page.
                if source.starts_with('_') || source.starts_with('\0') || source.ends_with(".html")
                {
                    continue;
                }
                add_rename(&mut manifest, prefix, source, file)?;
            }
        }
        // Propshaft 1.0 writes {"digested_path": ..., "integrity": ...}.
        Format::Propshaft => add_renames(&mut manifest, prefix, json, "digested_path", &err)?,
        Format::Django => {
            let value: Value = serde_json::from_str(json).map_err(Error::ManifestSyntax)?;
            let paths = value
                .get("paths")
                .and_then(Value::as_object)
                .ok_or_else(|| err("no \"paths\" object".into()))?;
            for (key, target) in paths {
                let target = target
                    .as_str()
                    .ok_or_else(|| err(format!("key {key:?}: the value is not a path")))?;
                add_rename(&mut manifest, prefix, key, target)?;
            }
        }
    }
    Ok(manifest)
}

/// A map of paths to renamed paths, each written as a string or as an object's `field`.
fn add_renames(
    manifest: &mut Manifest,
    prefix: &str,
    json: &str,
    field: &str,
    err: &dyn Fn(String) -> Error,
) -> Result<(), Error> {
    let map: serde_json::Map<String, Value> =
        serde_json::from_str(json).map_err(Error::ManifestSyntax)?;
    for (key, value) in &map {
        let target = value
            .as_str()
            .or_else(|| value.get(field).and_then(Value::as_str))
            .ok_or_else(|| {
                err(format!(
                    "key {key:?}: no renamed path (a string or {field:?})"
                ))
            })?;
        add_rename(manifest, prefix, key, target)?;
    }
    Ok(())
}

fn add_rename(manifest: &mut Manifest, prefix: &str, key: &str, target: &str) -> Result<(), Error> {
    let key = join(prefix, key);
    let target = if target.starts_with('/') {
        target.to_owned()
    } else {
        join(prefix_path(prefix), target)
    };
    if key_path(&key) == target {
        // Unrevisioned files map to themselves; there is nothing to rename.
        return Ok(());
    }
    manifest.insert_rename(&key, &target)
}

/// The path part of a prefix that may be a whole URL (`https://cdn.example.com/build/`).
fn prefix_path(prefix: &str) -> &str {
    let Some(rest) = prefix
        .strip_prefix("https://")
        .or_else(|| prefix.strip_prefix("http://"))
        .or_else(|| prefix.strip_prefix("//"))
    else {
        return prefix;
    };
    rest.find('/').map_or("/", |at| &rest[at..])
}

fn key_path(key: &str) -> &str {
    prefix_path(key)
}

/// `prefix` + `/` + `path`, with exactly one slash between them and a leading one.
fn join(prefix: &str, path: &str) -> String {
    let path = path.trim_start_matches("./").trim_start_matches('/');
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() || prefix.starts_with('/') || prefix.contains("://") {
        format!("{prefix}/{path}")
    } else {
        format!("/{prefix}/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Entry;

    fn rename(to: &str) -> Option<Entry> {
        Some(Entry::Rename(to.into()))
    }

    #[test]
    fn gulp_rev_and_webpack_maps_rename() {
        let json = r#"{"css/app.css": "css/app-d41d8cd98f.css", "img/a b.png": "img/a b-1f.png"}"#;
        assert_eq!(
            Format::detect("rev-manifest.json", json).unwrap(),
            Format::Rev
        );
        let m = import(Format::Rev, json, None).unwrap();
        assert_eq!(
            m.get("/css/app.css").cloned(),
            rename("/css/app-d41d8cd98f.css")
        );
        assert_eq!(
            m.get("/img/a%20b.png").cloned(),
            rename("/img/a%20b-1f.png")
        );
        let webpack = r#"{"main.js": {"src": "/static/main.3f2a.js", "integrity": "sha256-x"}}"#;
        let m = import(Format::Rev, webpack, Some("/static/")).unwrap();
        assert_eq!(
            m.get("/static/main.js").cloned(),
            rename("/static/main.3f2a.js")
        );
    }

    #[test]
    fn mix_ids_become_versions() {
        let json =
            r#"{"/js/app.js": "/js/app.js?id=6a1b2c", "/css/app.css": "/css/app.css?id=9f"}"#;
        assert_eq!(
            Format::detect("mix-manifest.json", json).unwrap(),
            Format::Mix
        );
        let m = import(Format::Mix, json, None).unwrap();
        assert_eq!(m.get("/js/app.js"), Some(&Entry::Version("6a1b2c".into())));
    }

    #[test]
    fn propshaft_both_shapes() {
        let old = r#"{"application.css": "application-6c89a7b8.css"}"#;
        let new = r#"{"application.css": {"digested_path": "application-6c89a7b8.css",
                      "integrity": "sha384-x"}}"#;
        assert_eq!(
            Format::detect(".manifest.json", old).unwrap(),
            Format::Propshaft
        );
        assert_eq!(Format::detect("m.json", new).unwrap(), Format::Propshaft);
        for json in [old, new] {
            let m = import(Format::Propshaft, json, None).unwrap();
            assert_eq!(
                m.get("/assets/application.css").cloned(),
                rename("/assets/application-6c89a7b8.css")
            );
        }
    }

    #[test]
    fn vite_skips_virtual_chunks_and_takes_a_base() {
        let json = r#"{
          "index.html": {"file": "assets/index-BwQ.js", "src": "index.html", "isEntry": true},
          "_shared-B7PI.js": {"file": "assets/shared-B7PI.js"},
          "src/logo.svg": {"file": "assets/logo-Cu0.svg", "src": "src/logo.svg"}
        }"#;
        assert_eq!(
            Format::detect(".vite/manifest.json", json).unwrap(),
            Format::Vite
        );
        let m = import(Format::Vite, json, Some("https://cdn.example.com/app/")).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(
            m.get("https://cdn.example.com/app/src/logo.svg").cloned(),
            rename("/app/assets/logo-Cu0.svg")
        );
    }

    #[test]
    fn bad_shapes_name_the_key() {
        let err = import(Format::Vite, r#"{"a.js": {"src": "a.js"}}"#, None).unwrap_err();
        assert!(err.to_string().contains("\"a.js\""), "{err}");
        let err = import(Format::Mix, r#"{"/a.js": "/a.js"}"#, None).unwrap_err();
        assert!(err.to_string().contains("?id="), "{err}");
        assert!("nope".parse::<Format>().unwrap_err().contains("known"));
    }
}
