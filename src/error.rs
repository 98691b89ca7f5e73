//! The library's error type.

use std::path::PathBuf;

/// Everything that can go wrong while loading a manifest or building a configuration.
///
/// Rewriting itself never fails: a page that cannot be rewritten past some point is passed
/// through unchanged from there on, and the [`Report`](crate::Report) says so
/// ([`Report::bail_out`](crate::Report::bail_out)).
///
/// ```
/// let err = cachebust::Manifest::from_json(r#"{"/a.png": "v 1"}"#).unwrap_err();
/// assert!(err.to_string().contains("' '"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest is not the JSON shape expected (a flat object of strings).
    #[error("manifest is not valid: {0}")]
    ManifestSyntax(serde_json::Error),

    /// A manifest key is not a root-relative path nor an absolute or scheme-relative URL.
    #[error("manifest key {key:?}: {reason}")]
    InvalidKey {
        /// The key as written in the manifest.
        key: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A version holds a character outside `[A-Za-z0-9._~-]`, is empty, or is too long.
    #[error("manifest key {key:?}: version {version:?} {reason}")]
    InvalidVersion {
        /// The key the version belongs to.
        key: String,
        /// The version as written.
        version: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Two keys of one manifest name the same asset with different entries.
    #[error("manifest keys {first:?} and {second:?} name the same asset with different versions")]
    ConflictingKeys {
        /// The key seen first.
        first: String,
        /// The key seen second.
        second: String,
    },

    /// A manifest file could not be read.
    #[error("cannot read manifest {}: {error}", path.display())]
    ManifestIo {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },

    /// A manifest file is larger than [`Manifest::MAX_FILE_SIZE`](crate::Manifest::MAX_FILE_SIZE).
    #[error("manifest {} is {size} bytes, more than the {limit} bytes a manifest may have", path.display())]
    ManifestTooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },

    /// A manifest produced by another tool could not be imported.
    #[error("{format} manifest: {reason}")]
    Import {
        /// The format that was being read.
        format: &'static str,
        /// What is wrong.
        reason: String,
    },

    /// A setting of the [`Builder`](crate::Builder) is invalid.
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The setting, named as its `with_*` method.
        setting: &'static str,
        /// What is wrong with the value given.
        reason: String,
    },
}

pub(crate) fn setting(setting: &'static str, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        setting,
        reason: reason.into(),
    }
}
