//! The look-ahead before rewriting starts: a light lol_html pass over the start of the
//! document that finds what must be known before the first reference is touched: the
//! encoding (BOM, a `<meta charset>` within the first 1024 bytes) and where the first `<base href>`
//! stands (references before it are left alone).

use encoding_rs::Encoding;
use lol_html::send::{HtmlRewriter, Settings};
use lol_html::{ElementContentHandlers, MemorySettings};
use std::borrow::Cow;
use std::sync::{Arc, LazyLock, Mutex};

/// How far the HTML encoding sniffing algorithm looks for a `<meta charset>`. A `<meta>`
/// counts only when its whole tag lies within: whether one that runs past this point is
/// complete when the scout stops would depend on how the input was split.
pub(crate) const META_PRESCAN: usize = 1024;

#[derive(Debug, Default)]
struct Found {
    base_offset: Option<usize>,
    charset: Option<&'static Encoding>,
    body: bool,
}

/// What the look-ahead learned.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Findings {
    pub(crate) base_offset: Option<usize>,
    pub(crate) charset: Option<&'static Encoding>,
}

type NullSink = fn(&[u8]);

pub(crate) struct Scout {
    rewriter: Option<HtmlRewriter<'static, NullSink>>,
    found: Arc<Mutex<Found>>,
    fed: usize,
    limit: usize,
    want_charset: bool,
}

static SELECTORS: LazyLock<[lol_html::Selector; 3]> =
    LazyLock::new(|| ["base[href]", "meta", "body"].map(|s| s.parse().expect("static selector")));

fn charset_of(
    el: &lol_html::html_content::Element<'_, '_, lol_html::send::SendHandlerTypes>,
) -> Option<&'static Encoding> {
    if let Some(label) = el.get_attribute("charset") {
        return Encoding::for_label(label.trim().as_bytes());
    }
    let http_equiv = el.get_attribute("http-equiv")?;
    if !http_equiv.trim().eq_ignore_ascii_case("content-type") {
        return None;
    }
    let content = el.get_attribute("content")?.to_ascii_lowercase();
    let after = &content[content.find("charset")? + 7..];
    let value = after.trim_start().strip_prefix('=')?.trim_start();
    let value = value.trim_start_matches(['"', '\'']);
    let end = value.find([';', '"', '\'', ' ']).unwrap_or(value.len());
    Encoding::for_label(&value.as_bytes()[..end])
}

impl Scout {
    /// A scout looking at most `limit` bytes ahead; `want_charset` when the encoding is not
    /// already known.
    pub(crate) fn new(limit: usize, want_charset: bool) -> Scout {
        let found = Arc::new(Mutex::new(Found::default()));
        let [base, meta, body] = &*SELECTORS;
        let on_base = Arc::clone(&found);
        let on_meta = Arc::clone(&found);
        let on_body = Arc::clone(&found);
        let settings = Settings::new_send()
            .with_strict(false)
            .with_memory_settings(
                MemorySettings::new()
                    .with_max_allowed_memory_usage(limit.max(4096) * 2)
                    .with_graceful_bail_out_on_memory_limit_exceeded(true),
            )
            .append_element_content_handler((
                Cow::Borrowed(base),
                ElementContentHandlers::default().element(
                    move |el: &mut lol_html::html_content::Element<'_, '_, _>| {
                        let mut found = super::lock(&on_base);
                        // The look stops at `<body>`, but how much it has read past it
                        // depends on the input's pieces: a base after it never counts.
                        if !found.body {
                            found
                                .base_offset
                                .get_or_insert(el.source_location().bytes().start);
                        }
                        Ok(())
                    },
                ),
            ))
            .append_element_content_handler((
                Cow::Borrowed(meta),
                ElementContentHandlers::default().element(
                    move |el: &mut lol_html::html_content::Element<'_, '_, _>| {
                        let mut found = super::lock(&on_meta);
                        if found.charset.is_none()
                            && el.source_location().bytes().end <= META_PRESCAN
                        {
                            found.charset = charset_of(el);
                        }
                        Ok(())
                    },
                ),
            ))
            .append_element_content_handler((
                Cow::Borrowed(body),
                ElementContentHandlers::default().element(
                    move |_: &mut lol_html::html_content::Element<'_, '_, _>| {
                        super::lock(&on_body).body = true;
                        Ok(())
                    },
                ),
            ));
        let null: NullSink = |_| {};
        Scout {
            rewriter: (limit > 0).then(|| HtmlRewriter::new(settings, null)),
            found,
            fed: 0,
            limit,
            want_charset,
        }
    }

    /// Looks at the next bytes of the document; returns whether the scout is done.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> bool {
        let take = chunk.len().min(self.limit.saturating_sub(self.fed));
        if let Some(rewriter) = &mut self.rewriter {
            if rewriter.write(&chunk[..take]).is_err() {
                self.rewriter = None;
            }
        }
        self.fed += take;
        self.done()
    }

    fn done(&self) -> bool {
        if self.rewriter.is_none() || self.fed >= self.limit {
            return true;
        }
        let found = super::lock(&self.found);
        let charset_known =
            !self.want_charset || found.charset.is_some() || self.fed >= META_PRESCAN;
        charset_known && (found.base_offset.is_some() || found.body)
    }

    /// What was found (call when [`Scout::feed`] says done, or at the end of the input).
    pub(crate) fn findings(&self) -> Findings {
        let found = super::lock(&self.found);
        Findings {
            base_offset: found.base_offset,
            charset: found.charset,
        }
    }
}
