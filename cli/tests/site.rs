//! The whole site (RULES §4): stylesheets rewritten as documents, every asset versioned,
//! and versions that cascade from an image to the stylesheets that use it, to those that
//! import those, to the pages that link them.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn cachebust() -> Command {
    Command::cargo_bin("cachebust").unwrap()
}

fn write(path: impl AsRef<Path>, bytes: impl AsRef<[u8]>) {
    let path = path.as_ref();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path).unwrap()
}

fn version(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex()[..10].to_owned()
}

/// A site: an image used from a page and from a stylesheet imported by another, another
/// image, a cycle of two stylesheets, a script, and pages linking each.
fn site() -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let site = tmp.path().join("site");
    write(site.join("img/a.png"), "A1");
    write(site.join("img/b.png"), "B1");
    write(site.join("js/app.js"), "var a = 'url(/img/a.png)';");
    write(
        site.join("css/base.css"),
        ".a { background: url(../img/a.png) }\n",
    );
    write(
        site.join("css/theme/site.css"),
        "@import \"../base.css\";\n.b { background: url(/img/b.png) }\n",
    );
    write(site.join("css/one.css"), "@import url(two.css);\n");
    write(
        site.join("css/two.css"),
        "@import url(one.css);\n.b { background: url(../img/b.png) }\n",
    );
    write(
        site.join("index.html"),
        "<link rel=stylesheet href=css/theme/site.css><img src=img/a.png>",
    );
    write(
        site.join("b.html"),
        "<img src=/img/b.png><script src=/js/app.js></script>",
    );
    write(
        site.join("cycle.html"),
        "<link rel=stylesheet href=/css/one.css>",
    );
    (tmp, site)
}

