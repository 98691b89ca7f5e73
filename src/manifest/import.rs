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
//! Their keys and renamed paths name files, which become URL paths as
//! [`super::file_url_path`] writes them (`img/q#x.png` is served at
//! `/img/q%23x.png`); the native format's keys are URLs already.
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

use super::{Manifest, file_url_path, parse_string_map};
use crate::error::Error;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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
        // What each tool's values look like, gathered in one pass without building the
        // document's tree (a manifest can name tens of thousands of assets).
        let Outline::Object(outline) =
            serde_json::from_str::<Outline>(json).map_err(Error::ManifestSyntax)?
        else {
            return Err(Error::Import {
                format: "any",
                reason: "the manifest is not a JSON object".into(),
            });
        };
        outline.format(file_name)
    }
}

fn is_native_key(key: &str) -> bool {
    key.starts_with('/') || key.starts_with("http")
}

/// Detects the format of the manifest `json` (read from `file_name`) and imports it, as
/// [`Format::detect`] and [`import`] do, but reading a native manifest only once (the
/// common case, and the one that can name tens of thousands of assets). The outer error
/// says the format could not be told; the inner result is the import's, in that format.
///
/// ```
/// use cachebust::manifest::import::{detect_and_import, Format};
/// let (format, manifest) = detect_and_import("versions.json", r#"{"/a.png": "3f9a"}"#, None)?;
/// assert_eq!(format, Format::Native);
/// assert_eq!(manifest?.len(), 1);
/// let (format, _) = detect_and_import("rev-manifest.json", r#"{"a.css": "a-1f.css"}"#, None)?;
/// assert_eq!(format, Format::Rev);
/// let (format, manifest) = detect_and_import("v.json", r#"{"/a.png": "bad version!"}"#, None)?;
/// assert_eq!(format, Format::Native);
/// assert!(manifest.is_err());
/// # Ok::<(), cachebust::Error>(())
/// ```
pub fn detect_and_import(
    file_name: &str,
    json: &str,
    prefix: Option<&str>,
) -> Result<(Format, Result<Manifest, Error>), Error> {
    // A map of strings is told from the pairs just read, as from an outline.
    let Ok(pairs) = parse_string_map(json) else {
        let format = Format::detect(file_name, json)?;
        return Ok((format, import(format, json, prefix)));
    };
    let mut outline = ObjectOutline::default();
    for (key, value) in &pairs {
        outline.add(key, Some(TextOutline::of(value)));
    }
    let format = outline.format(file_name)?;
    let imported = match format {
        Format::Native => import_native(pairs, prefix),
        _ => import(format, json, prefix),
    };
    Ok((format, imported))
}

fn import_native(
    mut pairs: Vec<(String, String)>,
    prefix: Option<&str>,
) -> Result<Manifest, Error> {
    let prefix = prefix.unwrap_or(Format::Native.default_prefix());
    // Under `/`, keys are taken as written (a URL key stays a URL).
    if prefix != "/" {
        for (key, _) in &mut pairs {
            *key = join(prefix, key);
        }
    }
    Manifest::from_pairs(pairs)
}

/// What [`Format::detect`] learns of a manifest: for the top-level object, facts about its
/// keys and values; anything else is not a manifest.
enum Outline {
    Object(ObjectOutline),
    NotObject,
}

#[derive(Default)]
struct ObjectOutline {
    entries: usize,
    strings: usize,
    /// A string value lacks `?id=` (so no Laravel Mix).
    some_without_id_query: bool,
    /// A key is no URL path or URL, or a string value holds a `/` (so not native).
    some_not_native: bool,
    /// A value is an object with a `file` (Vite) or `digested_path` (Propshaft) member.
    any_file: bool,
    any_digested_path: bool,
    /// Members whose value is webpack's `{"src": ..., "integrity": ...}`.
    src_with_integrity: usize,
    /// Django: a `paths` object and a `version` member.
    paths_object: bool,
    version_key: bool,
}

impl ObjectOutline {
    /// Counts a member named `key`, with the outline of its value when that is a string.
    fn add(&mut self, key: &str, text: Option<TextOutline>) {
        self.entries += 1;
        self.version_key |= key == "version";
        if let Some(text) = text {
            self.strings += 1;
            self.some_without_id_query |= !text.id_query;
            self.some_not_native |= !is_native_key(key) || text.slash;
        }
    }

