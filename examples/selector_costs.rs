//! How much lol_html's own work costs for several selector sets on the stress page (a tool
//! for choosing selectors): `cargo run --release --example selector_costs`.

#[path = "../benches/support/mod.rs"]
mod support;

use lol_html::html_content::Element;
use lol_html::{HtmlRewriter, Settings, element};
use std::time::Instant;

fn run(html: &[u8], selectors: &[&str]) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut out = Vec::with_capacity(html.len());
        let mut settings = Settings::new();
        for selector in selectors {
            settings = settings
                .append_element_content_handler(element!(*selector, |_el: &mut Element| Ok(())));
        }
        let t = Instant::now();
        let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| out.extend_from_slice(c));
        rewriter.write(html).unwrap();
        rewriter.end().unwrap();
        best = best.min(t.elapsed().as_secs_f64());
    }
    html.len() as f64 / 1048576.0 / best
}

fn main() {
    let page = support::stress_page(10 << 20);
    let html = page.html.as_bytes();
    let tags = [
        "img", "source", "link", "script", "video", "audio", "track", "embed", "object", "input",
        "body", "table", "td", "th", "tr", "image", "feimage", "use", "meta", "style", "noscript",
        "base",
    ];
    for (name, set) in [
        ("none", vec![]),
        ("tags", tags.to_vec()),
        ("[style]", vec!["[style]"]),
        ("tags+[style]", [&tags[..], &["[style]"]].concat()),
        ("tags+div[style]", [&tags[..], &["div[style]"]].concat()),
        ("*", vec!["*"]),
    ] {
        println!("{name:16} {:8.1} MiB/s", run(html, &set));
    }
}
