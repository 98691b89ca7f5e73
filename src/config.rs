//! The configuration: a [`Builder`] that validates everything once, and the [`Buster`] it
//! builds, shared by every document, URL and thread.

use crate::error::{Error, setting};
use crate::html::attributes::{AttributeTable, Rule};
use crate::manifest::{Manifest, check_version};
use encoding_rs::Encoding;
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};
use url::Url;

/// Memory bounds of one document's rewrite (RULES §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Limits {
    /// lol_html's parsing buffer (a start tag split across chunks is buffered whole).
    pub(crate) parser_memory: usize,
    /// A `<style>` or `<noscript>` text longer than this passes through unchanged.
    pub(crate) text_buffer: usize,
    /// How far to look for a `<base href>` before rewriting starts.
    pub(crate) base_lookahead: usize,
    /// A stylesheet taken in chunks longer than this passes through unchanged.
    pub(crate) stylesheet: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            parser_memory: 2 << 20,
            text_buffer: 1 << 20,
            base_lookahead: 64 << 10,
            stylesheet: 16 << 20,
        }
    }
}

/// The validated settings every document shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) manifest: Manifest,
    pub(crate) param: String,
    pub(crate) global_version: Option<String>,
    pub(crate) site_hosts: HashSet<String>,
    cloudimage_domains: HashSet<String>,
    optimole_domains: HashSet<String>,
    pub(crate) cloudimage_aliases: HashMap<String, Url>,
    pub(crate) cloudimage_prefix: Option<Url>,
    /// The attribute table's rows by lower-case element name (packed, see
    /// [`element_key`]), sorted by name...
    rules_by_element: Vec<(u128, Vec<Rule>)>,
    /// ...and those for any element.
    pub(crate) any_element_rules: Vec<Rule>,
    /// How the names of the table's elements (and `style`, `noscript`, `base`) start: bit
    /// `c` of entry `[a][b]` is set when one starts with bytes `a`, `b`, `c` (letters by
    /// [`start_index`]; 26: not a letter, or the end of the name).
    pub(crate) name_starts: Box<[[u32; 27]; 26]>,
    pub(crate) limits: Limits,
    pub(crate) encoding: Option<&'static Encoding>,
    /// Whether reports list every reference ([`Builder::with_reference_list`]).
    pub(crate) list_references: bool,
    /// See [`Buster::fingerprint`]; made when first asked for.
    fingerprint: OnceLock<String>,
}

/// An element name of up to 16 bytes as one number, which compares much faster than the
/// bytes (every start tag is looked up); `None` for longer names, which no table row can
/// name (see [`AttributeTable`]).
pub(crate) fn element_key(name: &[u8]) -> Option<u128> {
    let padding = 16usize.checked_sub(name.len())?;
    // Byte by byte, not through a zero-padded copy: reading the copy back as one number
    // would wait for the copy's smaller writes to reach memory.
    let key = name.iter().fold(0u128, |key, &b| key << 8 | u128::from(b));
    Some(key.checked_shl(8 * padding as u32).unwrap_or(0))
}

/// The [`Shared::name_starts`] of `names` (zero-padded).
fn name_starts(names: impl Iterator<Item = [u8; 16]>) -> Box<[[u32; 27]; 26]> {
    let mut starts = Box::new([[0u32; 27]; 26]);
    for name in names {
        if let Some(first) = name[0]
            .to_ascii_lowercase()
            .checked_sub(b'a')
            .filter(|&f| f < 26)
        {
            let second = start_index(name[1]);
            // After a one-letter name (or one whose second byte is no letter), the third
            // byte of a tag can be anything.
            let third = if second == 26 {
                u32::MAX
            } else {
                1 << start_index(name[2])
            };
            starts[first as usize][second as usize] |= third;
        }
    }
    starts
}

/// Where a name's second or third byte stands in [`Shared::name_starts`].
pub(crate) fn start_index(byte: u8) -> u32 {
    match byte.to_ascii_lowercase() {
        letter @ b'a'..=b'z' => u32::from(letter - b'a'),
        _ => 26,
    }
}

