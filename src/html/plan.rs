//! Which elements a whole document needs read, found before rewriting starts.
//!
//! lol_html lexes in full only the tags it is asked for; the others its fast scanner
//! passes over. Holding the whole page, the rewriter asks for the names of the elements the
//! page actually holds with an attribute the table reads on them (`<img src>`, but not a
//! `<meta charset>`), or with an attribute read on any element (`style`), and of the
//! `<style>`, `<noscript>` and `<base>` elements: found by name ([`super::scan`]), or with
//! a type selector each where the scan cannot go. The look is an over-approximation, never
//! an under-one: every `<` followed by a letter is read as a start tag (even inside a
//! comment or a script, where it is none), with its attributes read as the tokenizer reads
//! them, so every real start tag is among those read. When the look gets expensive (`<`
//! inside long attribute values) or finds a name no selector can spell, it gives up and
//! every element is read.

use super::tag;
use crate::config::{Shared, start_index};
use crate::html::attributes::ValueKind;
use std::ops::Range;

/// More names than this, and each tag is compared with them all (or, where lol_html's
/// selectors are used, costs more than one `*` selector).
const MOST_NAMES: usize = 16;

/// What a document needs read, and what it may hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) elements: Elements,
    /// Whether it may hold foreign content (an `<svg>` or a `<math>` start tag), where
    /// `<style>` is no raw text ([`super::scan`]).
    pub(crate) foreign: bool,
    /// With [`Elements::Names`], where their start tags may be. `None` past one entry for
    /// every [`BYTES_PER_CANDIDATE`] bytes of the page (and [`FEWEST_CANDIDATES`] more).
    pub(crate) candidates: Option<Candidates>,
}

/// Where a document's start tags of the names a plan holds may be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Candidates {
    /// Every `<` followed by a letter that the look read as a start tag whose name may be
    /// among them, in document order. The page's real start tags of those names are among
    /// these, so where the two lists are as long they are the same ([`super::scan`] relies
    /// on it).
    pub(crate) tags: Vec<Candidate>,
    /// Where a `<!--` and the next `-->` stand (the look does not know whether either is
    /// in a comment, a script or a value): a candidate inside is most likely no tag.
    pub(crate) comments: Vec<Range<usize>>,
}

/// The candidates are noted while there are fewer than one for this many bytes of the page
/// (16 bytes each: the lists never outweigh the page; a real page has a tag every 20 to
/// 100 bytes, and not every tag is noted).
const BYTES_PER_CANDIDATE: usize = 16;

/// Candidates noted on any page, however short.
const FEWEST_CANDIDATES: usize = 64;

/// Where a start tag may begin, and its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) at: usize,
    /// The name, ASCII lower case, as [`pack_name`] packs it.
    pub(crate) name: u64,
}

/// A name of at most eight bytes as one integer, to be compared in one step; `None` for a
/// longer or empty one. (Names that differ only in trailing NUL bytes pack alike: a real
/// tag is never missed for it, only a candidate counted too many.)
pub(crate) fn pack_name(name: &[u8]) -> Option<u64> {
    let mut bytes = [0u8; 8];
    bytes.get_mut(..name.len())?.copy_from_slice(name);
    (!name.is_empty()).then(|| u64::from_le_bytes(bytes))
}

/// The elements a document needs read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Elements {
    /// Every element.
    Every,
    /// The elements of these (lower-case) names only.
    Names(Vec<String>),
}

impl Elements {
    /// The names, or `None` for every element.
    pub(crate) fn names(&self) -> Option<&[String]> {
        match self {
            Elements::Every => None,
            Elements::Names(names) => Some(names),
        }
    }
}

impl Plan {
    /// The plan of a document to be passed through.
    pub(crate) fn nothing() -> Plan {
        Plan {
            elements: Elements::Names(Vec::new()),
            foreign: false,
            candidates: Some(Candidates::default()),
        }
    }
}

