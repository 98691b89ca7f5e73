//! Deterministic generated pages and the variants the benchmarks compare; shared by
//! `benches/rewrite.rs` and `examples/throughput.rs`.
#![allow(dead_code)]

use lol_html::html_content::{Element, TextChunk};
use lol_html::{HtmlRewriter, Settings, element, text};
use std::collections::HashMap;
use std::fmt::Write;

/// A small deterministic generator, so every run sees the same pages.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A generated page and the manifest covering about 90% of its image URLs.
pub struct Page {
    pub html: String,
    pub manifest_json: String,
}

fn image(i: u64) -> String {
    format!(
        "/media/catalog/product/{:02}/{}/item-{i}.jpg",
        i % 97,
        i % 13
    )
}

/// An e-commerce listing: product cards with `img srcset`, `<picture><source>`, inline
/// `style` with `url()`, `<style>` blocks, entities and non-ASCII text.
pub fn stress_page(target_bytes: usize) -> Page {
    listing(target_bytes, true)
}

/// The listing without any `style`.
pub fn unstyled_listing(target_bytes: usize) -> Page {
    listing(target_bytes, false)
}

/// A typical page: a magazine article (head with stylesheets, scripts and social meta,
/// navigation, sections of text with links and emphasis, a figure every third section, a
/// related-articles aside with thumbnails, a footer); no `style` attribute or element.
pub fn typical_page(target_bytes: usize) -> Page {
    const WORDS: &[&str] = &[
        "the", "cache", "of", "every", "browser", "keeps", "an", "image", "until", "its",
        "address", "changes", "and", "a", "version", "in", "the", "URL", "does", "exactly", "that",
        "without", "purging", "anything", "Größe", "über", "naïve", "déjà", "vu", "while",
        "editors", "publish", "new", "pictures", "for", "stories", "each", "day",
    ];
    let mut rng = Lcg(7);
    let mut words_rng = Lcg(11);
    let mut text = |words: usize| {
        let mut out = String::new();
        for n in 0..words {
            if n > 0 {
                out.push(' ');
            }
            out.push_str(WORDS[words_rng.below(WORDS.len() as u64) as usize]);
        }
        out
    };
    let mut urls = vec!["/assets/site.css".to_string(), "/assets/app.js".to_string()];
    let mut html = String::with_capacity(target_bytes + 8192);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
        <title>Why versioned URLs beat purges &ndash; The Example Journal</title>\n\
        <meta name=\"description\" content=\"A long read about caches.\">\n\
        <meta property=\"og:image\" content=\"https://journal.example.com/media/2026/11/lead.jpg\">\n\
        <link rel=\"stylesheet\" href=\"/assets/site.css\">\n\
        <link rel=\"stylesheet\" href=\"/assets/print.css\" media=\"print\">\n\
        <link rel=\"preload\" href=\"/assets/fonts/serif.woff2\" as=\"font\" crossorigin>\n\
        <link rel=\"icon\" href=\"/favicon.ico\">\n<link rel=\"canonical\" href=\"https://journal.example.com/2026/versioned-urls\">\n\
        <script src=\"/assets/app.js\" defer></script>\n<script>window.dataLayer=[];</script>\n</head>\n\
        <body class=\"article\">\n<header class=\"masthead\"><a class=\"logo\" href=\"/\"><img src=\"/assets/logo.svg\" alt=\"The Example Journal\" width=\"180\" height=\"40\"></a>\n<nav><ul>");
    for section in [
        "World",
        "Politics",
        "Business",
        "Technology",
        "Science",
        "Culture",
        "Sport",
        "Opinion",
    ] {
        write!(
            html,
            "<li><a href=\"/{}/\">{section}</a></li>",
            section.to_lowercase()
        )
        .unwrap();
    }
    html.push_str("</ul></nav></header>\n<main><article>\n<h1>Why versioned URLs beat purges</h1>\n\
        <p class=\"byline\"><img class=\"avatar\" src=\"/media/authors/ada.jpg\" alt=\"\" width=\"32\" height=\"32\"> By <a href=\"/authors/ada\">Ada Example</a> &middot; <time datetime=\"2026-11-22\">22 November 2026</time></p>\n");
    urls.push("/media/authors/ada.jpg".into());
    let mut section = 0u64;
    // Room for the aside and the footer.
    while html.len() + 6000 < target_bytes {
        writeln!(html, "<section id=\"s{section}\"><h2>{}</h2>", text(5)).unwrap();
        for _ in 0..3 + rng.below(3) {
            writeln!(
                html,
                "<p>{} <a href=\"/2026/story-{}\">{}</a> {} <em>{}</em> {}. {} <strong>{}</strong> {}.</p>",
                text(30),
                rng.below(1000),
                text(3),
                text(25),
                text(2),
                text(20),
                text(15),
                text(2),
                text(20),
            )
            .unwrap();
        }
        if section % 3 == 1 {
            let image = format!("/media/2026/11/story-{section}");
            writeln!(
                html,
                "<figure><picture><source type=\"image/avif\" srcset=\"{image}-800.avif 800w, {image}-1600.avif 1600w\" sizes=\"(max-width: 800px) 100vw, 800px\">\
                 <img src=\"{image}-800.jpg\" srcset=\"{image}-800.jpg 800w, {image}-1600.jpg 1600w\" sizes=\"(max-width: 800px) 100vw, 800px\" alt=\"{}\" loading=\"lazy\" width=\"800\" height=\"450\"></picture>\
                 <figcaption>{} &copy; Example Photo</figcaption></figure>",
                text(6),
                text(12)
            )
            .unwrap();
            for suffix in ["-800.avif", "-1600.avif", "-800.jpg", "-1600.jpg"] {
                urls.push(format!("{image}{suffix}"));
            }
        }
        html.push_str("</section>\n");
        section += 1;
    }
    html.push_str("</article>\n<aside><h2>Related</h2><ul>");
    for n in 0..6 {
        let thumb = format!("/media/thumbs/related-{n}.jpg");
        write!(
            html,
            "<li><a href=\"/2026/related-{n}\"><img src=\"{thumb}\" alt=\"\" width=\"120\" height=\"80\" loading=\"lazy\">{}</a></li>",
            text(6)
        )
        .unwrap();
        urls.push(thumb);
    }
    html.push_str("</ul></aside></main>\n<footer><p>&copy; 2026 The Example Journal &middot; <a href=\"/imprint\">Imprint</a> &middot; <a href=\"/privacy\">Privacy</a></p></footer>\n\
        <script src=\"/assets/analytics.js\" async></script>\n</body>\n</html>\n");
    Page {
        html,
        manifest_json: manifest_for(&urls),
    }
}

