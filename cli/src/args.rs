//! The command line, as clap reads it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "cachebust",
    args_override_self = true,
    version,
    about = "Version the asset URLs of HTML pages so that changed images get new URLs",
    long_about = "Version the asset URLs of HTML pages (img, srcset, picture, icons, CSS url()...) \
                  from a version manifest, so that when an image changes its URL changes and every \
                  cache in front of it simply misses."
)]
pub struct Cli {
    /// Settings file (default: cachebust.toml in the current directory, when there is
    /// one): a table per command, holding its flags by their long names; flags given on the
    /// command line win.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Rewrite HTML files in place (or into --out), or stdin to stdout with `-`.
    Rewrite(RewriteArgs),
    /// Hash the files under DIR into a native manifest.
    Manifest(ManifestArgs),
    /// Print each URL busted, one a line.
    Url(UrlArgs),
    /// A reverse proxy that rewrites the HTML responses of an upstream.
    Proxy(ProxyArgs),
    /// The assets added, changed and removed between two manifests, as absolute URLs.
    Diff(DiffArgs),
    /// Ask an image CDN to invalidate the assets that changed between two manifests.
    Purge(PurgeArgs),
    /// Print a random URL-safe token (a global version, an Optimole `cb:` token).
    Token(TokenArgs),
    /// Check a deployed site over HTTP: its pages carry the manifest's versions, its caches
    /// serve the new bytes under them, and do not ignore the version.
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    List,
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older manifest (any supported format).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The newer manifest.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// The site's URL, that root-relative keys are joined to.
    #[arg(long, value_name = "URL", default_value = "http://localhost/")]
    pub base_url: String,
    /// `list`: a line `added|changed|removed<TAB>URL` per asset; `json`: an object of three
    /// lists.
    #[arg(long, value_enum, default_value = "list")]
    pub format: DiffFormat,
    #[arg(long, value_name = "FMT")]
    pub manifest_format: Option<String>,
    #[arg(long, value_name = "PREFIX")]
    pub manifest_prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    Cloudimage,
    Optimole,
}

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The image CDN.
    #[arg(long, value_enum)]
    pub provider: Provider,
    /// The older manifest.
    #[arg(value_name = "OLD")]
    pub old: Option<PathBuf>,
    /// The newer manifest: the assets that changed (or were removed) are invalidated.
    #[arg(value_name = "NEW")]
    pub new: Option<PathBuf>,
    /// The site's URL, that root-relative keys are joined to.
    #[arg(long, value_name = "URL", default_value = "http://localhost/")]
    pub base_url: String,
    /// Print each request as a JSON line (the key masked) instead of sending it; the
    /// default when no key is given.
    #[arg(long)]
    pub dry_run: bool,
    /// Invalidate everything.
    #[arg(long, conflicts_with = "domain")]
    pub all: bool,
    /// Optimole: invalidate every asset of this domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// The API's base URL (default: the provider's).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// The environment variable holding the API key (default CLOUDIMAGE_API_KEY or
    /// OPTIMOLE_API_KEY).
    #[arg(long, value_name = "VAR")]
    pub key_env: Option<String>,
    /// A file holding the API key.
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Cloudimage: the token was created before November 2021 (URLs start with /v7/).
    #[arg(long)]
    pub cloudimage_v7: bool,
    /// Cloudimage: an alias, NAME=ORIGIN (repeatable).
    #[arg(long, value_name = "NAME=ORIGIN")]
    pub cloudimage_alias: Vec<String>,
    /// Cloudimage: the configured origin prefix, stripped from the URLs.
    #[arg(long, value_name = "URL")]
    pub cloudimage_prefix: Option<String>,
    /// URLs per request (Optimole: at most 100, the default; Cloudimage: all in one).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// Start at this batch (to resume a run that failed part way).
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u64).range(1..))]
    pub from_batch: u64,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    pub timeout: Duration,
    #[arg(long, value_name = "FMT")]
    pub manifest_format: Option<String>,
    #[arg(long, value_name = "PREFIX")]
    pub manifest_prefix: Option<String>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Characters in the token (1 to 64).
    #[arg(long, value_name = "N", default_value = "12")]
    pub length: usize,
}