/// Decides what the whole document `html` needs read.
pub(crate) fn plan(html: &[u8], shared: &Shared) -> Plan {
    let any_attributes: Vec<&[u8]> = shared
        .any_element_rules
        .iter()
        .map(|rule| rule.attribute.as_bytes())
        .collect();
    // Without such an attribute's name written as an attribute anywhere, no tag carries one
    // (a CSS one without a value holds nothing, and is not even reported).
    let read_attributes = shared.any_element_rules.iter().any(|rule| {
        let needs_value = rule.kind == ValueKind::Css;
        has_attribute_like(html, rule.attribute.as_bytes(), needs_value)
    });
    // Reading tags from `<` inside other tags' values re-reads bytes; past this much, the
    // document is not worth the look.
    let mut budget = html.len().saturating_mul(4).saturating_add(64 << 10);
    let mut names: Vec<String> = Vec::new();
    // How the names found start, by their first two bytes as [`Shared::name_starts`].
    let mut found_starts = [0u32; 26];
    let mut foreign = false;
    // Room for a tag every 64 bytes: a real page's, mostly, without growing the list.
    let mut candidates = Some(Candidates {
        tags: Vec::with_capacity(html.len() / 64),
        comments: Vec::new(),
    });
    let most_candidates = html.len() / BYTES_PER_CANDIDATE + FEWEST_CANDIDATES;
    // A comment's end, while the look is inside one.
    let mut comment_end = 0;
    // Given up at `at`: every element, and whether foreign content is anywhere.
    let every = |at: usize, foreign: bool| Plan {
        elements: Elements::Every,
        foreign: foreign || may_hold_foreign(&html[at..]),
        candidates: None,
    };
    for at in memchr::memchr_iter(b'<', html) {
        let rest = &html[at..];
        let Some(&first) = rest.get(1).filter(|b| b.is_ascii_alphabetic()) else {
            if rest.starts_with(b"<!--") && at >= comment_end {
                comment_end =
                    memchr::memmem::find(&rest[4..], b"-->").map_or(html.len(), |n| at + 4 + n + 3);
                note(&mut candidates, most_candidates, |list| {
                    list.comments.push(at..comment_end)
                });
            }
            continue;
        };
        if !foreign && opens_foreign(rest) {
            foreign = true;
        }
        // Most tags (`<p>`, `<a>`, `<em>`, `<strong>`) start like no name that matters: tell
        // from three bytes, unless any element may carry an attribute to read.
        let first = usize::from(first.to_ascii_lowercase() - b'a');
        let byte = |at: usize| rest.get(at).copied().unwrap_or(b' ');
        let second_index = start_index(byte(2));
        let second = 1 << second_index;
        let may_be_named =
            shared.name_starts[first][second_index as usize] & 1 << start_index(byte(3)) != 0;
        if !read_attributes && !may_be_named {
            continue;
        }
        let raw_name = tag::name(rest);
        let mut lower = [0u8; 32];
        let name = tag::lower(raw_name, &mut lower);
        if let Some(packed) = name.and_then(pack_name) {
            note(&mut candidates, most_candidates, |list| {
                list.tags.push(Candidate { at, name: packed })
            });
        }
        if found_starts[first] & second != 0
            && name.is_some_and(|name| names.iter().any(|known| known.as_bytes() == name))
        {
            continue;
        }
        // `<style>` and `<noscript>` have their text rewritten, `<base>` sets the base.
        let by_name = may_be_named
            && name.is_some_and(|name| matches!(name, b"style" | b"noscript" | b"base"));
        let rules = match name {
            Some(name) if may_be_named => shared.rules_for(name),
            _ => &[],
        };
        // An element the table names counts only with one of its rows' attributes (a
        // `<meta charset>` or a `<body>` without `background` holds no reference).
        let by_attribute = !by_name && (read_attributes || !rules.is_empty()) && {
            let wanted = |attribute: &[u8]| {
                rules
                    .iter()
                    .any(|rule| attribute.eq_ignore_ascii_case(rule.attribute.as_bytes()))
                    || (read_attributes
                        && any_attributes
                            .iter()
                            .any(|name| attribute.eq_ignore_ascii_case(name)))
            };
            // A tag the input ends inside is never handled.
            let Some((found, read)) = tag::any_attribute(rest, raw_name.len(), wanted) else {
                continue;
            };
            let Some(left) = budget.checked_sub(read) else {
                return every(at, foreign);
            };
            budget = left;
            found
        };
        if by_name || by_attribute {
            match name.and_then(selector_name) {
                Some(name) if names.len() < MOST_NAMES => {
                    names.push(name);
                    found_starts[first] |= second;
                }
                _ => return every(at, foreign),
            }
        }
    }
    Plan {
        elements: Elements::Names(names),
        foreign,
        candidates,
    }
}

