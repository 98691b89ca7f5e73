//! `cachebust rewrite`: every page of a site, in parallel, written atomically.

use crate::args::{ReportFormat, RewriteArgs};
use crate::files::{self, Found, Page};
use crate::{copies, manifests, stream};
use anyhow::{Context, Result, bail};
use cachebust::{Builder, Buster, Report, SkipCounts, SkipReason};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde::Serialize;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use url::Url;

/// Where rewritten pages go.
enum Mode<'a> {
    InPlace,
    Out(&'a Path),
    Check,
}

/// What happened to one file.
struct FileResult {
    path: PathBuf,
    changed: bool,
    report: Report,
    error: Option<String>,
    /// In place: the new content, written beside the file and not yet synced nor renamed
    /// over it (see [`commit_in_place`]).
    pending: Option<tempfile::TempPath>,
}

#[derive(Serialize)]
struct Summary<'a> {
    files: usize,
    changed: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    would_change: Vec<String>,
    errors: Vec<String>,
    /// Each file's warnings and bail-out, named by file.
    warnings: Vec<String>,
    rewritten: u64,
    current: u64,
    missing: u64,
    skipped: &'a SkipCounts,
    missing_examples: &'a [String],
}

pub fn run(mut args: RewriteArgs) -> Result<ExitCode> {
    // A listing writes nothing: it is a check that prints what it saw.
    args.check |= args.list;
    // Everything that can be wrong with the flags or the manifest is found before any file
    // is touched.
    let base = site_url(&args.base_url)?;
    if args.jobs == Some(0) {
        bail!("--jobs must be at least 1");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()
        .context("starting the worker threads")?;
    let hashed_at = match &args.source.hash {
        Some(dir) => served_at(dir, &args.paths, &base),
        None => "/".to_owned(),
    };
    // The pages are found while the manifest loads (on another worker, given two): that
    // part no number of jobs divides. `--hash` reads its files on the workers too.
    let stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let find_pages = || {
        let mut found = Found::default();
        for path in args.paths.iter().filter(|_| !stdin) {
            files::find(path, args.out.as_deref(), &mut found);
        }
        found
    };
    if args.copies.rename && args.source.hash.is_none() {
        bail!("--rename makes copies of the --hash directory's assets: give --hash DIR");
    }
    let load = || -> Result<(cachebust::Manifest, Option<copies::Renamed>)> {
        if !args.copies.rename {
            let manifest = manifests::load_served_at(
                &args.source,
                &args.rules,
                &base,
                &hashed_at,
                args.out.as_deref(),
            )?;
            return Ok((manifest, None));
        }
        let dir = args.source.hash.as_deref().expect("checked above");
        let renamed = copies::plan(
            dir,
            &args.source.include,
            &args.source.exclude,
            &hashed_at,
            args.out.as_deref(),
            &base,
            &args.rules,
        )?;
        for warning in &renamed.warnings {
            eprintln!("cachebust: warning: {warning}");
        }
        let mut manifest = renamed.manifest.clone();
        if !args.source.manifests.is_empty() {
            let others = crate::args::ManifestSource {
                hash: None,
                ..args.source.clone()
            };
            manifest.extend(manifests::load_served_at(
                &others,
                &args.rules,
                &base,
                &hashed_at,
                None,
            )?);
        }
        Ok((manifest, Some(renamed)))
    };
    let (loaded, found) = pool.install(|| rayon::join(load, find_pages));
    let (manifest, renamed) = loaded?;
    let buster = manifests::rules(
        Builder::new(manifest)
            .with_page_url(base.as_str())
            .with_reference_list(args.list),
        &args.rules,
    )
    .build()?;
    if args.check && args.out.is_some() {
        bail!("--check writes nothing; it cannot be used with --out");
    }
    if stdin {
        if args.paths.len() > 1 {
            bail!("`-` (stdin to stdout) cannot be mixed with other paths");
        }
        // Standard input is one page, at the base URL itself.
        let page = buster.for_page(&args.base_url)?;
        return stdin_to_stdout(&page, &args);
    }
    for path in &args.paths {
        std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    }
    let mode = match (&args.out, args.check) {
        (Some(out), _) => Mode::Out(out),
        (None, true) => Mode::Check,
        (None, false) => Mode::InPlace,
    };

    // Copies first: a page never names a copy that is not there yet.
    let mut copy_errors = Vec::new();
    let mut copies_made = Vec::new();
    if let Some(renamed) = &renamed {
        let root = copies_root(&args, &mode);
        let written = pool.install(|| copies::write(renamed, &root, &buster, &base, args.check));
        for result in written {
            match result {
                Ok(Some(path)) => copies_made.push(path),
                Ok(None) => {}
                Err(error) => copy_errors.push(format!("{error:#}")),
            }
        }
    }

    let progress = if args.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::with_draw_target(
            Some(found.pages.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} pages {msg}")
                .expect("static template"),
        );
        bar
    };
    let interrupted = stop_on_signal();
    let mut results: Vec<FileResult> = pool.install(|| {
        found
            .pages
            .par_iter()
            .filter(|_| !interrupted.load(Ordering::SeqCst))
            .map(|page| {
                let result = process(&buster, &base, page, &mode);
                progress.inc(1);
                result
            })
            .collect()
    });
    progress.finish_and_clear();
    if interrupted.load(Ordering::SeqCst) {
        // Every file written is whole, and no temporary file is left: the files under way
        // were finished or dropped.
        eprintln!(
            "cachebust: interrupted after {} of {} files",
            results.len(),
            found.pages.len()
        );
        return Ok(ExitCode::from(130));
    }

    let mut errors: Vec<String> = found.problems.clone();
    errors.extend(copy_errors);
    commit_in_place(&mut results, &mut errors);
    if let Mode::Out(out) = mode {
        for other in &found.others {
            if let Err(error) = copy_if_changed(&other.path, &out.join(&other.relative)) {
                errors.push(format!("{error:#}"));
            }
        }
    }
    if let Mode::Out(out) = mode {
        // The directories written get the modes of the site's own, as files do.
        for site in args.paths.iter().filter(|p| p.is_dir()) {
            for dir in walkdir::WalkDir::new(site)
                .into_iter()
                .filter_entry(files::leave_out(site, Some(out)))
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_dir())
            {
                let relative = dir.path().strip_prefix(site).expect("below the site");
                let target = out.join(relative);
                if let (Ok(source), true) = (dir.metadata(), target.is_dir())
                    && let Err(error) = std::fs::set_permissions(&target, source.permissions())
                {
                    errors.push(format!("setting the mode of {}: {error}", target.display()));
                }
            }
        }
    }
    let mut pruned = Vec::new();
    if let Some(renamed) = &renamed {
        if args.copies.prune && errors.is_empty() {
            match copies::prune(renamed, &copies_root(&args, &mode), args.check) {
                Ok(removed) => pruned = removed,
                Err(error) => errors.push(format!("{error:#}")),
            }
        }
        if let Some(path) = &args.copies.write_manifest
            && !args.check
        {
            let rev = args.copies.format == crate::args::CopyFormat::Rev;
            if let Err(error) = copies::manifest_json(renamed, rev)
                .and_then(|json| files::write_atomic(path, json.as_bytes()))
            {
                errors.push(format!("--write-manifest {}: {error:#}", path.display()));
            }
        }
        if !args.quiet {
            let (written, removed) = if args.check {
                ("would be written", "would be pruned")
            } else {
                ("written", "pruned")
            };
            eprintln!(
                "cachebust: {} copies {written}, {} {removed}",
                copies_made.len(),
                pruned.len()
            );
        }
    }
    // New files (--out, copies) were renamed into place unsynced: one sync for them all.
    if !args.check {
        let written_to = match mode {
            Mode::Out(out) => Some(out.to_owned()),
            _ if !copies_made.is_empty() => args.source.hash.clone(),
            _ => None,
        };
        if let Some(dir) = written_to.filter(|d| d.is_dir())
            && let Err(error) = files::sync_filesystem(&dir)
        {
            errors.push(format!("{error:#}"));
        }
    }
    let copies_changed: Vec<PathBuf> = copies_made.into_iter().chain(pruned).collect();
    // The process ends here: the operating system takes the manifest's memory back at
    // once, where dropping it would free its entries one by one (a few milliseconds for
    // 40,000, while every other core waits).
    std::mem::forget(buster);
    summarize(&args, &results, errors, &copies_changed)
}

