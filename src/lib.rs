//! Version the asset URLs of HTML pages, so that when an image changes its URL changes and
//! every cache in front of it (browser, CDN, image CDN) simply misses.
//!
//! `cachebust` reads a *version manifest* (which asset has which version) and rewrites every
//! asset reference of a page: `<img src>`, `srcset`, `<picture><source>`, icons, CSS
//! `url()` in `style` attributes and `<style>` elements, `<noscript>` content... It adds a
//! query parameter (`a.jpg` → `a.jpg?vh=3f9a`), an Optimole `cb:` segment, or puts a renamed
//! file's path in place, and changes nothing else, byte for byte. The rules are set out in
//! full in [`rules`] (the repository's `docs/RULES.md`); this page walks through them.
//!
//! # Busting a page
//!
//! The common case is one function call:
//!
//! ```
//! let manifest = cachebust::Manifest::from_json(r#"{ "/img/logo.png": "3f9a" }"#)?;
//! let html = cachebust::rewrite_str(r#"<img src="/img/logo.png" alt="Logo">"#, manifest)?;
//! assert_eq!(html, r#"<img src="/img/logo.png?vh=3f9a" alt="Logo">"#);
//! # Ok::<(), cachebust::Error>(())
//! ```
//!
//! For many pages, build a [`Buster`] once with a [`Builder`] (it is cheap to clone and
//! `Send + Sync`) and give each page its URL with [`Buster::for_page`]:
//!
//! ```
//! use cachebust::{Builder, Manifest};
//!
//! let manifest = Manifest::from_json(r#"{
//!     "/img/hero.jpg": "a1b2c3",
//!     "/img/hero@2x.jpg": "d4e5f6",
//!     "https://cdn.example.com/media/logo.svg": "v7"
//! }"#)?;
//! let site = Builder::new(manifest)
//!     .with_page_url("https://www.example.com/")
//!     .with_site_host("example.com")
//!     .build()?;
//!
//! let page = site.for_page("https://www.example.com/blog/post.html")?;
//! let (html, report) = page.rewrite_str(concat!(
//!     r#"<img src="../img/hero.jpg" srcset="../img/hero.jpg 1x, /img/hero@2x.jpg 2x">"#,
//!     r#"<img src="https://cdn.example.com/media/logo.svg">"#,
//!     r#"<a href="/img/hero.jpg">a link is not an asset</a>"#,
//! ));
//! assert_eq!(html, concat!(
//!     r#"<img src="../img/hero.jpg?vh=a1b2c3" "#,
//!     r#"srcset="../img/hero.jpg?vh=a1b2c3 1x, /img/hero@2x.jpg?vh=d4e5f6 2x">"#,
//!     r#"<img src="https://cdn.example.com/media/logo.svg?vh=v7">"#,
//!     r#"<a href="/img/hero.jpg">a link is not an asset</a>"#,
//! ));
//! assert_eq!(report.rewritten, 4);
//! # Ok::<(), cachebust::Error>(())
//! ```
//!
//! Running again over the output changes nothing (the references are *current*), and a
//! newer manifest over an old output gives what it gives over the original page: an
//! existing `vh=` has its value replaced, never a second one added.
//!
//! # Whole pages and streams
//!
//! A page held whole is best given whole: [`Buster::rewrite_str`],
//! [`Buster::rewrite_bytes`], or [`Buster::rewrite_to`], which appends to a buffer the
//! caller reuses from page to page. Holding the page, the rewriter looks at it first and
//! asks lol_html only for the elements it holds that can carry a reference, which is much
//! cheaper than a handler on every element.
//!
//! ```
//! # let buster = cachebust::Builder::new(cachebust::Manifest::from_json(r#"{"/a.png":"1"}"#)?).build()?;
//! let mut out = Vec::new();
//! for page in [&b"<img src=/a.png>"[..], b"<p style='background:url(/a.png)'>"] {
//!     out.clear();
//!     let report = buster.rewrite_to(page, &mut out);
//!     assert_eq!(report.rewritten, 1);
//! }
//! assert_eq!(out, b"<p style='background:url(/a.png?vh=1)'>");
//! # Ok::<(), cachebust::Error>(())
//! ```
//!
//! A [`Rewriter`] takes a page in chunks and writes to a sink as it goes, with memory
//! bounded by configuration rather than by the page's size. Its output does not depend on
//! how the input is split, and is the whole-page output.
//!
//! ```
//! # let buster = cachebust::Builder::new(cachebust::Manifest::from_json(r#"{"/a.png":"1"}"#)?).build()?;
//! let mut out = Vec::new();
//! let mut rewriter = buster.rewriter(|chunk: &[u8]| out.extend_from_slice(chunk));
//! for chunk in [&b"<img src=\"/a"[..], b".png\"><style>p{background:url(/a.png)}</style>"] {
//!     rewriter.write(chunk);
//! }
//! let report = rewriter.end();
//! assert_eq!(out, b"<img src=\"/a.png?vh=1\"><style>p{background:url(/a.png?vh=1)}</style>");
//! assert!(report.bail_out.is_none());
//! # Ok::<(), cachebust::Error>(())
//! ```
//!
//! # One URL, one srcset, one stylesheet
//!
//! Rendering code can bust values directly: [`Buster::bust_url`] (which borrows its input
//! when nothing changes), [`Buster::bust_srcset`] and [`Buster::bust_css`]. Each says what it
//! did through an [`Outcome`] or a [`Report`].
//!
//! ```
//! use cachebust::{Outcome, SkipReason};
//! let m = cachebust::Manifest::from_json(r#"{"https://sample.li/flat.jpg": "3f9a"}"#)?;
//! let buster = cachebust::Builder::new(m).build()?;
//! // Cloudimage: the key is the origin URL it wraps; `vh` goes after its operations.
//! assert_eq!(buster.bust_url("https://doc.cloudimg.io/sample.li/flat.jpg?w=500").url,
//!            "https://doc.cloudimg.io/sample.li/flat.jpg?w=500&vh=3f9a");
//! // Optimole: a `cb:` path segment.
//! assert_eq!(buster.bust_url("https://key.i.optimole.com/w:100/https://sample.li/flat.jpg").url,
//!            "https://key.i.optimole.com/cb:3f9a/w:100/https://sample.li/flat.jpg");
//! // A signed URL would break: it is left alone, and the outcome says why.
//! let signed = buster.bust_url("https://sample.li/flat.jpg?X-Amz-Signature=abc");
//! assert_eq!(signed.outcome, Outcome::Skipped(SkipReason::Signed));
//! # Ok::<(), cachebust::Error>(())
//! ```
//!
//! # Listing a page's references
//!
//! To check a page rather than rewrite it (is every image versioned, and with the
//! manifest's version?), build the buster [`with_reference_list`](Builder::with_reference_list):
//! the report then holds a [`Reference`] per reference, with the URL it resolves to, its
//! manifest key, what the rewriter would do, the version it carries and the one due. This
//! is what `cachebust verify` reads deployed pages with.
//!
//! ```
//! use cachebust::{Builder, Manifest, Outcome};
//! let manifest = Manifest::from_json(r#"{"/img/a.png": "v2", "/img/b.png": "b1"}"#)?;
//! let buster = Builder::new(manifest)
//!     .with_page_url("https://www.example.com/")
//!     .with_reference_list(true)
//!     .build()?;
//! let (_, report) = buster.rewrite_str(r#"<img src="/img/a.png?vh=v1"><img src="/img/b.png">"#);
//! let stale: Vec<_> = report
//!     .references
//!     .iter()
//!     .filter(|r| r.outcome == Outcome::Rewritten)
//!     .map(|r| (r.text.as_str(), r.carries.as_deref(), r.version.as_deref()))
//!     .collect();
//! assert_eq!(stale, [("/img/a.png?vh=v1", Some("v1"), Some("v2")), ("/img/b.png", None, Some("b1"))]);
//! # Ok::<(), cachebust::Error>(())
//! ```
//!
//! # What is rewritten, and how references resolve
//!
//! The [`AttributeTable`] lists the attributes that hold references (`img src`, `srcset`,
//! `link href` for icons, preloads and stylesheets, `video poster`, SVG `use href`, `og:image`
//! metas, `style` on any element...); navigation links (`a`, `area`, `form`, `iframe`) are
//! never touched. A table can be extended (`data-bg`, `data-lazy-src`) or restricted
//! ([`AttributeTable::images_only`]).
//!
//! References resolve against the page URL, or the first `<base href>`. References that come
//! *before* that base in the page are left alone and reported `before-base`, since browsers
//! disagree on them. The page's host and [`Builder::with_site_host`] aliases are site hosts:
//! their references look up the absolute key, then the root-relative one. Cloudimage
//! (`*.cloudimg.io`) and Optimole (`*.i.optimole.com`, `*.optml.cloud`) URLs, and custom
//! domains configured for them, look up the origin URL they wrap. Any other host is
//! `foreign` unless the manifest names URLs on it.
//!
//! # Decisions
//!
//! Where the rules would leave a careful reader guessing (a page without a URL, a
//! duplicated `vh=`, a `<base>` inside `<noscript>`, bytes that do not decode, how whole
//! documents and streams differ...), the decision taken is written down in
//! [`rules`], section 8.
//!
//! # Guarantees
//!
//! For any input bytes and any valid manifest: an empty manifest gives the input back byte
//! for byte; running twice equals running once; the output does not depend on chunking;
//! bytes outside rewritten URLs do not change (a rewritten attribute may be re-quoted as
//! `name="value"`); any ASCII-compatible encoding round-trips, invalid bytes included;
//! memory is bounded by [`Builder`] limits; nothing panics or hangs.

