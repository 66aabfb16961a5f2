//! Moving the data (issue 7), against a real S3 server (moto from PyPI,
//! with IAM authentication on) on 127.0.0.1:
//!
//! 1. site A exports the real-data catalogue to `s3://site-a/cat`
//!    (a second export copies nothing);
//! 2. site B imports it by the catalogue record URL that A's registry
//!    serves, without copying, and runs ADQL joining its own table with
//!    the remote one: the answer equals the same query on A;
//! 3. a cone search on the imported table reads a small fraction of the
//!    table's bytes (the store's byte counter);
//! 4. a HATS catalogue written by the PyPI `hats-import` package and
//!    uploaded to the S3 server is imported and queried, with the answers
//!    of the same query on the original data;
//! 5. wrong credentials, a missing object and a truncated Parquet file each
//!    give the documented error (docs/EXCHANGE.md), and the server keeps
//!    serving the other tables.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use astrolake_catalog::ingest::{ingest_files, IngestOptions};
use astrolake_catalog::instrument::CountingStore;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::CatalogRoot;
use futures::TryStreamExt;

fn py(args: &[&str]) -> String {
    common::run_python("s3_site.py", args)
}

/// The environment of a process talking to moto with `key`/`secret`.
fn aws_env(endpoint: &str, key: &str, secret: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", key),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        // The S3 server and site A are on this machine's loopback: the
        // operator allows it (the default allows nothing).
        ("ASTROLAKE_UPLOADS_ALLOWED_HOSTS", "[\"127.0.0.1\"]"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn astrolake(args: &[&str], env: &[(String, String)], data: &Path) -> Output {
    Command::new(common::binary())
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("ASTROLAKE_DATA", data)
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
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn failure(o: &Output) -> String {
    assert!(!o.status.success(), "should have failed: {o:?}");
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Run ADQL over /sync as CSV.
async fn sync(tap: &str, adql: &str) -> (u16, String) {
    sync_as(tap, adql, "csv").await
}

/// Run ADQL over /sync in `format`.
async fn sync_as(tap: &str, adql: &str, format: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{tap}/sync"))
        .form(&[
            ("REQUEST", "doQuery"),
            ("LANG", "ADQL"),
            ("QUERY", adql),
            ("FORMAT", format),
            ("MAXREC", "1000000"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn export_import_query_in_place() {
    let (_moto, endpoint) = common::start_moto(&[("INITIAL_NO_AUTH_ACTION_COUNT", "4")]);
    let creds: serde_json::Value =
        serde_json::from_str(py(&["setup", &endpoint, "site-a", "hats-cat"]).trim()).unwrap();
    let (key, secret) = (
        creds["key"].as_str().unwrap().to_string(),
        creds["secret"].as_str().unwrap().to_string(),
    );
    let env = aws_env(&endpoint, &key, &secret);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();

    // Site A: the real-data catalogue, exported to S3.
    let a = common::real_catalog().await;
    let a_dir = a.local_dir().unwrap().to_string_lossy().to_string();
    let out = astrolake(
        &["export", "--catalog", &a_dir, "--to", "s3://site-a/cat"],
        &env,
        &w.join("data-a"),
    );
    let first = ok(&out);
    assert!(first.contains("objects copied"), "{first}");
    let again = ok(&astrolake(
        &["export", "--catalog", &a_dir, "--to", "s3://site-a/cat"],
        &env,
        &w.join("data-a"),
    ));
    assert!(
        again.contains(": 0 objects copied"),
        "resumed export copies nothing: {again}"
    );

    // A serves its registry; its catalogue record points at the export.
    let mut a_env: Vec<(String, String)> = env.clone();
    a_env.extend(
        [
            ("ASTROLAKE_REGISTRY_AUTHORITY", "site-a.test"),
            ("ASTROLAKE_REGISTRY_CATALOGUE_URL", "s3://site-a/cat"),
            ("ASTROLAKE_REGISTRY_CATALOGUE_ENDPOINT", endpoint.as_str()),
            ("ASTROLAKE_REGISTRY_CATALOGUE_REGION", "us-east-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let a_env_ref: Vec<(&str, &str)> = a_env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (_server_a, site_a) = common::serve(&a_dir, &w.join("data-a"), &a_env_ref);
    let record_url = format!("{site_a}/registry/catalogue/gaia");

    // Site B: its own Hipparcos table, plus A's catalogue mounted by record.
    let b_dir = w.join("site-b");
    let b = CatalogRoot::open(&b_dir.to_string_lossy()).unwrap();
    let mut o = IngestOptions::new("siteb", "hip2");
    o.max_rows_per_partition = 20_000;
    ingest_files(&b, o, vec![common::testdata().join("hip2.dat")])
        .await
        .unwrap();
    let b_dir_s = b_dir.to_string_lossy().to_string();
    let imported = ok(&astrolake(
        &[
            "import",
            "--catalog",
            &b_dir_s,
            "--schema",
            "sitea",
            &record_url,
        ],
        &env,
        &w.join("data-b"),
    ));
    assert!(imported.contains("sitea.gaia_source"), "{imported}");
    // Nothing was copied: B holds no Parquet of A's tables.
    let copied = walk(&b_dir).iter().filter(|p| p.contains("sitea")).count();
    assert_eq!(copied, 0, "the import copied data");

    // The same catalogue straight from A's read-only HTTP file endpoint
    // (range requests over plain HTTP, no S3).
    ok(&astrolake(
        &[
            "import",
            "--catalog",
            &b_dir_s,
            "--schema",
            "viahttp",
            &format!("{site_a}/catalogue"),
        ],
        &env,
        &w.join("data-b"),
    ));

    // A HATS catalogue from hats-import, uploaded to the S3 server.
    let csv = w.join("hip.csv");
    let (_, hip_csv) = sync(
        &format!("{site_a}/tap"),
        "SELECT hip, ra, dec, hpmag FROM gaia.hip2",
    )
    .await;
    std::fs::write(&csv, &hip_csv).unwrap();
    let hats_out = w.join("hats");
    py(&[
        "hats",
        &csv.to_string_lossy(),
        &hats_out.to_string_lossy(),
        "hip_hats",
    ]);
    py(&[
        "upload",
        &endpoint,
        &key,
        &secret,
        &hats_out.join("hip_hats").to_string_lossy(),
        "hats-cat",
        "hip_hats",
    ]);
    ok(&astrolake(
        &[
            "import",
            "--catalog",
            &b_dir_s,
            "--schema",
            "hatsimp",
            "s3://hats-cat/hip_hats",
        ],
        &env,
        &w.join("data-b"),
    ));

    // --copy: the same catalogue copied into B (its files become B's).
    ok(&astrolake(
        &[
            "import",
            "--catalog",
            &b_dir_s,
            "--schema",
            "hatscopy",
            "--copy",
            "s3://hats-cat/hip_hats",
        ],
        &env,
        &w.join("data-b"),
    ));
    assert!(walk(&b_dir)
        .iter()
        .any(|p| p.contains("hatscopy") && p.ends_with(".parquet")));

    // Failures at import: each its documented error, nothing registered.
    let bad_env = aws_env(&endpoint, &key, "not-the-secret");
    let denied = failure(&astrolake(
        &[
            "import",
            "--catalog",
            &b_dir_s,
            "--schema",
            "denied",
            "s3://site-a/cat",
        ],
        &bad_env,
        &w.join("data-b"),
    ));
    assert!(denied.contains("access denied"), "{denied}");
    let missing = failure(&astrolake(
        &[
            "import",
            "--catalog",
            &b_dir_s,
            "--schema",
            "missing",
            "s3://site-a/nothing-here",
        ],
        &env,
        &w.join("data-b"),
    ));
    assert!(
        missing.contains("neither an astrolake catalogue"),
        "{missing}"
    );
    let manifest = std::fs::read_to_string(b_dir.join("astrolake.json")).unwrap();
    assert!(!manifest.contains("\"denied\"") && !manifest.contains("\"missing\""));

    // B serves: local and remote tables in one query equal A's answer.
    let mut b_env_ref: Vec<(&str, &str)> =
        env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b_env_ref.push(("ASTROLAKE_ADMIN_TOKEN", "operator-secret"));
    let (_server_b, site_b) = common::serve(&b_dir_s, &w.join("data-b"), &b_env_ref);
    let join = |hip: &str, gaia: &str| {
        format!(
            "SELECT h.hip, g.source_id FROM {hip} AS h JOIN {gaia} AS g \
             ON 1=CONTAINS(POINT(g.ra, g.dec), CIRCLE(h.ra, h.dec, 1.0/3600)) \
             ORDER BY h.hip, g.source_id"
        )
    };
    let (sa, want) = sync(
        &format!("{site_a}/tap"),
        &join("gaia.hip2", "gaia.gaia_source"),
    )
    .await;
    let (sb, got) = sync(
        &format!("{site_b}/tap"),
        &join("siteb.hip2", "sitea.gaia_source"),
    )
    .await;
    assert_eq!((sa, sb), (200, 200), "{got}");
    assert!(
        want.lines().count() > 10_000,
        "a real cross-match: {}",
        want.lines().count()
    );
    assert_eq!(got, want, "local × remote on B equals A");

    // The hats-import catalogue answers like the original data.
    let cone = |t: &str| {
        format!(
            "SELECT hip FROM {t} WHERE 1=CONTAINS(POINT(ra, dec), CIRCLE(56.75, 24.12, 3)) ORDER BY hip"
        )
    };
    let (_, want) = sync(&format!("{site_a}/tap"), &cone("gaia.hip2")).await;
    let (s, got) = sync(&format!("{site_b}/tap"), &cone("hatsimp.hip_hats")).await;
    assert_eq!(s, 200, "{got}");
    assert!(want.lines().count() > 50);
    assert_eq!(got, want);
    for t in ["hatsimp.hip_hats", "hatscopy.hip_hats", "viahttp.hip2"] {
        let (_, n) = sync(
            &format!("{site_b}/tap"),
            &format!("SELECT COUNT(*) AS n FROM {t}"),
        )
        .await;
        assert_eq!(n.lines().nth(1), Some("117955"), "{t}: {n}");
    }
    let (_, copied) = sync(&format!("{site_b}/tap"), &cone("hatscopy.hip_hats")).await;
    assert_eq!(copied, want);

    // B's registry describes the mounted catalogue, naming its source.
    let rec = reqwest::get(format!("{site_b}/registry/catalogue/sitea"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(rec.contains("ivo://site-a.test/catalogue/gaia"), "{rec}");
    assert!(rec.contains("s3://site-a/cat/gaia/"), "{rec}");
    common::xmllint_registry(w, "mounted-record.xml", &rec);
    let tables = reqwest::get(format!("{site_b}/tap/tables"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tables.contains("sitea.gaia_source") && tables.contains("hatsimp.hip_hats"));

    // The operator imports over HTTP; the tables are served at once.
    let admin = |token: &'static str| {
        reqwest::Client::new()
            .post(format!("{site_b}/admin/import"))
            .bearer_auth(token)
            .form(&[("schema", "adminimp"), ("url", "s3://site-a/cat")])
    };
    assert_eq!(admin("wrong").send().await.unwrap().status().as_u16(), 401);
    let r = admin("operator-secret").send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("adminimp.gaia_source"), "{text}");
    let (s, n) = sync(
        &format!("{site_b}/tap"),
        "SELECT COUNT(*) AS n FROM adminimp.hip2",
    )
    .await;
    assert_eq!((s, n.lines().nth(1)), (200, Some("117955")), "{n}");
    let again = admin("operator-secret").send().await.unwrap();
    assert_eq!(again.status().as_u16(), 400, "importing twice is refused");

    // A cone on the remote table reads a small fraction of its bytes.
    for (k, v) in &env {
        std::env::set_var(k, v);
    }
    let cat = Catalog::open(&b).await.unwrap();
    assert!(cat.problems().is_empty(), "{:?}", cat.problems());
    let scanner = cat.table("sitea", "gaia_source").unwrap();
    let table_bytes = scanner.info().bytes;
    let counting = Arc::new(CountingStore::new(scanner.root().store()));
    let counted = scanner.root().clone().with_store(counting.clone());
    let remote = astrolake_catalog::provider::TableScanner::open(&counted, "")
        .await
        .unwrap();
    let mut tables = astrolake_adql::Tables::new();
    tables.add_store(counted.object_store_url().clone(), counting.clone());
    tables.add(astrolake_adql::TableEntry::from_scanner(
        "sitea",
        "gaia_source",
        &remote,
    ));
    counting.reset();
    let (_, stream) = astrolake_adql::execute(
        "SELECT source_id FROM sitea.gaia_source WHERE 1=CONTAINS(POINT(ra, dec), CIRCLE(56.75, 24.12, 0.5))",
        &tables,
    )
    .await
    .unwrap();
    let batches: Vec<_> = stream.try_collect().await.unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let read: u64 = counting.reads().values().map(|r| r.bytes).sum();
    eprintln!("cone on the remote table: {rows} rows, {read} of {table_bytes} bytes read");
    assert!(rows > 20, "{rows}");
    assert!(
        read * 10 < table_bytes,
        "read {read} bytes of a {table_bytes}-byte table"
    );

    // A truncated Parquet file: that query fails with an error document,
    // the server keeps serving the other tables.
    let victim = scanner
        .files_for(Some(&astrolake_catalog::healpix::cone_cover(
            56.75, 24.12, 0.5, 9,
        )))
        .first()
        .map(|f| f.path.clone())
        .unwrap();
    py(&[
        "truncate",
        &endpoint,
        &key,
        &secret,
        "site-a",
        &format!("cat/gaia/gaia_source/{victim}"),
    ]);
    let (s, body) = sync_as(
        &format!("{site_b}/tap"),
        "SELECT source_id FROM sitea.gaia_source WHERE 1=CONTAINS(POINT(ra, dec), CIRCLE(56.75, 24.12, 0.5))",
        "votable",
    )
    .await;
    // The error ends the document (DALI: QUERY_STATUS ERROR). An
    // unreadable file is the service's fault, not the client's: the
    // document gives a log reference, and the log line with that
    // reference names the file.
    assert!(
        body.contains("name=\"QUERY_STATUS\" value=\"ERROR\"") && body.contains("logged as "),
        "{s}: {body}"
    );
    assert!(!body.contains("gaia_source/dataset/"), "{body}");
    let reference: String = body
        .split("logged as ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let log = std::fs::read_to_string(w.join("data-b").join("server.log")).unwrap();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("error [{reference}]")))
        .unwrap_or_else(|| panic!("no log line for {reference} in:\n{log}"));
    assert!(line.contains("gaia_source/dataset/"), "{line}");
    let (s, body) = sync(&format!("{site_b}/tap"), "SELECT COUNT(*) FROM siteb.hip2").await;
    assert_eq!(s, 200, "{body}");
    let mut counts = BTreeMap::new();
    counts.insert("local", body);
    assert_eq!(counts["local"].lines().nth(1), Some("117955"));
}

/// Every file below `dir`, as paths.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.to_string_lossy().to_string());
            }
        }
    }
    out
}