impl Shared {
    /// The rows for the element `name` (lower case).
    pub(crate) fn rules_for(&self, name: &[u8]) -> &[Rule] {
        let Some(key) = element_key(name) else {
            return &[];
        };
        self.rules_by_element
            .binary_search_by_key(&key, |(element, _)| *element)
            .map_or(&[], |at| &self.rules_by_element[at].1)
    }

    pub(crate) fn is_cloudimage(&self, host: &str) -> bool {
        host.ends_with(".cloudimg.io") || self.cloudimage_domains.contains(host)
    }

    pub(crate) fn is_optimole(&self, host: &str) -> bool {
        host.ends_with(".i.optimole.com")
            || host.ends_with(".optml.cloud")
            || self.optimole_domains.contains(host)
    }
}

/// Builds a [`Buster`]: every `with_*` setting is checked by [`Builder::build`], which names
/// the first bad one.
///
/// ```
/// use cachebust::{Builder, Manifest};
///
/// let buster = Builder::new(Manifest::from_json(r#"{"/img/a.png": "3f9a"}"#)?)
///     .with_page_url("https://www.example.com/blog/post.html")
///     .with_site_host("example.com")
///     .build()?;
/// assert_eq!(buster.bust_url("../img/a.png").url, "../img/a.png?vh=3f9a");
/// # Ok::<(), cachebust::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Builder {
    manifest: Manifest,
    page_url: Option<String>,
    site_hosts: Vec<String>,
    param: String,
    global_version: Option<String>,
    cloudimage_domains: Vec<String>,
    optimole_domains: Vec<String>,
    cloudimage_aliases: Vec<(String, String)>,
    cloudimage_prefix: Option<String>,
    attributes: AttributeTable,
    limits: Limits,
    encoding: Option<String>,
    list_references: bool,
}

