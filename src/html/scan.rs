//! lol_html's tokenizer driven without its selector engine, for a whole document whose plan
//! names the elements it needs.
//!
//! With any selector at all, lol_html runs its selector matching machine on every start and
//! end tag and keeps a stack of open elements for it: on a typical article that costs twice
//! as much as tokenizing the page. Type selectors need none of it: whether a tag is wanted
//! is a comparison of its name. lol_html's transform stream takes a controller that is asked
//! exactly that, for each tag its fast scanner finds, and lexes in full only the tags it is
//! told to; this module holds two such controllers. The stream is the one lol_html's own
//! `HtmlRewriter` runs on, reached through the API lol_html exposes to its integration
//! tests (the `_integration_test` feature), which is why `Cargo.toml` pins lol_html to the
//! exact version this was checked against. Both find the same tags at the same offsets as
//! the selector `img,source,...` does (tested, and fuzzed against the streaming rewriter).
//!
//! Lexing a tag in full to learn where it is costs lol_html more than scanning the page
//! (on an image listing, where a third of the tags are wanted, half as much again). So
//! first, lol_html only names the tags it finds ([`Counted`]), and the tags are placed
//! among the plan's candidates, every `<` and letter it read as a tag of a wanted name:
//! every real start tag is one of them, so when there are as many candidates as tags,
//! they are the tags, in order. lol_html does lex the few start tags that open a text
//! (`<script>`, `<style>`, `<noscript>`, `<title>`, ...) and their end tags: no tag stands
//! between, so the candidates there (an `<img>` in a `<noscript>` or in a script's string,
//! which many pages hold) are left out. Only when the two still do not add up (a
//! candidate in a comment or in an attribute value) is each wanted tag lexed to learn
//! where it is ([`Wanted`]); where a wanted candidate is likely in a comment, that is
//! done from the start.
//!
//! Elements whose text is rewritten (`<style>`, `<noscript>`) need their end tags too. In
//! the HTML namespace their text is raw text, which only their own end tag (or the end of
//! the input) ends, so the next end tag after one is its own. In SVG or MathML they are
//! ordinary elements whose end tags only the selector engine's stack of open elements
//! matches: a page that may hold foreign content and such elements goes through lol_html's
//! `HtmlRewriter` ([`can_scan`]).

use super::plan::{Candidates, pack_name};
use encoding_rs::Encoding;
use lol_html::errors::RewritingError;
use lol_html::html_content::DocumentEnd;
use lol_html::{
    AsciiCompatibleEncoding, LocalName, LocalNameHash, Namespace, SharedMemoryLimiter,
    StartTagHandlingResult, Tag, Token, TokenCaptureFlags, TransformController, TransformStream,
    TransformStreamSettings,
};
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// Whether [`start_tags`] can find what a whole document needs of elements named `names`
/// (all of them with `None`), knowing whether it may hold foreign content.
pub(crate) fn can_scan(names: Option<&[String]>, foreign: bool) -> bool {
    let texts = names.is_none_or(|names| {
        names
            .iter()
            .any(|name| matches!(name.as_str(), "style" | "noscript"))
    });
    !(texts && foreign)
}

/// Where [`start_tags`] reports what it finds.
pub(crate) trait Found {
    /// The start tag at `range` of an element named; `html_text` when its name is `style`
    /// or `noscript` and it is in the HTML namespace. Returns whether the text it starts is
    /// wanted up to its end ([`Found::text_end`]).
    fn start_tag(&mut self, range: Range<usize>, html_text: bool) -> bool;

    /// The start tag that starts at `at`, of an element whose text is not wanted: its
    /// reader finds where it ends, and a tag the input ends inside is none (lol_html never
    /// reports one).
    fn start_tag_at(&mut self, at: usize);

    /// The text wanted ends at `at`, where its end tag starts.
    fn text_end(&mut self, at: usize);

    /// About `tags` start tags are to come (room can be made for them at once).
    fn expect(&mut self, _tags: usize) {}
}

