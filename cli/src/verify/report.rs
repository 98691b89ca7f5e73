//! What `verify` found, each finding with what to do about it; printed for a person or as
//! JSON.

use super::Checked;
use super::cache::Seen;
use cachebust::Reference;
use serde::Serialize;
use serde_json::json;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A page the sitemap or list names does not answer 2xx.
    PageStatus,
    /// A reference the manifest versions carries no version.
    Unversioned,
    /// A reference carries another version than the manifest's.
    Outdated,
    /// A versioned URL does not answer 2xx.
    AssetStatus,
    /// A versioned URL answers bytes whose hash is not its version.
    StaleBytes,
    /// A host's cache answers a never-used version from its cache.
    QueryIgnored,
}

impl Kind {
    fn title(self) -> &'static str {
        match self {
            Kind::PageStatus => "page not served",
            Kind::Unversioned => "no version",
            Kind::Outdated => "old version",
            Kind::AssetStatus => "asset not served",
            Kind::StaleBytes => "old bytes under a new URL",
            Kind::QueryIgnored => "cache ignores the version",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// The URL at fault (a reference's, an asset's, a host's).
    pub url: String,
    /// The page (or stylesheet) it was found on.
    pub page: Option<String>,
    pub detail: String,
    pub remedy: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// A never-used version came from the cache: the query is not in the cache key.
    IgnoresQuery,
    /// A never-used version missed, then hit: the cache keys on the query.
    KeysOnQuery,
    /// No cache said it answered (no cache, or one that does not say).
    NoCacheSeen,
}

/// What the probes said of one host's cache.
#[derive(Debug, Clone, Serialize)]
pub struct HostCache {
    pub host: String,
    pub verdict: Verdict,
    /// The URL asked for with a never-used version.
    pub probe: String,
    /// The header that told (`X-Cache-Status: HIT`).
    pub evidence: Option<String>,
}

const REDEPLOY_PAGES: &str = "The page served was not rewritten by this manifest: run cachebust in the build that \
     deployed it, or the page is a cached copy older than the assets (purge the page, or let its cache lifetime run \
     out; keep pages' lifetimes short, assets' long).";
const OLDER_PAGE: &str = "The page served is older than the manifest (a cached page, or a manifest newer than the \
     deploy): purge the page or wait out its cache lifetime, and deploy the manifest with the pages it versioned.";
const MISSING_ASSET: &str = "The versioned URL is not served: the asset was not deployed (or is served under another \
     path). Deploy assets before the pages that reference them, and keep the previous versions' files a while.";
const STALE: &str = "A cache serves old bytes under the new URL: it stored this URL before the new file reached the \
     origin (deploy assets before pages), or its key ignores the version (see below). Purge this URL once \
     (`cachebust purge`, or the CDN's invalidation).";
const IGNORED: &str = "The cache key leaves out the query string, so every new `?vh=` is answered with the old bytes. \
     Put the query string (or just the version parameter) in the cache key: CloudFront: a cache policy whose query \
     strings setting is All (or includes vh); Cloudflare: a cache rule whose cache key includes the query string; \
     nginx: proxy_cache_key with $request_uri (or $arg_vh); Varnish/Fastly: do not strip the query in vcl_recv. \
     Or version in the path, which every cache keys on: `cachebust rewrite --rename` (renamed copies) or Optimole's \
     `cb:` tokens.";
const PAGE_STATUS: &str =
    "The page does not answer 200: check the sitemap or list, or the deploy of that page.";

pub fn page_status(page: &Url, status: u16) -> Finding {
    Finding {
        kind: Kind::PageStatus,
        url: page.to_string(),
        page: None,
        detail: format!("the page answered HTTP {status}"),
        remedy: PAGE_STATUS,
    }
}

pub fn unversioned(on: &Url, reference: &Reference, version: &str) -> Finding {
    let due = if version.starts_with('/') {
        format!("the manifest renames it to {version}")
    } else {
        format!("the manifest's version is {version}")
    };
    Finding {
        kind: Kind::Unversioned,
        url: url_of(reference),
        page: Some(on.to_string()),
        detail: format!("{:?} carries no version; {due}", reference.text),
        remedy: REDEPLOY_PAGES,
    }
}

pub fn outdated(on: &Url, reference: &Reference, carried: &str, version: &str) -> Finding {
    Finding {
        kind: Kind::Outdated,
        url: url_of(reference),
        page: Some(on.to_string()),
        detail: format!(
            "{:?} carries {carried}; the manifest's is {version}",
            reference.text
        ),
        remedy: OLDER_PAGE,
    }
}

pub fn asset_status(url: &Url, on: &Url, status: u16, seen: &Seen) -> Finding {
    Finding {
        kind: Kind::AssetStatus,
        url: url.to_string(),
        page: Some(on.to_string()),
        detail: format!("answered HTTP {status}{}", told(seen.evidence.as_deref())),
        remedy: MISSING_ASSET,
    }
}

pub fn stale_bytes(url: &Url, on: &Url, expected: &str, got: &str, seen: &Seen) -> Finding {
    Finding {
        kind: Kind::StaleBytes,
        url: url.to_string(),
        page: Some(on.to_string()),
        detail: format!(
            "its bytes hash to {got}, not {expected}{}",
            told(seen.evidence.as_deref())
        ),
        remedy: STALE,
    }
}

pub fn query_ignored(cache: &HostCache) -> Finding {
    Finding {
        kind: Kind::QueryIgnored,
        url: cache.probe.clone(),
        page: None,
        detail: format!(
            "{} answered a version never asked for before from its cache{}",
            cache.host,
            told(cache.evidence.as_deref())
        ),
        remedy: IGNORED,
    }
}

/// ` (X-Cache: Hit from cloudfront)`: the header that told, when one did.
fn told(evidence: Option<&str>) -> String {
    evidence.map(|e| format!(" ({e})")).unwrap_or_default()
}

fn url_of(reference: &Reference) -> String {
    reference
        .url
        .as_ref()
        .map_or_else(|| reference.text.clone(), Url::to_string)
}

impl Checked {
    /// 0 nothing found, 1 findings, 2 errors.
    pub fn exit_code(&self) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if !self.findings.is_empty() {
            1
        } else {
            0
        }
    }