/// Puts the pages rewritten in place into place: their new contents were written beside
/// them unsynced; one sync of each filesystem makes them durable, then each is renamed over
/// its page, then one more sync makes the renames durable. So a power loss at any point
/// leaves every page old or new, as an fsync per file did, for two syncs instead of
/// thousands; a run killed before the renames leaves every page old (and its temporary
/// files, removed by the next run).
fn commit_in_place(results: &mut [FileResult], errors: &mut Vec<String>) {
    use std::os::unix::fs::MetadataExt;
    let mut filesystems: Vec<(u64, PathBuf)> = Vec::new();
    for result in results.iter().filter(|r| r.pending.is_some()) {
        let dir = result
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        if let Ok(meta) = std::fs::metadata(&dir)
            && !filesystems.iter().any(|(dev, _)| *dev == meta.dev())
        {
            filesystems.push((meta.dev(), dir));
        }
    }
    if filesystems.is_empty() {
        return;
    }
    let sync_all = |errors: &mut Vec<String>| {
        for (_, dir) in &filesystems {
            if let Err(error) = files::sync_filesystem(dir) {
                errors.push(format!("{error:#}"));
            }
        }
    };
    sync_all(errors);
    for result in results.iter_mut() {
        let Some(pending) = result.pending.take() else {
            continue;
        };
        if let Err(error) = pending.persist(&result.path) {
            result.error = Some(format!(
                "replacing {}: {}",
                result.path.display(),
                error.error
            ));
            result.report = Report::default();
        }
    }
    sync_all(errors);
}

