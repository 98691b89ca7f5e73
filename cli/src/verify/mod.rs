//! `cachebust verify`: checks a deployed site over HTTP against its manifest.
//!
//! 1. **Pages** come from a sitemap (index files followed), a list of URLs, or a site
//!    directory mapped to the URLs it is served at; each is fetched and its references
//!    listed by the library ([`cachebust::Builder::with_reference_list`]), exactly as
//!    `rewrite` sees them.
//! 2. **References**: one the manifest versions that carries no version (a deploy that
//!    skipped cachebust, a stale cached page), or another one than the manifest's, is a
//!    finding; so is a reference to an older renamed copy.
//! 3. **Assets**: each distinct URL carrying its current version is fetched (GET: HEAD says
//!    nothing of the bytes). Not 2xx is a finding; when the versions are cachebust's content
//!    hashes (`--hash`, or a manifest all of whose versions have their shape, as `cachebust
//!    manifest` writes them), a body whose hash is not the version is one: the cache serves
//!    old bytes under the new URL. Stylesheets fetched are listed in turn, so the images
//!    only they use are checked too.
//! 4. **Caches that ignore the version**: for `--sample` assets per host versioned in the
//!    query, the asset is asked for twice with a version never used before. Answered from a
//!    cache the first time, the host's cache key leaves the query out: every new version is
//!    served the old bytes. Path styles (`cb:` tokens, renamed copies) are keyed by every
//!    cache, and checked by 3 alone.
//!
//! A page or asset that cannot be fetched (no answer in time after the retries, a refused
//! connection) is an error, not a finding: nothing was verified about it. Exit codes: 0
//! nothing found, 1 findings, 2 errors (bad flags, an unreadable manifest, a sitemap or URL
//! that could not be fetched).

mod cache;
mod fetch;
mod pages;
mod report;

use crate::args::VerifyArgs;
use crate::{cascade, manifests};
use anyhow::{Context, Result, bail};
use cachebust::{Buster, Entry, Outcome, Reference};
use fetch::{Fetched, Fetcher, Want};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::Rng;
use rand::distr::Alphanumeric;
use report::{Finding, HostCache, Kind, Verdict};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use url::Url;

/// The largest page read.
const MAX_PAGE_BYTES: usize = 32 << 20;
/// The largest stylesheet read (other assets are hashed as they stream, never held).
const MAX_STYLESHEET_BYTES: usize = 32 << 20;
const ASSET: Want = Want::Digest {
    stylesheet_limit: MAX_STYLESHEET_BYTES,
};
/// Rounds of stylesheets found in stylesheets (`@import` chains) followed.
const MAX_STYLESHEET_ROUNDS: usize = 4;

pub fn run(args: VerifyArgs) -> Result<ExitCode> {
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!("--rate must be a number of requests per second above 0");
    }
    let plan = Plan::new(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the HTTP client")?;
    let outcome = runtime.block_on(check(&args, plan))?;
    let text = match args.report {
        crate::args::ReportFormat::Human => outcome.human(),
        crate::args::ReportFormat::Json => outcome.json()?,
    };
    print!("{text}");
    Ok(ExitCode::from(outcome.exit_code()))
}

/// What to check, settled before any request: the pages' source, the buster, whether
/// bodies are hashed.
struct Plan {
    source: Source,
    buster: Buster,
    /// Versions are cachebust's content hashes: bodies are hashed against them.
    content_hashed: bool,
    /// Rename entries: an original's key to its renamed path, for older copies.
    renamed: HashMap<String, String>,
    /// The names of version parameters: `--param`'s, and Cloudimage's `vh`.
    params: Vec<String>,
}

enum Source {
    Sitemap(Url),
    Pages(Vec<Url>),
}

