//! Pages too large to hold stream through `rewrite` (README guarantee 6): `rewrite -` and
//! `rewrite FILE` (in place, and into `--out`) keep a bounded peak RSS, measured from the
//! child's `/proc/PID/status`, and write what a whole-document rewrite writes.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const SNIPPET: &str = "<div class=p><img src=/img/a.png srcset=\"/img/a.png 1x, /img/b.png 2x\" alt=x><p style=\"background:url(/img/b.png)\">text text text</p></div>\n";
const REWRITTEN: &str = "<div class=p><img src=\"/img/a.png?vh=1\" srcset=\"/img/a.png?vh=1 1x, /img/b.png?vh=2 2x\" alt=x><p style=\"background:url(/img/b.png?vh=2)\">text text text</p></div>\n";

/// Runs the binary with `args` (stdin from `input` when given, stdout to `output`), and
/// returns its peak RSS in MiB, read while it runs.
fn peak_rss(args: &[&std::ffi::OsStr], input: Option<(usize, &str)>, output: Option<&Path>) -> u64 {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(match output {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        })
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let watcher = std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
            if status.contains("State:\tZ") {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        peak / 1024
    });
    if let Some((times, snippet)) = input {
        let mut stdin = child.stdin.take().unwrap();
        let block = snippet.repeat(1024);
        for _ in 0..times / 1024 {
            stdin.write_all(block.as_bytes()).unwrap();
        }
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{stderr}");
    watcher.join().unwrap()
}

fn run_large(times: usize, limit_mib: u64) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("v.json");
    std::fs::write(&manifest, r#"{"/img/a.png": "1", "/img/b.png": "2"}"#).unwrap();
    // Standard input to standard output.
    let out = dir.path().join("stdout.html");
    let peak = peak_rss(
        &[
            "rewrite".as_ref(),
            "-".as_ref(),
            "-m".as_ref(),
            manifest.as_os_str(),
            "-q".as_ref(),
        ],
        Some((times, SNIPPET)),
        Some(&out),
    );
    eprintln!(
        "rewrite - of {} MiB: peak RSS {peak} MiB",
        (times * SNIPPET.len()) >> 20
    );
    assert!(peak <= limit_mib, "rewrite -: peak RSS {peak} MiB");
    check_output(&out, times);
    // A file, into --out and in place.
    let site = dir.path().join("site");
    std::fs::create_dir(&site).unwrap();
    let page = site.join("big.html");
    std::fs::rename(&out, &page).unwrap();
    // The page now holds versions: put the original back so that something changes.
    {
        let mut file = std::fs::File::create(&page).unwrap();
        let block = SNIPPET.repeat(1024);
        for _ in 0..times / 1024 {
            file.write_all(block.as_bytes()).unwrap();
        }
    }
    let target = dir.path().join("out");
    let peak = peak_rss(
        &[
            "rewrite".as_ref(),
            site.as_os_str(),
            "-m".as_ref(),
            manifest.as_os_str(),
            "--out".as_ref(),
            target.as_os_str(),
            "-q".as_ref(),
        ],
        None,
        None,
    );
    eprintln!("rewrite FILE --out: peak RSS {peak} MiB");
    assert!(peak <= limit_mib, "rewrite --out: peak RSS {peak} MiB");
    check_output(&target.join("big.html"), times);
    let peak = peak_rss(
        &[
            "rewrite".as_ref(),
            site.as_os_str(),
            "-m".as_ref(),
            manifest.as_os_str(),
            "-q".as_ref(),
        ],
        None,
        None,
    );
    assert!(peak <= limit_mib, "rewrite in place: peak RSS {peak} MiB");
    check_output(&page, times);
}

/// The output is the rewritten snippet `times` times, read in pieces.
fn check_output(path: &Path, times: usize) {
    let mut file = std::fs::File::open(path).unwrap();
    assert_eq!(
        file.metadata().unwrap().len() as usize,
        REWRITTEN.len() * times
    );
    let block = REWRITTEN.repeat(1024);
    let mut buf = vec![0u8; block.len()];
    for _ in 0..times / 1024 {
        file.read_exact(&mut buf).unwrap();
        assert_eq!(buf, block.as_bytes());
    }
}

/// A 24 MiB page (past the 16 MiB read whole) in bounded memory.
#[test]
fn a_large_page_streams_through_rewrite_in_bounded_memory() {
    run_large(24 * 1024 * 1024 / SNIPPET.len() / 1024 * 1024, 64);
}

/// 1 GiB: `.ci/run` runs it in a release build (`--ignored`).
#[test]
#[ignore]
fn a_gigabyte_page_streams_through_rewrite_in_bounded_memory() {
    run_large((1usize << 30) / SNIPPET.len() / 1024 * 1024, 64);
}
