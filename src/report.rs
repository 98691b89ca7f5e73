//! What a run did to each reference it found (RULES §7).

use crate::listing::Reference;
use serde::Serialize;
use std::fmt;

/// Why a reference was left as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SkipReason {
    /// Not http or https (`data:`, `blob:`, `javascript:`, `mailto:` ...).
    Scheme,
    /// Empty, or only a fragment (`#id`, `url(#grad)`): it points at the page itself.
    Fragment,
    /// A signed URL whose signature a new parameter would break.
    Signed,
    /// On a host that is neither a site host, an image CDN nor in the manifest.
    Foreign,
    /// Before the document's `<base href>`, where browsers disagree on resolution.
    BeforeBase,
    /// On an element carrying `data-cachebust="off"`.
    OptedOut,
    /// The URL parser rejects it, or its bytes cannot be edited safely.
    Unparseable,
    /// Inside text larger than the configured buffer cap.
    TooLarge,
}

impl SkipReason {
    /// Every reason, in report order.
    pub const ALL: [SkipReason; 8] = [
        SkipReason::Scheme,
        SkipReason::Fragment,
        SkipReason::Signed,
        SkipReason::Foreign,
        SkipReason::BeforeBase,
        SkipReason::OptedOut,
        SkipReason::Unparseable,
        SkipReason::TooLarge,
    ];

    /// The name used in reports (`before-base`).
    ///
    /// ```
    /// assert_eq!(cachebust::SkipReason::BeforeBase.name(), "before-base");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::Scheme => "scheme",
            SkipReason::Fragment => "fragment",
            SkipReason::Signed => "signed",
            SkipReason::Foreign => "foreign",
            SkipReason::BeforeBase => "before-base",
            SkipReason::OptedOut => "opted-out",
            SkipReason::Unparseable => "unparseable",
            SkipReason::TooLarge => "too-large",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happened to one reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The version was written.
    Rewritten,
    /// The reference already carried this version.
    Current,
    /// In scope, but the manifest has no entry and no global version is set.
    Missing,
    /// Left alone, for this reason.
    Skipped(SkipReason),
}

