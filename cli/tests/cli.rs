//! The `cachebust` binary, run on real files.

use assert_cmd::Command;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn cachebust() -> Command {
    Command::cargo_bin("cachebust").unwrap()
}

fn example_site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/site")
}

/// A copy of the example site in a temporary directory.
fn site_copy() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let site = dir.path().join("site");
    copy_dir(&example_site(), &site);
    (dir, site)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn read(path: impl AsRef<Path>) -> String {
    fs::read_to_string(path).unwrap()
}

fn write(path: impl AsRef<Path>, text: &str) {
    let path = path.as_ref();
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// `cachebust rewrite ARGS... --hash SITE SITE`: the site versioned from its own files.
fn rewrite_hashed(site: &Path, args: &[&str]) -> std::process::Output {
    cachebust()
        .arg("rewrite")
        .args(args)
        .arg("--hash")
        .arg(site)
        .arg(site)
        .output()
        .unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn rewrites_in_place_then_converges() {
    let (_tmp, site) = site_copy();
    let out = rewrite_hashed(&site, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let index = read(site.join("index.html"));
    assert!(
        index.contains(r#"<img class="hero" src="img/hero.png?vh="#),
        "{index}"
    );
    assert!(index.contains(r#"<a href="blog/">blog</a>"#));
    // Three pages and two stylesheets.
    assert!(
        stderr_of(&out).contains("5 files, 5 changed"),
        "{}",
        stderr_of(&out)
    );

    let mtime = fs::metadata(site.join("index.html"))
        .unwrap()
        .modified()
        .unwrap();
    let again = rewrite_hashed(&site, &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stderr_of(&again).contains("5 files, 0 changed"),
        "{}",
        stderr_of(&again)
    );
    assert_eq!(read(site.join("index.html")), index);
    assert_eq!(
        fs::metadata(site.join("index.html"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime,
        "an unchanged file is not rewritten"
    );
    assert_eq!(rewrite_hashed(&site, &["--check"]).status.code(), Some(0));
}

#[test]
fn check_reports_and_writes_nothing() {
    let (_tmp, site) = site_copy();
    let before = read(site.join("index.html"));
    let out = rewrite_hashed(&site, &["--check"]);
    assert_eq!(out.status.code(), Some(1));
    let listed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(listed.lines().count(), 5, "{listed}");
    assert!(listed.contains("index.html") && listed.contains("css/site.css"));
    assert_eq!(read(site.join("index.html")), before);
}

#[test]
fn a_bad_manifest_exits_2_before_anything_is_touched() {
    let (tmp, site) = site_copy();
    let before = read(site.join("index.html"));
    let manifest = tmp.path().join("bad.json");
    write(&manifest, r#"{"/img/hero.png": "v 1"}"#);
    let out = cachebust()
        .args(["rewrite", "-m"])
        .arg(&manifest)
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.contains("/img/hero.png") && err.contains("' '"),
        "{err}"
    );
    assert_eq!(read(site.join("index.html")), before);

    write(&manifest, r#"{"/a.png": "1""#);
    let out = cachebust()
        .args(["rewrite", "-m"])
        .arg(&manifest)
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("line 1"), "{}", stderr_of(&out));
    cachebust()
        .args(["rewrite", "-m", "/no/such/manifest.json"])
        .arg(&site)
        .assert()
        .code(2);
    assert_eq!(
        rewrite_hashed(&site, &["--base-url", "ftp://x/"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        rewrite_hashed(&site, &["--global-version", "a/b"])
            .status
            .code(),
        Some(2)
    );
    cachebust()
        .args(["rewrite", "--hash"])
        .arg(&site)
        .arg(tmp.path().join("missing-dir"))
        .assert()
        .code(2);
    assert_eq!(read(site.join("index.html")), before);
}

#[test]
fn permissions_are_kept_and_read_only_files_reported() {
    let (_tmp, site) = site_copy();
    let index = site.join("index.html");
    fs::set_permissions(&index, fs::Permissions::from_mode(0o640)).unwrap();
    let locked = site.join("blog/index.html");
    let locked_before = read(&locked);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o444)).unwrap();
    let out = rewrite_hashed(&site, &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a read-only file is an error at the end"
    );
    assert!(stderr_of(&out).contains("read-only"), "{}", stderr_of(&out));
    assert_eq!(read(&locked), locked_before);
    assert!(read(&index).contains("?vh="), "the other files are done");
    assert!(read(site.join("blog/2026/hello.html")).contains("?vh="));
    assert_eq!(
        fs::metadata(&index).unwrap().permissions().mode() & 0o777,
        0o640
    );
}

/// The `rewritten` count of a `--report json` run.
fn rewritten_count(out: &std::process::Output) -> u64 {
    let summary: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    summary["rewritten"].as_u64().unwrap()
}

#[test]
fn the_json_report_names_each_warning_once() {
    let (_tmp, site) = site_copy();
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "<img src=\"/img/hero.png\">"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    fs::write(site.join("utf16.html"), &utf16).unwrap();
    let out = rewrite_hashed(&site, &["--report", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = stderr_of(&out);
    assert_eq!(text.matches("\"warnings\"").count(), 1, "{text}");
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    let warnings = summary["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{text}");
    let warning = warnings[0].as_str().unwrap();
    assert!(
        warning.contains("utf16.html") && warning.contains("UTF-16"),
        "{warning}"
    );
    assert_eq!(fs::read(site.join("utf16.html")).unwrap(), utf16);
}

#[test]
fn a_file_left_as_it_was_counts_no_reference_rewritten() {
    let json = ["--report", "json"];
    let (_all_tmp, all) = site_copy();
    let everything = rewritten_count(&rewrite_hashed(&all, &json));
    let (_tmp, site) = site_copy();
    let locked = site.join("blog/index.html");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o444)).unwrap();
    let out = rewrite_hashed(&site, &json);
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    let without_locked = rewritten_count(&out);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
    let locked_alone = rewritten_count(&rewrite_hashed(&site, &json));
    assert!(
        locked_alone > 0,
        "the locked page has references to rewrite"
    );
    assert_eq!(without_locked + locked_alone, everything);
}

#[test]
fn out_writes_a_whole_tree_and_leaves_the_source() {
    let (tmp, site) = site_copy();
    let target = tmp.path().join("public");
    cachebust()
        .args(["rewrite", "--hash"])
        .arg(&site)
        .arg(&site)
        .arg("--out")
        .arg(&target)
        .assert()
        .code(0);
    assert!(!read(site.join("index.html")).contains("?vh="));
    assert!(read(target.join("index.html")).contains("?vh="));
    assert!(read(target.join("blog/2026/hello.html")).contains("photo.png?vh="));
    assert_eq!(
        fs::read(target.join("img/hero.png")).unwrap(),
        fs::read(site.join("img/hero.png")).unwrap()
    );
    cachebust()
        .args(["rewrite", "--check", "--hash"])
        .arg(&site)
        .arg(&site)
        .arg("--out")
        .arg(&target)
        .assert()
        .code(2);
}

#[test]
fn an_out_directory_inside_the_site_is_not_read_as_the_site() {
    let (_tmp, site) = site_copy();
    let out = site.join("dist");
    let files_before = walk(&site).len();
    for _ in 0..2 {
        let run = rewrite_hashed(&site, &["--out", out.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(0), "{}", stderr_of(&run));
        assert!(
            stderr_of(&run).starts_with("5 files"),
            "{}",
            stderr_of(&run)
        );
    }
    // One copy of the site, not a copy of the copy.
    assert!(!out.join("dist").exists());
    assert_eq!(walk(&out).len(), files_before);
    assert!(read(out.join("index.html")).contains("?vh="));
    // Nor is the output hashed as the site's assets by `--hash`: its images are a former
    // run's copies, no file the site serves.
    write(
        site.join("copies.html"),
        r#"<img src="/dist/img/logo.svg"><img src="/img/logo.svg">"#,
    );
    let run = rewrite_hashed(&site, &["--out", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr_of(&run));
    let copies = read(out.join("copies.html"));
    assert!(
        copies.starts_with(r#"<img src="/dist/img/logo.svg"><img src="/img/logo.svg?vh="#),
        "{copies}"
    );
}

#[test]
fn stdin_to_stdout() {
    let (tmp, _) = site_copy();
    let manifest = tmp.path().join("v.json");
    write(&manifest, r#"{"/img/a.png": "v1"}"#);
    cachebust()
        .args([
            "rewrite",
            "-",
            "--base-url",
            "https://example.com/blog/",
            "-m",
        ])
        .arg(&manifest)
        .write_stdin(r#"<img src="../img/a.png"><a href="/img/a.png">x</a>"#)
        .assert()
        .code(0)
        .stdout(r#"<img src="../img/a.png?vh=v1"><a href="/img/a.png">x</a>"#);
    cachebust()
        .args(["rewrite", "-", "--check", "-m"])
        .arg(&manifest)
        .write_stdin("<img src=/img/a.png>")
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn strict_json_report_param_host_and_global_version() {
    let (tmp, site) = site_copy();
    let manifest = tmp.path().join("v.json");
    write(&manifest, r#"{"/img/hero.png": "h1"}"#);
    let out = cachebust()
        .args(["rewrite", "--strict", "--check", "--report", "json", "-m"])
        .arg(&manifest)
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(json["files"], 5);
    assert!(json["missing"].as_u64().unwrap() > 0);
    assert!(json["skipped"]["foreign"].as_u64().unwrap() >= 1);
    // With `--check`, `changed` counts the files that would change, and names them.
    let would_change = json["would_change"].as_array().unwrap();
    assert!(!would_change.is_empty());
    assert_eq!(json["changed"], would_change.len());
    assert!(json["errors"].as_array().unwrap().is_empty());
    assert!(json["current"].is_u64() && json["rewritten"].as_u64().unwrap() > 0);
    assert!(!json["missing_examples"].as_array().unwrap().is_empty());

    let page = tmp.path().join("p/index.html");
    write(
        &page,
        r#"<img src="https://static.example.com/img/hero.png"><img src="/img/other.png">"#,
    );
    cachebust()
        .args([
            "rewrite",
            "--strict",
            "--base-url",
            "https://example.com/",
            "--host",
            "static.example.com",
            "--param",
            "v",
            "--global-version",
            "g7",
            "-m",
        ])
        .arg(&manifest)
        .arg(page.parent().unwrap())
        .assert()
        .code(0);
    assert_eq!(
        read(&page),
        r#"<img src="https://static.example.com/img/hero.png?v=h1"><img src="/img/other.png?v=g7">"#
    );
}

#[test]
fn jobs_do_not_change_the_output() {
    let (_tmp, one) = site_copy();
    let (_tmp2, two) = site_copy();
    assert_eq!(rewrite_hashed(&one, &["-j", "1"]).status.code(), Some(0));
    assert_eq!(rewrite_hashed(&two, &["-j", "2"]).status.code(), Some(0));
    for page in ["index.html", "blog/index.html", "blog/2026/hello.html"] {
        assert_eq!(read(one.join(page)), read(two.join(page)));
    }
    assert_eq!(rewrite_hashed(&one, &["-j", "0"]).status.code(), Some(2));
}

#[test]
fn manifest_command_hashes_every_asset() {
    let (tmp, site) = site_copy();
    write(site.join(".env"), "SECRET=1");
    write(site.join(".git/HEAD"), "ref: main");
    write(site.join("js/app.js"), "console.log('/img/hero.png')");
    write(site.join("fonts/f.woff2"), "wOF2");
    let out = cachebust().arg("manifest").arg(&site).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "/img/hero.png",
        "/blog/2026/photo.png",
        "/css/site.css",
        "/css/base.css",
        "/js/app.js",
        "/fonts/f.woff2",
    ] {
        assert!(json.contains_key(key), "{key}: {json:?}");
    }
    // Pages and dotfiles are not assets.
    for key in ["/index.html", "/blog/index.html", "/.env", "/.git/HEAD"] {
        assert!(!json.contains_key(key), "{key}");
    }
    // A script's version is its bytes' hash: its content is not read.
    assert_eq!(
        json["/js/app.js"].as_str().unwrap(),
        &blake3::hash(b"console.log('/img/hero.png')").to_hex()[..10]
    );
    let version = json["/img/hero.png"].as_str().unwrap();
    assert_eq!(
        version,
        &blake3::hash(&fs::read(site.join("img/hero.png")).unwrap()).to_hex()[..10]
    );

    let file = tmp.path().join("m.json");
    cachebust()
        .arg("manifest")
        .arg(&site)
        .args([
            "--include",
            "**/*.css",
            "--include",
            "**/*.png",
            "--exclude",
            "blog/**",
            "-o",
        ])
        .arg(&file)
        .assert()
        .code(0);
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&read(&file)).unwrap();
    assert!(json.contains_key("/css/site.css") && json.contains_key("/img/hero.png"));
    assert!(!json.contains_key("/blog/2026/photo.png") && !json.contains_key("/img/logo.svg"));
    cachebust()
        .arg("manifest")
        .arg(tmp.path().join("nope"))
        .assert()
        .code(2);
}

#[test]
fn a_site_below_a_path_is_hashed_where_it_is_served() {
    // The site is https://example.com/blog/: its own files are under /blog/, and a
    // reference climbing out of it names something else.
    let tmp = TempDir::new().unwrap();
    let site = tmp.path().join("site");
    write(site.join("img/a.png"), "a picture");
    let page = "<img src=\"/blog/img/a.png\"><img src=\"img/a.png\"><img src=\"../img/a.png\">";
    write(site.join("index.html"), page);
    write(site.join("post/p.html"), page);
    let version = &blake3::hash(b"a picture").to_hex()[..10];
    let busted = |src: &str| format!("<img src=\"{src}?vh={version}\">");

    let index = format!(
        "{}{}<img src=\"../img/a.png\">",
        busted("/blog/img/a.png"),
        busted("img/a.png")
    );
    // The site, or a page given alone (which sits at the site's root).
    for (rewritten, hashed) in [
        (site.clone(), site.clone()),
        (site.clone(), site.join("img")),
        (site.join("index.html"), site.clone()),
    ] {
        let out = tmp.path().join("out");
        let _ = fs::remove_dir_all(&out);
        let run = cachebust()
            .arg("rewrite")
            .arg(&rewritten)
            .arg("--hash")
            .arg(&hashed)
            .args(["--base-url", "https://example.com/blog/", "-o"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "{}", stderr_of(&run));
        assert_eq!(read(out.join("index.html")), index);
        if rewritten != site {
            continue;
        }
        assert_eq!(
            read(out.join("post/p.html")),
            format!(
                "{}<img src=\"img/a.png\">{}",
                busted("/blog/img/a.png"),
                busted("../img/a.png")
            )
        );
    }

    let manifest = |prefix: &str| {
        let mut command = cachebust();
        command
            .arg("manifest")
            .arg(&site)
            .args(["--prefix", prefix]);
        command.output().unwrap()
    };
    assert_eq!(
        String::from_utf8(manifest("/blog").stdout).unwrap(),
        format!("{{\n  \"/blog/img/a.png\": \"{version}\"\n}}\n")
    );
    let out = manifest("blog");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--prefix"), "{}", stderr_of(&out));
}

#[test]
fn files_named_with_url_delimiters_are_hashed_under_their_urls() {
    // A file's URL path escapes what a URL would read otherwise: `q#x.png` is served at
    // `q%23x.png`, `100%.png` at `100%25.png`, `a%41.png` (not `aA.png`) at `a%2541.png`.
    let tmp = TempDir::new().unwrap();
    let site = tmp.path().join("site");
    let names = [
        "q#x.png", "w?h.png", "100%.png", "a%41.png", "b c.png", "ä.png",
    ];
    for (n, name) in names.iter().enumerate() {
        write(site.join("img").join(name), &format!("image {n}"));
    }
    write(site.join("img/aA.png"), "another image");
    let references = [
        "img/q%23x.png",
        "img/w%3Fh.png",
        "img/100%25.png",
        "img/a%2541.png",
        "img/b%20c.png",
        "img/b c.png",
        "img/%C3%A4.png",
        "img/aA.png",
    ];
    let page: String = references
        .iter()
        .map(|r| format!("<img src=\"{r}\">\n"))
        .collect();
    write(site.join("index.html"), &page);

    let out = cachebust().arg("manifest").arg(&site).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let manifest = tmp.path().join("m.json");
    fs::write(&manifest, &out.stdout).unwrap();
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.contains_key("/img/q%23x.png"), "{json:?}");
    assert!(json.contains_key("/img/a%2541.png"), "{json:?}");

    // The written manifest loads, and `--hash` builds the same one: every reference found.
    for source in [
        ["-m", manifest.to_str().unwrap()],
        ["--hash", site.to_str().unwrap()],
    ] {
        let out = cachebust()
            .args(["rewrite", "-", "--strict"])
            .args(source)
            .write_stdin(page.clone())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        let rewritten = String::from_utf8(out.stdout).unwrap();
        for (line, reference) in rewritten.lines().zip(references) {
            let file = match reference {
                "img/aA.png" => site.join("img/aA.png"),
                _ => {
                    let n = names
                        .iter()
                        .position(|name| {
                            let encoded = &reference["img/".len()..];
                            percent_encoding::percent_decode_str(encoded).decode_utf8_lossy()
                                == *name
                        })
                        .unwrap();
                    site.join("img").join(names[n])
                }
            };
            let version = &blake3::hash(&fs::read(&file).unwrap()).to_hex()[..10];
            assert_eq!(line, format!("<img src=\"{reference}?vh={version}\">"));
        }
    }
}

#[test]
fn url_command() {
    let (tmp, _) = site_copy();
    let manifest = tmp.path().join("v.json");
    write(
        &manifest,
        r#"{"/img/a.png": "v1", "https://sample.li/flat.jpg": "3f9a"}"#,
    );
    cachebust()
        .args(["url", "/img/a.png?w=5", "../img/a.png", "https://doc.cloudimg.io/sample.li/flat.jpg?w=500", "data:,x", "--page-url", "https://e.com/blog/post.html", "-m"])
        .arg(&manifest)
        .assert()
        .code(0)
        .stdout("/img/a.png?w=5&vh=v1\n../img/a.png?vh=v1\nhttps://doc.cloudimg.io/sample.li/flat.jpg?w=500&vh=3f9a\ndata:,x\n");
}

#[test]
fn importers_on_real_shaped_samples() {
    let tmp = TempDir::new().unwrap();
    let samples: &[(&str, &str, &[&str], &str, &str)] = &[
        (
            "rev-manifest.json",
            r#"{"css/app.css": "css/app-d41d8cd98f.css"}"#,
            &[],
            r#"<link rel="stylesheet" href="/css/app.css">"#,
            r#"<link rel="stylesheet" href="/css/app-d41d8cd98f.css">"#,
        ),
        (
            "assets-manifest.json",
            r#"{"main.js": "main.3f2a1b.js"}"#,
            &["--manifest-prefix", "/static/"],
            r#"<script src="/static/main.js"></script>"#,
            r#"<script src="/static/main.3f2a1b.js"></script>"#,
        ),
        (
            "mix-manifest.json",
            r#"{"/js/app.js": "/js/app.js?id=6a1b2c3d"}"#,
            &[],
            r#"<script src="/js/app.js"></script>"#,
            r#"<script src="/js/app.js?vh=6a1b2c3d"></script>"#,
        ),
        (
            "manifest.json",
            r#"{"src/logo.png": {"file": "assets/logo-BfQ2.png", "src": "src/logo.png"}, "index.html": {"file": "assets/index-1.js", "isEntry": true}}"#,
            &[],
            r#"<img src="/src/logo.png">"#,
            r#"<img src="/assets/logo-BfQ2.png">"#,
        ),
        (
            ".manifest.json",
            r#"{"application.css": {"digested_path": "application-6c89a7b8.css", "integrity": "sha384-x"}}"#,
            &[],
            r#"<link rel="stylesheet" href="/assets/application.css">"#,
            r#"<link rel="stylesheet" href="/assets/application-6c89a7b8.css">"#,
        ),
        (
            "staticfiles.json",
            r#"{"paths": {"css/base.css": "css/base.5af66c1b1797.css"}, "version": "1.1", "hash": "x"}"#,
            &[],
            r#"<link rel="stylesheet" href="/static/css/base.css">"#,
            r#"<link rel="stylesheet" href="/static/css/base.5af66c1b1797.css">"#,
        ),
        (
            "versions.json",
            r#"{"/img/a.png": "3f9a"}"#,
            &[],
            r#"<img src="/img/a.png">"#,
            r#"<img src="/img/a.png?vh=3f9a">"#,
        ),
    ];
    for (name, json, extra, input, expected) in samples {
        let manifest = tmp.path().join(name);
        write(&manifest, json);
        cachebust()
            .args(["rewrite", "-", "-m"])
            .arg(&manifest)
            .args(*extra)
            .write_stdin(*input)
            .assert()
            .code(0)
            .stdout(*expected);
    }
    let manifest = tmp.path().join("staticfiles.json");
    cachebust()
        .args([
            "rewrite",
            "-",
            "--manifest-format",
            "django",
            "--manifest-prefix",
            "/s/",
            "-m",
        ])
        .arg(&manifest)
        .write_stdin(r#"<link rel="stylesheet" href="/s/css/base.css">"#)
        .assert()
        .code(0)
        .stdout(r#"<link rel="stylesheet" href="/s/css/base.5af66c1b1797.css">"#);
    cachebust()
        .args(["rewrite", "-", "--manifest-format", "nope", "-m"])
        .arg(&manifest)
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn later_manifests_win() {
    let tmp = TempDir::new().unwrap();
    let (a, b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    write(&a, r#"{"/x.png": "one", "/y.png": "one"}"#);
    write(&b, r#"{"/x.png": "two"}"#);
    cachebust()
        .args(["rewrite", "-", "-m"])
        .arg(&a)
        .arg("-m")
        .arg(&b)
        .write_stdin("<img src=/x.png><img src=/y.png>")
        .assert()
        .code(0)
        .stdout(r#"<img src="/x.png?vh=two"><img src="/y.png?vh=one">"#);
}

#[test]
fn utf16_files_are_left_with_a_warning() {
    let (_tmp, site) = site_copy();
    let page = site.join("utf16.html");
    let mut bytes = vec![0xFF, 0xFE];
    for unit in "<img src=\"/img/hero.png\">".encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    fs::write(&page, &bytes).unwrap();
    let out = rewrite_hashed(&site, &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr_of(&out).contains("UTF-16"), "{}", stderr_of(&out));
    assert_eq!(fs::read(&page).unwrap(), bytes);
}

#[test]
fn symlinks_are_not_followed_and_stale_temp_files_go() {
    let (tmp, site) = site_copy();
    let outside = tmp.path().join("outside.html");
    write(&outside, "<img src=/img/hero.png>");
    std::os::unix::fs::symlink(&outside, site.join("linked.html")).unwrap();
    std::os::unix::fs::symlink(&site, site.join("blog/loop")).unwrap();
    std::os::unix::fs::symlink(site.join("index.html"), site.join("inside.html")).unwrap();
    let stale = site.join("blog/.cachebust-tmp-abc123");
    write(&stale, "half a page");
    let out = cachebust()
        .args(["rewrite", "--hash"])
        .arg(&site)
        .arg(&site)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a symlink out of the tree is reported: {}",
        stderr_of(&out)
    );
    assert!(
        stderr_of(&out).contains("symlink out of the tree"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(read(&outside), "<img src=/img/hero.png>");
    assert!(
        fs::symlink_metadata(site.join("inside.html"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!stale.exists());
    assert!(read(site.join("index.html")).contains("?vh="));
}

/// A site of `n` pages, each referencing the same image.
fn big_site(n: usize) -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    let site = tmp.path().join("site");
    fs::create_dir_all(site.join("img")).unwrap();
    fs::write(site.join("img/a.png"), b"png").unwrap();
    let page = format!(
        "<p>{}</p><img src=\"/img/a.png\" srcset=\"/img/a.png 1x\">\n",
        "text ".repeat(2000)
    );
    for i in 0..n {
        write(site.join(format!("d{}/p{i}.html", i % 20)), &page);
    }
    (tmp, site)
}

/// Every page is either as it was or fully rewritten, and no temporary file is left.
fn assert_old_or_new(site: &Path) {
    let old = format!(
        "<p>{}</p><img src=\"/img/a.png\" srcset=\"/img/a.png 1x\">\n",
        "text ".repeat(2000)
    );
    for entry in walk(site) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".cachebust-tmp-"),
            "a temporary file was left: {}",
            entry.display()
        );
        if name.ends_with(".html") {
            let text = read(&entry);
            assert!(
                text == old || (text.contains("a.png?vh=") && text.len() == old.len() + 2 * 14),
                "{}: neither old nor new",
                entry.display()
            );
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn killed_mid_run_then_rerun_converges() {
    let (_tmp, site) = big_site(2000);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .args(["rewrite", "-q", "-j", "2", "--hash"])
        .arg(&site)
        .arg(&site)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Every file is old or new; a temporary file of the killed run may remain until the
    // next run, which removes it.
    let old = format!(
        "<p>{}</p><img src=\"/img/a.png\" srcset=\"/img/a.png 1x\">\n",
        "text ".repeat(2000)
    );
    for page in walk(&site)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
    {
        let text = read(&page);
        assert!(
            text == old || text.contains("a.png?vh="),
            "{}: half written",
            page.display()
        );
    }
    assert_eq!(rewrite_hashed(&site, &["-q"]).status.code(), Some(0));
    assert_old_or_new(&site);
    assert_eq!(rewrite_hashed(&site, &["--check"]).status.code(), Some(0));
}

#[test]
fn a_file_deleted_mid_run_is_reported_and_the_rest_done() {
    let (_tmp, site) = big_site(2000);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .args(["rewrite", "-q", "-j", "1", "--hash"])
        .arg(&site)
        .arg(&site)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Delete pages while the run goes on (the last directory is reached last).
    std::thread::sleep(std::time::Duration::from_millis(50));
    let victims: Vec<PathBuf> = walk(&site.join("d9")).into_iter().take(50).collect();
    for victim in &victims {
        let _ = fs::remove_file(victim);
    }
    let output = child.wait_with_output().unwrap();
    let code = output.status.code().unwrap();
    assert!(code == 0 || code == 2, "exit {code}");
    if code == 2 {
        assert!(
            stderr_of(&output).contains("reading"),
            "{}",
            stderr_of(&output)
        );
    }
    assert_old_or_new(&site);
    assert_eq!(rewrite_hashed(&site, &["--check"]).status.code(), Some(0));
}

#[test]
fn an_unwritable_directory_is_reported() {
    let (_tmp, site) = site_copy();
    // Root may write anywhere: a file standing where the temporary file's directory should
    // be makes the write fail for everyone.
    let target = TempDir::new().unwrap();
    fs::write(target.path().join("blog"), "a file, not a directory").unwrap();
    let out = cachebust()
        .args(["rewrite", "--hash"])
        .arg(&site)
        .arg(&site)
        .arg("--out")
        .arg(target.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("blog"), "{}", stderr_of(&out));
    assert!(
        read(target.path().join("index.html")).contains("?vh="),
        "the others are done"
    );
}

#[test]
fn sigint_finishes_the_files_under_way_and_leaves_no_temporary_file() {
    let (_tmp, site) = big_site(2000);
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("cachebust"))
        .args(["rewrite", "-q", "-j", "2", "--hash"])
        .arg(&site)
        .arg(&site)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let output = child.wait_with_output().unwrap();
    let code = output.status.code();
    assert!(
        code == Some(130) || code == Some(0),
        "{code:?}: {}",
        stderr_of(&output)
    );
    if code == Some(130) {
        assert!(
            stderr_of(&output).contains("interrupted"),
            "{}",
            stderr_of(&output)
        );
    }
    assert_old_or_new(&site);
}

#[test]
fn encoding_and_cdn_domain_flags() {
    let tmp = TempDir::new().unwrap();
    let manifest = tmp.path().join("v.json");
    write(
        &manifest,
        r#"{"/img/caf\u00e9.png": "c1", "https://example.com/a.jpg": "a1"}"#,
    );
    // windows-1252 bytes, read as such, written back as they were.
    cachebust()
        .args(["rewrite", "-", "--encoding", "windows-1252", "-m"])
        .arg(&manifest)
        .write_stdin(&b"<img src=\"/img/caf\xe9.png\">"[..])
        .assert()
        .code(0)
        .stdout(&b"<img src=\"/img/caf\xe9.png?vh=c1\">"[..]);
    cachebust()
        .args(["rewrite", "-", "--cloudimage-domain", "img.example.com", "--optimole-domain", "opt.example.com", "-m"])
        .arg(&manifest)
        .write_stdin(r#"<img src="https://img.example.com/example.com/a.jpg?w=5"><img src="https://opt.example.com/w:1/https://example.com/a.jpg">"#)
        .assert()
        .code(0)
        .stdout(r#"<img src="https://img.example.com/example.com/a.jpg?w=5&vh=a1"><img src="https://opt.example.com/cb:a1/w:1/https://example.com/a.jpg">"#);
    cachebust()
        .args(["rewrite", "-", "--encoding", "klingon", "-m"])
        .arg(&manifest)
        .write_stdin("")
        .assert()
        .code(2);
}

#[test]
fn rewrite_list_prints_every_reference_and_writes_nothing() {
    let tmp = TempDir::new().unwrap();
    let site = tmp.path().join("site");
    let page = site.join("blog/index.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    let html = r#"<img src="../img/a.png?vh=old" srcset="/img/b.png?vh=b1 2x"><img src="data:,x">"#;
    write(&page, html);
    let manifest = tmp.path().join("v.json");
    write(&manifest, r#"{"/img/a.png": "new", "/img/b.png": "b1"}"#);
    let out = cachebust()
        .args(["rewrite"])
        .arg(&site)
        .args(["--list", "--base-url", "https://e.com/", "-m"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "as --check: a file would change"
    );
    let file = page.display().to_string();
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        lines,
        [
            format!(
                "{file}\trewritten\t../img/a.png?vh=old\thttps://e.com/img/a.png?vh=old\t/img/a.png\told\tnew"
            ),
            format!(
                "{file}\tcurrent\t/img/b.png?vh=b1\thttps://e.com/img/b.png?vh=b1\t/img/b.png\tb1\tb1"
            ),
            format!("{file}\tskipped:scheme\tdata:,x\tdata:,x\t-\t-\t-"),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&page).unwrap(),
        html,
        "nothing written"
    );
    cachebust()
        .args(["rewrite"])
        .arg(&site)
        .args(["--list", "--out"])
        .arg(tmp.path().join("out"))
        .args(["-m"])
        .arg(&manifest)
        .assert()
        .code(2);
}