impl Builder {
    /// Starts from a manifest and the defaults: no page URL, parameter `vh`, no global
    /// version, the RULES §2 attribute table.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn new(manifest: Manifest) -> Self {
        Builder {
            manifest,
            page_url: None,
            site_hosts: Vec::new(),
            param: "vh".into(),
            global_version: None,
            cloudimage_domains: Vec::new(),
            optimole_domains: Vec::new(),
            cloudimage_aliases: Vec::new(),
            cloudimage_prefix: None,
            attributes: AttributeTable::default(),
            limits: Limits::default(),
            encoding: None,
            list_references: false,
        }
    }

    /// The URL of the documents rewritten (an absolute http or https URL). Relative
    /// references resolve against it and its host is a site host. Without one, documents
    /// are taken to sit at the root of an unnamed site: `img/a.png` is `/img/a.png`.
    /// [`Buster::for_page`] sets it per document.
    ///
    /// ```
    /// let err = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_page_url("not a url").build().unwrap_err();
    /// assert!(err.to_string().contains("with_page_url"));
    /// ```
    pub fn with_page_url(mut self, url: &str) -> Self {
        self.page_url = Some(url.into());
        self
    }

    /// Another host that serves the site (`www.example.com`, `static.example.com`): its
    /// references look up root-relative keys too. Site hosts (this one and the page URL's)
    /// are told by name, whatever the port: a port given here is ignored, and a reference
    /// to any port of a site host is the site's (a development server on `localhost:8080`
    /// serves what `localhost` does).
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::from_json(r#"{"/a.png":"1"}"#)?)
    ///     .with_site_host("static.example.com:8443")
    ///     .build()?;
    /// assert_eq!(buster.bust_url("https://static.example.com/a.png").url,
    ///            "https://static.example.com/a.png?vh=1");
    /// assert_eq!(buster.bust_url("http://static.example.com:8080/a.png").url,
    ///            "http://static.example.com:8080/a.png?vh=1");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_site_host(mut self, host: &str) -> Self {
        self.site_hosts.push(host.into());
        self
    }

    /// The query parameter (default `vh`); 1 to 64 characters of `[A-Za-z0-9._~-]`.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::from_json(r#"{"/a.png":"1"}"#)?)
    ///     .with_param("v")
    ///     .build()?;
    /// assert_eq!(buster.bust_url("/a.png").url, "/a.png?v=1");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_param(mut self, name: &str) -> Self {
        self.param = name.into();
        self
    }

    /// A site-wide version for in-scope references that have no entry of their own.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_global_version("2026-11")
    ///     .build()?;
    /// assert_eq!(buster.bust_url("/any.png").url, "/any.png?vh=2026-11");
    /// assert_eq!(buster.bust_url("https://elsewhere.org/x.png").url, "https://elsewhere.org/x.png");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_global_version(mut self, version: &str) -> Self {
        self.global_version = Some(version.into());
        self
    }

    /// A custom domain served by Cloudimage (`img.example.com` CNAMEd to it).
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"https://example.com/a.jpg": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).with_cloudimage_domain("img.example.com").build()?;
    /// assert_eq!(buster.bust_url("https://img.example.com/v7/example.com/a.jpg?w=5").url,
    ///            "https://img.example.com/v7/example.com/a.jpg?w=5&vh=1");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_cloudimage_domain(mut self, host: &str) -> Self {
        self.cloudimage_domains.push(host.into());
        self
    }

    /// A custom domain served by Optimole.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"https://example.com/a.jpg": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m).with_optimole_domain("cdn.example.com").build()?;
    /// assert_eq!(buster.bust_url("https://cdn.example.com/w:100/https://example.com/a.jpg").url,
    ///            "https://cdn.example.com/cb:1/w:100/https://example.com/a.jpg");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_optimole_domain(mut self, host: &str) -> Self {
        self.optimole_domains.push(host.into());
        self
    }

    /// A Cloudimage alias: `_name_/path` stands for `origin` + `path`.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"https://media.example.com/p/a.jpg": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m)
    ///     .with_cloudimage_alias("media", "https://media.example.com/p/")
    ///     .build()?;
    /// assert_eq!(buster.bust_url("https://t.cloudimg.io/_media_/a.jpg").url,
    ///            "https://t.cloudimg.io/_media_/a.jpg?vh=1");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_cloudimage_alias(mut self, name: &str, origin: &str) -> Self {
        self.cloudimage_aliases.push((name.into(), origin.into()));
        self
    }

    /// The origin Cloudimage fetches bare paths from (`https://t.cloudimg.io/img/a.jpg` is
    /// `PREFIX/img/a.jpg`). Without one, bare paths are looked up as site paths.
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"https://example.com/shop/a.jpg": "1"}"#)?;
    /// let buster = cachebust::Builder::new(m)
    ///     .with_cloudimage_origin_prefix("https://example.com/shop/")
    ///     .build()?;
    /// assert_eq!(buster.bust_url("https://t.cloudimg.io/a.jpg").url,
    ///            "https://t.cloudimg.io/a.jpg?vh=1");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_cloudimage_origin_prefix(mut self, origin: &str) -> Self {
        self.cloudimage_prefix = Some(origin.into());
        self
    }

    /// The attributes that hold references (default: RULES §2).
    ///
    /// ```
    /// use cachebust::{AttributeTable, ValueKind};
    /// let buster = cachebust::Builder::new(cachebust::Manifest::from_json(r#"{"/a.png":"1"}"#)?)
    ///     .with_attributes(AttributeTable::default().with("div", "data-bg", ValueKind::Url))
    ///     .build()?;
    /// let (html, _) = buster.rewrite_str(r#"<div data-bg="/a.png"></div>"#);
    /// assert_eq!(html, r#"<div data-bg="/a.png?vh=1"></div>"#);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_attributes(mut self, table: AttributeTable) -> Self {
        self.attributes = table;
        self
    }

    /// The most memory lol_html may use for one document's parsing buffer (default 2 MiB).
    /// Past it, the rest of the document passes through unchanged
    /// ([`Report::bail_out`](crate::Report::bail_out)).
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_parser_memory_limit(1 << 20)
    ///     .build()?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_parser_memory_limit(mut self, bytes: usize) -> Self {
        self.limits.parser_memory = bytes;
        self
    }

    /// The largest `<style>` or `<noscript>` text that is rewritten (default 1 MiB); a
    /// larger one passes through unchanged and is reported `too-large`.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_text_buffer_limit(64 << 10)
    ///     .build()?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_text_buffer_limit(mut self, bytes: usize) -> Self {
        self.limits.text_buffer = bytes;
        self
    }

    /// The longest stylesheet a [`StylesheetRewriter`](crate::StylesheetRewriter) (a
    /// `text/css` response) buffers to rewrite whole (default 16 MiB); a longer one passes
    /// through unchanged, reported as `too-large`. A stylesheet given whole
    /// ([`Buster::rewrite_css_bytes`]) is already in memory and has no such limit.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_stylesheet_limit(4 << 20)
    ///     .build()?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_stylesheet_limit(mut self, bytes: usize) -> Self {
        self.limits.stylesheet = bytes;
        self
    }

    /// How many bytes at the start of a document are searched for a `<base href>` before
    /// rewriting starts (default 64 KiB; the search stops early at `<body>`). A base found
    /// later still applies to what follows it, but what came before it has been rewritten.
    ///
    /// ```
    /// let buster = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_base_lookahead(8 << 10)
    ///     .build()?;
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_base_lookahead(mut self, bytes: usize) -> Self {
        self.limits.base_lookahead = bytes;
        self
    }

    /// The documents' encoding, by WHATWG label (`utf-8`, `windows-1252`, `shift_jis`...).
    /// Without it, it is sniffed from a BOM or a `<meta charset>` in the first 1024 bytes,
    /// and is UTF-8 otherwise. UTF-16 documents pass through unchanged, with a warning.
    ///
    /// ```
    /// assert!(cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_encoding("klingon").build().is_err());
    /// ```
    pub fn with_encoding(mut self, label: &str) -> Self {
        self.encoding = Some(label.into());
        self
    }

    /// Lists every reference of each document in its [`Report::references`](crate::Report::references):
    /// its text, resolved URL, manifest key, outcome, the version it carries and the one it
    /// should (see [`Reference`](crate::Reference)). Off by default: a listing costs about
    /// as much again as the rewrite. The output is the same either way.
    ///
    /// ```
    /// let manifest = cachebust::Manifest::from_json(r#"{"/a.png": "1"}"#)?;
    /// let buster = cachebust::Builder::new(manifest).with_reference_list(true).build()?;
    /// let (_, report) = buster.rewrite_str(r#"<img src="/a.png" srcset="/b.png 2x">"#);
    /// let texts: Vec<_> = report.references.iter().map(|r| r.text.as_str()).collect();
    /// assert_eq!(texts, ["/a.png", "/b.png"]);
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn with_reference_list(mut self, list: bool) -> Self {
        self.list_references = list;
        self
    }

    /// Checks every setting and builds the [`Buster`].
    ///
    /// ```
    /// let err = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_global_version("a/b").build().unwrap_err();
    /// assert!(err.to_string().contains("with_global_version"));
    /// ```
    pub fn build(self) -> Result<Buster, Error> {
        let page = match &self.page_url {
            Some(url) => page_url(url)?,
            None => crate::manifest::key::KEY_BASE.clone(),
        };
        check_version(&self.param)
            .map_err(|e| setting("with_param", format!("{:?} {e}", self.param)))?;
        if let Some(v) = &self.global_version {
            check_version(v).map_err(|e| setting("with_global_version", format!("{v:?} {e}")))?;
        }
        let site_hosts = hosts("with_site_host", &self.site_hosts)?;
        let cloudimage_domains = hosts("with_cloudimage_domain", &self.cloudimage_domains)?;
        let optimole_domains = hosts("with_optimole_domain", &self.optimole_domains)?;
        let mut cloudimage_aliases = HashMap::new();
        for (name, origin) in &self.cloudimage_aliases {
            let name = name.trim_matches('_');
            if name.is_empty() || name.contains('/') {
                return Err(setting(
                    "with_cloudimage_alias",
                    format!("bad alias name {name:?}"),
                ));
            }
            cloudimage_aliases.insert(
                name.to_owned(),
                directory_url("with_cloudimage_alias", origin)?,
            );
        }
        let cloudimage_prefix = self
            .cloudimage_prefix
            .as_deref()
            .map(|p| directory_url("with_cloudimage_origin_prefix", p))
            .transpose()?;
        let encoding = self
            .encoding
            .as_deref()
            .map(|label| {
                Encoding::for_label(label.trim().as_bytes())
                    .ok_or_else(|| setting("with_encoding", format!("unknown encoding {label:?}")))
            })
            .transpose()?;
        let limits = self.limits;
        if limits.parser_memory < 4096 {
            return Err(setting(
                "with_parser_memory_limit",
                "at least 4096 bytes are needed",
            ));
        }
        let mut rules_by_element: std::collections::BTreeMap<u128, Vec<Rule>> = Default::default();
        let mut any_element_rules = Vec::new();
        // One rule per element and attribute, the last added winning: two would version the
        // attribute twice (`a.png?vh=1?vh=1`).
        let mut unique: Vec<&Rule> = Vec::new();
        for rule in self.attributes.rules() {
            unique.retain(|r| r.element != rule.element || r.attribute != rule.attribute);
            unique.push(rule);
        }
        for rule in unique {
            match &rule.element {
                Some(element) => match element_key(element.as_bytes()) {
                    Some(key) => rules_by_element.entry(key).or_default().push(rule.clone()),
                    None => {
                        return Err(setting(
                            "with_attributes",
                            format!("element name {element:?} is longer than 16 bytes"),
                        ));
                    }
                },
                None => any_element_rules.push(rule.clone()),
            }
        }
        Ok(Buster {
            shared: Arc::new(Shared {
                manifest: self.manifest,
                param: self.param,
                global_version: self.global_version,
                site_hosts,
                cloudimage_domains,
                optimole_domains,
                cloudimage_aliases,
                cloudimage_prefix,
                name_starts: name_starts(
                    rules_by_element.keys().map(|key| key.to_be_bytes()).chain([
                        *b"style\0\0\0\0\0\0\0\0\0\0\0",
                        *b"noscript\0\0\0\0\0\0\0\0",
                        *b"base\0\0\0\0\0\0\0\0\0\0\0\0",
                    ]),
                ),
                rules_by_element: rules_by_element.into_iter().collect(),
                any_element_rules,
                limits,
                encoding,
                list_references: self.list_references,
                fingerprint: OnceLock::new(),
            }),
            page: Arc::new(page),
        })
    }
}

