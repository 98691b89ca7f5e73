//! What the targets share: a small manifest and configuration built from fuzz input, and
//! the checks of SPEC §6.
#![allow(dead_code)]

use arbitrary::Arbitrary;
use cachebust::{Builder, Buster, Manifest};

const PATHS: [&str; 8] = [
    "/a.png",
    "/img/b.jpg",
    "/x y.png",
    "/caf%C3%A9.png",
    "/d/e/",
    "/s.css",
    "/",
    "/a,b.png",
];
const HOSTS: [&str; 4] = [
    "https://cdn.example.com",
    "//sample.li",
    "https://example.com",
    "http://h:8080",
];
const VERSIONS: [&str; 5] = ["v1", "3f9a", "a.b-c_d~e", "0", "Z"];

/// A manifest and settings picked by the fuzzer from valid parts.
#[derive(Debug, Arbitrary)]
pub struct Config {
    entries: Vec<(u8, u8, u8)>,
    global: Option<u8>,
    page: u8,
    param: bool,
}

impl Config {
    pub fn buster(&self) -> Buster {
        let mut manifest = Manifest::new();
        for &(host, path, version) in self.entries.iter().take(12) {
            let path = PATHS[path as usize % PATHS.len()];
            let key = match host % 5 {
                4 => path.to_owned(),
                h => format!("{}{path}", HOSTS[h as usize]),
            };
            let _ = manifest.insert(&key, VERSIONS[version as usize % VERSIONS.len()]);
        }
        let mut builder = Builder::new(manifest);
        if let Some(g) = self.global {
            builder = builder.with_global_version(VERSIONS[g as usize % VERSIONS.len()]);
        }
        if self.page % 2 == 1 {
            builder = builder.with_page_url("https://example.com/dir/page.html");
        }
        if self.param {
            builder = builder.with_param("v");
        }
        builder.build().expect("valid parts build")
    }
}

/// Streams `input` through `buster`, cutting it where `cuts` say.
pub fn chunked(buster: &Buster, input: &[u8], cuts: &[u8]) -> Vec<u8> {
    chunked_with_report(buster, input, cuts).0
}

/// [`chunked`], with the report.
#[allow(dead_code)]
pub fn chunked_with_report(
    buster: &Buster,
    input: &[u8],
    cuts: &[u8],
) -> (Vec<u8>, cachebust::Report) {
    let mut out = Vec::new();
    let mut rewriter = buster.rewriter(|c: &[u8]| out.extend_from_slice(c));
    let mut at = 0;
    for &cut in cuts.iter().cycle().take(input.len()) {
        if at >= input.len() {
            break;
        }
        let end = (at + 1 + cut as usize).min(input.len());
        rewriter.write(&input[at..end]);
        at = end;
    }
    rewriter.write(&input[at..]);
    let report = rewriter.end();
    (out, report)
}

/// Whether `output` is `input` with only version insertions (`?vh=V`, `&vh=V`, `&amp;vh=V`,
/// `vh=V`, `v=`, `cb:V/`) and the quotes of a re-quoted attribute added, or an existing
/// version value replaced.
pub fn only_versions_changed(input: &[u8], output: &[u8]) -> bool {
    let is_version = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-');
    // Compare with every version value and version-like insertion taken out of both.
    let strip = |bytes: &[u8]| -> Vec<u8> {
        let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            if rest.starts_with(b"cb:") {
                i += 3;
                while i < bytes.len() && is_version(bytes[i]) {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'/') {
                    i += 1;
                }
                continue;
            }
            // A query parameter `vh` or `v`, bare or with a version, and its separator.
            let after_separator =
                out.ends_with(b"?") || out.ends_with(b"&") || out.ends_with(b"&amp;");
            let name = [&b"vh"[..], b"v"].into_iter().find(|n| {
                rest.starts_with(n)
                    && !rest
                        .get(n.len())
                        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
            });
            if let (true, Some(name)) = (after_separator, name) {
                i += name.len();
                if bytes.get(i) == Some(&b'=') {
                    // The old value, whatever it held, is replaced whole.
                    i += 1;
                    let ends = |i: usize| {
                        let b = bytes[i];
                        // A comma ends a srcset URL when nothing but commas, white space or
                        // the end of the value follows it.
                        let trailing_comma = b == b','
                            && bytes[i..]
                                .iter()
                                .take_while(|&&c| {
                                    c != b'"' && c != b'\'' && !c.is_ascii_whitespace()
                                })
                                .all(|&c| c == b',');
                        b.is_ascii_whitespace()
                            || matches!(b, b'&' | b'#' | b'"' | b'\'' | b'>' | b')')
                            || trailing_comma
                    };
                    while i < bytes.len() && !ends(i) {
                        i += 1;
                    }
                }
                for sep in [&b"&amp;"[..], b"?", b"&"] {
                    if out.ends_with(sep) {
                        out.truncate(out.len() - sep.len());
                        break;
                    }
                }
                continue;
            }
            if bytes[i] != b'"' {
                out.push(bytes[i]);
            }
            i += 1;
        }
        out
    };
    // An inserted `vh=V` after a bare `?` or a trailing `&` leaves them behind: separators
    // that end a URL (an empty query, an empty last parameter) are dropped on both sides.
    let drop_empty_queries = |bytes: Vec<u8>| -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let mut j = i;
            while j < bytes.len() {
                if bytes[j..].starts_with(b"&amp;") {
                    j += 5;
                } else if matches!(bytes[j], b'?' | b'&') {
                    j += 1;
                } else {
                    break;
                }
            }
            let ends_url = bytes.get(j).is_none_or(|&n| {
                n.is_ascii_whitespace() || matches!(n, b'#' | b'\'' | b',' | b')' | b'<' | b'>')
            });
            if j > i && ends_url {
                i = j;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        out
    };
    drop_empty_queries(strip(input)) == drop_empty_queries(strip(output))
}

pub fn count(bytes: &[u8], c: u8) -> usize {
    bytes.iter().filter(|&&b| b == c).count()
}