mod config;
pub mod css;
mod decoded;
mod error;
mod filter;
pub mod html;
#[cfg(feature = "http")]
pub mod http;
mod listing;
pub mod manifest;
mod memo;
mod report;
mod resolve;
pub mod srcset;
mod stamp;
pub mod stylesheet;
mod value;

pub use config::{Builder, Buster};
pub use error::Error;
pub use filter::BodyFilter;
pub use html::attributes::{AttributeTable, Condition, CustomCondition, Rule, ValueKind};
pub use html::{Rewriter, Sink};
pub use listing::Reference;
pub use manifest::{Diff, Entry, Manifest};
pub use report::{Outcome, Report, SkipCounts, SkipReason};
pub use stylesheet::StylesheetRewriter;
pub use value::Busted;

/// Rewrites a page with the default settings: no page URL (the page is taken to sit at the
/// site root), parameter `vh`, the default [`AttributeTable`].
///
/// ```
/// let manifest = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
/// assert_eq!(cachebust::rewrite_str("<img src=a.png>", manifest)?, r#"<img src="a.png?vh=1">"#);
/// # Ok::<(), cachebust::Error>(())
/// ```
pub fn rewrite_str(html: &str, manifest: Manifest) -> Result<String, Error> {
    Ok(Builder::new(manifest).build()?.rewrite_str(html).0)
}

/// The rules every entry point keeps: what is rewritten, how references resolve, how
/// versions are written, what is never touched, the guarantees, the report, and the
/// decisions taken where the rules were silent. (The repository's `docs/RULES.md`.)
#[doc = include_str!("../docs/RULES.md")]
pub mod rules {}

/// The README's examples, run as doc tests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