fn page_url(url: &str) -> Result<Url, Error> {
    let parsed = Url::parse(url).map_err(|e| setting("with_page_url", format!("{url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(setting(
            "with_page_url",
            format!("{url:?} is not an http or https URL"),
        ));
    }
    Ok(parsed)
}

fn hosts(what: &'static str, hosts: &[String]) -> Result<HashSet<String>, Error> {
    hosts
        .iter()
        .map(|host| {
            Url::parse(&format!("http://{}/", host.trim()))
                .ok()
                .filter(|u| u.path() == "/" && !host.trim().is_empty())
                .and_then(|u| u.host_str().map(str::to_owned))
                .ok_or_else(|| setting(what, format!("{host:?} is not a host name")))
        })
        .collect()
}

/// An absolute http(s) URL that relative paths join under (a trailing `/` is added).
fn directory_url(what: &'static str, url: &str) -> Result<Url, Error> {
    let mut parsed =
        page_url(url).map_err(|_| setting(what, format!("{url:?} is not an http or https URL")))?;
    if !parsed.path().ends_with('/') {
        let path = format!("{}/", parsed.path());
        parsed.set_path(&path);
    }
    Ok(parsed)
}

/// The built configuration: cheap to clone, `Send + Sync`, used for any number of
/// documents and URLs.
///
/// ```
/// fn assert_send_sync<T: Send + Sync>() {}
/// assert_send_sync::<cachebust::Buster>();
/// ```
#[derive(Debug, Clone)]
pub struct Buster {
    pub(crate) shared: Arc<Shared>,
    pub(crate) page: Arc<Url>,
}

