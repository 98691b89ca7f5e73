//! Files: which pages a run touches, and writing them atomically.

use anyhow::{Context, Result};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Temporary files are named with this prefix, so that a run can remove those a killed run
/// left behind.
pub const TEMP_PREFIX: &str = ".cachebust-tmp-";

/// One document to rewrite (a page or a stylesheet), or a file to copy.
#[derive(Debug, Clone)]
pub struct Page {
    pub path: PathBuf,
    /// Its path under the directory given (for the page URL and for `--out`).
    pub relative: PathBuf,
    /// A stylesheet (`.css`), rewritten with the CSS rules against its own URL.
    pub stylesheet: bool,
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Found {
    /// Pages and stylesheets.
    pub pages: Vec<Page>,
    /// Files that are not pages, for `--out` to copy.
    pub others: Vec<Page>,
    /// Problems met on the way (a symlink out of the tree, an unreadable directory).
    pub problems: Vec<String>,
}

pub fn is_html(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"))
}

pub fn is_css(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("css"))
}

/// A filter for a walk of `root` that leaves out the directory `out` where it lies strictly
/// inside `root` (links resolved): a run's output directory, whose files are a former run's
/// copies, not the site's.
pub fn leave_out(root: &Path, out: Option<&Path>) -> impl Fn(&walkdir::DirEntry) -> bool {
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let below = out
        .and_then(|out| fs::canonicalize(out).ok())
        .and_then(|out| Some(out.strip_prefix(&canonical_root).ok()?.to_owned()))
        .filter(|below| !below.as_os_str().is_empty());
    let root = root.to_owned();
    move |entry| {
        below.as_deref().is_none_or(|below| {
            !entry.file_type().is_dir() || entry.path().strip_prefix(&root).ok() != Some(below)
        })
    }
}

/// The pages and stylesheets under `root` (a directory) or `root` itself (a file). Symlinks are not
/// followed; one pointing out of the tree is reported. `out`, the directory the pages are
/// written to, is left out where it lies inside `root`: its pages are a former run's output,
/// not pages of the site (and a run over them would nest a copy deeper every time).
pub fn find(root: &Path, out: Option<&Path>, found: &mut Found) {
    if !root.is_dir() {
        let name = root.file_name().map(PathBuf::from).unwrap_or_default();
        found.pages.push(Page {
            path: root.to_owned(),
            relative: name,
            stylesheet: is_css(root),
        });
        return;
    }
    let canonical_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let walk = WalkDir::new(root).follow_links(false).sort_by_file_name();
    for entry in walk.into_iter().filter_entry(leave_out(root, out)) {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                found.problems.push(format!("{error}"));
                continue;
            }
        };
        let relative = entry
            .path()
            .strip_prefix(root)
            .expect("below the root")
            .to_owned();
        let name = entry.file_name().to_string_lossy();
        if name.starts_with(TEMP_PREFIX) {
            // Left by a run that was killed: never a page, and safe to remove.
            let _ = fs::remove_file(entry.path());
            continue;
        }
        if entry.path_is_symlink() {
            match fs::canonicalize(entry.path()) {
                Ok(target) if target.starts_with(&canonical_root) => {}
                Ok(target) => found.problems.push(format!(
                    "{}: a symlink out of the tree (to {}), not followed",
                    entry.path().display(),
                    target.display()
                )),
                Err(error) => found.problems.push(format!(
                    "{}: a broken symlink: {error}",
                    entry.path().display()
                )),
            }
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let page = Page {
            path: entry.path().to_owned(),
            relative,
            stylesheet: is_css(entry.path()),
        };
        // A renamed copy (`a.0123456789.css` beside `a.css`) is written once, as named:
        // never rewritten again.
        let copy = page
            .relative
            .to_str()
            .and_then(crate::cascade::original_of)
            .is_some_and(|original| root.join(original).is_file());
        if (is_html(&page.path) || page.stylesheet) && !copy {
            found.pages.push(page);
        } else {
            found.others.push(page);
        }
    }
}

