//! When a URL cannot change: `diff` (which assets changed between two manifests), `purge`
//! (the image CDNs' invalidation requests for them) and `token` (a random cache token).

use crate::args::{DiffArgs, DiffFormat, Provider, PurgeArgs, TokenArgs};
use crate::manifests;
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use cachebust::{Diff, Manifest};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use std::process::ExitCode;
use url::Url;

/// The most assets Optimole takes in one request.
pub const OPTIMOLE_BATCH: usize = 100;

/// `cachebust token`: a random URL-safe token, usable as a version or a `cb:` token.
pub fn token(args: TokenArgs) -> Result<ExitCode> {
    if !(1..=cachebust::manifest::MAX_VERSION_LEN).contains(&args.length) {
        bail!(
            "--length must be from 1 to {}",
            cachebust::manifest::MAX_VERSION_LEN
        );
    }
    let token: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(args.length)
        .map(char::from)
        .collect();
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

/// Loads the two manifests and what changed between them, as absolute URLs.
fn changes(
    old: &std::path::Path,
    new: &std::path::Path,
    base: &str,
    format: Option<&str>,
    prefix: Option<&str>,
) -> Result<(Diff, Url)> {
    let base = Url::parse(base).with_context(|| format!("--base-url {base:?}"))?;
    let load = |path: &std::path::Path| -> Result<Manifest> {
        manifests::load(
            &crate::args::ManifestSource {
                manifests: vec![path.to_owned()],
                manifest_format: format.map(str::to_owned),
                manifest_prefix: prefix.map(str::to_owned),
                hash: None,
                include: Vec::new(),
                exclude: Vec::new(),
            },
            &manifests::default_rules(),
        )
    };
    let (old, new) = (load(old)?, load(new)?);
    let diff = old.diff(&new);
    let absolute = |keys: Vec<String>| -> Vec<String> {
        let mut urls: Vec<String> = keys
            .iter()
            .filter_map(|k| base.join(k).ok())
            .map(String::from)
            .collect();
        urls.sort();
        urls
    };
    Ok((
        Diff {
            added: absolute(diff.added),
            changed: absolute(diff.changed),
            removed: absolute(diff.removed),
        },
        base,
    ))
}

/// `cachebust diff OLD NEW`.
pub fn diff(args: DiffArgs) -> Result<ExitCode> {
    let (diff, _) = changes(
        &args.old,
        &args.new,
        &args.base_url,
        args.manifest_format.as_deref(),
        args.manifest_prefix.as_deref(),
    )?;
    match args.format {
        DiffFormat::Json => println!("{}", serde_json::to_string_pretty(&diff)?),
        DiffFormat::List => {
            for (mark, urls) in [
                ("added", &diff.added),
                ("changed", &diff.changed),
                ("removed", &diff.removed),
            ] {
                for url in urls {
                    println!("{mark}\t{url}");
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One HTTP request to a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// The assets it invalidates (empty for `all` and `domain`).
    pub assets: Vec<String>,
}

impl Call {
    /// The request as one JSON line, the key masked.
    fn dry_run_line(&self) -> String {
        let headers: serde_json::Map<String, Value> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = name.eq_ignore_ascii_case("x-client-key")
                    || name.eq_ignore_ascii_case("authorization");
                let shown = if secret { mask(value) } else { value.clone() };
                (name.clone(), Value::String(shown))
            })
            .collect();
        json!({"method": "POST", "url": self.url, "headers": headers, "body": self.body})
            .to_string()
    }
}

fn mask(value: &str) -> String {
    match value.strip_prefix("Bearer ") {
        Some(_) => "Bearer ********".into(),
        None => "********".into(),
    }
}

/// The URL Cloudimage wants for an origin asset: without a query, the origin prefix
/// stripped or the alias put in where configured, `/v7/` in front for older tokens.
pub fn cloudimage_url(
    asset: &str,
    v7: bool,
    aliases: &[(String, String)],
    prefix: Option<&str>,
) -> String {
    let bare = asset.split(['?', '#']).next().unwrap_or(asset);
    let mut form = bare.to_owned();
    if let Some(rest) = prefix.and_then(|p| bare.strip_prefix(p.trim_end_matches('/'))) {
        form = rest.trim_start_matches('/').to_owned();
    } else if let Some((name, rest)) = aliases
        .iter()
        .find_map(|(name, origin)| Some((name, bare.strip_prefix(origin.trim_end_matches('/'))?)))
    {
        form = format!(
            "_{}_/{}",
            name.trim_matches('_'),
            rest.trim_start_matches('/')
        );
    }
    if v7 { format!("/v7/{form}") } else { form }
}

/// The requests a purge makes.
pub fn calls(args: &PurgeArgs, assets: &[String], key: &str) -> Vec<Call> {
    match args.provider {
        Provider::Cloudimage => {
            let endpoint = args
                .endpoint
                .as_deref()
                .unwrap_or("https://api.cloudimage.com");
            let url = format!("{}/invalidate", endpoint.trim_end_matches('/'));
            let headers = vec![
                ("X-Client-Key".to_owned(), key.to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ];
            if args.all {
                return vec![Call {
                    url,
                    headers,
                    body: json!({"scope": "all"}),
                    assets: Vec::new(),
                }];
            }
            let aliases: Vec<(String, String)> = args
                .cloudimage_alias
                .iter()
                .filter_map(|a| a.split_once('=').map(|(n, o)| (n.to_owned(), o.to_owned())))
                .collect();
            let urls: Vec<String> = assets
                .iter()
                .map(|a| {
                    cloudimage_url(
                        a,
                        args.cloudimage_v7,
                        &aliases,
                        args.cloudimage_prefix.as_deref(),
                    )
                })
                .collect();
            let size = args.batch_size.unwrap_or(usize::MAX).max(1);
            urls.chunks(size)
                .zip(assets.chunks(size))
                .map(|(urls, assets)| Call {
                    url: url.clone(),
                    headers: headers.clone(),
                    body: json!({"scope": "original", "urls": urls}),
                    assets: assets.to_vec(),
                })
                .collect()
        }
        Provider::Optimole => {
            let endpoint = args
                .endpoint
                .as_deref()
                .unwrap_or("https://dashboard.optimole.com");
            let base = format!(
                "{}/api/optml/v2/cache/invalidate",
                endpoint.trim_end_matches('/')
            );
            let headers = vec![
                ("Authorization".to_owned(), format!("Bearer {key}")),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ];
            if args.all {
                return vec![Call {
                    url: format!("{base}/all"),
                    headers,
                    body: json!({}),
                    assets: Vec::new(),
                }];
            }
            if let Some(domain) = &args.domain {
                return vec![Call {
                    url: format!("{base}/domain"),
                    headers,
                    body: json!({"domain": domain}),
                    assets: Vec::new(),
                }];
            }
            let size = args
                .batch_size
                .unwrap_or(OPTIMOLE_BATCH)
                .clamp(1, OPTIMOLE_BATCH);
            assets
                .chunks(size)
                .map(|batch| Call {
                    url: format!("{base}/asset"),
                    headers: headers.clone(),
                    body: json!({"assets": batch}),
                    assets: batch.to_vec(),
                })
                .collect()
        }
    }
}

/// The API key: from the environment variable or the file named, never from a flag.
fn api_key(args: &PurgeArgs) -> Result<Option<String>> {
    if let Some(path) = &args.key_file {
        let key = std::fs::read_to_string(path)
            .with_context(|| format!("--key-file {}", path.display()))?;
        return Ok(Some(key.trim().to_owned()));
    }
    let var = args.key_env.clone().unwrap_or_else(|| match args.provider {
        Provider::Cloudimage => "CLOUDIMAGE_API_KEY".into(),
        Provider::Optimole => "OPTIMOLE_API_KEY".into(),
    });
    Ok(std::env::var(&var)
        .ok()
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty()))
}

/// `cachebust purge --provider P OLD NEW`.
pub fn purge(args: PurgeArgs) -> Result<ExitCode> {
    let assets = if args.all || args.domain.is_some() {
        Vec::new()
    } else {
        let (Some(old), Some(new)) = (&args.old, &args.new) else {
            bail!("give OLD and NEW manifests, or --all (or --domain, for Optimole)");
        };
        let (diff, _) = changes(
            old,
            new,
            &args.base_url,
            args.manifest_format.as_deref(),
            args.manifest_prefix.as_deref(),
        )?;
        // Changed assets kept their URL; removed ones may still be served from a cache.
        let mut assets = diff.changed;
        assets.extend(diff.removed);
        assets.sort();
        assets
    };
    if args.domain.is_some() && matches!(args.provider, Provider::Cloudimage) {
        bail!("--domain is an Optimole invalidation; Cloudimage has --all");
    }
    if let Some(endpoint) = &args.endpoint {
        check_endpoint(endpoint)?;
    }
    let key = api_key(&args)?;
    let dry_run = args.dry_run || key.is_none();
    let calls = calls(&args, &assets, key.as_deref().unwrap_or("KEY"));
    if calls.is_empty()
        || (calls.iter().all(|c| c.assets.is_empty()) && !args.all && args.domain.is_none())
    {
        eprintln!("cachebust: nothing changed; nothing to invalidate");
        return Ok(ExitCode::SUCCESS);
    }
    if args.from_batch > calls.len() as u64 {
        bail!(
            "--from-batch {}: there are {} batches",
            args.from_batch,
            calls.len()
        );
    }
    if dry_run {
        if key.is_none() && !args.dry_run {
            eprintln!(
                "cachebust: no API key (set the environment variable or --key-file): dry run"
            );
        }
        for call in &calls {
            println!("{}", call.dry_run_line());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(send_all(&args, &calls))
}

async fn send_all(args: &PurgeArgs, calls: &[Call]) -> Result<ExitCode> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let total = calls.len();
    let mut accepted = Vec::new();
    let mut failed = Vec::new();
    for (index, call) in calls
        .iter()
        .enumerate()
        .skip(usize::try_from(args.from_batch - 1).unwrap_or(usize::MAX))
    {
        let number = index + 1;
        let outcome = tokio::time::timeout(args.timeout, send(&client, call)).await;
        let result = match outcome {
            Err(_) => Err(format!("no answer within {} s", args.timeout.as_secs_f64())),
            Ok(result) => result,
        };
        match result {
            Ok(()) => {
                eprintln!(
                    "cachebust: batch {number}/{total} accepted ({} assets)",
                    call.assets.len()
                );
                accepted.push(number);
            }
            Err(why) => {
                eprintln!("cachebust: batch {number}/{total} failed: {why}");
                failed.push(number);
            }
        }
    }
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let list = |batches: &[usize]| {
        batches
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    eprintln!(
        "cachebust: accepted batches: [{}]; failed batches: [{}]; resume with --from-batch {}",
        list(&accepted),
        list(&failed),
        failed[0]
    );
    Ok(ExitCode::from(2))
}

/// The largest answer read from a provider: theirs are a few hundred bytes.
const MAX_ANSWER: usize = 1 << 20;

/// The key goes to `endpoint`: over https, or plain http to this machine only (a test
/// server, a local forwarder).
fn check_endpoint(endpoint: &str) -> Result<()> {
    let url = Url::parse(endpoint).with_context(|| format!("--endpoint {endpoint:?}"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => bail!(
            "--endpoint {endpoint:?}: the API key would cross the network in clear; use https:// (plain http only to this machine)"
        ),
        other => bail!("--endpoint {endpoint:?}: {other}: is not http(s)"),
    }
}

async fn send<C>(client: &Client<C, Full<Bytes>>, call: &Call) -> Result<(), String>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let mut request = http::Request::post(&call.url);
    for (name, value) in &call.headers {
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(call.body.to_string())))
        .map_err(|e| e.to_string())?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| format!("reading the answer: {e}"))?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    // An answer that is not JSON (a captive portal, a proxy's error page, a mistyped
    // endpoint answering 200 with HTML) says nothing about the invalidation.
    if status.is_success() && json.is_none() {
        let start: String = text.chars().take(200).collect();
        return Err(format!(
            "HTTP {}: the answer is not JSON: {start:?}",
            status.as_u16()
        ));
    }
    // Providers also answer 200 with an error in the body (an unknown user, an inactive
    // account, too many assets).
    let said_error = json.as_ref().is_some_and(|j| {
        j.get("success") == Some(&Value::Bool(false))
            || j.get("status")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("error"))
            || j.get("error")
                .is_some_and(|e| !e.is_null() && e != &Value::Bool(false))
    });
    if !status.is_success() || said_error {
        let message = json
            .as_ref()
            .and_then(|j| {
                j.get("message")
                    .or_else(|| j.get("error"))
                    .and_then(Value::as_str)
            })
            .map_or_else(|| text.chars().take(200).collect::<String>(), str::to_owned);
        return Err(format!("HTTP {}: {message}", status.as_u16()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudimage_url_forms() {
        let aliases = vec![(
            "media".to_owned(),
            "https://media.example.com/p/".to_owned(),
        )];
        assert_eq!(
            cloudimage_url("https://img.domain.com/image2.jpg?w=600", false, &[], None),
            "https://img.domain.com/image2.jpg"
        );
        assert_eq!(
            cloudimage_url("https://img.domain.com/image2.jpg", true, &[], None),
            "/v7/https://img.domain.com/image2.jpg"
        );
        assert_eq!(
            cloudimage_url(
                "https://media.example.com/p/images/a.jpg",
                false,
                &aliases,
                None
            ),
            "_media_/images/a.jpg"
        );
        assert_eq!(
            cloudimage_url(
                "https://example.com/shop/images/a.jpg",
                false,
                &aliases,
                Some("https://example.com/shop/")
            ),
            "images/a.jpg"
        );
    }

    #[test]
    fn keys_are_masked_in_dry_runs() {
        let call = Call {
            url: "https://api.cloudimage.com/invalidate".into(),
            headers: vec![
                ("X-Client-Key".into(), "secret123".into()),
                ("Authorization".into(), "Bearer s3cr3t".into()),
            ],
            body: json!({"scope": "all"}),
            assets: Vec::new(),
        };
        let line = call.dry_run_line();
        assert!(
            !line.contains("secret123") && !line.contains("s3cr3t"),
            "{line}"
        );
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["method"], "POST");
        assert_eq!(parsed["body"]["scope"], "all");
    }
}
