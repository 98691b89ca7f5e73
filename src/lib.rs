//! Version the asset URLs of HTML pages, so that when an image changes its URL changes and
//! every cache in front of it (browser, CDN, image CDN) simply misses.
//!
//! `cachebust` reads a *version manifest* (which asset has which version) and rewrites every
//! asset reference of a page: `<img src>`, `srcset`, `<picture><source>`, icons, CSS
//! `url()` in `style` attributes and `<style>` elements, `<noscript>` content... It adds a
//! query parameter (`a.jpg` → `a.jpg?vh=3f9a`), an Optimole `cb:` segment, or puts a renamed
//! file's path in place, and changes nothing else, byte for byte. The rules are those of
//! the project's SPEC; this page walks through them.
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
//! # Decisions where the SPEC is silent
//!
//! - Without a page URL, a document sits at the root of an unnamed site: `img/a.png` is
//!   `/img/a.png`, and absolute URLs are foreign unless a site host or the manifest names
//!   their host. Site hosts are compared by host name; ports are not compared.
//! - Empty references are counted with fragment-only ones as `fragment` (both name the page
//!   itself).
//! - `before-base` applies to every reference before the base, absolute ones included, and
//!   the base is looked for in the first 64 KiB ([`Builder::with_base_lookahead`]), up to
//!   `<body>`. A base found later applies from where it stands.
//! - `data-cachebust="off"` opts out the element that carries it (its attributes, and the
//!   text of a `<style>` or `<noscript>`), not its descendants.
//! - Every `vh=` of a reference gets the new value, so a duplicated parameter cannot keep a
//!   stale version. A query ending in `&` still gets its `&` before `vh=` (`?a=1&&vh=V`):
//!   in an attribute that `&` may be a `&amp` without its `;`, which would swallow a name
//!   written right after it.
//! - An attribute whose value lol_html decoded with a U+FFFD (an invalid byte) is left alone
//!   and reported `unparseable`: writing it back would make the replacement permanent.
//! - Rename entries: a reference already naming a renamed file is `current`. A rename
//!   across directories keeps a relative reference relative (`../assets/app-1f.js`).
//! - Inside `<noscript>` a `<base>` has no effect; the page's base applies.
//! - A `<meta charset>` (or `http-equiv`) declares the encoding when the whole tag lies in
//!   the first 1024 bytes, as far as the HTML standard's prescan reads; one that runs past
//!   them is ignored however the page arrives.
//! - An SVG `<style>` (whose text holds character references) is rewritten when it is plain
//!   text or one CDATA section; with other markup inside it is left alone.
//! - Named character references in attributes are decoded with the full WHATWG table;
//!   a legacy name without `;` followed by `=` or an alphanumeric stays literal
//!   (`&copy=1`, `&region=eu`), as in browsers.
//! - A rewritten start tag keeps every byte its author wrote (white space between
//!   attributes, quotes, `/>`), but for the version; an unquoted value that gains a `=` is
//!   quoted (`src=a.png` becomes `src="a.png?vh=V"`), since `=` is a parse error there.
//! - Memory: lol_html may buffer 2 MiB ([`Builder::with_parser_memory_limit`]); the input
//!   kept to edit start tags in place is bounded by the same figure. A page that needs more
//!   passes through unchanged from that point ([`Report::bail_out`]); where that point falls
//!   can depend on how the page was split into chunks, the only case where chunking shows.
//! - An attribute value with bytes that are not valid in the document's encoding is left
//!   alone when the invalid bytes are inside a URL (`unparseable`); elsewhere in the value
//!   (a `style` attribute, say) the URLs are still rewritten and the bytes kept.
//! - A reference with an empty path (`?w=100`) names the page itself with another query; it
//!   is in scope like any other site reference.
//! - Whole documents and streams are rewritten alike but found differently. A whole
//!   document ([`Buster::rewrite_str`], [`Buster::rewrite_bytes`], [`Buster::rewrite_to`])
//!   is looked at first, and lol_html finds only the elements of the names it holds that
//!   the attribute table names (with `<style>`, `<noscript>`, `<base>`), plus those of
//!   elements that carry a `style` attribute, found by reading every `<` as a start tag the
//!   way the tokenizer reads one (too many names, or a name no selector can spell, and it
//!   finds every element). It finds them by name, with lol_html's tokenizer and without
//!   its selector engine (the elements of a page at the cost of tokenizing it), except on a
//!   page that may hold both an `<svg>` or `<math>` and a `<style>` or `<noscript>`, where
//!   only the selector engine's stack of open elements tells where a foreign `<style>` ends.
//!   lol_html names the tags it finds, and they are placed among the `<`s the look read as
//!   tags of those names when the two lists are as long, once those inside texts
//!   (`<script>`, `<noscript>`, `<title>`, ...) are left out (otherwise, as when one is in
//!   a comment, lol_html lexes each tag wanted to tell where it is). A stream, whose content is not known ahead, gets
//!   lol_html's selector `*`. Output and report are the same either way (a property test
//!   and the fuzz target check it); the one difference is memory: a whole document found
//!   by name keeps no stack of open elements, and lol_html holds none of its tags'
//!   attributes, so neither nesting depth nor a tag of 100,000 attributes counts against
//!   the parser memory limit (a stream passes such a page through, reported). Finding
//!   elements by name reads lol_html's internals: it is the feature `fast-scan` (off by
//!   default, so that the library depends on lol_html's public API at `^3`; a crate that
//!   enables it pins `lol_html = "=3.0.3"`). Without it, whole documents go through the
//!   selectors as streams do.
//! - Stylesheets ([`stylesheet`]) are rewritten whole; a stream of one is buffered up to
//!   [`Builder::with_stylesheet_limit`] and passes through unchanged past it (reported),
//!   so its output never depends on its chunks.
//! - Bytes the document's encoding cannot decode read as U+FFFD, as a browser reads them:
//!   the one reference holding them is `unparseable`, the others in the same text are
//!   rewritten (in multi-byte legacy encodings too, decoded piece by piece between bytes
//!   that are never trail bytes).
//! - An attribute named by two rows of a table (one added for an attribute already in it,
//!   or a `*` row and an element's) is versioned once: by the last row added, an element's
//!   row before a `*` row.
//! - An attribute table's element names are at most 16 bytes long (no HTML or SVG element is
//!   longer); [`Builder::build`] refuses a longer one.
//! - Over HTTP (module `http`, feature `http`), the page URL is the request's `Host` and path, with
//!   the scheme the server is configured with; `Content-Type`'s charset overrides sniffing.
//!   `text/css` responses are stylesheets, their URL the request's.
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
/// site root), parameter `vh`, the SPEC attribute table.
///
/// ```
/// let manifest = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
/// assert_eq!(cachebust::rewrite_str("<img src=a.png>", manifest)?, r#"<img src="a.png?vh=1">"#);
/// # Ok::<(), cachebust::Error>(())
/// ```
pub fn rewrite_str(html: &str, manifest: Manifest) -> Result<String, Error> {
    Ok(Builder::new(manifest).build()?.rewrite_str(html).0)
}

/// The README's examples, run as doc tests so that they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