/// Runs lol_html over the whole document `html` (in the ASCII-compatible `encoding`, its
/// parsing buffer allowed `memory` bytes) and tells `found` where each start tag of an
/// element named in `names` (ASCII lower case; every element with `None`) is, in document
/// order, and where the texts it wants end. Check [`can_scan`] first.
///
/// Given the plan's `candidates` ([`Plan`](super::plan::Plan)), the tags are placed among
/// them where they can be: names of eight bytes at most, none of the wanted names' likely
/// in a comment, and as many candidates outside the texts as tags.
pub(crate) fn start_tags(
    html: &[u8],
    encoding: &'static Encoding,
    memory: usize,
    names: Option<&[String]>,
    candidates: Option<&Candidates>,
    found: &mut impl Found,
) -> Result<(), RewritingError> {
    let matcher = Matcher::new(names);
    if let Some(wanted) = wanted_candidates(names, candidates) {
        let mut counted = Counted {
            matcher: &matcher,
            seen: Vec::new(),
            opening: None,
            text_of: None,
            astray: false,
        };
        if run(html, encoding, memory, &mut counted).is_ok()
            && !counted.astray
            && place(html.len(), &counted.seen, &wanted, found)
        {
            return Ok(());
        }
    }
    run(
        html,
        encoding,
        memory,
        Wanted {
            matcher: &matcher,
            found,
            html_text: false,
            text_open: false,
        },
    )
}

/// Where the candidates of the wanted `names` stand, unless one seems to be in a comment
/// (a comment is the one place lol_html cannot tell about without lexing the page: see
/// [`place`]), or a name is too long to pack.
fn wanted_candidates(
    names: Option<&[String]>,
    candidates: Option<&Candidates>,
) -> Option<Vec<usize>> {
    let packed = names?
        .iter()
        .map(|name| pack_name(name.as_bytes()))
        .collect::<Option<Vec<u64>>>()?;
    let candidates = candidates?;
    let mut wanted = Vec::with_capacity(candidates.tags.len());
    wanted.extend(
        candidates
            .tags
            .iter()
            .filter(|candidate| packed.contains(&candidate.name))
            .map(|candidate| candidate.at),
    );
    let commented = wanted.len() - outside(&wanted, &candidates.comments).count();
    (commented == 0).then_some(wanted)
}

/// The positions of `sorted` that no range of `ranges` (sorted, disjoint) holds.
fn outside<'a>(
    sorted: &'a [usize],
    ranges: &'a [Range<usize>],
) -> impl Iterator<Item = usize> + 'a {
    let mut ranges = ranges.iter().peekable();
    sorted.iter().copied().filter(move |&at| {
        while ranges.next_if(|range| range.end <= at).is_some() {}
        !ranges.peek().is_some_and(|range| range.contains(&at))
    })
}

/// Runs lol_html's transform stream over `html` with `controller`.
fn run(
    html: &[u8],
    encoding: &'static Encoding,
    memory: usize,
    controller: impl TransformController,
) -> Result<(), RewritingError> {
    let encoding = AsciiCompatibleEncoding::new(encoding).expect("checked ASCII-compatible");
    let mut stream = TransformStream::new(TransformStreamSettings {
        transform_controller: controller,
        // The output is made from the input and the edits (see `super::output`).
        output_sink: |_: &[u8]| {},
        preallocated_parsing_buffer_size: 1024,
        memory_limiter: SharedMemoryLimiter::new(memory),
        encoding,
        next_encoding: Arc::new(OnceLock::new()),
        strict: false,
        graceful_bail_out_on_memory_limit_exceeded: true,
        graceful_bail_out_on_content_handler_error: true,
    });
    stream.write(html)?;
    stream.end()
}

/// Which names are wanted, as lol_html hands them over.
struct Matcher<'n> {
    /// lol_html packs a short name of letters (and digits 1-6) into an integer; a longer
    /// or odd one stays bytes.
    hashes: Vec<LocalNameHash>,
    /// `None`: every element.
    names: Option<&'n [String]>,
    /// The [`filter_bit`]s of the wanted names and of [`TEXT_ELEMENTS`] (all of them for
    /// every element): most tags have a bit outside, and are passed over at that.
    filter: u64,
}

