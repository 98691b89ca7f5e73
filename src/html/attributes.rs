//! Which attributes hold asset references (RULES §2), as a table callers can extend or trim.

use std::fmt;
use std::sync::Arc;

/// What an attribute's value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ValueKind {
    /// One URL (`src`, `href`, `poster`, ...).
    Url,
    /// A srcset (`srcset`, `data-srcset`, `imagesrcset`).
    Srcset,
    /// CSS declarations (`style`).
    Css,
}

/// A predicate over an element's attributes: given a getter (raw values, by lower-case
/// name), whether the rule applies.
pub type CustomCondition = Arc<dyn Fn(&dyn Fn(&str) -> Option<String>) -> bool + Send + Sync>;

/// When a rule applies to an element that has the attribute.
#[derive(Clone)]
#[non_exhaustive]
pub enum Condition {
    /// Always.
    Always,
    /// `link` whose `rel` names an asset: icons, `preload`, `modulepreload`, `prefetch`,
    /// `stylesheet`, `image_src`.
    LinkAsset,
    /// `link` whose `rel` names an icon or startup image (for [`AttributeTable::images_only`]).
    LinkIcon,
    /// `meta` whose `property` or `name` is `og:image` & co, or with `itemprop=image`.
    MetaImage,
    /// `input type=image`.
    InputImage,
    /// Your own predicate, for instance `data-lazy-src` only with `loading=lazy`.
    Custom(CustomCondition),
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Always => f.write_str("Always"),
            Condition::LinkAsset => f.write_str("LinkAsset"),
            Condition::LinkIcon => f.write_str("LinkIcon"),
            Condition::MetaImage => f.write_str("MetaImage"),
            Condition::InputImage => f.write_str("InputImage"),
            Condition::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

const ICON_RELS: [&str; 6] = [
    "icon",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "apple-touch-startup-image",
    "mask-icon",
    "image_src",
];
const ASSET_RELS: [&str; 4] = ["preload", "modulepreload", "prefetch", "stylesheet"];
const META_IMAGE_NAMES: [&str; 6] = [
    "og:image",
    "og:image:url",
    "og:image:secure_url",
    "twitter:image",
    "twitter:image:src",
    "msapplication-tileimage",
];

impl Condition {
    /// Whether the rule applies, given the element's attribute getter.
    pub(crate) fn holds(&self, attr: &dyn Fn(&str) -> Option<String>) -> bool {
        let rel_has = |rels: &[&str]| {
            attr("rel").is_some_and(|rel| {
                rel.split_ascii_whitespace()
                    .any(|token| rels.iter().any(|r| token.eq_ignore_ascii_case(r)))
            })
        };
        match self {
            Condition::Always => true,
            Condition::LinkAsset => rel_has(&ICON_RELS) || rel_has(&ASSET_RELS),
            Condition::LinkIcon => rel_has(&ICON_RELS),
            Condition::MetaImage => {
                let named = |name: &str| {
                    attr(name).is_some_and(|v| {
                        META_IMAGE_NAMES
                            .iter()
                            .any(|m| v.trim().eq_ignore_ascii_case(m))
                    })
                };
                named("property")
                    || named("name")
                    || attr("itemprop").is_some_and(|v| v.trim().eq_ignore_ascii_case("image"))
            }
            Condition::InputImage => {
                attr("type").is_some_and(|v| v.trim().eq_ignore_ascii_case("image"))
            }
            Condition::Custom(predicate) => predicate(attr),
        }
    }
}

/// One row of the table: on `element` (any element when `None`), `attribute` holds a value
/// of `kind`, when `condition` holds.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Lower-case local name (`img`, `feimage`), or `None` for any element.
    pub element: Option<String>,
    /// Lower-case attribute name (`src`, `xlink:href`).
    pub attribute: String,
    /// What the value holds.
    pub kind: ValueKind,
    /// When the rule applies.
    pub condition: Condition,
}

/// The attributes that hold asset references. [`AttributeTable::default`] is RULES §2;
/// `<style>` and `<noscript>` contents are always handled and are not rows of the table.
///
/// ```
/// use cachebust::{AttributeTable, ValueKind};
///
/// let table = AttributeTable::default()
///     .with("*", "data-bg", ValueKind::Url)           // any element
///     .with("img", "data-lazy-srcset", ValueKind::Srcset)
///     .without("script", "src");
/// assert!(table.rules().any(|r| r.attribute == "data-bg" && r.element.is_none()));
/// assert!(!table.rules().any(|r| r.element.as_deref() == Some("script")));
/// ```
#[derive(Debug, Clone)]
pub struct AttributeTable {
    rules: Vec<Rule>,
}