/// Where the copies of the `--hash` directory go: beside the assets, or where `--out`
/// puts that directory (the whole output when it is the site).
fn copies_root(args: &RewriteArgs, mode: &Mode<'_>) -> PathBuf {
    let dir = args.source.hash.clone().unwrap_or_default();
    let Mode::Out(out) = mode else {
        return dir;
    };
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
    args.paths
        .iter()
        .filter_map(|site| site.canonicalize().ok())
        .filter(|site| site.is_dir())
        .find_map(|site| Some(out.join(canonical.strip_prefix(&site).ok()?)))
        .unwrap_or(dir)
}

/// Catches SIGINT and SIGTERM: the files under way are finished (or their temporary files
/// removed) before the process exits, instead of leaving a temporary file behind.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build();
    if let Ok(runtime) = runtime {
        // Installing the handlers here, before any file is touched, closes the window in
        // which a signal would kill the process outright.
        let handlers = runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            Some((
                signal(SignalKind::interrupt()).ok()?,
                signal(SignalKind::terminate()).ok()?,
            ))
        });
        if let Some((mut interrupt, mut terminate)) = handlers {
            std::thread::spawn(move || {
                runtime.block_on(async {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                });
                flag.store(true, Ordering::SeqCst);
            });
        }
    }
    stop
}