impl<'n> Matcher<'n> {
    fn new(names: Option<&'n [String]>) -> Self {
        let hashes: Vec<LocalNameHash> = names
            .unwrap_or_default()
            .iter()
            .map(|name| LocalNameHash::from(name.as_str()))
            .filter(|hash| !hash.is_empty())
            .collect();
        let filter = match names {
            None => !0,
            Some(_) => hashes
                .iter()
                .copied()
                .chain(TEXT_ELEMENTS.map(|(_, name)| LocalNameHash::from(name)))
                .fold(0, |filter, hash| filter | filter_bit(hash)),
        };
        Matcher {
            hashes,
            names,
            filter,
        }
    }

    /// Whether the start tag `name` may be wanted or open a text (`false`: it is neither).
    fn may_matter(&self, name: &LocalName<'_>) -> bool {
        match name {
            LocalName::Hash(hash) => self.filter & filter_bit(*hash) != 0,
            LocalName::Bytes(_) => true,
        }
    }

    /// Whether the start tag `name` (in `namespace`) is wanted, and if so whether it opens
    /// a raw text that is wanted too.
    fn wants(&self, name: &LocalName<'_>, namespace: Namespace) -> Option<bool> {
        // Type selectors match whatever the namespace: so does this.
        let wanted = match (name, self.names) {
            (_, None) => true,
            (LocalName::Hash(hash), Some(_)) => self.hashes.contains(hash),
            (LocalName::Bytes(bytes), Some(names)) => names
                .iter()
                .any(|name| bytes.eq_ignore_ascii_case(name.as_bytes())),
        };
        wanted.then(|| {
            namespace == Namespace::Html && (*name == Tag::Style || *name == Tag::Noscript)
        })
    }
}

/// One bit of 64 for a name's hash. lol_html keeps the packed name to itself, but hashes
/// it as the one integer it is: that integer, mixed, picks the bit.
fn filter_bit(hash: LocalNameHash) -> u64 {
    struct Packed(u64);
    impl Hasher for Packed {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            // Not how an integer is hashed; should it ever be, any bit does.
            self.0 = bytes
                .iter()
                .fold(self.0, |h, &b| h.rotate_left(8) ^ u64::from(b));
        }
        fn write_u64(&mut self, n: u64) {
            self.0 = n;
        }
    }
    let mut packed = Packed(0);
    hash.hash(&mut packed);
    1 << (packed.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
}

/// What to capture of an end tag: inside a raw text wanted, the only end tag is the
/// text's own.
fn end_tag_flags(text_open: bool) -> TokenCaptureFlags {
    if text_open {
        TokenCaptureFlags::NEXT_END_TAG
    } else {
        TokenCaptureFlags::empty()
    }
}

/// The elements whose start tag makes lol_html read what follows as text up to their own
/// end tag (or, for `<plaintext>`, to the end), in the HTML namespace: the tree builder
/// lol_html simulates switches on these names alone.
const TEXT_ELEMENTS: [(Tag, &str); 10] = [
    (Tag::Script, "script"),
    (Tag::Style, "style"),
    (Tag::Noscript, "noscript"),
    (Tag::Textarea, "textarea"),
    (Tag::Title, "title"),
    (Tag::Iframe, "iframe"),
    (Tag::Xmp, "xmp"),
    (Tag::Noembed, "noembed"),
    (Tag::Noframes, "noframes"),
    (Tag::Plaintext, "plaintext"),
];

/// What [`Counted`] saw, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Wanted start tags lol_html only named, this many in a row.
    Named(usize),
    /// A start tag of [`TEXT_ELEMENTS`], lexed to learn where it is; whether it is wanted
    /// (and if so, whether its text is too).
    Opening {
        range: Range<usize>,
        wanted: Option<bool>,
    },
    /// The end tag of the text opened last starts at this offset.
    TextEnd(usize),
}

/// The controller that mostly counts: it lexes only the start and end tags of
/// [`TEXT_ELEMENTS`], to tell where no tag can be.
struct Counted<'m, 'n> {
    matcher: &'m Matcher<'n>,
    seen: Vec<Seen>,
    /// The start tag being lexed, and whether it is wanted.
    opening: Option<(Tag, Option<bool>)>,
    /// The element whose text is open: the next end tag is its own.
    text_of: Option<Tag>,
    /// lol_html told something this does not expect: nothing is placed.
    astray: bool,
}