/// A manifest naming about 90% of `urls` (every tenth one is left out).
fn manifest_for(urls: &[String]) -> String {
    let mut manifest: HashMap<String, String> = HashMap::new();
    for (n, url) in urls.iter().enumerate() {
        if n % 10 != 0 {
            manifest.insert(
                url.clone(),
                format!("{:08x}", (n as u64).wrapping_mul(2654435761) & 0xffff_ffff),
            );
        }
    }
    serde_json::to_string(&manifest).unwrap()
}

fn listing(target_bytes: usize, styled: bool) -> Page {
    let mut rng = Lcg(42);
    let mut html = String::with_capacity(target_bytes + 4096);
    html.push_str("<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><title>Katalog &amp; Angebote – Größen</title>\n");
    html.push_str("<link rel=\"stylesheet\" href=\"/static/site.css\"><link rel=\"icon\" href=\"/static/favicon.png\">\n");
    if styled {
        html.push_str("<style>.hero{background:url(/media/hero.jpg) center/cover}.badge::after{content:\"\u{2605}\"}/* url(/x.png) */</style>\n");
    }
    html.push_str("</head><body><header><nav><a href=\"/\">Start</a> <a href=\"/sale\">Sale &raquo;</a></nav></header><main class=\"grid\">\n");
    let mut i = 0u64;
    let mut urls = Vec::new();
    while html.len() < target_bytes {
        let (a, b, c) = (image(i), image(i + 1_000_000), image(i + 2_000_000));
        let price = rng.below(100_000);
        write!(html, "<article class=\"card\" data-sku=\"SKU-{i}\">").unwrap();
        if styled {
            write!(
                html,
                "<div class=\"thumb\" style=\"background-image:url('{a}');background-size:cover\">"
            )
            .unwrap();
        } else {
            html.push_str("<div class=\"thumb\">");
        }
        writeln!(
            html,
            "<picture><source type=\"image/webp\" srcset=\"{b} 1x, {c} 2x\">\
             <img src=\"{a}\" srcset=\"{a} 480w, {b} 960w, {c} 1440w\" sizes=\"(max-width: 600px) 100vw, 33vw\" \
             alt=\"Produkt {i} &ndash; Bl\u{fc}te &amp; Gr\u{f6}\u{df}e\" loading=\"lazy\" width=\"480\" height=\"480\"></picture></div>\
             <h2><a href=\"/p/{i}\">Artikel Nr. {i} — Qualität «{}»</a></h2>\
             <p class=\"price\">{}.{:02}&nbsp;&euro;</p><button type=\"button\" data-add=\"{i}\">In den Warenkorb</button></article>",
            rng.below(5),
            price / 100,
            price % 100
        )
        .unwrap();
        if styled && i % 50 == 0 {
            write!(
                html,
                "<style>.promo-{i}{{background:url(\"{b}\") no-repeat}}</style>"
            )
            .unwrap();
        }
        urls.extend([a, b, c]);
        i += 1;
    }
    html.push_str("</main><footer><p>&copy; 2026 Beispiel GmbH</p></footer><script src=\"/static/app.js\" defer></script></body></html>\n");
    urls.extend(["/media/hero.jpg".into(), "/static/site.css".into()]);
    Page {
        html,
        manifest_json: manifest_for(&urls),
    }
}

