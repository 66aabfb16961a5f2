//! Hardening of the catalogue's file endpoint and of imports, through the
//! real binary on 127.0.0.1:
//!
//! * `/catalogue/PATH` streams files with checked byte ranges (416 with
//!   `Content-Range: bytes */SIZE`, no overflow at `u64::MAX`), lists a
//!   directory's visible entries as an HTML index (hidden ones never), and
//!   its errors name no local path;
//! * an import checks names; a mounted table whose store is down or whose
//!   MOC is malformed is left out at start-up with a warning, and the
//!   server starts;
//! * an admin import that fails registers nothing; imports at once are
//!   serialised.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Server;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_astrolake")
}

fn run(args: &[&str], data: &Path) -> Output {
    run_with(args, data, &[])
}

fn run_with(args: &[&str], data: &Path, env: &[(&str, &str)]) -> Output {
    Command::new(bin())
        .args(args)
        .env("ASTROLAKE_DATA", data)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn synth(cat: &Path, data: &Path) {
    ok(&run(
        &[
            "synth",
            "--catalog",
            &cat.to_string_lossy(),
            "--rows",
            "3000",
            "--tables",
            "gaia_source",
            "--no-progress",
        ],
        data,
    ));
}

/// `astrolake serve` on a free port with its stderr in `log`; the site
/// URL (`http://127.0.0.1:PORT`), once it accepts connections.
fn serve_logged(catalog: &Path, env: &[(&str, &str)], log: &Path) -> (Server, String) {
    let (server, bind) = common::serve_logged(catalog, env, log, None);
    (server, format!("http://{bind}"))
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn get(url: &str, range: Option<&str>) -> Got {
    let mut r = reqwest::Client::new().get(url);
    if let Some(v) = range {
        r = r.header("Range", v);
    }
    let r = r.send().await.unwrap();
    Got {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.unwrap().to_vec(),
    }
}

/// The largest file below `dir` (following links) and its path relative to
/// `dir`.
fn largest(dir: &Path) -> (String, u64) {
    let mut best = (String::new(), 0);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let sub = rel.join(&name);
            let m = std::fs::metadata(dir.join(&sub)).unwrap();
            if m.is_dir() {
                stack.push(sub);
            } else if m.len() > best.1 {
                best = (sub.to_string_lossy().into_owned(), m.len());
            }
        }
    }
    best
}