    /// The format of a manifest so outlined, read from `file_name`.
    fn format(&self, file_name: &str) -> Result<Format, Error> {
        let base_name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
        if self.paths_object && self.version_key {
            return Ok(Format::Django);
        }
        if self.any_file {
            return Ok(Format::Vite);
        }
        if base_name == ".manifest.json" || self.any_digested_path {
            return Ok(Format::Propshaft);
        }
        // webpack-assets-manifest with `integrity: true`: every value an object with `src`
        // and `integrity`.
        if self.src_with_integrity > 0 && self.src_with_integrity == self.entries {
            return Ok(Format::Rev);
        }
        if self.strings != self.entries {
            return Err(Error::Import {
                format: "any",
                reason: "values are neither all strings nor a known tool's objects".into(),
            });
        }
        // Rename maps name files relative to their output directory and map them to paths;
        // native keys are URL paths or URLs and map to versions (checked on import, so that
        // a bad version is reported as such rather than read as a rename).
        Ok(if self.strings > 0 && !self.some_without_id_query {
            Format::Mix
        } else if !self.some_not_native {
            Format::Native
        } else {
            Format::Rev
        })
    }
}

/// What detection needs of a string value.
struct TextOutline {
    id_query: bool,
    slash: bool,
}

impl TextOutline {
    fn of(text: &str) -> TextOutline {
        // One pass over the bytes: values are short, and this runs for every entry of a
        // manifest being loaded.
        let bytes = text.as_bytes();
        let mut outline = TextOutline {
            id_query: false,
            slash: false,
        };
        for (at, &byte) in bytes.iter().enumerate() {
            match byte {
                b'/' => outline.slash = true,
                b'?' => outline.id_query |= bytes[at + 1..].starts_with(b"id="),
                _ => {}
            }
        }
        outline
    }
}

/// What one top-level value is, as far as detection cares.
enum ValueOutline {
    Text(TextOutline),
    Object {
        file: bool,
        digested_path: bool,
        /// webpack-assets-manifest with `integrity: true`: `{"src": ..., "integrity": ...}`.
        src_with_integrity: bool,
    },
    Other,
}

/// The visitor methods of the values detection reads past (arrays, numbers, booleans,
/// `null`), each taken as `$outline`.
macro_rules! any_other_value {
    ($outline:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($outline)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($outline)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($outline)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($outline)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($outline)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($outline)
        }
    };
}

impl<'de> Deserialize<'de> for Outline {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OutlineVisitor;
        impl<'de> Visitor<'de> for OutlineVisitor {
            type Value = Outline;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Outline, A::Error> {
                let mut outline = ObjectOutline::default();
                while let Some(key) = map.next_key::<String>()? {
                    match map.next_value()? {
                        ValueOutline::Text(text) => outline.add(&key, Some(text)),
                        ValueOutline::Object {
                            file,
                            digested_path,
                            src_with_integrity,
                        } => {
                            outline.add(&key, None);
                            outline.any_file |= file;
                            outline.any_digested_path |= digested_path;
                            outline.src_with_integrity += usize::from(src_with_integrity);
                            outline.paths_object |= key == "paths";
                        }
                        ValueOutline::Other => outline.add(&key, None),
                    }
                }
                Ok(Outline::Object(outline))
            }
            any_other_value!(Outline::NotObject);
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Outline, E> {
                Ok(Outline::NotObject)
            }
        }
        deserializer.deserialize_any(OutlineVisitor)
    }
}

