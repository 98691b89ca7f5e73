//! The version manifest: which asset has which version (RULES §1).
//!
//! The native format is one JSON object mapping keys to versions:
//!
//! ```json
//! { "/img/logo.png": "3f9a2c1b7d",
//!   "https://cdn.example.com/media/hero.jpg": "a1b2c3" }
//! ```
//!
//! A key is a root-relative path (that path on any site host) or an absolute or
//! scheme-relative URL (the scheme is ignored). Keys and references are compared after
//! normalisation: host lower-cased, default port dropped, path percent-decoded, `.`/`..`
//! resolved. A version is 1 to 64 characters of `[A-Za-z0-9._~-]`, which need no escaping in
//! a URL, an HTML attribute or CSS.
//!
//! Renaming tools (gulp-rev, Vite, Propshaft...) produce [`Entry::Rename`] entries through the
//! [`import`] module: the reference's path is replaced instead of gaining a parameter.

pub mod import;
pub(crate) mod key;
mod table;

use crate::error::Error;
use key::KeyKind;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde::de::{Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;
use std::path::Path;
pub(crate) use table::Found;
use table::Table;

/// What the manifest says about one asset.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entry {
    /// Add this version to the URL (`?vh=V`, or Optimole's `cb:V`).
    Version(String),
    /// Replace the URL's path with this one (root-relative, already percent-encoded).
    Rename(String),
}

#[derive(Debug, Clone)]
struct Stored {
    entry: Entry,
    /// The key as written, for error messages and [`Manifest::iter`].
    key: Box<str>,
}

/// A loaded, validated version manifest.
///
/// Build one from JSON with [`Manifest::from_json`], from a file with [`Manifest::load`], or
/// entry by entry with [`Manifest::insert`].
///
/// ```
/// use cachebust::{Entry, Manifest};
///
/// let manifest = Manifest::from_json(r#"{ "/img/logo.png": "3f9a" }"#)?;
/// assert_eq!(manifest.get("/img/./logo.png"), Some(&Entry::Version("3f9a".into())));
/// assert_eq!(manifest.get("https://any.host/img/logo.png"), None); // absolute keys only
/// # Ok::<(), cachebust::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    paths: Table,
    urls: Table,
    hosts: HashSet<Box<str>, KeyHash>,
    rename_targets: HashSet<Box<str>, KeyHash>,
}

/// Two manifests are equal when they hold the same entries under the same keys as written,
/// in whatever order they were read.
///
/// ```
/// use cachebust::Manifest;
/// let a = Manifest::from_json(r#"{"/a.png": "1", "/b.png": "2"}"#)?;
/// assert_eq!(a, Manifest::from_json(r#"{"/b.png": "2", "/a.png": "1"}"#)?);
/// assert_ne!(a, Manifest::from_json(r#"{"/a.png": "1", "/b.png": "3"}"#)?);
/// assert_ne!(a, Manifest::from_json(r#"{"/a.png": "1", "/./b.png": "2"}"#)?);
/// # Ok::<(), cachebust::Error>(())
/// ```
impl PartialEq for Manifest {
    fn eq(&self, other: &Manifest) -> bool {
        // Keys as written are unique in a manifest: sorted by them, the entries line up.
        fn sorted(manifest: &Manifest) -> Vec<(&str, &Entry)> {
            let mut entries: Vec<(&str, &Entry)> = manifest.iter().collect();
            entries.sort_unstable_by_key(|(key, _)| *key);
            entries
        }
        self.len() == other.len() && sorted(self) == sorted(other)
    }
}

impl Eq for Manifest {}

/// The hasher of the key tables: a multiply-rotate hash (as rustc's), several times cheaper
/// than SipHash on short keys. Flooding is no concern: the keys come from the site's own
/// manifest, and lookups cannot add any.
pub(crate) type KeyHash = std::hash::BuildHasherDefault<MultiplyRotate>;

#[derive(Default)]
pub(crate) struct MultiplyRotate(u64);

impl MultiplyRotate {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(26) ^ word).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }
}

impl std::hash::Hasher for MultiplyRotate {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks_exact(8) {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let tail = match bytes.len() {
            // The last eight bytes, overlapping words taken already: read where they are.
            // (Copied aside to be read back as one word, they would be read before the
            // copy's smaller writes are done, which stalls the processor.)
            len @ 8.. => u64::from_le_bytes(bytes[len - 8..].try_into().expect("8 bytes")),
            _ => bytes
                .iter()
                .rev()
                .fold(0, |word, &b| word << 8 | u64::from(b)),
        };
        self.mix(tail ^ bytes.len() as u64);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write(&[byte]);
    }

    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0.rotate_left(20)
    }
}