#[tokio::test(flavor = "multi_thread")]
async fn catalogue_files_stream_with_checked_ranges_and_name_no_paths() {
    let work = tempfile::tempdir().unwrap();
    let (cat, data) = (work.path().join("cat"), work.path().join("data"));
    synth(&cat, &data);
    let data_s = data.to_string_lossy().to_string();
    let (_server, site) = serve_logged(
        &cat,
        &[("ASTROLAKE_DATA", &data_s)],
        &work.path().join("serve.log"),
    );
    let files = format!("{site}/catalogue");
    let props = std::fs::read(cat.join("gaia/gaia_source/hats.properties")).unwrap();
    let n = props.len() as u64;
    let url = format!("{files}/gaia/gaia_source/hats.properties");

    let whole = get(&url, None).await;
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, props);
    assert_eq!(whole.header("content-length"), n.to_string());
    assert_eq!(whole.header("accept-ranges"), "bytes");

    // The end u64::MAX is clamped to the file, not wrapped.
    let all = get(&url, Some("bytes=0-18446744073709551615")).await;
    assert_eq!(all.status, 206);
    assert_eq!(
        all.header("content-range"),
        format!("bytes 0-{}/{n}", n - 1)
    );
    assert_eq!(all.body, props);
    let tail = get(&url, Some("bytes=-5")).await;
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, props[props.len() - 5..]);
    let mid = get(&url, Some("bytes=3-7")).await;
    assert_eq!((mid.status, &mid.body[..]), (206, &props[3..8]));

    // Outside the file, empty or unparseable: 416 with the size.
    for bad in [
        format!("bytes={n}-"),
        format!("bytes={n}-{}", n + 10),
        "bytes=18446744073709551615-18446744073709551615".to_string(),
        "bytes=-0".to_string(),
        "bytes=5-2".to_string(),
        "bytes=0-1,3-4".to_string(),
        "bytes=abc".to_string(),
        "lines=1-2".to_string(),
    ] {
        let g = get(&url, Some(&bad)).await;
        assert_eq!(g.status, 416, "{bad}: {}", g.text());
        assert_eq!(g.header("content-range"), format!("bytes */{n}"), "{bad}");
    }

    let head = reqwest::Client::new().head(&url).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        n.to_string()
    );

    // A Parquet file, streamed whole and in part.
    let (rel, size) = largest(&cat.join("gaia/gaia_source"));
    assert!(rel.ends_with(".parquet") && size > 10_000, "{rel} {size}");
    let local = std::fs::read(cat.join("gaia/gaia_source").join(&rel)).unwrap();
    let purl = format!("{files}/gaia/gaia_source/{rel}");
    let g = get(&purl, None).await;
    assert_eq!((g.status, g.body.len()), (200, local.len()));
    assert!(g.body == local, "the streamed file differs");
    let g = get(&purl, Some("bytes=1000-4999")).await;
    assert_eq!((g.status, &g.body[..]), (206, &local[1000..5000]));
    assert_eq!(g.header("content-length"), "4000");

    // Directories: an HTML index of exactly the visible entries (what
    // fsspec, under hats and LSDB, lists and globs), with relative links and
    // `/` after subdirectories; asked without the final `/`, a redirect.
    let abs = std::fs::canonicalize(&cat).unwrap();
    let abs = abs.to_string_lossy();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for dir in ["", "gaia", "gaia/gaia_source", "gaia/gaia_source/dataset"] {
        let slash = if dir.is_empty() { "" } else { "/" };
        let index = get(&format!("{files}/{dir}{slash}"), None).await;
        assert_eq!(index.status, 200, "{dir}: {}", index.text());
        assert!(index.header("content-type").starts_with("text/html"));
        let page = index.text();
        let mut links: Vec<String> = page
            .split("<a href=\"")
            .skip(1)
            .map(|l| l[..l.find('"').unwrap()].to_string())
            .filter(|l| l != "../")
            .collect();
        links.sort();
        let mut want: Vec<String> = std::fs::read_dir(cat.join(dir))
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                if e.path().is_dir() {
                    name + "/"
                } else {
                    name
                }
            })
            .collect();
        want.sort();
        assert_eq!(links, want, "{dir}: {page}");
        assert!(!page.contains(abs.as_ref()), "{page}");
        if !dir.is_empty() {
            let moved = no_redirects
                .get(format!("{files}/{dir}"))
                .send()
                .await
                .unwrap();
            assert_eq!(moved.status().as_u16(), 301, "{dir}");
            assert_eq!(moved.headers()["location"], format!("/catalogue/{dir}/"));
        }
    }
    for dir in [
        "gaia/.versions/",
        "gaia/.staging/",
        "nope/",
        "gaia/gaia_source/hats.properties/",
    ] {
        let g = get(&format!("{files}/{dir}"), None).await;
        assert_eq!(g.status, 404, "{dir}: {}", g.text());
    }

    // Errors name the requested path, never the catalogue's directory.
    for path in [
        "gaia/gaia_source/nope.parquet",
        "gaia/.versions",
        "gaia/.staging/x",
        ".astrolake.lock",
        "gaia/gaia_source/dataset/%2e%2e/%2e%2e/hats.properties",
    ] {
        let g = get(&format!("{files}/{path}"), None).await;
        assert!(g.status >= 400, "{path}: {}", g.status);
        assert!(!g.text().contains(abs.as_ref()), "{path}: {}", g.text());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_check_names_and_unreadable_mounts_do_not_stop_serve() {
    let work = tempfile::tempdir().unwrap();
    let (a, data) = (work.path().join("a"), work.path().join("data"));
    synth(&a, &data);
    // One data directory (jobs, registry state) per server.
    let (data_a, data_b) = (work.path().join("data-a"), work.path().join("data-b"));
    let (data_a, data_b) = (data_a.to_string_lossy(), data_b.to_string_lossy());
    let env_a = [("ASTROLAKE_DATA", data_a.as_ref())];
    let env = [("ASTROLAKE_DATA", data_b.as_ref())];
    let b = work.path().join("b");
    let b_s = b.to_string_lossy().to_string();
    let (server_a, site_a) = serve_logged(&a, &env_a, &work.path().join("a.log"));
    let from_a = format!("{site_a}/catalogue");
    // The server reaches only what the operator allows: A's port, not the
    // rest of the machine's loopback.
    let a_port = site_a.rsplit(':').next().unwrap();
    let allow = format!("[\"127.0.0.1:{a_port}\"]");
    let import_allowing = |schema: &str, url: &str, allowed: &str| {
        run_with(
            &["import", "--catalog", &b_s, "--schema", schema, url],
            &data,
            &[("ASTROLAKE_UPLOADS_ALLOWED_HOSTS", allowed)],
        )
    };
    let import = |schema: &str, url: &str| import_allowing(schema, url, &allow);
    let other_port: u16 = if a_port == "1" { 2 } else { 1 };
    for allowed in ["[]", &format!("[\"127.0.0.1:{other_port}\"]")] {
        let o = import_allowing("sitea", &from_a, allowed);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("does not fetch from"),
            "allowed {allowed}: {err}"
        );
    }
    for bad in ["../a", "x/y", "TAP_SCHEMA", ""] {
        let o = import(bad, &from_a);
        assert!(!o.status.success(), "schema {bad:?} was accepted");
    }
    let out = ok(&import("sitea", &from_a));
    assert!(out.contains("sitea.gaia_source"), "{out}");
    let manifest = std::fs::read_to_string(b.join("astrolake.json")).unwrap();
    assert!(manifest.contains(&from_a), "{manifest}");
    // Not a second time under the same schema (in any case).
    let o = import("SiteA", &from_a);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("exists already"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A's MOC malformed: B starts, without the table, and says why.
    let moc = a.join("gaia/gaia_source/coverage.moc.fits");
    let good_moc = std::fs::read(&moc).unwrap();
    std::fs::write(&moc, b"not a FITS file at all").unwrap();
    let log = work.path().join("b1.log");
    let (server_b, site_b) = serve_logged(&b, &env, &log);
    let tables = get(&format!("{site_b}/tap/tables"), None).await;
    assert_eq!(tables.status, 200);
    assert!(!tables.text().contains("sitea.gaia_source"));
    drop(server_b);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("warning: not serving sitea.gaia_source") && text.contains("MOC"),
        "{text}"
    );

    // A down: the same.
    std::fs::write(&moc, good_moc).unwrap();
    drop(server_a);
    let log = work.path().join("b2.log");
    let (server_b, site_b) = serve_logged(&b, &env, &log);
    let tables = get(&format!("{site_b}/tap/tables"), None).await;
    assert_eq!(tables.status, 200);
    assert!(!tables.text().contains("sitea.gaia_source"));
    drop(server_b);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("warning: not serving sitea.gaia_source"),
        "{text}"
    );
}