#[derive(Debug, Args, Clone)]
pub struct ProxyArgs {
    /// The address to listen on (port 0: any free port, printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The application behind the proxy: an http:// or https:// URL, with a base path if
    /// it is served under one; user:password@ in it is sent as `Authorization: Basic`.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// A PEM file of the certificate authorities that sign an https upstream's certificate
    /// (a private CA), trusted besides the public ones.
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    #[command(flatten)]
    pub source: ManifestSource,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The scheme of the page URLs: https behind a TLS terminator.
    #[arg(long, value_name = "SCHEME", default_value = "http", value_parser = ["http", "https"])]
    pub scheme: String,
    /// The origin the site is reached at (`https://www.example.com`): page URLs and the
    /// redirects given back to clients use it instead of the request's Host.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// A peer whose X-Forwarded-*, Forwarded and X-Real-IP are trusted and appended to (a
    /// load balancer in front), as an address or a CIDR range; repeatable. Other peers'
    /// are replaced.
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    pub trusted_proxies: Vec<String>,
    /// Seconds between checks of the manifest files (and polls of manifest URLs).
    #[arg(long, value_name = "SECONDS", default_value = "1", value_parser = seconds)]
    pub reload_interval: Duration,
    /// Send the upstream the client's Host header (for an application that serves several
    /// hosts, or builds its URLs from Host) instead of the upstream's own.
    #[arg(long)]
    pub preserve_host: bool,
    /// Seconds a client has to send a request's header fields.
    #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = seconds)]
    pub header_read_timeout: Duration,
    /// Seconds an idle keep-alive connection is kept open.
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    pub idle_timeout: Duration,
    /// Client connections open at once; more wait in the listen backlog.
    #[arg(long, value_name = "N", default_value = "4096", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Seconds to connect to the upstream (then 502).
    #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = seconds)]
    pub connect_timeout: Duration,
    /// Seconds the upstream has to send a response's header fields (then 504).
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    pub upstream_timeout: Duration,
    /// Seconds the upstream may pause inside a body (then the client's body fails).
    #[arg(long, value_name = "SECONDS", default_value = "60", value_parser = seconds)]
    pub body_idle_timeout: Duration,
    /// Pages whose Content-Length is at most this many bytes are read whole and rewritten
    /// in one pass (cheaper); larger or chunked pages stream.
    #[arg(long, value_name = "BYTES", default_value = "1048576")]
    pub whole_page_limit: u64,
    /// Write an access log line per request to FILE (`-`: stderr).
    #[arg(long, value_name = "FILE")]
    pub access_log: Option<PathBuf>,
}