impl Outcome {
    /// The name listings give it: `rewritten`, `current`, `missing` or `skipped` (the
    /// reason apart, [`Outcome::skip_reason`]).
    ///
    /// ```
    /// use cachebust::{Outcome, SkipReason};
    /// assert_eq!(Outcome::Current.name(), "current");
    /// assert_eq!(Outcome::Skipped(SkipReason::Signed).name(), "skipped");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Rewritten => "rewritten",
            Outcome::Current => "current",
            Outcome::Missing => "missing",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// Why a skipped reference was left alone; `None` for the other outcomes.
    ///
    /// ```
    /// use cachebust::{Outcome, SkipReason};
    /// assert_eq!(Outcome::Skipped(SkipReason::Signed).skip_reason(), Some(SkipReason::Signed));
    /// assert_eq!(Outcome::Missing.skip_reason(), None);
    /// ```
    pub fn skip_reason(self) -> Option<SkipReason> {
        match self {
            Outcome::Skipped(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Counts of skipped references, one field per [`SkipReason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SkipCounts {
    /// [`SkipReason::Scheme`]
    pub scheme: u64,
    /// [`SkipReason::Fragment`]
    pub fragment: u64,
    /// [`SkipReason::Signed`]
    pub signed: u64,
    /// [`SkipReason::Foreign`]
    pub foreign: u64,
    /// [`SkipReason::BeforeBase`]
    pub before_base: u64,
    /// [`SkipReason::OptedOut`]
    pub opted_out: u64,
    /// [`SkipReason::Unparseable`]
    pub unparseable: u64,
    /// [`SkipReason::TooLarge`]
    pub too_large: u64,
}

impl SkipCounts {
    /// The count for one reason.
    ///
    /// ```
    /// let counts = cachebust::SkipCounts { signed: 2, ..Default::default() };
    /// assert_eq!(counts.get(cachebust::SkipReason::Signed), 2);
    /// ```
    pub fn get(&self, reason: SkipReason) -> u64 {
        let mut copy = *self;
        *copy.slot_mut(reason)
    }

    /// The sum over every reason.
    ///
    /// ```
    /// let counts = cachebust::SkipCounts { signed: 2, scheme: 1, ..Default::default() };
    /// assert_eq!(counts.total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        SkipReason::ALL.iter().map(|&r| self.get(r)).sum()
    }

    fn add(&mut self, reason: SkipReason, n: u64) {
        *self.slot_mut(reason) += n;
    }

    fn slot_mut(&mut self, reason: SkipReason) -> &mut u64 {
        match reason {
            SkipReason::Scheme => &mut self.scheme,
            SkipReason::Fragment => &mut self.fragment,
            SkipReason::Signed => &mut self.signed,
            SkipReason::Foreign => &mut self.foreign,
            SkipReason::BeforeBase => &mut self.before_base,
            SkipReason::OptedOut => &mut self.opted_out,
            SkipReason::Unparseable => &mut self.unparseable,
            SkipReason::TooLarge => &mut self.too_large,
        }
    }
}

/// The counts of one run (a URL, a page, or many pages merged), returned by every entry
/// point.
///
/// ```
/// let buster = cachebust::Builder::new(cachebust::Manifest::from_json(r#"{"/a.png": "v1"}"#)?)
///     .build()?;
/// let (_, report) = buster.rewrite_str(r#"<img src="/a.png"><img src="/b.png">"#);
/// assert_eq!((report.rewritten, report.missing), (1, 1));
/// assert_eq!(report.missing_examples, ["/b.png"]);
/// # Ok::<(), cachebust::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// References that got their version.
    pub rewritten: u64,
    /// References that already carried it.
    pub current: u64,
    /// In-scope references with no entry and no global version.
    pub missing: u64,
    /// References left alone, by reason.
    pub skipped: SkipCounts,
    /// The first few missing references, as written, for a summary.
    pub missing_examples: Vec<String>,
    /// Set when rewriting stopped early (a memory limit, say); the rest of the document was
    /// passed through unchanged.
    pub bail_out: Option<String>,
    /// Things worth telling a person (an unsupported encoding passed through, ...).
    pub warnings: Vec<String>,
    /// Every reference, in document order, when the buster was built
    /// [`with_reference_list`](crate::Builder::with_reference_list); empty otherwise.
    /// References inside text over the buffer cap are counted, not listed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
}

impl Report {
    /// How many missing references [`Report::missing_examples`] keeps.
    pub const MISSING_EXAMPLES: usize = 10;

    /// Counts one reference.
    ///
    /// ```
    /// use cachebust::{Outcome, Report, SkipReason};
    /// let mut report = Report::default();
    /// report.record(Outcome::Skipped(SkipReason::Scheme), "data:,x");
    /// assert_eq!(report.skipped.scheme, 1);
    /// ```
    pub fn record(&mut self, outcome: Outcome, reference: &str) {
        match outcome {
            Outcome::Rewritten => self.rewritten += 1,
            Outcome::Current => self.current += 1,
            Outcome::Missing => {
                self.missing += 1;
                if self.missing_examples.len() < Self::MISSING_EXAMPLES
                    && !self.missing_examples.iter().any(|m| m == reference)
                {
                    self.missing_examples.push(reference.trim().to_owned());
                }
            }
            Outcome::Skipped(reason) => self.skipped.add(reason, 1),
        }
    }

    /// Adds `other`'s counts to this one (pages of a site, say).
    ///
    /// ```
    /// use cachebust::{Outcome, Report};
    /// let mut one = Report::default();
    /// one.record(Outcome::Rewritten, "/a.png");
    /// let mut total = Report::default();
    /// total.merge(&one);
    /// total.merge(&one);
    /// assert_eq!(total.rewritten, 2);
    /// ```
    pub fn merge(&mut self, other: &Report) {
        self.rewritten += other.rewritten;
        self.current += other.current;
        self.missing += other.missing;
        for reason in SkipReason::ALL {
            self.skipped.add(reason, other.skipped.get(reason));
        }
        for example in &other.missing_examples {
            if self.missing_examples.len() >= Self::MISSING_EXAMPLES {
                break;
            }
            if !self.missing_examples.contains(example) {
                self.missing_examples.push(example.clone());
            }
        }
        if self.bail_out.is_none() {
            self.bail_out.clone_from(&other.bail_out);
        }
        self.warnings.extend(other.warnings.iter().cloned());
        self.references.extend(other.references.iter().cloned());
    }

    /// Every reference counted, whatever its outcome.
    ///
    /// ```
    /// use cachebust::{Outcome, Report};
    /// let mut report = Report::default();
    /// report.record(Outcome::Rewritten, "/a.png");
    /// report.record(Outcome::Missing, "/b.png");
    /// assert_eq!(report.references(), 2);
    /// ```
    pub fn references(&self) -> u64 {
        self.rewritten + self.current + self.missing + self.skipped.total()
    }
}
