//! The whole site (SPEC §4): stylesheets rewritten as documents, every asset versioned,
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