/// Notes a candidate with `add`, while they are fewer than `most`.
fn note(candidates: &mut Option<Candidates>, most: usize, add: impl FnOnce(&mut Candidates)) {
    if let Some(list) = candidates {
        if list.tags.len() + list.comments.len() < most {
            add(list);
        } else {
            *candidates = None;
        }
    }
}

/// Whether `rest` (from a `<` followed by a letter) starts an `<svg>` or `<math>` start tag.
fn opens_foreign(rest: &[u8]) -> bool {
    let (first, second) = (rest[1] | 0x20, rest.get(2).map_or(0, |b| b | 0x20));
    if !matches!((first, second), (b's', b'v') | (b'm', b'a')) {
        return false;
    }
    let name = tag::name(rest);
    name.eq_ignore_ascii_case(b"svg") || name.eq_ignore_ascii_case(b"math")
}

/// Whether `html` holds an `<svg>` or `<math>` start tag, or something like one.
pub(crate) fn may_hold_foreign(html: &[u8]) -> bool {
    contains_ignore_case(html, b"<svg") || contains_ignore_case(html, b"<math")
}

/// `name` as a type selector, if it can be written as one as it is.
fn selector_name(name: &[u8]) -> Option<String> {
    let plain = name.first().is_some_and(u8::is_ascii_alphabetic)
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plain.then(|| String::from_utf8_lossy(name).into_owned())
}

/// Whether `name` (ASCII lower case, not empty) occurs in `html` the way an attribute is
/// written: after white space, `/` or a quote, and followed by what ends a name (with
/// `needs_value`, by `=`, white space allowed before it). Every such attribute of every tag
/// is among what this finds.
fn has_attribute_like(html: &[u8], name: &[u8], needs_value: bool) -> bool {
    let starts_at = |at: usize| {
        at.checked_sub(1)
            .map(|n| html[n])
            .is_some_and(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'"' | b'\''))
    };
    if needs_value {
        // `=` is rarer than any letter of a name: look back from each.
        return memchr::memchr_iter(b'=', html).any(|equals| {
            let end = html[..equals]
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(0, |n| n + 1);
            end.checked_sub(name.len()).is_some_and(|start| {
                html[start..end].eq_ignore_ascii_case(name) && starts_at(start)
            })
        });
    }
    occurrences_ignore_case(html, name).any(|at| {
        let after = &html[at + name.len()..];
        let ends = match after.iter().find(|b| !b.is_ascii_whitespace()) {
            None | Some(b'=' | b'/' | b'>') => true,
            Some(_) => after.first().is_some_and(u8::is_ascii_whitespace),
        };
        starts_at(at) && ends
    })
}

/// Whether `needle` (ASCII lower case, not empty) occurs in `haystack`, ASCII
/// case-insensitively.
pub(crate) fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    occurrences_ignore_case(haystack, needle).next().is_some()
}