impl Buster {
    /// A short token (16 hex digits) that changes whenever the output may: a digest of the
    /// manifest and of every setting but the page URL. The HTTP layer ties the `ETag` of a
    /// rewritten page to it, so that a page rewritten with an older manifest is never
    /// confirmed as current. Two processes with equal manifests (the same entries, in any
    /// order) and settings agree (built with the same cachebust and Rust).
    ///
    /// ```
    /// use cachebust::{Builder, Manifest};
    /// let buster = |json: &str| Builder::new(Manifest::from_json(json).unwrap()).build().unwrap();
    /// let a = buster(r#"{"/a.png": "1"}"#);
    /// assert_eq!(a.fingerprint().len(), 16);
    /// assert_eq!(a.fingerprint(), buster(r#"{"/a.png": "1"}"#).fingerprint());
    /// assert_ne!(a.fingerprint(), buster(r#"{"/a.png": "2"}"#).fingerprint());
    /// // The manifest's entries count, not the order they were written in.
    /// assert_eq!(
    ///     buster(r#"{"/a.png": "1", "/b.png": "2"}"#).fingerprint(),
    ///     buster(r#"{"/b.png": "2", "/a.png": "1"}"#).fingerprint()
    /// );
    /// ```
    pub fn fingerprint(&self) -> &str {
        self.shared.fingerprint.get_or_init(|| {
            // Unlike a HashMap's, `DefaultHasher::new` digests alike in every process.
            let mut digest = DefaultHasher::new();
            let shared = &*self.shared;
            // Equal manifests agree whatever order their entries were written in: each
            // entry's digest is summed, which no order changes.
            let entries = shared.manifest.iter().fold(0u64, |sum, entry| {
                let mut one = DefaultHasher::new();
                entry.hash(&mut one);
                sum.wrapping_add(one.finish())
            });
            (entries, shared.manifest.len()).hash(&mut digest);
            fn sorted(set: &HashSet<String>) -> Vec<&String> {
                let mut items: Vec<&String> = set.iter().collect();
                items.sort();
                items
            }
            let mut aliases: Vec<(&String, &str)> = shared
                .cloudimage_aliases
                .iter()
                .map(|(name, url)| (name, url.as_str()))
                .collect();
            aliases.sort();
            (
                &shared.param,
                &shared.global_version,
                sorted(&shared.site_hosts),
                sorted(&shared.cloudimage_domains),
                sorted(&shared.optimole_domains),
                aliases,
                shared.cloudimage_prefix.as_ref().map(Url::as_str),
                // A custom condition, a closure, counts by where it stands only.
                format!(
                    "{:?}{:?}",
                    shared.rules_by_element, shared.any_element_rules
                ),
                shared.limits,
                shared.encoding.map(Encoding::name),
            )
                .hash(&mut digest);
            format!("{:016x}", digest.finish())
        })
    }