impl Plan {
    fn new(args: &VerifyArgs) -> Result<Self> {
        let site_url = args
            .site
            .as_deref()
            .filter(|s| s.starts_with("http://") || s.starts_with("https://"))
            .map(|s| Url::parse(s).with_context(|| format!("{s:?}")))
            .transpose()?;
        let base = match (&args.base_url, &site_url) {
            (Some(base), _) => Some(crate::rewrite::site_url(base)?),
            (None, Some(site)) => {
                let mut root = site.join("/").expect("an http URL has a root");
                manifests::as_directory(&mut root);
                Some(root)
            }
            (None, None) => None,
        };
        let site_dir = args
            .site
            .as_deref()
            .filter(|_| site_url.is_none())
            .map(std::path::PathBuf::from);
        let source = match (&site_url, &site_dir, &args.pages) {
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                bail!("give SITE or --pages FILE, not both")
            }
            (Some(site), _, None) => {
                let sitemap = if site.path().ends_with(".xml") {
                    site.clone()
                } else {
                    site.join("/sitemap.xml").expect("a path joins")
                };
                Source::Sitemap(sitemap)
            }
            (None, Some(dir), None) => {
                let Some(base) = &base else {
                    bail!(
                        "{}: a site directory needs --base-url, the URL its pages are served at",
                        dir.display()
                    );
                };
                Source::Pages(pages::from_directory(dir, base, args.max_pages)?)
            }
            (None, None, Some(list)) => {
                Source::Pages(pages::from_list(list, base.as_ref(), args.max_pages)?)
            }
            (None, None, None) => {
                bail!("nothing to verify: give a site URL, a site directory or --pages FILE")
            }
        };
        let origin = base.clone().unwrap_or_else(manifests::localhost);
        // `--hash DIR` is served where the site directory's pages are, or (no directory
        // given) at the base URL's path.
        let hashed_at = match &args.source.hash {
            Some(hash) => {
                let site = site_dir.as_ref().unwrap_or(hash);
                crate::rewrite::served_at(hash, std::slice::from_ref(site), &origin)
            }
            None => "/".to_owned(),
        };
        let manifest =
            manifests::load_served_at(&args.source, &args.rules, &origin, &hashed_at, None)?;
        let looks_hashed = manifest.iter().all(|(_, entry)| match entry {
            Entry::Version(v) => cascade::is_version(v),
            Entry::Rename(path) => cascade::version_in_copy(path).is_some(),
            _ => false,
        });
        let content_hashed = !args.no_hash_check && (args.source.hash.is_some() || looks_hashed);
        let renamed = manifest
            .iter()
            .filter_map(|(key, entry)| match entry {
                Entry::Rename(path) => Some((key.to_owned(), path.clone())),
                _ => None,
            })
            .collect();
        let buster = manifests::rules(
            cachebust::Builder::new(manifest)
                .with_page_url(origin.as_str())
                .with_reference_list(true),
            &args.rules,
        )
        .build()?;
        let mut params = vec![args.rules.param.clone()];
        if args.rules.param != "vh" {
            params.push("vh".to_owned());
        }
        Ok(Plan {
            source,
            buster,
            content_hashed,
            renamed,
            params,
        })
    }
}

/// One distinct versioned URL to fetch.
#[derive(Debug, Clone)]
struct Asset {
    /// The version it must serve (a renamed path for a copy).
    version: String,
    /// The first page (or stylesheet) it was found on.
    found_on: Url,
    /// The version parameter it carries its version in, if any (the cache probe's).
    param: Option<String>,
}

/// Everything found, for the report.
#[derive(Debug, Default)]
pub struct Checked {
    pub pages: usize,
    pub references: u64,
    pub assets: usize,
    pub hashed: usize,
    pub requests: u64,
    pub findings: Vec<Finding>,
    pub errors: Vec<String>,
    pub hosts: Vec<HostCache>,
    pub notes: Vec<String>,
    pub content_hashed: bool,
}