impl Default for AttributeTable {
    fn default() -> Self {
        use Condition::*;
        use ValueKind::*;
        let mut table = AttributeTable::empty();
        let rows: &[(&str, &str, ValueKind, Condition)] = &[
            ("img", "src", Url, Always),
            ("img", "srcset", Srcset, Always),
            ("img", "data-src", Url, Always),
            ("img", "data-srcset", Srcset, Always),
            // Lazy loaders: jQuery lazyload and many themes, WordPress plugins.
            ("img", "data-original", Url, Always),
            ("img", "data-lazy-src", Url, Always),
            ("img", "data-lazy-srcset", Srcset, Always),
            ("source", "src", Url, Always),
            ("source", "srcset", Srcset, Always),
            ("source", "data-src", Url, Always),
            ("source", "data-srcset", Srcset, Always),
            ("source", "data-lazy-srcset", Srcset, Always),
            ("link", "href", Url, LinkAsset),
            ("link", "imagesrcset", Srcset, Always),
            ("script", "src", Url, Always),
            ("video", "poster", Url, Always),
            ("video", "data-poster", Url, Always),
            ("video", "src", Url, Always),
            ("audio", "src", Url, Always),
            ("track", "src", Url, Always),
            ("embed", "src", Url, Always),
            ("object", "data", Url, Always),
            ("input", "src", Url, InputImage),
            ("body", "background", Url, Always),
            ("table", "background", Url, Always),
            ("thead", "background", Url, Always),
            ("tbody", "background", Url, Always),
            ("tfoot", "background", Url, Always),
            ("tr", "background", Url, Always),
            ("td", "background", Url, Always),
            ("th", "background", Url, Always),
            ("image", "href", Url, Always),
            ("image", "xlink:href", Url, Always),
            ("feimage", "href", Url, Always),
            ("feimage", "xlink:href", Url, Always),
            ("use", "href", Url, Always),
            ("use", "xlink:href", Url, Always),
            ("meta", "content", Url, MetaImage),
            ("*", "style", Css, Always),
        ];
        for (element, attribute, kind, condition) in rows {
            table = table.with_condition(element, attribute, *kind, condition.clone());
        }
        table
    }
}

impl AttributeTable {
    /// A table with no rows: only `<style>` and `<noscript>` contents are rewritten.
    ///
    /// ```
    /// assert_eq!(cachebust::AttributeTable::empty().rules().count(), 0);
    /// ```
    pub fn empty() -> Self {
        AttributeTable { rules: Vec::new() }
    }

    /// Adds a row; `element` `"*"` means any element. Names are matched case-insensitively.
    /// An element name is at most 16 bytes long (no HTML or SVG element is longer, and every
    /// start tag is looked up by it); [`Builder::build`](crate::Builder::build) refuses a
    /// longer one.
    ///
    /// ```
    /// use cachebust::{AttributeTable, Builder, Manifest, ValueKind};
    /// let table = AttributeTable::empty().with("div", "data-bg", ValueKind::Url);
    /// assert_eq!(table.rules().count(), 1);
    /// let long = AttributeTable::empty().with("my-very-long-element", "src", ValueKind::Url);
    /// assert!(Builder::new(Manifest::new()).with_attributes(long).build().is_err());
    /// ```
    pub fn with(self, element: &str, attribute: &str, kind: ValueKind) -> Self {
        self.with_condition(element, attribute, kind, Condition::Always)
    }

    /// Adds a row that applies only when `condition` holds.
    ///
    /// ```
    /// use cachebust::{AttributeTable, Condition, ValueKind};
    /// use std::sync::Arc;
    /// let lazy_only: cachebust::CustomCondition =
    ///     Arc::new(|attr| attr("loading").as_deref() == Some("lazy"));
    /// let table = AttributeTable::default().with_condition(
    ///     "img", "data-lazy-src", ValueKind::Url, Condition::Custom(lazy_only));
    /// # let _ = table;
    /// ```
    pub fn with_condition(
        mut self,
        element: &str,
        attribute: &str,
        kind: ValueKind,
        condition: Condition,
    ) -> Self {
        self.rules.push(Rule {
            element: (element != "*").then(|| element.to_ascii_lowercase()),
            attribute: attribute.to_ascii_lowercase(),
            kind,
            condition,
        });
        self
    }

    /// Removes the rows for `attribute` on `element` (`"*"`: the any-element rows).
    ///
    /// ```
    /// let table = cachebust::AttributeTable::default().without("*", "style");
    /// assert!(!table.rules().any(|r| r.attribute == "style"));
    /// ```
    pub fn without(mut self, element: &str, attribute: &str) -> Self {
        let element = (element != "*").then(|| element.to_ascii_lowercase());
        self.rules
            .retain(|r| !(r.element == element && r.attribute.eq_ignore_ascii_case(attribute)));
        self
    }

    /// Keeps the rows for which `keep` returns true.
    ///
    /// ```
    /// let table = cachebust::AttributeTable::default()
    ///     .retain(|rule| rule.element.as_deref() == Some("img"));
    /// assert_eq!(table.rules().count(), 7); // src, srcset, data-src, data-srcset and the lazy loaders'
    /// ```
    pub fn retain(mut self, keep: impl FnMut(&Rule) -> bool) -> Self {
        self.rules.retain(keep);
        self
    }

    /// Only references to images: drops scripts, audio, tracks, embeds, objects, video
    /// sources, and stylesheet or preload links (icon links stay).
    ///
    /// ```
    /// let table = cachebust::AttributeTable::default().images_only();
    /// assert!(!table.rules().any(|r| r.element.as_deref() == Some("script")));
    /// assert!(table.rules().any(|r| r.element.as_deref() == Some("img")));
    /// ```
    pub fn images_only(self) -> Self {
        let not_images = ["script", "audio", "track", "embed", "object"];
        let mut table = self.retain(|r| {
            let element = r.element.as_deref().unwrap_or("*");
            let video_source = element == "video" && r.attribute == "src";
            !(not_images.contains(&element) || video_source)
        });
        for rule in &mut table.rules {
            if matches!(rule.condition, Condition::LinkAsset) {
                rule.condition = Condition::LinkIcon;
            }
        }
        table
    }

    /// The rows, in order.
    ///
    /// ```
    /// assert!(cachebust::AttributeTable::default().rules().count() > 30);
    /// ```
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter()
    }
}