/// A number of seconds: finite, above 0, at most a year.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !value.is_finite() || value <= 0.0 || value > YEAR_SECONDS {
        return Err(format!(
            "{text:?}: seconds must be above 0 and at most {YEAR_SECONDS} (a year)"
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

const YEAR_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// Where versions come from.
#[derive(Debug, Args, Clone)]
pub struct ManifestSource {
    /// Version manifest; repeatable, later files win; the format is detected. The proxy
    /// also takes an http:// or https:// URL, polled at the reload interval.
    #[arg(short = 'm', long = "manifest", value_name = "FILE")]
    pub manifests: Vec<PathBuf>,
    /// The manifests' format: native, rev (gulp-rev, webpack, grunt), mix, vite, propshaft,
    /// django. Detected from each file when not given.
    #[arg(long, value_name = "FMT")]
    pub manifest_format: Option<String>,
    /// The URL path (or URL) the manifest's files are served under, for tools whose keys are
    /// not URL paths: Vite's `base`, Django's STATIC_URL, Propshaft's /assets.
    #[arg(long, value_name = "PREFIX")]
    pub manifest_prefix: Option<String>,
    /// Build the manifest on the fly from the files under DIR (every file but pages and
    /// dotfiles; stylesheets' versions cascade), keyed by the URLs they are served at: a
    /// site directory (or one inside it) below --base-url's path, any other directory at
    /// the root.
    #[arg(long, value_name = "DIR")]
    pub hash: Option<PathBuf>,
    /// With --hash: version only the files matching GLOB (relative to DIR; repeatable).
    #[arg(long, value_name = "GLOB", requires = "hash")]
    pub include: Vec<String>,
    /// With --hash: leave out the files matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB", requires = "hash")]
    pub exclude: Vec<String>,
}

/// The rewriting rules, shared by `rewrite` and `url`.
#[derive(Debug, Args, Clone)]
pub struct RuleArgs {
    /// Another host that serves this site (repeatable).
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,
    /// Query parameter name.
    #[arg(long, value_name = "NAME", default_value = "vh")]
    pub param: String,
    /// Version for in-scope references that have no entry.
    #[arg(long, value_name = "V")]
    pub global_version: Option<String>,
    /// A custom domain served by Cloudimage (repeatable).
    #[arg(long, value_name = "HOST")]
    pub cloudimage_domain: Vec<String>,
    /// A custom domain served by Optimole (repeatable).
    #[arg(long, value_name = "HOST")]
    pub optimole_domain: Vec<String>,
    /// The documents' encoding (a WHATWG label); sniffed when not given.
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Version ATTRIBUTE of ELEMENT too (`*`: any element), read as a URL (the default), a
    /// srcset or CSS: `--attr '*:data-bg:url'` (repeatable).
    #[arg(long = "attr", value_name = "ELEMENT:ATTRIBUTE[:url|srcset|css]", value_parser = parse_attr)]
    pub attrs: Vec<AttrRule>,
}

/// One `--attr`.
#[derive(Debug, Clone)]
pub struct AttrRule {
    pub element: String,
    pub attribute: String,
    pub kind: cachebust::ValueKind,
}

fn parse_attr(text: &str) -> Result<AttrRule, String> {
    let mut parts = text.split(':');
    let (Some(element), Some(attribute)) = (parts.next(), parts.next()) else {
        return Err(format!(
            "{text:?}: ELEMENT:ATTRIBUTE[:url|srcset|css] is needed"
        ));
    };
    // `xlink:href` holds a colon: a last part that is not a kind belongs to the name.
    let rest: Vec<&str> = parts.collect();
    let (attribute, kind) = match rest.as_slice() {
        [] => (attribute.to_owned(), "url"),
        [kind] if matches!(*kind, "url" | "srcset" | "css") => (attribute.to_owned(), *kind),
        [name] => (format!("{attribute}:{name}"), "url"),
        [name, kind] => (format!("{attribute}:{name}"), *kind),
        _ => return Err(format!("{text:?}: too many `:`")),
    };
    let kind = match kind {
        "url" => cachebust::ValueKind::Url,
        "srcset" => cachebust::ValueKind::Srcset,
        "css" => cachebust::ValueKind::Css,
        other => return Err(format!("{text:?}: {other:?} is not url, srcset or css")),
    };
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b))
    };
    if !(element == "*" || name_ok(element)) || !name_ok(&attribute) {
        return Err(format!("{text:?}: not an element and attribute name"));
    }
    Ok(AttrRule {
        element: element.to_owned(),
        attribute,
        kind,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct RewriteArgs {
    /// A directory (every .html/.htm below it), a file, or `-` for stdin to stdout.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub source: ManifestSource,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The site's URL; a file's page URL is this joined with its path under the directory
    /// given (a file given alone sits at the root); for `-`, the page's own URL.
    #[arg(long, value_name = "URL", default_value = "http://localhost/")]
    pub base_url: String,
    /// Write the rewritten tree (HTML rewritten, other files copied) to DIR instead of in
    /// place; a DIR inside the site is not read (nor hashed by --hash) as part of it.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 1 if any file would change.
    #[arg(long)]
    pub check: bool,
    /// Print every reference, one a line on stdout (FILE, outcome, text, URL, manifest key,
    /// version carried, version due; tab-separated, `-` for none), and write nothing, as
    /// --check.
    #[arg(long, conflicts_with_all = ["out", "rename"])]
    pub list: bool,
    /// Exit 1 if any in-scope reference has no entry.
    #[arg(long)]
    pub strict: bool,
    /// The summary's format, on stderr.
    #[arg(long, value_enum, value_name = "FMT", default_value = "human")]
    pub report: ReportFormat,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// No progress bar and no summary (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub copies: CopyArgs,
}

/// Renamed copies, for caches whose key ignores the query string.
#[derive(Debug, Args, Clone)]
pub struct CopyArgs {
    /// With --hash (or for `manifest`): write beside each asset a copy named by its version
    /// (img/a.png -> img/a.3f9a2c1b7d.png) and point references at the copies.
    #[arg(long)]
    pub rename: bool,
    /// With --rename: remove the copies no current entry names (and nothing else).
    #[arg(long, requires = "rename")]
    pub prune: bool,
    /// With --rename: write the entries made (asset -> copy) to FILE.
    #[arg(long, value_name = "FILE", requires = "rename")]
    pub write_manifest: Option<PathBuf>,
    /// The format of --write-manifest: `native` (URL paths, as cachebust reads them) or
    /// `rev` (paths relative to the directory, as gulp-rev writes them).
    #[arg(
        long,
        value_enum,
        default_value = "native",
        requires = "write_manifest"
    )]
    pub format: CopyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CopyFormat {
    Native,
    Rev,
}

#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// The directory whose files are hashed; keys are the files' URL paths below --prefix.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Write the manifest to FILE instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Hash only the files matching GLOB (relative to DIR; repeatable; default: every file
    /// that is not a page or a dotfile).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Leave out the files matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The URL path DIR is served under (`/blog/` for a site at `https://example.com/blog/`).
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub prefix: String,
    /// The site's URL (absolute references in stylesheets on its host are followed for
    /// the cascade); its path is --prefix's.
    #[arg(long, value_name = "URL", default_value = "http://localhost/")]
    pub base_url: String,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// With --rename: the entries go to FILE (-o) as rename entries, and the copies are
    /// written beside the assets.
    #[command(flatten)]
    pub copies: CopyArgs,
}

