//! Which pages to check: a sitemap's (index files followed), a list's, or a site
//! directory's mapped to the URLs they are served at.

use super::fetch::{Fetcher, Want};
use crate::files;
use anyhow::{Context, Result, bail};
use std::collections::{HashSet, VecDeque};
use std::path::Path;
use url::Url;

/// Sitemap files read, at most (an index and its children).
const MAX_SITEMAPS: usize = 200;
/// The largest sitemap read: the protocol's limit is 50 MB uncompressed.
const MAX_SITEMAP_BYTES: usize = 50 << 20;

/// The pages of the sitemap at `sitemap`, index files followed, up to `max` in document
/// order; the problems met (a sitemap that does not answer 200, XML that does not parse).
pub async fn from_sitemap(fetcher: &Fetcher, sitemap: &Url, max: usize) -> (Vec<Url>, Vec<String>) {
    let mut pages = Vec::new();
    let mut problems = Vec::new();
    let mut seen_pages = HashSet::new();
    let mut queue = VecDeque::from([sitemap.clone()]);
    let mut seen_maps = HashSet::from([sitemap.clone()]);
    while let Some(map) = queue.pop_front() {
        if pages.len() >= max {
            break;
        }
        let fetched = match fetcher.get(&map, Want::Body(MAX_SITEMAP_BYTES)).await {
            Ok(fetched) if fetched.status.is_success() => fetched,
            Ok(fetched) => {
                problems.push(format!("sitemap {map}: HTTP {}", fetched.status.as_u16()));
                continue;
            }
            Err(e) => {
                problems.push(format!("sitemap {map}: {e}"));
                continue;
            }
        };
        let reader = sitemap::reader::SiteMapReader::new(std::io::Cursor::new(fetched.body));
        let mut entries = 0;
        for entity in reader {
            use sitemap::reader::SiteMapEntity;
            let (loc, index) = match entity {
                SiteMapEntity::Url(entry) => (entry.loc, false),
                SiteMapEntity::SiteMap(entry) => (entry.loc, true),
                SiteMapEntity::Err(e) => {
                    problems.push(format!("sitemap {map}: {e}"));
                    break;
                }
            };
            entries += 1;
            let Some(url) = loc.get_url().filter(is_http) else {
                problems.push(format!("sitemap {map}: a <loc> that is not an http(s) URL"));
                continue;
            };
            if !index {
                if pages.len() < max && seen_pages.insert(url.clone()) {
                    pages.push(url);
                }
            } else if seen_maps.len() >= MAX_SITEMAPS {
                problems.push(format!(
                    "sitemap {map}: more than {MAX_SITEMAPS} sitemaps; {url} and later ones not read"
                ));
            } else if seen_maps.insert(url.clone()) {
                queue.push_back(url);
            }
        }
        if entries == 0 {
            problems.push(format!("sitemap {map}: no <url> or <sitemap> entry"));
        }
    }
    (pages, problems)
}

fn is_http(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// The URLs of a list file: one a line, `#` comments, paths joined to `base`.
pub fn from_list(path: &Path, base: Option<&Url>, max: usize) -> Result<Vec<Url>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("--pages {}", path.display()))?;
    let mut pages = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let url = match (Url::parse(line), base) {
            (Ok(url), _) => url,
            (Err(url::ParseError::RelativeUrlWithoutBase), Some(base)) => base
                .join(line)
                .with_context(|| format!("{}:{}: {line:?}", path.display(), number + 1))?,
            (Err(url::ParseError::RelativeUrlWithoutBase), None) => bail!(
                "{}:{}: {line:?} is a path: give --base-url to say where it is served",
                path.display(),
                number + 1
            ),
            (Err(e), _) => bail!("{}:{}: {line:?}: {e}", path.display(), number + 1),
        };
        if !is_http(&url) {
            bail!(
                "{}:{}: {line:?} is not an http(s) URL",
                path.display(),
                number + 1
            );
        }
        if pages.len() < max {
            pages.push(url);
        }
    }
    Ok(pages)
}

/// The HTML pages under `dir`, as served at `base`: `a/index.html` is `base/a/`, the URL
/// visitors (and caches) know it by.
pub fn from_directory(dir: &Path, base: &Url, max: usize) -> Result<Vec<Url>> {
    if !dir.is_dir() {
        bail!("{}: not a directory (or a URL)", dir.display());
    }
    let mut found = files::Found::default();
    files::find(dir, None, &mut found);
    if let Some(problem) = found.problems.first() {
        bail!("{problem}");
    }
    let mut relative: Vec<_> = found
        .pages
        .into_iter()
        .filter(|p| !p.stylesheet)
        .map(|p| p.relative)
        .collect();
    relative.sort();
    Ok(relative
        .iter()
        .take(max)
        .map(|rel| {
            let mut url = crate::rewrite::page_url(base, rel);
            if url.path().ends_with("/index.html") {
                let path = url.path().trim_end_matches("index.html").to_owned();
                url.set_path(&path);
            }
            url
        })
        .collect())
}
