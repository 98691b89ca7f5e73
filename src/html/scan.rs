//! lol_html's tokenizer driven without its selector engine, for a whole document whose plan
//! names the elements it needs.
//!
//! With any selector at all, lol_html runs its selector matching machine on every start and
//! end tag and keeps a stack of open elements for it: on a typical article that costs twice
//! as much as tokenizing the page. Type selectors need none of it: whether a tag is wanted
//! is a comparison of its name. lol_html's transform stream takes a controller that is asked
//! exactly that, for each tag its fast scanner finds, and lexes in full only the tags it is
//! told to; this module is such a controller. The stream is the one lol_html's own
//! `HtmlRewriter` runs on, reached through the API lol_html exposes to its integration
//! tests (the `_integration_test` feature), which is why `Cargo.toml` pins lol_html to the
//! exact version this was checked against. It finds the same tags at the same offsets as
//! the selector `img,source,...` does (tested, and fuzzed against the streaming rewriter).
//!
//! Elements whose text is rewritten (`<style>`, `<noscript>`) need their end tags too. In
//! the HTML namespace their text is raw text, which only their own end tag (or the end of
//! the input) ends, so the next end tag after one is its own. In SVG or MathML they are
//! ordinary elements whose end tags only the selector engine's stack of open elements
//! matches: a page that may hold foreign content and such elements goes through lol_html's
//! `HtmlRewriter` ([`can_scan`]).

use encoding_rs::Encoding;
use lol_html::errors::RewritingError;
use lol_html::html_content::DocumentEnd;
use lol_html::{
    AsciiCompatibleEncoding, LocalName, LocalNameHash, Namespace, SharedMemoryLimiter,
    StartTagHandlingResult, Tag, Token, TokenCaptureFlags, TransformController, TransformStream,
    TransformStreamSettings,
};
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

    /// The text wanted ends at `at`, where its end tag starts.
    fn text_end(&mut self, at: usize);
}

/// Runs lol_html over the whole document `html` (in the ASCII-compatible `encoding`, its
/// parsing buffer allowed `memory` bytes) and tells `found` where each start tag of an
/// element named in `names` (ASCII lower case; every element with `None`) is, in document
/// order, and where the texts it wants end. Check [`can_scan`] first.
pub(crate) fn start_tags(
    html: &[u8],
    encoding: &'static Encoding,
    memory: usize,
    names: Option<&[String]>,
    found: &mut impl Found,
) -> Result<(), RewritingError> {
    let encoding = AsciiCompatibleEncoding::new(encoding).expect("checked ASCII-compatible");
    let controller = Wanted {
        // lol_html packs a short name of letters (and digits 1-6) into an integer; a longer
        // or odd one stays bytes.
        hashes: names
            .unwrap_or_default()
            .iter()
            .map(|name| LocalNameHash::from(name.as_str()))
            .filter(|hash| !hash.is_empty())
            .collect(),
        names,
        found,
        html_text: false,
        text_open: false,
    };
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

/// The controller: asks for the start tags of the wanted names, and for the end tag of a
/// text wanted.
struct Wanted<'n, 'f, F> {
    hashes: Vec<LocalNameHash>,
    /// `None`: every element.
    names: Option<&'n [String]>,
    found: &'f mut F,
    /// The start tag asked about last opens a raw text.
    html_text: bool,
    /// A raw text is wanted up to its end tag.
    text_open: bool,
}

impl<F: Found> TransformController for Wanted<'_, '_, F> {
    fn initial_capture_flags(&self) -> TokenCaptureFlags {
        TokenCaptureFlags::empty()
    }

    fn handle_start_tag(
        &mut self,
        name: LocalName<'_>,
        namespace: Namespace,
    ) -> StartTagHandlingResult<Self> {
        // Type selectors match whatever the namespace: so does this.
        let wanted = match (&name, self.names) {
            (_, None) => true,
            (LocalName::Hash(hash), Some(_)) => self.hashes.contains(hash),
            (LocalName::Bytes(bytes), Some(names)) => names
                .iter()
                .any(|name| bytes.eq_ignore_ascii_case(name.as_bytes())),
        };
        // Asked before the tag's token is made, if that is wanted.
        self.html_text =
            wanted && namespace == Namespace::Html && (name == Tag::Style || name == Tag::Noscript);
        Ok(if wanted {
            TokenCaptureFlags::NEXT_START_TAG
        } else {
            TokenCaptureFlags::empty()
        })
    }

    fn handle_end_tag(&mut self, _: LocalName<'_>) -> TokenCaptureFlags {
        // Inside raw text, the only end tag is the text's own.
        if self.text_open {
            TokenCaptureFlags::NEXT_END_TAG
        } else {
            TokenCaptureFlags::empty()
        }
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
    use crate::html::plan::may_hold_foreign;
    use lol_html::{HtmlRewriter, Settings, element};
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Start tags found, and where the texts of HTML `<style>` and `<noscript>` end.
    #[derive(Debug, Default, PartialEq)]
    struct Seen {
        tags: Vec<Range<usize>>,
        text_ends: Vec<usize>,
    }

    impl Found for Seen {
        fn start_tag(&mut self, range: Range<usize>, html_text: bool) -> bool {
            self.tags.push(range);
            html_text
        }

        fn text_end(&mut self, at: usize) {
            self.text_ends.push(at);
        }
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

    fn scanned(html: &[u8], names: Option<&[&str]>, encoding: &'static Encoding) -> Seen {
        let names: Option<Vec<String>> =
            names.map(|names| names.iter().map(|name| name.to_string()).collect());
        let mut seen = Seen::default();
        start_tags(html, encoding, 1 << 20, names.as_deref(), &mut seen).unwrap();
        seen
    }

    const NAMES: &[&str] = &[
        "img",
        "source",
        "video",
        "image",
        "style",
        "noscript",
        "my-el",
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
        ];
        for page in pages {
            assert!(!may_hold_foreign(page.as_bytes()), "{page}");
            for encoding in [encoding_rs::UTF_8, encoding_rs::WINDOWS_1252] {
                for names in [Some(NAMES), None] {
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
            &mut Seen::default(),
        );
        assert!(matches!(found, Err(RewritingError::MemoryLimitExceeded(_))));
    }
}