impl TransformController for &mut Counted<'_, '_> {
    fn initial_capture_flags(&self) -> TokenCaptureFlags {
        TokenCaptureFlags::empty()
    }

    fn handle_start_tag(
        &mut self,
        name: LocalName<'_>,
        namespace: Namespace,
    ) -> StartTagHandlingResult<Self> {
        if !self.matcher.may_matter(&name) {
            return Ok(TokenCaptureFlags::empty());
        }
        let wanted = self.matcher.wants(&name, namespace);
        let text = (namespace == Namespace::Html)
            .then(|| TEXT_ELEMENTS.into_iter().find(|&(tag, _)| name == tag))
            .flatten()
            .map(|(tag, _)| tag);
        if let Some(tag) = text {
            self.opening = Some((tag, wanted));
            return Ok(TokenCaptureFlags::NEXT_START_TAG);
        }
        if wanted.is_some() {
            match self.seen.last_mut() {
                Some(Seen::Named(count)) => *count += 1,
                _ => self.seen.push(Seen::Named(1)),
            }
        }
        Ok(TokenCaptureFlags::empty())
    }

    fn handle_end_tag(&mut self, name: LocalName<'_>) -> TokenCaptureFlags {
        if self.text_of.is_some_and(|tag| name != tag) {
            self.astray = true;
        }
        end_tag_flags(self.text_of.is_some())
    }

    fn handle_token(&mut self, token: &mut Token<'_>) -> Result<(), RewritingError> {
        match token {
            Token::StartTag(tag) => match self.opening.take() {
                Some((name, wanted)) => {
                    let range = tag.source_location().bytes();
                    self.seen.push(Seen::Opening { range, wanted });
                    self.text_of = Some(name);
                }
                None => self.astray = true,
            },
            Token::EndTag(tag) => {
                self.text_of = None;
                self.seen
                    .push(Seen::TextEnd(tag.source_location().bytes().start));
            }
            _ => {}
        }
        Ok(())
    }

    fn handle_end(&mut self, _: &mut DocumentEnd<'_>) -> Result<(), RewritingError> {
        Ok(())
    }

    fn should_emit_content(&self) -> bool {
        true
    }
}

/// Tells `found` what [`Counted`] saw, each tag only named placed at its candidate (of
/// the document's `len` bytes, `wanted` are where the candidates of the wanted names are),
/// if the two add up; otherwise tells nothing and returns `false`.
///
/// Every real start tag is a candidate. The candidates in a text (from its start tag to
/// its end tag, or to the end of the input) are none: if as many candidates are left as
/// tags were named, they are the same, in the same order. Those that are no tag and are
/// left are in comments and in attribute values (or in `<![CDATA[`), and make the two not
/// add up.
fn place(len: usize, seen: &[Seen], wanted: &[usize], found: &mut impl Found) -> bool {
    let mut texts = Vec::new();
    for (n, opening) in seen.iter().enumerate() {
        if let Seen::Opening { range, .. } = opening {
            let end = match seen.get(n + 1) {
                Some(Seen::TextEnd(end)) => *end,
                None => len,
                // A tag inside: no text after all.
                Some(_) => return false,
            };
            texts.push(range.start..end);
        }
    }
    let named: usize = seen
        .iter()
        .map(|seen| match seen {
            Seen::Named(count) => *count,
            _ => 0,
        })
        .sum();
    if outside(wanted, &texts).count() != named {
        return false;
    }
    found.expect(named + texts.len());
    let mut at = outside(wanted, &texts);
    let mut text_open = false;
    for seen in seen {
        match seen {
            Seen::Named(count) => {
                for start in at.by_ref().take(*count) {
                    found.start_tag_at(start);
                }
            }
            Seen::Opening { range, wanted } => {
                text_open = match *wanted {
                    Some(html_text) => found.start_tag(range.clone(), html_text) && html_text,
                    None => false,
                };
            }
            Seen::TextEnd(end) => {
                if text_open {
                    found.text_end(*end);
                }
                text_open = false;
            }
        }
    }
    true
}

