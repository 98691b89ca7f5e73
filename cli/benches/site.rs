//! The whole site: `cargo bench -p cachebust-cli --bench site` generates a site of 2,000
//! pages and 10,000 assets (8,000 images, 2,000 stylesheets with `url()`s, a fifth of
//! them importing another) and times `cachebust rewrite SITE --hash SITE --out OUT` three
//! ways, best of 5 runs each, interleaved, into a fresh output directory every time:
//!
//! - `images`: `--include '**/*.png'`, the images hashed and no stylesheet versioned (what
//!   `--hash` did before versions cascaded; the stylesheets are still rewritten);
//! - `cascade`: every asset, stylesheets versioned by their rewritten bytes in order;
//! - `rename`: the cascade with renamed copies written beside every asset.
//!
//! and prints `cascade/images=` (target 1.3) and `rename/images=` (target 1.6). The site
//! lives in memory (`/dev/shm`) where there is one, so that the disk's writeback does not
//! decide the figures.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PAGES: usize = 2000;
const IMAGES: usize = 8000;
const SHEETS: usize = 2000;
const RUNS: usize = 5;

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn generate(site: &Path) {
    for i in 0..IMAGES {
        // 4-12 KiB of bytes that differ from image to image.
        let size = 4096 + (i * 7919) % 8192;
        let bytes: Vec<u8> = (0..size).map(|n| ((n * 31 + i * 17) % 251) as u8).collect();
        write(&site.join(format!("img/{}/i{i}.png", i % 80)), bytes);
    }
    for s in 0..SHEETS {
        let mut css = String::new();
        if s % 5 == 1 {
            // Imports one of the stylesheets before it: chains a few levels deep.
            writeln!(css, "@import url(\"../{}/s{}.css\");", (s - 1) % 20, s - 1).unwrap();
        }
        for r in 0..6 {
            let image = (s * 13 + r * 101) % IMAGES;
            writeln!(
                css,
                ".c{s}-{r} {{ background: url(../../img/{}/i{image}.png) no-repeat; margin: {r}px; }}",
                image % 80
            )
            .unwrap();
        }
        css.push_str(&"/* padding so a stylesheet weighs what a small one does */\n".repeat(20));
        write(&site.join(format!("css/{}/s{s}.css", s % 20)), css);
    }
    for p in 0..PAGES {
        let mut html = String::from("<!doctype html><html><head><meta charset=utf-8>");
        for k in 0..2 {
            let s = (p * 3 + k * 7) % SHEETS;
            write!(html, "<link rel=stylesheet href=/css/{}/s{s}.css>", s % 20).unwrap();
        }
        html.push_str("</head><body>");
        for k in 0..8 {
            let image = (p * 11 + k * 997) % IMAGES;
            write!(
                html,
                "<p>{}</p><img src=/img/{}/i{image}.png alt=\"\">",
                "Text between the images of a page. ".repeat(30),
                image % 80
            )
            .unwrap();
        }
        html.push_str("</body></html>\n");
        write(&site.join(format!("p/{}/page{p}.html", p % 50)), html);
    }
}

fn run(site: &Path, out: &Path, extra: &[&str]) -> Duration {
    let _ = std::fs::remove_dir_all(out);
    let started = Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_cachebust"))
        .arg("rewrite")
        .arg(site)
        .arg("--hash")
        .arg(site)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .status()
        .unwrap();
    let elapsed = started.elapsed();
    assert!(status.success());
    elapsed
}

fn main() {
    // In memory where the machine has it (/dev/shm): on a disk, the writeback of one run's
    // files lands in the next run's time, and the figures move by 2x from run to run.
    let dir = if Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let site = dir.path().join("site");
    generate(&site);
    let out = dir.path().join("out");
    let ways: [(&str, &[&str]); 3] = [
        ("images", &["--include", "**/*.png"]),
        ("cascade", &[]),
        ("rename", &["--rename"]),
    ];
    let mut best = [Duration::MAX; 3];
    for _ in 0..RUNS {
        for (n, (_, extra)) in ways.iter().enumerate() {
            best[n] = best[n].min(run(&site, &out, extra));
        }
    }
    println!(
        "site: {PAGES} pages, {IMAGES} images, {SHEETS} stylesheets; best of {RUNS} runs, --out into a fresh directory"
    );
    for (n, (name, _)) in ways.iter().enumerate() {
        println!("{name:<8} {:>8.3} s", best[n].as_secs_f64());
    }
    let ratio = |n: usize| best[n].as_secs_f64() / best[0].as_secs_f64();
    println!(
        "ratios: cascade/images={:.2} (target 1.3) rename/images={:.2} (target 1.6)",
        ratio(1),
        ratio(2)
    );
}