impl<'de> Deserialize<'de> for ValueOutline {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = ValueOutline;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<ValueOutline, E> {
                Ok(ValueOutline::Text(TextOutline::of(text)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueOutline, A::Error> {
                let (mut file, mut digested_path) = (false, false);
                let (mut src, mut integrity) = (false, false);
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    file |= key == "file";
                    digested_path |= key == "digested_path";
                    src |= key == "src";
                    integrity |= key == "integrity";
                }
                Ok(ValueOutline::Object {
                    file,
                    digested_path,
                    src_with_integrity: src && integrity,
                })
            }
            any_other_value!(ValueOutline::Other);
        }
        deserializer.deserialize_any(ValueVisitor)
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
            let pairs = parse_string_map(json).map_err(Error::ManifestSyntax)?;
            return import_native(pairs, Some(prefix));
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
                manifest.insert(&join_file(prefix, &key), version)?;
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
    let key = join_file(prefix, key);
    let target = if target.starts_with('/') {
        file_url_path(target).into_owned()
    } else {
        join_file(prefix_path(prefix), target)
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

/// `prefix` + `/` + `file`, a file's path written as its URL's (see [`join`]).
fn join_file(prefix: &str, file: &str) -> String {
    join(prefix, &file_url_path(file))
}

/// `prefix` + `/` + `path` (a URL path), with exactly one slash between them and a leading
/// one.
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
    fn detection_reads_each_value_once_and_tells_every_shape() {
        let detect = |json: &str| Format::detect("m.json", json);
        for not_object in [
            "[]",
            "[{\"file\": 1}]",
            "\"x\"",
            "1",
            "-1",
            "1.5",
            "true",
            "null",
        ] {
            let error = detect(not_object).unwrap_err().to_string();
            assert!(error.contains("not a JSON object"), "{not_object}: {error}");
        }
        assert!(matches!(detect("{"), Err(Error::ManifestSyntax(_))));
        assert!(matches!(detect("{} x"), Err(Error::ManifestSyntax(_))));
        let mixed = detect(r#"{"/a.png": "1", "/b.png": 2}"#)
            .unwrap_err()
            .to_string();
        assert!(mixed.contains("neither all strings"), "{mixed}");
        assert_eq!(detect("{}").unwrap(), Format::Native);
        assert_eq!(
            detect(r#"{"/a.png": "v1", "https://h/b.png": "v\u0032"}"#).unwrap(),
            Format::Native
        );
        // An escaped slash is a slash: a rename.
        assert_eq!(detect(r#"{"/a.png": "a\/b.png"}"#).unwrap(), Format::Rev);
        assert_eq!(detect(r#"{"a.png": "v1"}"#).unwrap(), Format::Rev);
        assert_eq!(
            detect(r#"{"/a.js": "/a.js?id=1", "/b.js": "/b.js?id=2&x=1"}"#).unwrap(),
            Format::Mix
        );
        // Django needs both its members; `paths` must be an object.
        assert_eq!(
            detect(r#"{"version": "1.1", "paths": {"a.css": "a.1.css"}}"#).unwrap(),
            Format::Django
        );
        assert!(detect(r#"{"version": "1.1", "paths": ["a.css"]}"#).is_err());
        // Vite's and Propshaft's objects are found among other members, nested values
        // skipped whatever they hold.
        let vite = r#"{"x": {"css": [{"deep": [1, {"file": 0}]}], "file": "assets/x-1.js"}}"#;
        assert_eq!(detect(vite).unwrap(), Format::Vite);
        let propshaft = r#"{"a.css": {"digested_path": "a-1.css", "integrity": null}}"#;
        assert_eq!(detect(propshaft).unwrap(), Format::Propshaft);
    }

    #[test]
    fn detecting_while_importing_agrees_with_detecting_then_importing() {
        let cases = [
            (
                "v.json",
                r#"{"/a.png": "v1", "https://cdn.example.com/b.png": "v2"}"#,
            ),
            ("v.json", r#"{}"#),
            ("v.json", r#"{"/a.png": "not a version!"}"#),
            ("v.json", r#"{"/a.png": "v1", "/a.png": "v2"}"#),
            ("rev-manifest.json", r#"{"css/app.css": "css/app-1f.css"}"#),
            (
                "mix-manifest.json",
                r#"{"/js/app.js": "/js/app.js?id=ab12"}"#,
            ),
            (".manifest.json", r#"{"app.css": "app-1f.css"}"#),
            ("m.json", r#"{"a.css": {"digested_path": "a-1.css"}}"#),
            (
                ".vite/manifest.json",
                r#"{"src/a.png": {"file": "assets/a-1.png"}}"#,
            ),
            (
                "staticfiles.json",
                r#"{"paths": {"a.css": "a.1.css"}, "version": "1.1"}"#,
            ),
        ];
        for (name, json) in cases {
            for prefix in [None, Some("/static/")] {
                let (format, manifest) = detect_and_import(name, json, prefix).unwrap();
                assert_eq!(format, Format::detect(name, json).unwrap(), "{name} {json}");
                match (manifest, import(format, json, prefix)) {
                    (Ok(one_pass), Ok(two_passes)) => {
                        assert_eq!(one_pass, two_passes, "{name} {json}")
                    }
                    (Err(one_pass), Err(two_passes)) => {
                        assert_eq!(one_pass.to_string(), two_passes.to_string())
                    }
                    (one_pass, two_passes) => panic!("{name} {json}: {one_pass:?} {two_passes:?}"),
                }
            }
        }
        assert!(detect_and_import("v.json", "[1]", None).is_err());
        assert!(detect_and_import("v.json", "{", None).is_err());
    }

    #[test]
    fn webpack_with_integrity_is_detected() {
        // webpack-assets-manifest's output with `integrity: true`, as it writes it.
        let json = r#"{
          "img/a.png": {"src": "/img/a.e123abfd.png", "integrity": "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
          "main.js": {"src": "/main.3f2a.js", "integrity": "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"}
        }"#;
        assert_eq!(
            Format::detect("assets-manifest.json", json).unwrap(),
            Format::Rev
        );
        let (format, manifest) = detect_and_import("assets-manifest.json", json, None).unwrap();
        assert_eq!(format, Format::Rev);
        let manifest = manifest.unwrap();
        assert_eq!(
            manifest.get("/img/a.png"),
            Some(&crate::Entry::Rename("/img/a.e123abfd.png".into()))
        );
        // An object of another shape is still refused.
        assert!(Format::detect("x.json", r#"{"a.png": {"integrity": "sha256-x"}}"#).is_err());
    }

    #[test]
    fn gulp_rev_and_webpack_maps_rename() {
        let json = r#"{"css/app.css": "css/app-d41d8cd98f.css", "img/a b.png": "img/a b-1f.png"}"#;
        assert_eq!(
            Format::detect("rev-manifest.json", json).unwrap(),
            Format::Rev
        );
        // File names holding what a URL reads otherwise are keyed as a browser requests them.
        let files = r#"{"img/q#x.png": "img/q#x-1f.png", "img/100%.png": "/img/100%-2e.png"}"#;
        let webpack = r#"{"main.js": {"src": "/static/main.3f2a.js", "integrity": "sha256-x"}}"#;
        // (manifest, prefix, [(key, renamed path)])
        type Case<'a> = (&'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);
        let cases: [Case; 3] = [
            (
                json,
                None,
                &[
                    ("/css/app.css", "/css/app-d41d8cd98f.css"),
                    ("/img/a%20b.png", "/img/a%20b-1f.png"),
                ],
            ),
            (
                files,
                None,
                &[
                    ("/img/q%23x.png", "/img/q%23x-1f.png"),
                    ("/img/100%25.png", "/img/100%25-2e.png"),
                ],
            ),
            (
                webpack,
                Some("/static/"),
                &[("/static/main.js", "/static/main.3f2a.js")],
            ),
        ];
        for (json, prefix, renames) in cases {
            let m = import(Format::Rev, json, prefix).unwrap();
            for (key, target) in renames {
                assert_eq!(m.get(key).cloned(), rename(target), "{key} in {json}");
            }
        }
    }

    #[test]
    fn native_keys_under_a_prefix_are_urls_as_written() {
        // Unlike the file names of other tools, a native key is a URL: its escapes stay.
        let json = r#"{"/img/a%20b.png": "v1", "/img/100%25.png": "v2"}"#;
        let (_, detected) = detect_and_import("v.json", json, Some("/static/")).unwrap();
        for m in [import(Format::Native, json, Some("/static/")), detected] {
            let m = m.unwrap();
            assert_eq!(
                m.get("/static/img/a b.png"),
                Some(&Entry::Version("v1".into()))
            );
            assert_eq!(
                m.get("/static/img/100%25.png"),
                Some(&Entry::Version("v2".into()))
            );
        }
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