/// Where `needle` (ASCII lower case, not empty) occurs in `haystack`, ASCII
/// case-insensitively. The search runs on the needle's rarest letter in both cases.
fn occurrences_ignore_case<'h>(
    haystack: &'h [u8],
    needle: &'h [u8],
) -> impl Iterator<Item = usize> + 'h {
    // Letters by how rarely they occur in markup and text, rarest first.
    const RANK: &[u8] = b"qjzxkvbywgpfmucdlhrsnioate";
    let rarity = |b: &u8| RANK.iter().position(|r| r == b).unwrap_or(0);
    let (offset, &rare) = needle
        .iter()
        .enumerate()
        .min_by_key(|(_, b)| rarity(b))
        .expect("a needle");
    memchr::memchr2_iter(rare, rare.to_ascii_uppercase(), haystack).filter_map(move |at| {
        let start = at.checked_sub(offset)?;
        let candidate = haystack.get(start..start + needle.len())?;
        candidate.eq_ignore_ascii_case(needle).then_some(start)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Builder, Manifest};

    fn look(html: &str) -> Plan {
        let buster = Builder::new(Manifest::new()).build().unwrap();
        plan(html.as_bytes(), &buster.shared)
    }

    fn plan_of(html: &str) -> Elements {
        look(html).elements
    }

    fn names(list: &[&str]) -> Elements {
        Elements::Names(list.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn names_what_the_page_holds() {
        assert_eq!(
            plan_of("<p><IMG src=a><a href=b><Source srcset=c><img>"),
            names(&["img", "source"])
        );
        // The table's elements count with one of their attributes only.
        assert_eq!(
            plan_of("<meta charset=utf-8><body class=x><img alt=y><script>x</script>"),
            names(&[])
        );
        assert_eq!(
            plan_of("<body class=x><BODY BACKGROUND=a.png><img src><script src=a.js>"),
            names(&["body", "img", "script"])
        );
        assert_eq!(plan_of("<p>no tags of interest</p>"), names(&[]));
        assert_eq!(
            plan_of("<style>a{}</style><noscript></noscript><base href=/>"),
            names(&["style", "noscript", "base"])
        );
    }

    #[test]
    fn notes_every_tag_whose_name_may_be_wanted() {
        let at = |html: &str| -> Vec<(usize, u64)> {
            look(html)
                .candidates
                .unwrap()
                .tags
                .iter()
                .map(|candidate| (candidate.at, candidate.name))
                .collect()
        };
        let img = pack_name(b"img").unwrap();
        // An `<img>` before the first that makes the name wanted, and one in a comment (a
        // candidate, though no tag); `<p>` and `<em>` cannot be wanted here.
        assert_eq!(
            at("<p><IMG alt=x><em><!--<img>--><img src=a>"),
            [(3, img), (22, img), (30, img)]
        );
        // With a `style` attribute anywhere, any tag may be wanted.
        let p = pack_name(b"p").unwrap();
        assert_eq!(at("<p><img src=a><p style=x>"), [(0, p), (3, img), (14, p)]);
        // No more than one for every 16 bytes of the page, and 64.
        let dense = format!("<p style=x>{}", "<a>".repeat(100));
        assert_eq!(look(&dense).candidates, None);
        assert_eq!(
            look(&format!("{dense}{}", " ".repeat(1600)))
                .candidates
                .unwrap()
                .tags
                .len(),
            101
        );
        // Where comments may be (a look cannot tell whether `<!--` opens one).
        let comments = |html: &str| look(html).candidates.unwrap().comments;
        assert_eq!(
            comments("<!-- <img> --><p title='<!--'>x</p><!--> <!--->--><!--"),
            [0..14, 24..40, 41..50, 50..54]
        );
        assert_eq!(
            pack_name(b"noscript"),
            Some(u64::from_le_bytes(*b"noscript"))
        );
        assert_eq!(pack_name(b"my-element"), None);
    }

    #[test]
    fn short_and_odd_names_of_the_table() {
        use crate::{AttributeTable, ValueKind};
        let table = AttributeTable::default()
            .with("a", "data-bg", ValueKind::Url)
            .with("x-y", "data-bg", ValueKind::Url)
            .with("h1", "data-bg", ValueKind::Url);
        let buster = Builder::new(Manifest::new())
            .with_attributes(table)
            .build()
            .unwrap();
        let plan_of = |html: &str| plan(html.as_bytes(), &buster.shared).elements;
        assert_eq!(
            plan_of("<a data-bg=x><A\tdata-bg=y><X-Y data-bg=z><h1 data-bg=w><em><strong>"),
            names(&["a", "x-y", "h1"])
        );
        assert_eq!(
            plan_of("<td background=a.png><TD\nBACKGROUND=b.png><em>x</em><strong>"),
            names(&["td"])
        );
    }

    #[test]
    fn finds_every_element_with_a_style_attribute() {
        assert_eq!(
            plan_of("<div class=\"a>b\" STYLE='x'><span>style</span><p style>"),
            names(&["div", "p"])
        );
        // A `<` inside a value is read as a tag of its own too: too many names is fine,
        // too few never.
        assert_eq!(plan_of("<div title=\"<b>\" style=x>"), names(&["div"]));
        assert_eq!(plan_of("<div title=\"<b \" style=x>"), names(&["div", "b"]));
        assert_eq!(plan_of("<a<b style=x>"), Elements::Every);
        assert_eq!(plan_of("<x:y style=x>"), Elements::Every);
    }

    #[test]
    fn gives_up_on_many_names_and_costly_looks() {
        let many: String = (0..20).map(|n| format!("<e{n} style=x>")).collect();
        assert_eq!(plan_of(&many), Elements::Every);
        let costly = format!("<p style=x><div title=\"{}\">", "<b ".repeat(100_000));
        assert_eq!(plan_of(&costly), Elements::Every);
    }

    #[test]
    fn tells_whether_foreign_content_may_be_there() {
        let foreign = |html: &str| look(html).foreign;
        assert!(foreign("<p><SVG viewBox='0 0 1 1'><style>"));
        assert!(foreign("<math>"));
        assert!(foreign("<svg/>"));
        // Even where it is none (a comment): an over-approximation.
        assert!(foreign("<!-- <svg> -->"));
        assert!(!foreign(
            "<p>svg and math</p><svgx><mathematics><span><main>"
        ));
        // Also when the look gives up.
        let many: String = (0..20).map(|n| format!("<e{n} style=x>")).collect();
        assert_eq!(look(&many).elements, Elements::Every);
        assert!(!look(&many).foreign);
        assert!(look(&format!("{many}<Math>")).foreign);
        assert!(look(&format!("<svg>{many}")).foreign);
    }

    #[test]
    fn case_insensitive_search() {
        assert!(contains_ignore_case(b"a STYLE b", b"style"));
        assert!(contains_ignore_case(b"StYlE", b"style"));
        assert!(!contains_ignore_case(b"styl", b"style"));
        assert!(!contains_ignore_case(b"y", b"style"));
        assert!(contains_ignore_case(b"ystyle", b"style"));
    }

    #[test]
    fn attribute_like_occurrences() {
        let css_like = |html: &[u8]| has_attribute_like(html, b"style", true);
        assert!(css_like(b"<p style=x>"));
        assert!(css_like(b"<p a='b'STYLE \n= x>"));
        assert!(css_like(b"<p/style=x>"));
        assert!(!css_like(b"<link rel=stylesheet href=a>"));
        assert!(!css_like(b"<p style>"));
        assert!(!css_like(b"<style>p{}</style>"));
        let url_like = |html: &[u8]| has_attribute_like(html, b"data-bg", false);
        assert!(url_like(b"<p data-bg>"));
        assert!(url_like(b"<p data-bg x>"));
        assert!(url_like(b"<p data-bg/>"));
        assert!(!url_like(b"<p data-bgx>"));
        assert_eq!(
            plan_of("<link rel=stylesheet href=a.css><p>"),
            names(&["link"])
        );
    }
}
