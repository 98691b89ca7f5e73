//! Listing a document's references: what the rewriter found and decided, one entry per
//! reference, for tools that check a site rather than rewrite it (`cachebust verify`,
//! `cachebust rewrite --list`).
//!
//! A listing is asked for with [`Builder::with_reference_list`](crate::Builder::with_reference_list)
//! and comes back in [`Report::references`](crate::Report::references). Each entry is
//! described the long way (the URL parser, no fast path, no memo), so a listing costs about
//! as much again as the rewrite; rewriting without one pays a single test per reference.

use crate::report::{Outcome, SkipReason};
use crate::resolve::{Lookup, Resolver};
use crate::value::Ctx;
use crate::{manifest::Found, stamp};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use url::Url;

/// One reference of a document, as the rewriter saw it.
///
/// ```
/// use cachebust::{Builder, Manifest, Outcome};
/// let manifest = Manifest::from_json(r#"{"/img/a.png": "v2"}"#)?;
/// let buster = Builder::new(manifest)
///     .with_page_url("https://example.com/blog/")
///     .with_reference_list(true)
///     .build()?;
/// let (_, report) = buster.rewrite_str(r#"<img src="../img/a.png?vh=v1">"#);
/// let reference = &report.references[0];
/// assert_eq!(reference.text, "../img/a.png?vh=v1");
/// assert_eq!(reference.url.as_ref().unwrap().as_str(), "https://example.com/img/a.png?vh=v1");
/// assert_eq!(reference.key.as_deref(), Some("/img/a.png"));
/// assert_eq!(reference.outcome, Outcome::Rewritten);
/// assert_eq!(reference.carries.as_deref(), Some("v1"));
/// assert_eq!(reference.version.as_deref(), Some("v2"));
/// # Ok::<(), cachebust::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reference {
    /// The reference as written, its character references and CSS escapes decoded, white
    /// space trimmed.
    pub text: String,
    /// Resolved against the document's base: the URL a browser fetches, version included.
    /// `None` when it does not parse.
    pub url: Option<Url>,
    /// The manifest key it is looked up by, normalised (percent-decoded path): the one
    /// found, else the one tried (the path key on a site host); a whole URL's key is written
    /// `//host/path`, which matches it on any scheme. `None` when it is skipped.
    pub key: Option<String>,
    /// What the rewriter does with it: [`Outcome::Current`] when it already carries its
    /// version, [`Outcome::Rewritten`] when it would get one (it carries none, or another).
    pub outcome: Outcome,
    /// The version it carries as written: its version parameter's value (`vh`, or the
    /// configured name; Cloudimage's `vh`), its Optimole `cb:` token, or for a renamed copy
    /// its path. `None` when it carries none.
    pub carries: Option<String>,
    /// The version the manifest gives it (or the global version); for a rename entry, the
    /// renamed path. `None` when it has none or is skipped.
    pub version: Option<String>,
}

impl Serialize for Reference {
    /// `{"text", "url", "key", "outcome", "reason", "carries", "version"}`: `outcome` is
    /// `rewritten`, `current`, `missing` or `skipped`, and `reason` names a skip's reason.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Reference", 7)?;
        s.serialize_field("text", &self.text)?;
        s.serialize_field("url", &self.url.as_ref().map(Url::as_str))?;
        s.serialize_field("key", &self.key)?;
        s.serialize_field("outcome", self.outcome.name())?;
        s.serialize_field("reason", &self.outcome.skip_reason().map(SkipReason::name))?;
        s.serialize_field("carries", &self.carries)?;
        s.serialize_field("version", &self.version)?;
        s.end()
    }
}

/// Describes the reference `text` (trimmed, decoded) of the document `ctx`, whose outcome
/// the rewriter decided.
pub(crate) fn describe(ctx: &Ctx<'_>, text: &str, outcome: Outcome) -> Reference {
    let url = Url::options().base_url(Some(ctx.base)).parse(text).ok();
    let mut reference = Reference {
        text: text.to_owned(),
        url,
        key: None,
        outcome,
        carries: None,
        version: None,
    };
    if matches!(outcome, Outcome::Skipped(_)) {
        return reference;
    }
    let resolver = Resolver {
        shared: ctx.shared,
        page: ctx.page,
        base: ctx.base,
    };
    let Ok((target, lookup, key)) = resolver.resolve_keyed(text) else {
        // The fast path and the long way agree on what they resolve (a property the tests
        // and fuzz targets hold); a disagreement shows as an entry without a key.
        debug_assert!(false, "{text:?} resolved once and not twice");
        reference.outcome = Outcome::Skipped(SkipReason::Unparseable);
        return reference;
    };
    let param = &ctx.shared.param;
    match lookup {
        Lookup::Entry(Found::Version(v)) | Lookup::Global(v) => {
            reference.version = Some(v.to_owned());
            reference.carries = stamp::carried(text, &target, param);
        }
        Lookup::Entry(Found::Rename(path)) => {
            reference.version = Some(path.to_owned());
        }
        Lookup::RenameTarget => {
            reference.version = Some(key.clone());
            reference.carries = Some(key.clone());
        }
        Lookup::Missing => reference.carries = stamp::carried(text, &target, param),
    }
    // Keys of whole URLs are held as `host/path`; shown as the manifest form they match
    // (`//host/path`, any scheme).
    reference.key = Some(if key.starts_with('/') {
        key
    } else {
        format!("//{key}")
    });
    reference
}