    pub fn human(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            out.push_str(&format!("{}: {}\n", finding.kind.title(), finding.url));
            if let Some(page) = &finding.page {
                out.push_str(&format!("  on {page}\n"));
            }
            out.push_str(&wrap(&finding.detail, "  ", "    "));
            out.push_str(&wrap(&format!("fix: {}", finding.remedy), "  ", "    "));
        }
        for error in &self.errors {
            out.push_str(&format!("error: {error}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        for host in &self.hosts {
            let said = match host.verdict {
                Verdict::IgnoresQuery => "its cache ignores the version (see above)",
                Verdict::KeysOnQuery => "its cache keys on the version",
                Verdict::NoCacheSeen => "no cache said it answered (nothing to ignore the version)",
            };
            out.push_str(&format!(
                "cache: {}: {said}{}\n",
                host.host,
                told(host.evidence.as_deref())
            ));
        }
        let hashed = if self.content_hashed {
            format!(", {} hashed", self.hashed)
        } else {
            ", not hashed (the versions are not cachebust's content hashes)".to_owned()
        };
        out.push_str(&format!(
            "cachebust verify: {} pages, {} references, {} assets fetched{hashed}, {} hosts probed, {} requests: {} findings, {} errors\n",
            self.pages,
            self.references,
            self.assets,
            self.hosts.len(),
            self.requests,
            self.findings.len(),
            self.errors.len()
        ));
        out
    }

    pub fn json(&self) -> anyhow::Result<String> {
        let value = json!({
            "pages": self.pages,
            "references": self.references,
            "assets": self.assets,
            "hashed": self.hashed,
            "content_hashed": self.content_hashed,
            "requests": self.requests,
            "findings": self.findings,
            "errors": self.errors,
            "notes": self.notes,
            "hosts": self.hosts,
        });
        Ok(serde_json::to_string_pretty(&value)? + "\n")
    }
}

/// Terminal-friendly lines: `text` broken at spaces before 100 columns, the first line
/// after `first`, the others after `rest`. A word longer than a line (a URL) stands alone.
fn wrap(text: &str, first: &str, rest: &str) -> String {
    const WIDTH: usize = 100;
    let mut out = String::from(first);
    let mut column = first.len();
    let mut line_empty = true;
    for word in text.split(' ') {
        if !line_empty && column + 1 + word.len() > WIDTH {
            out.push('\n');
            out.push_str(rest);
            column = rest.len();
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += word.len();
        line_empty = false;
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_keeps_every_word() {
        let text = "word ".repeat(60);
        let wrapped = wrap(text.trim_end(), "  ", "    ");
        assert!(wrapped.lines().all(|l| l.len() <= 100), "{wrapped}");
        assert!(wrapped.lines().skip(1).all(|l| l.starts_with("    word")));
        assert_eq!(wrapped.split_whitespace().count(), 60);
        let long = format!("see {}", "x".repeat(150));
        assert_eq!(
            wrap(&long, "", "  "),
            format!("see\n  {}\n", "x".repeat(150))
        );
    }
}