async fn check(args: &VerifyArgs, plan: Plan) -> Result<Checked> {
    let connector = crate::client::connector(args.ca.as_deref(), "--ca", args.timeout)?;
    let fetcher = Fetcher::new(
        connector,
        args.concurrency as usize,
        args.rate,
        args.timeout,
        args.retries,
    );
    let mut checked = Checked {
        content_hashed: plan.content_hashed,
        ..Checked::default()
    };
    let pages = match &plan.source {
        Source::Pages(pages) => pages.clone(),
        Source::Sitemap(sitemap) => {
            let (pages, problems) = pages::from_sitemap(&fetcher, sitemap, args.max_pages).await;
            checked.errors.extend(problems);
            pages
        }
    };
    if pages.is_empty() && checked.errors.is_empty() {
        checked.errors.push("no page to check".to_owned());
    }
    let progress = progress_bar(args, pages.len());
    progress.set_message("pages");
    let mut assets: BTreeMap<Url, Asset> = BTreeMap::new();
    let mut seen_findings = HashSet::new();
    let fetched_pages = fetch_all(&fetcher, &pages, Want::Body(MAX_PAGE_BYTES), &progress).await;
    for (page, result) in pages.iter().zip(fetched_pages) {
        let fetched = match result {
            Ok(fetched) => fetched,
            Err(e) => {
                checked.errors.push(format!("page {page}: {e}"));
                continue;
            }
        };
        if !fetched.status.is_success() {
            push_finding(
                &mut checked,
                &mut seen_findings,
                report::page_status(page, fetched.status.as_u16()),
            );
            continue;
        }
        let media = fetched.media_type();
        if !(media.is_empty() || media == "text/html" || media == "application/xhtml+xml") {
            checked
                .notes
                .push(format!("page {page}: {media}, not HTML: not read"));
            continue;
        }
        checked.pages += 1;
        let buster = plan
            .buster
            .for_page(fetched.url.as_str())
            .with_context(|| format!("page {}", fetched.url))?;
        let (_, listed) = buster.rewrite_bytes(&fetched.body);
        checked.references += listed.references.len() as u64;
        read_references(
            &plan,
            &fetched.url,
            &listed.references,
            &mut checked,
            &mut seen_findings,
            &mut assets,
            args.max_assets,
        );
    }

    // Assets, and the stylesheets among them read in turn.
    let mut done: HashSet<Url> = HashSet::new();
    let mut bodies_ok: Vec<Url> = Vec::new();
    for _round in 0..MAX_STYLESHEET_ROUNDS {
        let round: Vec<Url> = assets
            .keys()
            .filter(|u| !done.contains(*u))
            .cloned()
            .collect();
        if round.is_empty() {
            break;
        }
        progress.set_length(round.len() as u64);
        progress.set_position(0);
        progress.set_message("assets");
        let results = fetch_all(&fetcher, &round, ASSET, &progress).await;
        for (url, result) in round.iter().zip(results) {
            done.insert(url.clone());
            checked.assets += 1;
            let asset = assets[url].clone();
            let fetched = match result {
                Ok(fetched) => fetched,
                Err(e) => {
                    checked.errors.push(format!("asset {url}: {e}"));
                    continue;
                }
            };
            if !fetched.status.is_success() {
                let seen = cache::read(&fetched.headers);
                push_finding(
                    &mut checked,
                    &mut seen_findings,
                    report::asset_status(url, &asset.found_on, fetched.status.as_u16(), &seen),
                );
                continue;
            }
            if plan.content_hashed {
                let expected = if asset.version.starts_with('/') {
                    cascade::version_in_copy(&asset.version).map(str::to_owned)
                } else {
                    Some(asset.version.clone())
                };
                if let Some(expected) = expected.filter(|v| cascade::is_version(v)) {
                    checked.hashed += 1;
                    let digest = fetched.digest.as_ref().expect("assets are hashed");
                    let got = cascade::version_of_digest(digest);
                    if got != expected {
                        let seen = cache::read(&fetched.headers);
                        push_finding(
                            &mut checked,
                            &mut seen_findings,
                            report::stale_bytes(url, &asset.found_on, &expected, &got, &seen),
                        );
                        continue;
                    }
                }
            }
            bodies_ok.push(url.clone());
            if fetched.stylesheet {
                let buster = plan
                    .buster
                    .for_page(url.as_str())
                    .with_context(|| format!("stylesheet {url}"))?;
                let (_, listed) = buster.rewrite_css_bytes(&fetched.body);
                checked.references += listed.references.len() as u64;
                read_references(
                    &plan,
                    url,
                    &listed.references,
                    &mut checked,
                    &mut seen_findings,
                    &mut assets,
                    args.max_assets,
                );
            }
        }
    }
    let unfetched = assets.keys().filter(|u| !done.contains(*u)).count();
    if unfetched > 0 {
        checked.notes.push(format!(
            "{unfetched} assets found in stylesheets nested more than {MAX_STYLESHEET_ROUNDS} deep were not fetched"
        ));
    }

    // Caches that ignore the version.
    if args.sample > 0 {
        let mut by_host: BTreeMap<String, Vec<(Url, String)>> = BTreeMap::new();
        for url in &bodies_ok {
            let asset = &assets[url];
            let Some(param) = &asset.param else { continue };
            let host = authority(url);
            let samples = by_host.entry(host).or_default();
            if samples.len() < args.sample {
                samples.push((url.clone(), param.clone()));
            }
        }
        progress.set_length(by_host.values().map(Vec::len).sum::<usize>() as u64);
        progress.set_position(0);
        progress.set_message("cache probes");
        for (host, samples) in by_host {
            match probe_host(&fetcher, host.clone(), &samples, &progress).await {
                Ok(host_cache) => {
                    if let Verdict::IgnoresQuery = host_cache.verdict {
                        push_finding(
                            &mut checked,
                            &mut seen_findings,
                            report::query_ignored(&host_cache),
                        );
                    }
                    checked.hosts.push(host_cache);
                }
                Err(e) => checked.errors.push(format!("cache probe of {host}: {e}")),
            }
        }
    }
    progress.finish_and_clear();
    checked.requests = fetcher.sent.load(std::sync::atomic::Ordering::Relaxed);
    Ok(checked)
}