/// The site URL, as a directory.
pub fn site_url(base: &str) -> Result<Url> {
    let mut url = Url::parse(base).with_context(|| format!("--base-url {base:?}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        bail!("--base-url {base:?} is not an http or https URL");
    }
    manifests::as_directory(&mut url);
    Ok(url)
}

/// The URL path the `--hash` directory's files are served at: a site directory given (or
/// the directory of a page given alone, which sits at the site's root), or a directory
/// inside one, is served where its pages are (`--base-url`'s path, and on down); any other
/// directory at the root.
pub fn served_at(dir: &Path, paths: &[PathBuf], base: &Url) -> String {
    let Ok(dir) = dir.canonicalize() else {
        // Reported by the hashing itself.
        return "/".to_owned();
    };
    paths
        .iter()
        .filter_map(|path| path.canonicalize().ok())
        .filter_map(|path| {
            if path.is_dir() {
                Some(path)
            } else {
                path.parent().map(Path::to_owned)
            }
        })
        .find_map(|site| {
            let below = dir.strip_prefix(&site).ok()?;
            let mut url = page_url(base, below);
            manifests::as_directory(&mut url);
            Some(url.path().to_owned())
        })
        .unwrap_or_else(|| "/".to_owned())
}

/// The page URL of a file at `relative` under the site root.
pub fn page_url(base: &Url, relative: &Path) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty();
        for component in relative.components() {
            segments.push(&component.as_os_str().to_string_lossy());
        }
    }
    url
}

fn process(buster: &Buster, base: &Url, page: &Page, mode: &Mode<'_>) -> FileResult {
    let mut result = FileResult {
        path: page.path.clone(),
        changed: false,
        report: Report::default(),
        error: None,
        pending: None,
    };
    if let Err(error) = try_process(buster, base, page, mode, &mut result) {
        result.error = Some(format!("{error:#}"));
        // The file was left as it was: none of its references were rewritten.
        result.report = Report::default();
    }
    result
}

fn try_process(
    buster: &Buster,
    base: &Url,
    page: &Page,
    mode: &Mode<'_>,
    result: &mut FileResult,
) -> Result<()> {
    let page_buster = buster.for_page(page_url(base, &page.relative).as_str())?;
    // Read once: its size, whether it is read-only, and the permissions a new version keeps.
    let metadata = std::fs::metadata(&page.path)
        .with_context(|| format!("reading {}", page.path.display()))?;
    if metadata.len() > stream::WHOLE_LIMIT {
        return stream_file(&page_buster, page, mode, result);
    }
    let input =
        std::fs::read(&page.path).with_context(|| format!("reading {}", page.path.display()))?;
    let (output, report) = if page.stylesheet {
        page_buster.rewrite_css_bytes(&input)
    } else {
        page_buster.rewrite_bytes(&input)
    };
    result.report = report;
    result.changed = output != input;
    match mode {
        Mode::Check => {}
        Mode::InPlace if result.changed => {
            if metadata.permissions().readonly() {
                bail!(
                    "{}: the file is read-only; left as it was",
                    page.path.display()
                );
            }
            result.pending = Some(files::stage(&page.path, &output, metadata.permissions())?);
        }
        Mode::InPlace => {}
        Mode::Out(out) => write_if_changed(&out.join(&page.relative), &output, &page.path)?,
    }
    Ok(())
}

/// A document larger than [`stream::WHOLE_LIMIT`]: streamed into a temporary file beside
/// its target, which replaces the target only when it differs (memory stays bounded).
fn stream_file(
    buster: &Buster,
    page: &Page,
    mode: &Mode<'_>,
    result: &mut FileResult,
) -> Result<()> {
    let mut input = std::io::BufReader::new(
        std::fs::File::open(&page.path)
            .with_context(|| format!("reading {}", page.path.display()))?,
    );
    let target = match mode {
        Mode::Check => {
            let streamed = stream::rewrite(
                buster,
                page.stylesheet,
                Vec::new(),
                &mut input,
                &mut std::io::sink(),
            )?;
            result.report = streamed.report;
            result.changed = streamed.changed;
            return Ok(());
        }
        Mode::InPlace => page.path.clone(),
        Mode::Out(out) => out.join(&page.relative),
    };
    if let Some(dir) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let temp = files::temp_beside(&target)?;
    let mut writer = std::io::BufWriter::with_capacity(1 << 20, temp);
    let streamed = stream::rewrite(buster, page.stylesheet, Vec::new(), &mut input, &mut writer)?;
    let temp = writer.into_inner().map_err(|e| e.into_error())?;
    result.report = streamed.report;
    result.changed = streamed.changed;
    let replace = match mode {
        Mode::InPlace => streamed.changed,
        // The output tree's file may hold the same bytes already.
        _ => {
            !std::fs::metadata(&target)
                .is_ok_and(|m| m.len() == temp.as_file().metadata().map(|t| t.len()).unwrap_or(0))
                || stream::hash_file(&target)? != stream::hash_file(temp.path())?
        }
    };
    if !replace {
        return Ok(());
    }
    if matches!(mode, Mode::InPlace) && std::fs::metadata(&page.path)?.permissions().readonly() {
        bail!(
            "{}: the file is read-only; left as it was",
            page.path.display()
        );
    }
    let permissions = std::fs::metadata(&page.path)?.permissions();
    temp.as_file()
        .set_permissions(permissions)
        .with_context(|| format!("setting the permissions of {}", target.display()))?;
    if matches!(mode, Mode::InPlace) {
        result.pending = Some(temp.into_temp_path());
        return Ok(());
    }
    temp.persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("replacing {}", target.display()))?;
    Ok(())
}