fn run(site: &Path, extra: &[&str]) -> std::process::Output {
    let output = cachebust()
        .arg("rewrite")
        .arg(site)
        .arg("--hash")
        .arg(site)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every file below `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn versions_cascade_from_an_image_to_the_pages() {
    let (tmp, site) = site();
    let out1 = tmp.path().join("out1");
    let first = run(&site, &["--out", out1.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(stderr.contains("0 missing"), "{stderr}");
    // The cycle is reported, its files named.
    assert!(
        stderr.contains("a cycle of stylesheet references")
            && stderr.contains("one.css")
            && stderr.contains("two.css"),
        "{stderr}"
    );

    // base.css's version is the hash of its rewritten bytes; site.css imports it with that
    // version, and the page links site.css with the hash of site.css's rewritten bytes.
    let base = fs::read(out1.join("css/base.css")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&base),
        format!(
            ".a {{ background: url(../img/a.png?vh={}) }}\n",
            version(b"A1")
        )
    );
    let site_css = fs::read(out1.join("css/theme/site.css")).unwrap();
    assert!(
        String::from_utf8_lossy(&site_css)
            .starts_with(&format!("@import \"../base.css?vh={}\";", version(&base))),
        "{}",
        String::from_utf8_lossy(&site_css)
    );
    let index = read(out1.join("index.html"));
    assert!(
        index.contains(&format!("css/theme/site.css?vh={}", version(&site_css))),
        "{index}"
    );
    // A cycle's members are versioned by their own bytes, their references to each other
    // written with a placeholder version.
    let cycle = read(out1.join("cycle.html"));
    assert!(
        cycle.contains(&format!(
            "/css/one.css?vh={}",
            version(b"@import url(two.css?vh=cycle);\n")
        )),
        "{cycle}"
    );
    // Scripts are versioned as files; their content is not rewritten.
    assert_eq!(read(out1.join("js/app.js")), "var a = 'url(/img/a.png)';");
    assert!(read(out1.join("b.html")).contains(&format!(
        "/js/app.js?vh={}",
        version(b"var a = 'url(/img/a.png)';")
    )));

    // `cachebust manifest` writes the same cascaded versions.
    let manifest = cachebust().arg("manifest").arg(&site).output().unwrap();
    let json: BTreeMap<String, String> = serde_json::from_slice(&manifest.stdout).unwrap();
    assert_eq!(json["/css/base.css"], version(&base));
    assert_eq!(json["/css/theme/site.css"], version(&site_css));

    // One image changes: exactly its references, the stylesheets that use it (and
    // import those), and the pages linking them change.
    write(site.join("img/a.png"), "A2");
    let out2 = tmp.path().join("out2");
    run(&site, &["--out", out2.to_str().unwrap()]);
    let (before, after) = (tree(&out1), tree(&out2));
    let changed: Vec<&str> = before
        .iter()
        .filter(|(path, bytes)| after.get(*path) != Some(bytes))
        .map(|(path, _)| path.as_str())
        .collect();
    assert_eq!(
        changed,
        [
            "css/base.css",
            "css/theme/site.css",
            "img/a.png",
            "index.html"
        ]
    );
}

#[test]
fn in_place_twice_converges_and_stylesheets_go_through_stdin() {
    let (_tmp, site) = site();
    run(&site, &[]);
    let once = tree(&site);
    let again = run(&site, &[]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains(" 0 changed"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(tree(&site), once);

    // `-` with a --base-url naming a stylesheet: its references resolve against it.
    let output = cachebust()
        .args([
            "rewrite",
            "-",
            "--base-url",
            "https://example.com/css/x/y.css",
            "-m",
        ])
        .arg({
            let manifest = site.join("../v.json");
            write(&manifest, r#"{"/img/a.png": "7"}"#);
            manifest
        })
        .write_stdin("a { background: url(../../img/a.png) } /* url(../../img/a.png) */")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "a { background: url(../../img/a.png?vh=7) } /* url(../../img/a.png) */"
    );
}

/// Every file below `dir` whose name has the shape of a renamed copy.
fn copies_in(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|p| {
            let name = p.rsplit('/').next().unwrap();
            name.split('.')
                .any(|part| part.len() == 10 && part.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .collect()
}

#[test]
fn renamed_copies_converge_prune_and_are_written_once() {
    let (tmp, site) = site();
    let manifest = tmp.path().join("renames.json");
    let first = run(
        &site,
        &["--rename", "--write-manifest", manifest.to_str().unwrap()],
    );
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("copies written"),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let a = format!("img/a.{}.png", version(b"A1"));
    assert_eq!(read(site.join(&a)), "A1");
    assert_eq!(read(site.join("img/a.png")), "A1", "the original stays");
    let index = read(site.join("index.html"));
    assert!(index.contains(&format!("<img src={a}>")), "{index}");
    // The stylesheet's copy holds its rewritten references, and is named by their hash.
    let base_copy = copies_in(&site)
        .into_iter()
        .find(|p| p.starts_with("css/base."))
        .unwrap();
    let base_bytes = fs::read(site.join(&base_copy)).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&base_bytes),
        format!(".a {{ background: url(../{a}) }}\n")
    );
    assert_eq!(base_copy, format!("css/base.{}.css", version(&base_bytes)));
    let written: BTreeMap<String, String> = serde_json::from_str(&read(&manifest)).unwrap();
    assert_eq!(written["/img/a.png"], format!("/{a}"));
    assert_eq!(written["/css/base.css"], format!("/{base_copy}"));

    // Again: nothing changes, no copy of a copy.
    let before = tree(&site);
    let again = run(&site, &["--rename"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 copies written"));
    assert!(String::from_utf8_lossy(&again.stderr).contains(" 0 changed"));
    assert_eq!(tree(&site), before);

    // An image changes: one run converges, and --prune takes the old copies away (and
    // nothing else).
    write(site.join("img/a.png"), "A2");
    run(&site, &["--rename", "--prune"]);
    let after = tree(&site);
    let settled = run(&site, &["--rename", "--prune"]);
    assert!(
        String::from_utf8_lossy(&settled.stderr).contains("0 copies written, 0 pruned"),
        "{}",
        String::from_utf8_lossy(&settled.stderr)
    );
    assert_eq!(tree(&site), after);
    assert!(!site.join(&a).exists(), "the old copy is pruned");
    let a2 = format!("img/a.{}.png", version(b"A2"));
    assert!(read(site.join("index.html")).contains(&a2));
    let originals: Vec<String> = after
        .keys()
        .filter(|p| !copies_in(&site).contains(p))
        .cloned()
        .collect();
    assert_eq!(
        originals,
        [
            "b.html",
            "css/base.css",
            "css/one.css",
            "css/theme/site.css",
            "css/two.css",
            "cycle.html",
            "img/a.png",
            "img/b.png",
            "index.html",
            "js/app.js"
        ]
    );
    // `--check` with nothing to do: exit 0; after a change, 1 and nothing written.
    cachebust()
        .arg("rewrite")
        .arg(&site)
        .args(["--rename", "--check", "--hash"])
        .arg(&site)
        .assert()
        .code(0);
    write(site.join("img/b.png"), "B2");
    let snapshot = tree(&site);
    cachebust()
        .arg("rewrite")
        .arg(&site)
        .args(["--rename", "--check", "--hash"])
        .arg(&site)
        .assert()
        .code(1);
    assert_eq!(tree(&site), snapshot);
}

#[test]
fn renamed_copies_into_out_and_from_the_manifest_command() {
    let (tmp, site) = site();
    let out = tmp.path().join("out");
    let rev = tmp.path().join("rev.json");
    run(
        &site,
        &[
            "--rename",
            "--out",
            out.to_str().unwrap(),
            "--write-manifest",
            rev.to_str().unwrap(),
            "--format",
            "rev",
        ],
    );
    assert!(copies_in(&site).is_empty(), "the source is left as it was");
    let a = format!("img/a.{}.png", version(b"A1"));
    assert_eq!(read(out.join(&a)), "A1");
    assert!(read(out.join("index.html")).contains(&a));
    let written: BTreeMap<String, String> = serde_json::from_str(&read(&rev)).unwrap();
    assert_eq!(written["img/a.png"], a);

    // `cachebust manifest --rename` makes the same copies and entries.
    let output = cachebust()
        .args(["manifest", "--rename"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let entries: BTreeMap<String, String> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(entries["/img/a.png"], format!("/{a}"));
    assert_eq!(read(site.join(&a)), "A1");
    let out_copies: Vec<String> = copies_in(&out);
    assert_eq!(copies_in(&site), out_copies);
    for copy in &out_copies {
        assert_eq!(
            fs::read(site.join(copy)).unwrap(),
            fs::read(out.join(copy)).unwrap(),
            "{copy}"
        );
    }
    // That manifest, given back to `rewrite -m`, points references at the copies.
    let manifest = tmp.path().join("m.json");
    fs::write(&manifest, &output.stdout).unwrap();
    let page = cachebust()
        .args(["rewrite", "-", "-m"])
        .arg(&manifest)
        .args(["--base-url", "http://localhost/index.html"])
        .write_stdin("<img src=img/a.png>")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&page.stdout),
        format!("<img src={a}>")
    );
}

#[test]
fn out_keeps_the_modes_of_files_and_directories() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, site) = site();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let set = |p: &Path, m: u32| fs::set_permissions(p, fs::Permissions::from_mode(m)).unwrap();
    set(&site.join("index.html"), 0o644);
    set(&site.join("b.html"), 0o640);
    set(&site.join("img/a.png"), 0o604);
    set(&site.join("img"), 0o751);
    let out = tmp.path().join("out");
    run(&site, &["--out", out.to_str().unwrap(), "--rename"]);
    assert_eq!(mode(&out.join("index.html")), 0o644);
    assert_eq!(mode(&out.join("b.html")), 0o640);
    assert_eq!(mode(&out.join("img/a.png")), 0o604);
    assert_eq!(
        mode(&out.join(format!("img/a.{}.png", version(b"A1")))),
        0o604
    );
    assert_eq!(mode(&out.join("img")), 0o751);
    assert_eq!(mode(&out.join("css")), mode(&site.join("css")));
}

/// `--attr` adds attributes (the lazy loaders RULES §2 lists are in the table already), and
/// `cachebust.toml` holds the same flags, those on the command line winning.
#[test]
fn attributes_from_flags_and_from_cachebust_toml() {
    let tmp = TempDir::new().unwrap();
    let manifest = tmp.path().join("v.json");
    write(&manifest, r#"{"/img/a.png": "1", "/img/b.png": "2"}"#);
    let page = r#"<div data-bg="/img/a.png"></div><img data-original="/img/b.png"><p data-set="/img/a.png 1x, /img/b.png 2x"></p>"#;
    let rewrite = |dir: &Path, extra: &[&str]| {
        let output = cachebust()
            .current_dir(dir)
            .args(["rewrite", "-", "-m"])
            .arg(&manifest)
            .args(extra)
            .write_stdin(page)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (_, out, _) = rewrite(tmp.path(), &[]);
    assert_eq!(
        out,
        r#"<div data-bg="/img/a.png"></div><img data-original="/img/b.png?vh=2"><p data-set="/img/a.png 1x, /img/b.png 2x"></p>"#
    );
    let (_, out, _) = rewrite(
        tmp.path(),
        &["--attr", "*:data-bg:url", "--attr", "p:data-set:srcset"],
    );
    assert_eq!(
        out,
        r#"<div data-bg="/img/a.png?vh=1"></div><img data-original="/img/b.png?vh=2"><p data-set="/img/a.png?vh=1 1x, /img/b.png?vh=2 2x"></p>"#
    );
    let (code, _, err) = rewrite(tmp.path(), &["--attr", "div"]);
    assert_eq!(code, Some(2), "{err}");

    // The same from cachebust.toml; --param on the command line wins over the file's.
    write(
        tmp.path().join("cachebust.toml"),
        "[rewrite]\nattr = [\"*:data-bg:url\"]\nparam = \"v\"\n",
    );
    let (_, out, _) = rewrite(tmp.path(), &[]);
    assert!(
        out.starts_with(r#"<div data-bg="/img/a.png?v=1">"#),
        "{out}"
    );
    let (_, out, _) = rewrite(tmp.path(), &["--param", "ver"]);
    assert!(
        out.starts_with(r#"<div data-bg="/img/a.png?ver=1">"#),
        "{out}"
    );
    // --config names another file; a key that is no flag is an error naming it.
    let other = tmp.path().join("other.toml");
    write(&other, "[rewrite]\nbase-urll = \"https://x.test/\"\n");
    let (code, _, err) = rewrite(tmp.path(), &["--config", other.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("other.toml") && err.contains("base-urll"),
        "{err}"
    );
}