/// The keys that differ between two manifests ([`Manifest::diff`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Diff {
    /// In the newer manifest only.
    pub added: Vec<String>,
    /// In both, with another entry.
    pub changed: Vec<String>,
    /// In the older manifest only.
    pub removed: Vec<String>,
}

/// The longest version a manifest accepts.
pub const MAX_VERSION_LEN: usize = 64;

/// Checks that `version` is a valid version token (RULES §1), or says why not.
///
/// ```
/// assert!(cachebust::manifest::check_version("3f9a-2.1_~").is_ok());
/// assert!(cachebust::manifest::check_version("a/b").unwrap_err().contains("'/'"));
/// ```
pub fn check_version(version: &str) -> Result<(), String> {
    if version.is_empty() {
        return Err("is empty".into());
    }
    // Versions are checked byte by byte (every entry of a manifest being loaded has one);
    // the character is found only to be named.
    if !version.bytes().all(|b| is_version_char(char::from(b))) {
        let ch = version
            .chars()
            .find(|&c| !is_version_char(c))
            .expect("a byte that is no version character");
        return Err(format!(
            "holds the character {ch:?}; versions use only A-Z a-z 0-9 . _ ~ -"
        ));
    }
    if version.len() > MAX_VERSION_LEN {
        return Err(format!(
            "is {} characters long; at most {MAX_VERSION_LEN} are allowed",
            version.len()
        ));
    }
    Ok(())
}

fn is_version_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '-')
}

impl Manifest {
    /// The largest manifest file [`Manifest::load`] reads (64 MiB).
    pub const MAX_FILE_SIZE: u64 = 64 << 20;