/// Writes `bytes` to `target` unless it holds them already, with the permissions of
/// `source` (the file it is made from).
fn write_if_changed(target: &Path, bytes: &[u8], source: &Path) -> Result<()> {
    if std::fs::read(target).is_ok_and(|existing| existing == bytes) {
        return Ok(());
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    files::write_atomic_like(target, bytes, source, files::Durability::AtEnd)
}

/// Copies `from` to `to` unless `to` holds the same bytes already (only compared when the
/// lengths agree: a new output tree opens each file once).
fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let length = |p: &Path| std::fs::metadata(p).map(|m| m.len()).ok();
    if length(to).is_some() && length(to) == length(from) {
        let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
        if std::fs::read(to).is_ok_and(|existing| existing == bytes) {
            return Ok(());
        }
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    files::copy_atomic(from, to, files::Durability::AtEnd)
}

fn stdin_to_stdout(buster: &Buster, args: &RewriteArgs) -> Result<ExitCode> {
    // Up to the limit, read whole; past it, the rest streams after what was read.
    let mut stdin = std::io::stdin().lock();
    // Sized once: grown by doubling, the buffer would reach twice the limit.
    let mut input = Vec::with_capacity(stream::WHOLE_LIMIT as usize + 1);
    (&mut stdin)
        .take(stream::WHOLE_LIMIT + 1)
        .read_to_end(&mut input)
        .context("reading stdin")?;
    // `--base-url` names the document: a stylesheet when its path ends in `.css`.
    let stylesheet = files::is_css(Path::new(buster.page_url().path()));
    if input.len() as u64 > stream::WHOLE_LIMIT {
        let streamed = if args.check {
            stream::rewrite(buster, stylesheet, input, &mut stdin, &mut std::io::sink())?
        } else {
            let mut stdout = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            stream::rewrite(buster, stylesheet, input, &mut stdin, &mut stdout)?
        };
        let result = FileResult {
            path: PathBuf::from("-"),
            changed: streamed.changed,
            report: streamed.report,
            error: None,
            pending: None,
        };
        return summarize(args, &[result], Vec::new(), &[]);
    }
    let (output, report) = if stylesheet {
        buster.rewrite_css_bytes(&input)
    } else {
        buster.rewrite_bytes(&input)
    };
    let changed = output != input;
    if !args.check {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&output).context("writing stdout")?;
        stdout.flush().context("writing stdout")?;
    }
    let result = FileResult {
        path: PathBuf::from("-"),
        changed,
        report,
        error: None,
        pending: None,
    };
    summarize(args, &[result], Vec::new(), &[])
}