#[derive(Debug, Args)]
pub struct UrlArgs {
    /// The URLs to bust.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    #[command(flatten)]
    pub source: ManifestSource,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The URL of the page the URLs appear on (relative URLs resolve against it).
    #[arg(long, value_name = "URL")]
    pub page_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// What to check: a site's URL (its /sitemap.xml is read; index files are followed), a
    /// sitemap's URL, or a site directory whose pages are served at --base-url.
    #[arg(value_name = "SITE")]
    pub site: Option<String>,
    /// A file of page URLs, one a line (`#` starts a comment; a path is joined to
    /// --base-url).
    #[arg(long, value_name = "FILE")]
    pub pages: Option<PathBuf>,
    /// The URL the site is served at: where a site directory's pages (and --hash's files)
    /// are fetched from. Default: SITE's, when it is a URL.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub source: ManifestSource,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// `human`: findings and a summary; `json`: one object.
    #[arg(long, value_enum, default_value = "human")]
    pub report: ReportFormat,
    /// Requests in flight at once.
    #[arg(long, value_name = "N", default_value = "4", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Requests started per second, at most (all hosts together).
    #[arg(long, value_name = "N", default_value = "20")]
    pub rate: f64,
    /// Seconds a request (header fields and body) may take.
    #[arg(long, value_name = "SECONDS", default_value = "15", value_parser = seconds)]
    pub timeout: Duration,
    /// Tries again after a failed connection, a timeout or a 502/503/504, this many times.
    #[arg(long, value_name = "N", default_value = "2")]
    pub retries: u32,
    /// Pages checked, at most (the first, in the sitemap's or the list's order).
    #[arg(long, value_name = "N", default_value = "500")]
    pub max_pages: usize,
    /// Distinct asset URLs fetched, at most.
    #[arg(long, value_name = "N", default_value = "5000")]
    pub max_assets: usize,
    /// Assets per host asked for with a never-used version, to see whether its cache keys on
    /// the version parameter (0: no such probe).
    #[arg(long, value_name = "N", default_value = "2")]
    pub sample: usize,
    /// Do not hash asset bodies (versions that are not cachebust's content hashes are never
    /// hashed).
    #[arg(long)]
    pub no_hash_check: bool,
    /// A PEM file of certificate authorities trusted besides the public ones (a staging
    /// site with a private CA).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}
