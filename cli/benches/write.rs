//! What writing costs: `cargo bench -p cachebust-cli --bench write` generates a site of
//! 1,000 pages (and 1,000 images), on disk, and times, best of 5 runs each, interleaved:
//!
//! - `cp -a` of the site, then `sync` (the reference);
//! - `cachebust rewrite SITE --out OUT` into a fresh directory, then `sync`;
//! - `cachebust rewrite SITE` in place, on a fresh copy of the site (the copy not timed),
//!   then `sync`;
//!
//! and prints `out/cp=` (target 1.5) and `inplace/cp=` (target 2). The crash guarantees
//! hold throughout: see "Files are written whole" in the README.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PAGES: usize = 1000;
const RUNS: usize = 5;

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn generate(site: &Path, manifest: &Path) {
    let mut versions = String::from("{");
    for i in 0..PAGES {
        let bytes: Vec<u8> = (0..2048).map(|n| ((n * 7 + i) % 251) as u8).collect();
        write(&site.join(format!("img/{}/i{i}.png", i % 20)), bytes);
        write!(versions, "\"/img/{}/i{i}.png\": \"v{i}\",", i % 20).unwrap();
    }
    versions.push_str("\"/css/site.css\": \"c1\"}");
    write(manifest, versions);
    for p in 0..PAGES {
        let mut html = String::from(
            "<!doctype html><html><head><meta charset=utf-8><link rel=stylesheet href=/css/site.css></head><body>",
        );
        for k in 0..10 {
            let i = (p * 7 + k * 131) % PAGES;
            write!(
                html,
                "<p>{}</p><img src=/img/{}/i{i}.png alt=\"\">",
                "A paragraph of an article, long enough to weigh what text weighs. ".repeat(25),
                i % 20
            )
            .unwrap();
        }
        html.push_str("</body></html>\n");
        write(&site.join(format!("posts/{}/p{p}.html", p % 25)), html);
    }
}

fn sync() {
    Command::new("sync").status().unwrap();
}

fn timed(f: impl FnOnce()) -> Duration {
    sync();
    let started = Instant::now();
    f();
    sync();
    started.elapsed()
}

fn cp(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(from)
            .arg(to)
            .status()
            .unwrap()
            .success()
    );
}

fn cachebust(args: &[&std::ffi::OsStr]) {
    let status = Command::new(env!("CARGO_BIN_EXE_cachebust"))
        .args(args)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(status.success());
}

fn main() {
    // On disk, beside the build (not /tmp, which may be in memory): syncing is the point.
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tempfile::tempdir_in(root).unwrap();
    let site = dir.path().join("site");
    let manifest = dir.path().join("versions.json");
    generate(&site, &manifest);
    let (copy, out, place) = (
        dir.path().join("copy"),
        dir.path().join("out"),
        dir.path().join("place"),
    );
    let mut best = [Duration::MAX; 3];
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(&copy);
        best[0] = best[0].min(timed(|| cp(&site, &copy)));
        let _ = std::fs::remove_dir_all(&out);
        best[1] = best[1].min(timed(|| {
            cachebust(&[
                "rewrite".as_ref(),
                site.as_os_str(),
                "-m".as_ref(),
                manifest.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ])
        }));
        cp(&site, &place);
        best[2] = best[2].min(timed(|| {
            cachebust(&[
                "rewrite".as_ref(),
                place.as_os_str(),
                "-m".as_ref(),
                manifest.as_os_str(),
            ])
        }));
    }
    println!("write: {PAGES} pages and {PAGES} images, best of {RUNS} runs, each followed by sync");
    for (name, time) in ["cp -a", "--out", "in place"].iter().zip(best) {
        println!("{name:<9} {:>7.3} s", time.as_secs_f64());
    }
    let ratio = |n: usize| best[n].as_secs_f64() / best[0].as_secs_f64();
    println!(
        "ratios: out/cp={:.2} (target 1.5) inplace/cp={:.2} (target 2)",
        ratio(1),
        ratio(2)
    );
}