fn summarize(
    args: &RewriteArgs,
    results: &[FileResult],
    mut errors: Vec<String>,
    copies: &[PathBuf],
) -> Result<ExitCode> {
    let mut total = Report::default();
    let mut warnings = Vec::new();
    let mut would_change = Vec::new();
    if args.list {
        print_list(results)?;
    }
    for result in results {
        total.merge(&result.report);
        for warning in &result.report.warnings {
            warnings.push(format!("{}: {warning}", result.path.display()));
        }
        if let Some(why) = &result.report.bail_out {
            warnings.push(format!("{}: {why}", result.path.display()));
        }
        if let Some(error) = &result.error {
            errors.push(error.clone());
        } else if result.changed && args.check && result.path.as_os_str() != "-" {
            would_change.push(result.path.display().to_string());
        }
    }
    let changed = results
        .iter()
        .filter(|r| r.changed && r.error.is_none())
        .count();
    if args.check {
        would_change.extend(copies.iter().map(|p| p.display().to_string()));
    }
    // With --list, stdout is the listing's alone (the summary on stderr counts them).
    for path in would_change.iter().filter(|_| !args.list) {
        println!("{path}");
    }
    match args.report {
        ReportFormat::Json => {
            let summary = Summary {
                files: results.len(),
                changed,
                would_change: would_change.clone(),
                errors: errors.clone(),
                warnings: warnings.clone(),
                rewritten: total.rewritten,
                current: total.current,
                missing: total.missing,
                skipped: &total.skipped,
                missing_examples: &total.missing_examples,
            };
            eprintln!("{}", serde_json::to_string_pretty(&summary)?);
        }
        ReportFormat::Human => {
            for line in errors
                .iter()
                .map(|e| format!("error: {e}"))
                .chain(warnings.iter().map(|w| format!("warning: {w}")))
            {
                eprintln!("cachebust: {line}");
            }
            if !args.quiet {
                eprintln!("{}", human(results.len(), changed, args.check, &total));
            }
        }
    }
    Ok(if !errors.is_empty() {
        ExitCode::from(2)
    } else if (args.check && (results.iter().any(|r| r.changed) || !copies.is_empty()))
        || (args.strict && total.missing > 0)
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn human(files: usize, changed: usize, check: bool, report: &Report) -> String {
    let verb = if check { "would change" } else { "changed" };
    let mut out = format!(
        "{files} file{}, {changed} {verb}; references: {} rewritten, {} current, {} missing, {} skipped",
        if files == 1 { "" } else { "s" },
        report.rewritten,
        report.current,
        report.missing,
        report.skipped.total()
    );
    let reasons: Vec<String> = SkipReason::ALL
        .iter()
        .filter(|&&r| report.skipped.get(r) > 0)
        .map(|&r| format!("{r} {}", report.skipped.get(r)))
        .collect();
    if !reasons.is_empty() {
        out.push_str(&format!(" ({})", reasons.join(", ")));
    }
    if !report.missing_examples.is_empty() {
        out.push_str("\nmissing: ");
        out.push_str(&report.missing_examples.join(", "));
        if report.missing > report.missing_examples.len() as u64 {
            out.push_str(", ...");
        }
    }
    out
}

/// `--list`: a line per reference, tab-separated: the file, the outcome (a skip's reason
/// after `skipped:`), the text as written, the URL it resolves to, the manifest key, the
/// version it carries and the one due; `-` for none.
fn print_list(results: &[FileResult]) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let field = |text: Option<&str>| match text {
        None | Some("") => "-".to_owned(),
        Some(text) => text.replace(['\t', '\n', '\r'], " "),
    };
    for result in results {
        let file = result.path.display().to_string();
        for reference in &result.report.references {
            let outcome = match reference.outcome.skip_reason() {
                Some(reason) => format!("skipped:{reason}"),
                None => reference.outcome.name().to_owned(),
            };
            writeln!(
                out,
                "{}\t{outcome}\t{}\t{}\t{}\t{}\t{}",
                field(Some(&file)),
                field(Some(&reference.text)),
                field(reference.url.as_ref().map(url::Url::as_str)),
                field(reference.key.as_deref()),
                field(reference.carries.as_deref()),
                field(reference.version.as_deref()),
            )
            .context("writing stdout")?;
        }
    }
    out.flush().context("writing stdout")
}