/// lol_html with no handlers: the floor no lol_html-based rewriter can beat.
pub fn passthrough(html: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut rewriter = HtmlRewriter::new(Settings::new(), |c: &[u8]| out.extend_from_slice(c));
    rewriter.write(html).unwrap();
    rewriter.end().unwrap();
}

/// lol_html with the selector set a straightforward implementation of RULES §2 registers
/// (one selector per element/attribute row, `[style]`, a `style` text handler), handlers
/// empty.
pub fn floor(html: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let selectors = [
        "img[src]",
        "img[srcset]",
        "img[data-src]",
        "img[data-srcset]",
        "source[src]",
        "source[srcset]",
        "source[data-srcset]",
        "link[href]",
        "link[imagesrcset]",
        "script[src]",
        "video[poster]",
        "video[src]",
        "audio[src]",
        "track[src]",
        "embed[src]",
        "object[data]",
        "input[src]",
        "body[background]",
        "table[background]",
        "td[background]",
        "th[background]",
        "tr[background]",
        "image",
        "feimage",
        "use",
        "meta[content]",
        "[style]",
        "noscript",
    ];
    let mut settings =
        Settings::new().append_element_content_handler(text!("style", |_t: &mut TextChunk| Ok(())));
    for selector in selectors {
        settings =
            settings.append_element_content_handler(element!(selector, |_el: &mut Element| Ok(())));
    }
    let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
    rewriter.write(html).unwrap();
    rewriter.end().unwrap();
}

/// lol_html with one element selector per name of `names` (every element when `None`),
/// handlers empty and output collected: what lol_html alone costs for the selectors
/// cachebust registers on a page ([`cachebust::Buster::handled_elements`]).
pub fn selectors(html: &[u8], names: Option<&[String]>, out: &mut Vec<u8>) {
    out.clear();
    let list = names.map_or("*".to_string(), |names| names.join(","));
    let mut settings = Settings::new();
    if !list.is_empty() {
        settings = settings
            .append_element_content_handler(element!(list.as_str(), |_el: &mut Element| Ok(())));
    }
    let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
    rewriter.write(html).unwrap();
    rewriter.end().unwrap();
}

/// The naive baseline users write by hand: one regex pass over `src=`, `srcset=`, `href=`,
/// `poster=`, `content=` and `url(`, with a hash-map lookup.
pub struct RegexRewriter {
    pattern: regex::Regex,
    versions: HashMap<String, String>,
}

impl RegexRewriter {
    pub fn new(manifest_json: &str) -> Self {
        RegexRewriter {
            pattern: regex::Regex::new(r#"(?:(?:src|srcset|href|poster|content)=["']([^"']+)["']|url\(['"]?([^'")]+)['"]?\))"#).unwrap(),
            versions: serde_json::from_str(manifest_json).unwrap(),
        }
    }

    pub fn rewrite(&self, html: &str) -> String {
        self.pattern
            .replace_all(html, |caps: &regex::Captures| {
                let whole = &caps[0];
                let url = caps.get(1).or(caps.get(2)).unwrap();
                let mut out = String::with_capacity(whole.len() + 16);
                let start = url.start() - caps.get(0).unwrap().start();
                out.push_str(&whole[..start]);
                for (n, part) in url.as_str().split(", ").enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    let (path, rest) = part.split_once(' ').map_or((part, ""), |(p, r)| (p, r));
                    out.push_str(path);
                    if let Some(v) = self.versions.get(path) {
                        out.push_str("?vh=");
                        out.push_str(v);
                    }
                    if !rest.is_empty() {
                        out.push(' ');
                        out.push_str(rest);
                    }
                }
                out.push_str(&whole[start + url.len()..]);
                out
            })
            .into_owned()
    }
}