    /// An empty manifest: rewriting with it changes nothing (unless a global version is set).
    ///
    /// ```
    /// assert!(cachebust::Manifest::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the native format: one JSON object of `"key": "version"`.
    ///
    /// Every key and version is checked; the first bad one is the error, naming the key and
    /// the offending character. Duplicate keys are an error too.
    ///
    /// ```
    /// let err = cachebust::Manifest::from_json(r#"{"/a.png?x=1": "v1"}"#).unwrap_err();
    /// assert!(err.to_string().contains("\"/a.png?x=1\""));
    /// ```
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Manifest::from_pairs(parse_string_map(json).map_err(Error::ManifestSyntax)?)
    }

    /// A manifest of version entries from `(key, version)` pairs (a map a build step made,
    /// say), each checked as [`Manifest::from_json`] checks them; the strings become the
    /// entries' own and the tables are sized once.
    ///
    /// ```
    /// let versions = std::collections::BTreeMap::from([("/a.png".to_string(), "1".to_string())]);
    /// let manifest = cachebust::Manifest::from_versions(versions)?;
    /// assert_eq!(manifest.len(), 1);
    /// assert!(cachebust::Manifest::from_versions([("/a.png".into(), "v 1".into())]).is_err());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn from_versions(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Self, Error> {
        Manifest::from_pairs(pairs.into_iter().collect())
    }

    /// A manifest of version entries, keys as written; the tables are sized for them first.
    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, Error> {
        let mut manifest = Manifest::new();
        manifest.reserve(pairs.iter().map(|(key, _)| key.as_str()));
        for (key, version) in pairs {
            // The pair's strings become the entry's own: nothing is copied.
            manifest.insert_version(key, version)?;
        }
        Ok(manifest)
    }

    /// Reads a native manifest file. Files over [`Manifest::MAX_FILE_SIZE`] are refused
    /// before they are read.
    ///
    /// ```no_run
    /// let manifest = cachebust::Manifest::load("versions.json")?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let text = read_file(path)?;
        Self::from_json(&text)
    }

    /// Makes room for entries under `keys` (as written), each in the table its kind goes to.
    pub(crate) fn reserve<'k>(&mut self, keys: impl Iterator<Item = &'k str>) {
        let (mut paths, mut urls) = (0, 0);
        for key in keys {
            if key.starts_with('/') && !key.starts_with("//") {
                paths += 1;
            } else {
                urls += 1;
            }
        }
        self.paths.reserve(paths);
        self.urls.reserve(urls);
    }

    /// Adds a version entry. A key naming an asset already present with another entry is an
    /// error; use [`Manifest::extend`] to let one manifest override another.
    ///
    /// ```
    /// let mut manifest = cachebust::Manifest::new();
    /// manifest.insert("/img/a.png", "v2")?;
    /// assert!(manifest.insert("/img/b.png", "v 2").is_err());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn insert(&mut self, key: &str, version: &str) -> Result<(), Error> {
        self.insert_version(key.into(), version.into())
    }

    /// [`Manifest::insert`], taking the strings to keep.
    fn insert_version(&mut self, key: String, version: String) -> Result<(), Error> {
        if let Err(reason) = check_version(&version) {
            return Err(Error::InvalidVersion {
                key,
                version,
                reason,
            });
        }
        self.insert_entry(key, Entry::Version(version))
    }

    /// Adds a rename entry: references to `key` get their path replaced by `target`, a
    /// root-relative path (`/assets/app-4f2e1c.css`).
    ///
    /// ```
    /// let mut manifest = cachebust::Manifest::new();
    /// manifest.insert_rename("/css/app.css", "/css/app-4f2e1c.css")?;
    /// assert!(manifest.insert_rename("/css/b.css", "b-1.css").is_err());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn insert_rename(&mut self, key: &str, target: &str) -> Result<(), Error> {
        let (kind, url) = key::parse_key(target).map_err(|reason| Error::InvalidKey {
            key: key.into(),
            reason: format!("rename target {target:?}: {reason}"),
        })?;
        let KeyKind::Path(normalised) = kind else {
            return Err(Error::InvalidKey {
                key: key.into(),
                reason: format!("rename target {target:?} must be a root-relative path"),
            });
        };
        self.insert_entry(key.into(), Entry::Rename(url.path().to_owned()))?;
        self.rename_targets.insert(normalised.into());
        Ok(())
    }

    fn insert_entry(&mut self, key: String, entry: Entry) -> Result<(), Error> {
        let kind = key::normalise_key(&key).map_err(|reason| Error::InvalidKey {
            key: key.clone(),
            reason,
        })?;
        let (map, normalised) = match kind {
            KeyKind::Path(path) => (&mut self.paths, path),
            KeyKind::Url { key, host } => {
                self.hosts.insert(host.into());
                (&mut self.urls, Cow::Owned(key))
            }
        };
        if let Some(old) = map.get(&normalised) {
            if old.entry != entry {
                return Err(Error::ConflictingKeys {
                    first: old.key.to_string(),
                    second: key.clone(),
                });
            }
        }
        let record = map.insert(
            &normalised,
            Stored {
                entry,
                key: Box::default(),
            },
        );
        // The normal form may borrow the key as written, which moves in once it is not read.
        map.record_mut(record).key = key.into_boxed_str();
        Ok(())
    }

    /// Adds every entry of `other`; where both name the same asset, `other` wins (as later
    /// `-m` files win on the command line).
    ///
    /// ```
    /// let mut old = cachebust::Manifest::from_json(r#"{"/a.png": "v1", "/b.png": "v1"}"#)?;
    /// old.extend(cachebust::Manifest::from_json(r#"{"/a.png": "v2"}"#)?);
    /// assert_eq!(old.get("/a.png"), Some(&cachebust::Entry::Version("v2".into())));
    /// assert_eq!(old.len(), 2);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn extend(&mut self, other: Manifest) {
        if self.is_empty() {
            // Nothing to override: take `other` whole rather than copy it entry by entry.
            *self = other;
            return;
        }
        for (key, stored) in other.paths.entries() {
            self.paths.insert(key, stored.clone());
        }
        for (key, stored) in other.urls.entries() {
            self.urls.insert(key, stored.clone());
        }
        self.hosts.extend(other.hosts);
        self.rename_targets.extend(other.rename_targets);
    }

    /// Looks up a key as a manifest key would be written (`/img/a.png`,
    /// `https://host/a.png`), normalising it first. Rendering code usually wants
    /// [`Buster::bust_url`](crate::Buster::bust_url) instead, which resolves references.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"//CDN.example.com/a%20b.png": "v1"}"#)?;
    /// assert!(m.get("https://cdn.example.com:443/a b.png").is_some());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&Entry> {
        let stored = match key::normalise_key(key).ok()? {
            KeyKind::Path(path) => self.paths.get(&path),
            KeyKind::Url { key, .. } => self.urls.get(&key),
        };
        stored.map(|stored| &stored.entry)
    }

    /// The number of entries.
    ///
    /// ```
    /// assert_eq!(cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?.len(), 1);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.paths.len() + self.urls.len()
    }

    /// Whether the manifest has no entry.
    ///
    /// ```
    /// assert!(cachebust::Manifest::from_json("{}")?.is_empty());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry with its key as written, in no particular order.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let keys: Vec<&str> = m.iter().map(|(key, _)| key).collect();
    /// assert_eq!(keys, ["/a.png"]);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.paths
            .records()
            .chain(self.urls.records())
            .map(|stored| (&*stored.key, &stored.entry))
    }

    /// What changed from `self` to `newer`: keys added, whose entry changed, removed (as
    /// written in the manifest they come from; sorted). Keys are compared normalised, so
    /// `/a/./b.png` and `/a/b.png` are one asset.
    ///
    /// ```
    /// let old = cachebust::Manifest::from_json(r#"{"/a.png": "1", "/b.png": "1", "/c.png": "1"}"#)?;
    /// let new = cachebust::Manifest::from_json(r#"{"/a.png": "1", "/b.png": "2", "/d.png": "1"}"#)?;
    /// let diff = old.diff(&new);
    /// assert_eq!((diff.added, diff.changed, diff.removed),
    ///            (vec!["/d.png".into()], vec!["/b.png".into()], vec!["/c.png".into()]));
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn diff(&self, newer: &Manifest) -> Diff {
        let mut diff = Diff::default();
        for (key, entry) in newer.iter() {
            match self.get(key) {
                None => diff.added.push(key.to_owned()),
                Some(old) if old != entry => diff.changed.push(key.to_owned()),
                Some(_) => {}
            }
        }
        for (key, _) in self.iter() {
            if newer.get(key).is_none() {
                diff.removed.push(key.to_owned());
            }
        }
        diff.added.sort();
        diff.changed.sort();
        diff.removed.sort();
        diff
    }

    pub(crate) fn lookup_path(&self, path: &str) -> Option<Found<'_>> {
        self.paths.find(path)
    }

    pub(crate) fn lookup_url(&self, key: &str) -> Option<Found<'_>> {
        self.urls.find(key)
    }

    pub(crate) fn has_host(&self, host: &str) -> bool {
        !self.hosts.is_empty() && self.hosts.contains(host)
    }

    pub(crate) fn is_rename_target(&self, path: &str) -> bool {
        !self.rename_targets.is_empty() && self.rename_targets.contains(path)
    }
}