async fn admin_import(site: &str, schema: &str, url: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{site}/admin/import"))
        .bearer_auth("secret-token")
        .form(&[("schema", schema), ("url", url)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_imports_register_nothing_on_failure_and_run_one_at_a_time() {
    let work = tempfile::tempdir().unwrap();
    let (a, b, data) = (
        work.path().join("a"),
        work.path().join("b"),
        work.path().join("data"),
    );
    synth(&a, &data);
    synth(&b, &data);
    let data_dir = |n: &str| work.path().join(n).to_string_lossy().into_owned();
    let (data_a, data_b, data_c) = (data_dir("data-a"), data_dir("data-b"), data_dir("data-c"));
    let (_a, site_a) = serve_logged(
        &a,
        &[("ASTROLAKE_DATA", &data_a)],
        &work.path().join("a.log"),
    );
    let from_a = format!("{site_a}/catalogue");
    let (_b, site_b) = serve_logged(
        &b,
        &[
            ("ASTROLAKE_DATA", &data_b),
            ("ASTROLAKE_ADMIN_TOKEN", "secret-token"),
            // A and C are on loopback ports of this machine.
            ("ASTROLAKE_UPLOADS_ALLOWED_HOSTS", "[\"127.0.0.1\"]"),
        ],
        &work.path().join("b.log"),
    );

    // Two imports at once: both land in the manifest.
    let (x, y) = tokio::join!(
        admin_import(&site_b, "x", &from_a),
        admin_import(&site_b, "y", &from_a)
    );
    assert_eq!(x.0, 200, "{}", x.1);
    assert_eq!(y.0, 200, "{}", y.1);
    let manifest = std::fs::read_to_string(b.join("astrolake.json")).unwrap();
    let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert!(
        m["schemas"]["x"]["tables"]["gaia_source"].is_object(),
        "{manifest}"
    );
    assert!(
        m["schemas"]["y"]["tables"]["gaia_source"].is_object(),
        "{manifest}"
    );

    // A source whose manifest names a table `../gaia` (which a copy would
    // write over B's own gaia schema).
    let c = work.path().join("c");
    ok(&Command::new("cp")
        .args(["-a", &a.to_string_lossy(), &c.to_string_lossy()])
        .output()
        .unwrap());
    let cm = std::fs::read_to_string(c.join("astrolake.json")).unwrap();
    std::fs::write(
        c.join("astrolake.json"),
        cm.replace("\"gaia_source\":", "\"../gaia\":"),
    )
    .unwrap();
    let (_c, site_c) = serve_logged(
        &c,
        &[("ASTROLAKE_DATA", &data_c)],
        &work.path().join("c.log"),
    );
    let (status, body) = admin_import(&site_b, "gaia", &format!("{site_c}/catalogue")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not a valid name"), "{body}");
    assert_eq!(
        std::fs::read_to_string(b.join("astrolake.json")).unwrap(),
        manifest
    );

    // An import that cannot be served with the catalogue as it is (here: a
    // local table of B damaged since B started) registers nothing.
    let sidecar = b.join("gaia/gaia_source/table-metadata.vot");
    std::fs::remove_file(&sidecar).unwrap();
    let (status, body) = admin_import(&site_b, "w", &from_a).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nothing was registered"), "{body}");
    let after = std::fs::read_to_string(b.join("astrolake.json")).unwrap();
    assert_eq!(after, manifest, "the failed import changed the manifest");
}