    /// The same configuration for a document at `url` (the CLI's file URL, the proxy's
    /// request URL).
    ///
    /// ```
    /// let m = cachebust::Manifest::from_json(r#"{"/blog/a.png": "1"}"#)?;
    /// let site = cachebust::Builder::new(m).build()?;
    /// let page = site.for_page("https://example.com/blog/post.html")?;
    /// assert_eq!(page.bust_url("a.png").url, "a.png?vh=1");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn for_page(&self, url: &str) -> Result<Buster, Error> {
        Ok(Buster {
            shared: Arc::clone(&self.shared),
            page: Arc::new(page_url(url)?),
        })
    }

    /// The page URL in use ([`Builder::with_page_url`], [`Buster::for_page`]).
    ///
    /// ```
    /// let b = cachebust::Builder::new(cachebust::Manifest::new())
    ///     .with_page_url("https://example.com/").build()?;
    /// assert_eq!(b.page_url().as_str(), "https://example.com/");
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn page_url(&self) -> &Url {
        &self.page
    }

    /// The manifest in use.
    ///
    /// ```
    /// let b = cachebust::Builder::new(cachebust::Manifest::new()).build()?;
    /// assert!(b.manifest().is_empty());
    /// # Ok::<(), cachebust::Error>(())
    /// ```
    pub fn manifest(&self) -> &Manifest {
        &self.shared.manifest
    }
}

#[cfg(test)]
mod tests {
    use super::element_key;

    #[test]
    fn element_keys_are_the_zero_padded_names() {
        for name in [
            "",
            "a",
            "img",
            "feimage",
            "a-custom-elemen",
            "a-custom-element",
        ] {
            let mut padded = [0u8; 16];
            padded[..name.len()].copy_from_slice(name.as_bytes());
            assert_eq!(
                element_key(name.as_bytes()),
                Some(u128::from_be_bytes(padded)),
                "{name}"
            );
        }
        assert_eq!(element_key(b"a-custom-element-"), None);
    }
}
