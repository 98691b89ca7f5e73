//! Throughput of the full rewrite against lol_html itself, on generated pages, and peak RSS
//! while streaming a 1 GiB page: `cargo run --release --example throughput`.
//!
//! Prints MiB/s for each variant on the stress page, then
//! `ratios: full/passthrough=X full/floor=Y full/regex=Z`, `ratios-plain: full/passthrough=X`
//! for a typical page with no styles (with what lol_html alone costs there with type
//! selectors for the elements cachebust reads, which it finds without them, and with one
//! selector that matches nothing), and `peak_rss_mib=N`.

#[path = "../benches/support/mod.rs"]
mod support;

use cachebust::{Builder, Buster, Manifest};
use std::time::{Duration, Instant};

/// The best of several timed runs of `f` over `bytes` input bytes, in MiB/s.
fn mib_per_s(bytes: usize, budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut best = Duration::MAX;
    let start = Instant::now();
    let mut runs = 0;
    while runs < 3 || (start.elapsed() < budget && runs < 50) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        runs += 1;
    }
    bytes as f64 / (1024.0 * 1024.0) / best.as_secs_f64()
}

fn buster(manifest_json: &str) -> Buster {
    Builder::new(Manifest::from_json(manifest_json).unwrap())
        .with_page_url("https://shop.example.com/kategorie/")
        .build()
        .unwrap()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
        })
        .unwrap_or(0)
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--stream") {
        return stream();
    }
    let budget = Duration::from_secs(3);
    let stress = support::stress_page(10 << 20);
    let html = stress.html.as_bytes();
    let full = buster(&stress.manifest_json);
    let regex = support::RegexRewriter::new(&stress.manifest_json);
    let mut out = Vec::with_capacity(html.len() * 2);
    println!("stress page: {:.1} MiB", html.len() as f64 / 1048576.0);
    let passthrough = mib_per_s(html.len(), budget, || support::passthrough(html, &mut out));
    let floor = mib_per_s(html.len(), budget, || support::floor(html, &mut out));
    let handled = full.handled_elements(html);
    let planned = mib_per_s(html.len(), budget, || {
        support::selectors(html, handled.as_deref(), &mut out)
    });
    // Like the passthrough, into one reused buffer.
    let cachebust = mib_per_s(html.len(), budget, || {
        out.clear();
        std::hint::black_box(full.rewrite_to(html, &mut out));
    });
    let naive = mib_per_s(html.len(), budget, || {
        std::hint::black_box(regex.rewrite(&stress.html));
    });
    println!("passthrough {passthrough:8.1} MiB/s");
    println!("floor       {floor:8.1} MiB/s");
    println!(
        "planned     {planned:8.1} MiB/s  (lol_html with selectors for the elements cachebust reads here: {}, handlers empty)",
        handled
            .as_ref()
            .map_or("*".to_string(), |names| names.join(","))
    );
    println!("full        {cachebust:8.1} MiB/s");
    println!("regex       {naive:8.1} MiB/s");
    println!(
        "ratios: full/passthrough={:.2} full/floor={:.2} full/regex={:.2}",
        cachebust / passthrough,
        cachebust / floor,
        cachebust / naive
    );
    println!(
        "ratios-planned: planned/passthrough={:.2} full/planned={:.2}",
        planned / passthrough,
        cachebust / planned
    );

    let plain = support::typical_page(100 << 10);
    let plain_buster = buster(&plain.manifest_json);
    let plain_passthrough = mib_per_s(plain.html.len(), budget, || {
        support::passthrough(plain.html.as_bytes(), &mut out)
    });
    let plain_full = mib_per_s(plain.html.len(), budget, || {
        out.clear();
        std::hint::black_box(plain_buster.rewrite_to(plain.html.as_bytes(), &mut out));
    });
    let plain_handled = plain_buster.handled_elements(plain.html.as_bytes());
    let plain_planned = mib_per_s(plain.html.len(), budget, || {
        support::selectors(plain.html.as_bytes(), plain_handled.as_deref(), &mut out)
    });
    // What any element handler at all costs lol_html: one selector no element matches.
    let nothing = ["x-matches-nothing".to_string()];
    let plain_nothing = mib_per_s(plain.html.len(), budget, || {
        support::selectors(plain.html.as_bytes(), Some(&nothing), &mut out)
    });
    println!(
        "typical page: passthrough {plain_passthrough:.1} MiB/s, one selector matching nothing {plain_nothing:.1} MiB/s, planned {plain_planned:.1} MiB/s ({}), full {plain_full:.1} MiB/s",
        plain_handled
            .as_ref()
            .map_or("*".to_string(), |names| names.join(","))
    );
    println!(
        "ratios-plain: full/passthrough={:.2} planned/passthrough={:.2} nothing/passthrough={:.2}",
        plain_full / plain_passthrough,
        plain_planned / plain_passthrough,
        plain_nothing / plain_passthrough
    );

    // Peak RSS is measured in a process of its own, so that the pages above do not count.
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--stream")
        .output()
        .expect("running the streaming measurement");
    print!("{}", String::from_utf8_lossy(&child.stdout));
    assert!(
        child.status.success(),
        "{}",
        String::from_utf8_lossy(&child.stderr)
    );
}

/// Streams a 1 GiB page (a 1 MiB stress page repeated) through the rewriter in 64 KiB
/// chunks, and prints the peak RSS.
fn stream() {
    let stress = support::stress_page(1 << 20);
    let full = buster(&stress.manifest_json);
    let unit = stress.html.as_bytes();
    let chunk = 64 << 10;
    let mut written = 0u64;
    let mut rewriter = full.rewriter(|c: &[u8]| written += c.len() as u64);
    let mut fed = 0usize;
    let total = 1usize << 30;
    while fed < total {
        let at = fed % unit.len();
        let end = (at + chunk).min(unit.len());
        rewriter.write(&unit[at..end]);
        fed += end - at;
    }
    let report = rewriter.end();
    assert!(report.bail_out.is_none(), "{report:?}");
    println!(
        "streamed {} MiB, {} references rewritten",
        fed >> 20,
        report.rewritten
    );
    println!("peak_rss_mib={}", peak_rss_kib() / 1024);
}