fn push_finding(
    checked: &mut Checked,
    seen: &mut HashSet<(Kind, String, String)>,
    finding: Finding,
) {
    let key = (
        finding.kind,
        finding.url.clone(),
        finding.page.clone().unwrap_or_default(),
    );
    if seen.insert(key) {
        checked.findings.push(finding);
    }
}

/// The findings among a document's references, and the versioned URLs to fetch.
fn read_references(
    plan: &Plan,
    on: &Url,
    references: &[Reference],
    checked: &mut Checked,
    seen: &mut HashSet<(Kind, String, String)>,
    assets: &mut BTreeMap<Url, Asset>,
    max_assets: usize,
) {
    for reference in references {
        let Some(url) = &reference.url else { continue };
        match reference.outcome {
            Outcome::Rewritten => {
                let Some(version) = &reference.version else {
                    continue;
                };
                let finding = match &reference.carries {
                    None => report::unversioned(on, reference, version),
                    Some(carried) => report::outdated(on, reference, carried, version),
                };
                push_finding(checked, seen, finding);
            }
            Outcome::Current => {
                let Some(version) = reference.version.clone() else {
                    continue;
                };
                let mut url = url.clone();
                url.set_fragment(None);
                if assets.contains_key(&url) {
                    continue;
                }
                if assets.len() >= max_assets {
                    let note = format!(
                        "more than {max_assets} assets: the rest not fetched (--max-assets)"
                    );
                    if !checked.notes.contains(&note) {
                        checked.notes.push(note);
                    }
                    continue;
                }
                let param = version_param(&url, &plan.params, &version);
                assets.insert(
                    url,
                    Asset {
                        version,
                        found_on: on.clone(),
                        param,
                    },
                );
            }
            Outcome::Missing => {
                // An older renamed copy: `a.<old>.png` where the manifest renames `a.png`.
                let Some(key) = &reference.key else { continue };
                let Some(original) = cascade::original_of(key) else {
                    continue;
                };
                if let Some(current) = plan.renamed.get(&original) {
                    push_finding(checked, seen, report::outdated(on, reference, key, current));
                }
            }
            _ => {}
        }
    }
}