/// The controller that lexes each wanted start tag to learn where it is, and the end tag
/// of a text wanted.
struct Wanted<'m, 'n, 'f, F> {
    matcher: &'m Matcher<'n>,
    found: &'f mut F,
    /// The start tag asked about last opens a raw text.
    html_text: bool,
    /// A raw text is wanted up to its end tag.
    text_open: bool,
}

impl<F: Found> TransformController for Wanted<'_, '_, '_, F> {
    fn initial_capture_flags(&self) -> TokenCaptureFlags {
        TokenCaptureFlags::empty()
    }

    fn handle_start_tag(
        &mut self,
        name: LocalName<'_>,
        namespace: Namespace,
    ) -> StartTagHandlingResult<Self> {
        let wanted = match self.matcher.may_matter(&name) {
            true => self.matcher.wants(&name, namespace),
            false => None,
        };
        // Asked before the tag's token is made, if that is wanted.
        self.html_text = wanted == Some(true);
        Ok(if wanted.is_some() {
            TokenCaptureFlags::NEXT_START_TAG
        } else {
            TokenCaptureFlags::empty()
        })
    }

    fn handle_end_tag(&mut self, _: LocalName<'_>) -> TokenCaptureFlags {
        end_tag_flags(self.text_open)
    }

    fn handle_token(&mut self, token: &mut Token<'_>) -> Result<(), RewritingError> {
        match token {
            Token::StartTag(tag) => {
                let html_text = self.html_text;
                self.text_open = self
                    .found
                    .start_tag(tag.source_location().bytes(), html_text)
                    && html_text;
            }
            Token::EndTag(tag) if self.text_open => {
                self.text_open = false;
                self.found.text_end(tag.source_location().bytes().start);
            }
            _ => {}
        }
        Ok(())
    }

    fn handle_end(&mut self, _: &mut DocumentEnd<'_>) -> Result<(), RewritingError> {
        Ok(())
    }

    fn should_emit_content(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::plan::{Candidate, may_hold_foreign};
    use lol_html::{HtmlRewriter, Settings, element};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Start tags found, and where the texts of HTML `<style>` and `<noscript>` end.
    #[derive(Debug, Default, PartialEq)]
    struct Seen {
        tags: Vec<Range<usize>>,
        text_ends: Vec<usize>,
    }

    /// What [`start_tags`] tells, and how many tags it placed among the candidates.
    struct Recorder<'h> {
        html: &'h [u8],
        seen: Seen,
        placed: usize,
    }

    impl Found for Recorder<'_> {
        fn start_tag(&mut self, range: Range<usize>, html_text: bool) -> bool {
            self.seen.tags.push(range);
            html_text
        }

        fn start_tag_at(&mut self, at: usize) {
            self.placed += 1;
            if let Some(end) = crate::html::tag::end(&self.html[at..]) {
                self.start_tag(at..at + end + 1, false);
            }
        }

        fn text_end(&mut self, at: usize) {
            self.seen.text_ends.push(at);
        }
    }

    /// Every `<` followed by a letter, with its name, and where comments may be (the
    /// plan's candidates, before it leaves out the names that cannot matter).
    fn candidates(html: &[u8]) -> Candidates {
        let tags = memchr::memchr_iter(b'<', html)
            .filter(|&at| html.get(at + 1).is_some_and(u8::is_ascii_alphabetic))
            .filter_map(|at| {
                let mut lower = [0u8; 32];
                let name = crate::html::tag::lower_name(&html[at..], &mut lower)?;
                Some(Candidate {
                    at,
                    name: pack_name(name)?,
                })
            })
            .collect();
        let comments = memchr::memmem::find_iter(html, b"<!--")
            .map(|at| {
                let end = memchr::memmem::find(&html[at + 4..], b"-->");
                at..end.map_or(html.len(), |n| at + 4 + n + 3)
            })
            .collect();
        Candidates { tags, comments }
    }

    /// What lol_html's selector for `names` (`*` for `None`) finds.
    fn selected(html: &[u8], names: Option<&[&str]>, encoding: &'static Encoding) -> Seen {
        let seen = Rc::new(RefCell::new(Seen::default()));
        let list = names.map_or("*".to_string(), |names| names.join(","));
        let settings = Settings::new()
            .with_encoding(AsciiCompatibleEncoding::new(encoding).unwrap())
            .append_element_content_handler(element!(list.as_str(), |el| {
                seen.borrow_mut().tags.push(el.source_location().bytes());
                let text = matches!(el.tag_name().as_str(), "style" | "noscript")
                    && el.namespace_uri() == "http://www.w3.org/1999/xhtml";
                if text && el.can_have_content() {
                    let seen = Rc::clone(&seen);
                    el.on_end_tag(lol_html::end_tag!(move |end| {
                        seen.borrow_mut()
                            .text_ends
                            .push(end.source_location().bytes().start);
                        Ok(())
                    }))?;
                }
                Ok(())
            }));
        let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
        rewriter.write(html).unwrap();
        rewriter.end().unwrap();
        seen.take()
    }

    /// What [`start_tags`] finds (given the candidates or not), and how many tags it
    /// placed among them.
    fn scan_with(
        html: &[u8],
        names: Option<&[&str]>,
        encoding: &'static Encoding,
        given: bool,
    ) -> (Seen, usize) {
        let names: Option<Vec<String>> =
            names.map(|names| names.iter().map(|name| name.to_string()).collect());
        let candidates = candidates(html);
        let mut recorder = Recorder {
            html,
            seen: Seen::default(),
            placed: 0,
        };
        let candidates = given.then_some(&candidates);
        start_tags(
            html,
            encoding,
            1 << 20,
            names.as_deref(),
            candidates,
            &mut recorder,
        )
        .unwrap();
        (recorder.seen, recorder.placed)
    }

    fn scanned(html: &[u8], names: Option<&[&str]>, encoding: &'static Encoding) -> Seen {
        let (by_lexing, _) = scan_with(html, names, encoding, false);
        let (by_candidates, _) = scan_with(html, names, encoding, true);
        assert_eq!(
            by_lexing,
            by_candidates,
            "{}",
            String::from_utf8_lossy(html)
        );
        by_candidates
    }

    const NAMES: &[&str] = &[
        "img",
        "source",
        "video",
        "image",
        "style",
        "noscript",
        "my-el",
        "script",
        "a-very-long-custom-element",
    ];

    #[test]
    fn finds_what_the_selector_finds() {
        let pages: &[&str] = &[
            "<IMG src=a><img/><p><img\nsrc=b>",
            // Not tags: in a comment, a script, a title, a textarea, a value.
            "<!-- <img src=a> --><script>'<img src=b>'</script><title><img></title>\
             <textarea><img></textarea><p title='<img src=c>'><img src=d>",
            "<script><!--<script></script><img src=a>--></script><img src=b>",
            "<template><img src=a></template><iframe><img src=b></iframe><xmp><img></xmp>",
            "<plaintext><img src=a>",
            "<img src=a",
            "<a-very-long-custom-element style=x><my-el style=y><MY-EL>",
            "<source srcset=a><video poster=b><source src=c></video>",
            "<!DOCTYPE html><?php <img> ?><img src=a></img src=b><img src=c>",
            // Texts: raw text up to their own end tag, or to the end of the input.
            "<STYLE>a{b:url(<img src=x>)}</p></STYLE ><img src=a><style/>x</style>",
            "<noscript><img src=a></noscript><noscript><style></noscript></style>",
            "<p><style>unclosed <img src=a>",
            "<head><noscript><link href=a></NOSCRIPT>",
            "<script src=a>'<img src=b>'</script ><img src=c><SCRIPT/>'<source>'</script>",
            "<iframe><img></iframe><noembed><img></noembed><noframes><img></noframes><img src=a>",
            "<textarea><img></TEXTAREA><title><script></title><img src=a><script src=b",
            "<!-- <img src=a> --><!-- x --><img src=b><!-- <script> -->",
        ];
        for page in pages {
            assert!(!may_hold_foreign(page.as_bytes()), "{page}");
            for encoding in [encoding_rs::UTF_8, encoding_rs::WINDOWS_1252] {
                for names in [Some(NAMES), Some(&NAMES[..8]), Some(&NAMES[..7]), None] {
                    let expected = selected(page.as_bytes(), names, encoding);
                    let found = scanned(page.as_bytes(), names, encoding);
                    assert_eq!(found, expected, "{page}");
                }
            }
        }
        let found = scanned(b"<p><style>a</style>", Some(&["style"]), encoding_rs::UTF_8);
        assert_eq!(found.tags, vec![Range { start: 3, end: 10 }]);
        assert_eq!(found.text_ends, [11]);
    }

    #[test]
    fn places_tags_among_the_candidates_where_they_add_up() {
        // Names of eight bytes at most: each packs into one integer.
        let names = Some(&NAMES[..8]);
        let placed = |page: &str| scan_with(page.as_bytes(), names, encoding_rs::UTF_8, true).1;
        assert_eq!(placed("<IMG src=a><p><img/><source srcset=b>"), 3);
        // The start tags of texts are lexed (`<style>`, `<noscript>`), the others named.
        assert_eq!(placed("<style>a{}</style><noscript>x</noscript><my-el>"), 1);
        // A tag the input ends inside is counted, then found to be none.
        assert_eq!(placed("<img src=a><img src=b"), 2);
        // A candidate in a text is none.
        for page in [
            "<script>'<img src=a>'</script><img src=b>",
            "<noscript><img src=a></noscript><img src=b>",
            "<title><img></title><textarea><img></textarea><xmp><img></xmp><img src=b>",
            "<style>a{}</style><noscript><style></noscript><img src=b>",
            "<img src=b><plaintext><img src=a>",
            "<!-- x --><img src=b>",
        ] {
            assert_eq!(placed(page), 1, "{page}");
        }
        // One that is no tag elsewhere (in a comment, a value, a CDATA section), or a
        // name too long to pack: every wanted tag is lexed instead.
        for page in [
            "<!-- <img src=a> --><img src=b>",
            "<p title='<img src=a>'><img src=b>",
            "<svg><![CDATA[<img src=a>]]></svg><img src=b>",
        ] {
            assert_eq!(placed(page), 0, "{page}");
        }
        let long = Some(NAMES);
        assert_eq!(
            scan_with(b"<img src=a>", long, encoding_rs::UTF_8, true).1,
            0
        );
    }

    #[test]
    fn a_wanted_candidate_in_a_comment_is_not_counted() {
        let wanted = |page: &str| {
            let names = ["img".to_string()];
            wanted_candidates(Some(&names), Some(&candidates(page.as_bytes())))
        };
        assert_eq!(wanted("<p><img src=a><!-- <p> --><img>"), Some(vec![3, 26]));
        assert_eq!(wanted("<img><!-- <img> -->"), None);
        assert_eq!(wanted("<img><!-- <img>"), None);
        let ranges = [2..4, 6..7];
        let left: Vec<usize> = outside(&[0, 2, 3, 4, 5, 6, 7], &ranges).collect();
        assert_eq!(left, [0, 4, 5, 7]);
    }

    #[test]
    fn foreign_content_without_texts() {
        // In SVG and MathML, `<style>` is an ordinary element, ended by the stack of open
        // elements: a page that may hold both is not scanned.
        let page =
            "<svg><image href=a /><img src=b><![CDATA[<img src=c>]]></svg><math><img></math>";
        let names = ["img", "image"];
        let owned: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        assert!(may_hold_foreign(page.as_bytes()));
        assert!(can_scan(Some(&owned), true));
        assert_eq!(
            scanned(page.as_bytes(), Some(&names), encoding_rs::UTF_8),
            selected(page.as_bytes(), Some(&names), encoding_rs::UTF_8)
        );
        let texts = ["style".to_string()];
        assert!(!can_scan(Some(&texts), true));
        assert!(!can_scan(None, true));
        assert!(can_scan(Some(&texts), false));
        assert!(can_scan(None, false));
    }

    #[test]
    fn a_tag_past_the_parser_memory_is_an_error() {
        let page = format!("<img src=\"{}\">", "a".repeat(4096));
        let names = ["img".to_string()];
        let found = start_tags(
            page.as_bytes(),
            encoding_rs::UTF_8,
            1024,
            Some(&names),
            None,
            &mut Recorder {
                html: page.as_bytes(),
                seen: Seen::default(),
                placed: 0,
            },
        );
        assert!(matches!(found, Err(RewritingError::MemoryLimitExceeded(_))));
    }
}