/// What a file's path cannot hold as it is in its URL: what would end the URL's path (`?`,
/// `#`), start an escape (`%`), or be read as a separator (`\\`). The rest (spaces, letters
/// of any script) a key may hold as it is, since keys are compared percent-decoded.
const ESCAPED_IN_FILE_URL: &AsciiSet = &CONTROLS.add(b'%').add(b'#').add(b'?').add(b'\\');

/// The URL path of a file, given by its `/`-separated path (as build tools write it in their
/// manifests, and as `cachebust manifest` reads the disk): a file `q#x.png` is served at
/// `q%23x.png`, and `100%.png` at `100%25.png`. The importers and the hashing of a directory
/// write keys this way, so that such a file is a key like any other, found by the
/// references a browser would follow to it.
///
/// ```
/// use cachebust::manifest::file_url_path;
/// assert_eq!(file_url_path("/img/q#x.png"), "/img/q%23x.png");
/// assert_eq!(file_url_path("img/100%.png"), "img/100%25.png");
/// assert_eq!(file_url_path("img/b c.png"), "img/b c.png"); // compared decoded anyway
/// ```
pub fn file_url_path(path: &str) -> Cow<'_, str> {
    utf8_percent_encode(path, ESCAPED_IN_FILE_URL).into()
}

/// Reads a manifest file (of any format) as UTF-8 text, refusing files over
/// [`Manifest::MAX_FILE_SIZE`] before reading them.
///
/// ```
/// let err = cachebust::manifest::read_file("/no/such/versions.json").unwrap_err();
/// assert!(err.to_string().contains("/no/such/versions.json"));
/// ```
pub fn read_file(path: impl AsRef<Path>) -> Result<String, Error> {
    let path = path.as_ref();
    let io = |error| Error::ManifestIo {
        path: path.to_owned(),
        error,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > Manifest::MAX_FILE_SIZE {
        return Err(Error::ManifestTooLarge {
            path: path.to_owned(),
            size,
            limit: Manifest::MAX_FILE_SIZE,
        });
    }
    std::fs::read_to_string(path).map_err(io)
}

/// Parses a flat JSON object of strings, in document order, refusing duplicate keys.
pub(crate) fn parse_string_map(json: &str) -> Result<Vec<(String, String)>, serde_json::Error> {
    struct PairsVisitor;
    impl<'de> Visitor<'de> for PairsVisitor {
        type Value = Vec<(String, String)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object mapping each key to a version string")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // Duplicates are told by the keys' hashes, the keys compared only when two
            // hashes agree: no key is copied to be remembered.
            let hasher = KeyHash::default();
            let mut seen: HashMap<u64, usize, KeyHash> = HashMap::default();
            let mut pairs: Vec<(String, String)> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                let value: String = map.next_value()?;
                let hash = hasher.hash_one(key.as_bytes());
                if let Some(&first) = seen.get(&hash) {
                    if pairs[first].0 == key || pairs.iter().any(|(known, _)| *known == key) {
                        return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                    }
                } else {
                    seen.insert(hash, pairs.len());
                }
                pairs.push((key, value));
            }
            Ok(pairs)
        }
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let pairs = (&mut de).deserialize_map(PairsVisitor)?;
    de.end()?;
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_an_error() {
        let err = Manifest::from_json(r#"{"/a.png": "1", "/a.png": "2"}"#).unwrap_err();
        assert!(
            err.to_string().contains("duplicate key \"/a.png\""),
            "{err}"
        );
    }

    #[test]
    fn many_keys_with_one_duplicate_far_apart() {
        let mut json: Vec<String> = (0..5000)
            .map(|n| format!("\"/img/{n}.png\": \"v\""))
            .collect();
        let manifest = Manifest::from_json(&format!("{{{}}}", json.join(","))).unwrap();
        assert_eq!(manifest.len(), 5000);
        assert!((0..5000).all(|n| manifest.get(&format!("/img/{n}.png")).is_some()));
        json.push("\"/img/17.png\": \"w\"".into());
        let err = Manifest::from_json(&format!("{{{}}}", json.join(","))).unwrap_err();
        assert!(
            err.to_string().contains("duplicate key \"/img/17.png\""),
            "{err}"
        );
    }

    #[test]
    fn extending_an_empty_manifest_takes_everything() {
        let mut other = Manifest::from_json(r#"{"https://cdn.example.com/a.png": "v1"}"#).unwrap();
        other
            .insert_rename("/css/app.css", "/css/app-1f.css")
            .unwrap();
        let mut manifest = Manifest::new();
        manifest.extend(other);
        assert_eq!(manifest.len(), 2);
        assert!(manifest.get("//cdn.example.com/a.png").is_some());
        assert!(manifest.has_host("cdn.example.com"));
        assert!(manifest.is_rename_target("/css/app-1f.css"));
    }

    #[test]
    fn keys_naming_one_asset_with_two_versions_conflict() {
        let err = Manifest::from_json(r#"{"/a/../b.png": "1", "/b.png": "2"}"#).unwrap_err();
        let Error::ConflictingKeys { first, second } = &err else {
            panic!("{err}");
        };
        assert_eq!((first.as_str(), second.as_str()), ("/a/../b.png", "/b.png"));
        // The same version twice is one entry, under the key written last.
        let manifest = Manifest::from_json(r#"{"/a/../b.png": "1", "/b.png": "1"}"#).unwrap();
        let entries: Vec<_> = manifest.iter().collect();
        assert_eq!(entries, [("/b.png", &Entry::Version("1".into()))]);
    }

    #[test]
    fn versions_are_checked() {
        for bad in [
            "", "a b", "a\"b", "a<b", "a&b", "a,b", "a(b", "a\\b", "a/b", "a#b", "a%b", "a+b", "é",
            "'",
        ] {
            let json = serde_json::json!({ "/a.png": bad }).to_string();
            let err = Manifest::from_json(&json).unwrap_err();
            assert!(
                matches!(err, Error::InvalidVersion { .. }),
                "{bad:?}: {err}"
            );
        }
        let long = "a".repeat(65);
        let json = serde_json::json!({ "/a.png": long }).to_string();
        assert!(
            Manifest::from_json(&json)
                .unwrap_err()
                .to_string()
                .contains("65 characters")
        );
        let max = "a".repeat(64);
        assert!(Manifest::from_json(&serde_json::json!({ "/a.png": max }).to_string()).is_ok());
    }

    #[test]
    fn non_string_values_and_nesting_are_syntax_errors() {
        for bad in [
            r#"{"/a.png": 1}"#,
            r#"{"/a.png": {"x": "y"}}"#,
            "[]",
            "{",
            r#"{"a":"b"} x"#,
        ] {
            assert!(
                matches!(Manifest::from_json(bad), Err(Error::ManifestSyntax(_))),
                "{bad}"
            );
        }
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(Manifest::from_json(&deep).is_err());
    }

    #[test]
    fn rename_targets_are_known() {
        let mut m = Manifest::new();
        m.insert_rename("/css/app.css", "/css/app-1.css").unwrap();
        assert!(m.is_rename_target("/css/app-1.css"));
        assert_eq!(
            m.get("/css/app.css"),
            Some(&Entry::Rename("/css/app-1.css".into()))
        );
    }
}