/// The version parameter of `url` that carries `version`, if it carries it in its query.
fn version_param(url: &Url, params: &[String], version: &str) -> Option<String> {
    let query = url.query()?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (params.iter().any(|p| p == name) && value == version).then(|| name.to_owned())
    })
}

/// `url` with `param`'s value replaced by `value`, every other byte as it was.
fn with_param(url: &Url, param: &str, value: &str) -> Url {
    let query = url.query().unwrap_or_default();
    let replaced: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name == param => format!("{name}={value}"),
            _ => pair.to_owned(),
        })
        .collect();
    let mut probe = url.clone();
    probe.set_query(Some(&replaced.join("&")));
    probe
}

fn authority(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

/// Asks for each of `host`'s samples twice with a version never used; what its cache did.
async fn probe_host(
    fetcher: &Fetcher,
    host: String,
    samples: &[(Url, String)],
    progress: &ProgressBar,
) -> Result<HostCache, String> {
    let said = |verdict, probe: &Url, evidence| HostCache {
        host: host.clone(),
        verdict,
        probe: probe.to_string(),
        evidence,
    };
    let mut keys_on_query = None;
    for (url, param) in samples {
        let token: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(16)
            .map(char::from)
            .collect();
        let probe = with_param(url, param, &format!("cbverify{token}"));
        let first = fetcher.get(&probe, ASSET).await?;
        let first_seen = cache::read(&first.headers);
        if first_seen.status == cache::Status::Hit {
            progress.inc(1);
            return Ok(said(Verdict::IgnoresQuery, &probe, first_seen.evidence));
        }
        let second = fetcher.get(&probe, ASSET).await?;
        let second_seen = cache::read(&second.headers);
        progress.inc(1);
        if first_seen.status == cache::Status::Miss && second_seen.status == cache::Status::Hit {
            keys_on_query.get_or_insert(said(Verdict::KeysOnQuery, &probe, second_seen.evidence));
        }
    }
    Ok(keys_on_query.unwrap_or_else(|| said(Verdict::NoCacheSeen, &samples[0].0, None)))
}

/// Fetches every URL (in flight as `--concurrency` allows), results in `urls`' order.
async fn fetch_all(
    fetcher: &Arc<Fetcher>,
    urls: &[Url],
    want: Want,
    progress: &ProgressBar,
) -> Vec<Result<Fetched, String>> {
    let mut tasks = tokio::task::JoinSet::new();
    for (index, url) in urls.iter().enumerate() {
        let fetcher = Arc::clone(fetcher);
        let url = url.clone();
        let progress = progress.clone();
        tasks.spawn(async move {
            let result = fetcher.get(&url, want).await;
            progress.inc(1);
            (index, result)
        });
    }
    let mut results: Vec<Option<Result<Fetched, String>>> = (0..urls.len()).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    results
        .into_iter()
        .map(|r| r.expect("every task answers"))
        .collect()
}

fn progress_bar(args: &VerifyArgs, pages: usize) -> ProgressBar {
    if args.quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(pages as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").expect("static template"),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_change_only_the_version() {
        let url = Url::parse("https://cdn.example.com/a.png?w=5&vh=abc&x=%20y").unwrap();
        let probe = with_param(&url, "vh", "zzz");
        assert_eq!(
            probe.as_str(),
            "https://cdn.example.com/a.png?w=5&vh=zzz&x=%20y"
        );
        let params = ["vh".to_owned()];
        assert_eq!(version_param(&url, &params, "abc").as_deref(), Some("vh"));
        assert_eq!(version_param(&url, &params, "abd"), None);
    }
}