/// When a written file reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Synced before it is renamed over the file it replaces: after a power loss the file
    /// is the old one or the new one, never a mix or empty. For files a user had (pages
    /// rewritten in place).
    EachFile,
    /// Renamed into place whole (a killed run leaves it absent or complete), synced with
    /// the rest of the filesystem by [`sync_filesystem`] at the end of the run. For new
    /// files (`--out`, renamed copies), which hold nothing a user would lose: one sync
    /// instead of thousands (an fsync per file was most of a run's time).
    AtEnd,
}

/// Replaces `path` with `bytes` atomically: a temporary file in the same directory, synced,
/// given the permissions of the file it replaces (or, for a new file, the usual `0644`),
/// then renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_like(path, bytes, path, Durability::EachFile)
}

/// [`write_atomic`], the new file given the permissions of `like` (the source a copy is
/// made from; `path` itself when it exists and `like` does not), synced as `durability`
/// says. A temporary file is created `0600`: without the permissions set, every file
/// `--out` writes would be unreadable to a web server running as another user.
pub fn write_atomic_like(
    path: &Path,
    bytes: &[u8],
    like: &Path,
    durability: Durability,
) -> Result<()> {
    write_with(path, like, durability, |file| {
        file.write_all(bytes)
            .with_context(|| format!("writing {}", path.display()))
    })
}

/// Copies `from` to `to` atomically (the kernel copies the bytes), with `from`'s
/// permissions, synced as `durability` says.
pub fn copy_atomic(from: &Path, to: &Path, durability: Durability) -> Result<()> {
    write_with(to, from, durability, |file| {
        let mut source =
            fs::File::open(from).with_context(|| format!("reading {}", from.display()))?;
        std::io::copy(&mut source, file)
            .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        Ok(())
    })
}

fn write_with(
    path: &Path,
    like: &Path,
    durability: Durability,
    fill: impl FnOnce(&mut fs::File) -> Result<()>,
) -> Result<()> {
    let temp = staged(path, like, fill)?;
    if durability == Durability::EachFile {
        temp.as_file()
            .sync_all()
            .with_context(|| format!("syncing {}", path.display()))?;
    }
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// A temporary file in `path`'s directory (named with [`TEMP_PREFIX`], so that a run that
/// was killed leaves nothing the next one does not remove).
pub fn temp_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))
}

/// `path`'s new content, filled in by `fill`, in a temporary file beside it with the
/// permissions of `like` (or of `path`, or the usual `0644`), neither synced nor renamed.
fn staged(
    path: &Path,
    like: &Path,
    fill: impl FnOnce(&mut fs::File) -> Result<()>,
) -> Result<tempfile::NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    let mut temp = temp_beside(path)?;
    fill(temp.as_file_mut())?;
    let permissions = fs::metadata(like)
        .or_else(|_| fs::metadata(path))
        .map(|m| m.permissions())
        .unwrap_or_else(|_| fs::Permissions::from_mode(0o644));
    temp.as_file()
        .set_permissions(permissions)
        .with_context(|| format!("setting the permissions of {}", path.display()))?;
    Ok(temp)
}

/// The new content of `path` written beside it in a temporary file with `permissions`
/// (its own), unsynced and not yet renamed over it: the caller syncs and renames
/// (`rewrite` in place does so for all its pages at once).
pub fn stage(
    path: &Path,
    bytes: &[u8],
    permissions: fs::Permissions,
) -> Result<tempfile::TempPath> {
    let mut temp = temp_beside(path)?;
    temp.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    temp.as_file()
        .set_permissions(permissions)
        .with_context(|| format!("setting the permissions of {}", path.display()))?;
    Ok(temp.into_temp_path())
}

/// Syncs the filesystem holding `dir` (Linux `syncfs`): the end of a run that wrote
/// [`Durability::AtEnd`] files there.
pub fn sync_filesystem(dir: &Path) -> Result<()> {
    let handle = fs::File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    rustix::fs::syncfs(&handle)
        .with_context(|| format!("syncing the filesystem of {}", dir.display()))?;
    Ok(())
}
