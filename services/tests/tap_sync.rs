//! The TAP sync endpoint over real HTTP: formats, MAXREC and OVERFLOW,
//! errors as DALI documents with statuses, and votlint on every VOTable
//! serialization it sends.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

mod common;

use common::Server;

fn start(catalog: &Path) -> (Server, String) {
    start_with(catalog, &[])
}

/// A server of `catalog` with its own data directory (job store), so the
/// tests of this file run side by side.
fn start_with(catalog: &Path, env: &[(&str, &str)]) -> (Server, String) {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let data = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tap_sync_data_{n}"));
    let _ = std::fs::remove_dir_all(&data);
    let data = data.to_string_lossy().into_owned();
    let mut env = env.to_vec();
    env.push(("ASTROLAKE_DATA", &data));
    common::serve(catalog, &env)
}

async fn sync(base: &str, params: &[(&str, &str)]) -> (u16, String, String) {
    let r = reqwest::Client::new()
        .post(format!("{base}/sync"))
        .form(params)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

fn votlint(dir: &Path, name: &str, doc: &str) {
    let f = dir.join(name);
    std::fs::write(&f, doc).unwrap();
    let out = Command::new("stilts")
        .args(["votlint", &format!("votable={}", f.display())])
        .output()
        .expect("stilts (Debian package) is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !text.contains("ERROR") && !text.contains("WARNING"),
        "votlint {name}: {text}"
    );
}

/// One synthetic catalogue of 5,000 stars for every test of this file,
/// built once per run under Cargo's temporary directory for tests.
fn catalogue() -> &'static Path {
    static CAT: OnceLock<PathBuf> = OnceLock::new();
    CAT.get_or_init(|| {
        let cat = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tap_sync_cat");
        let _ = std::fs::remove_dir_all(&cat);
        common::synth(&cat, 5000);
        cat
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_with_parameter_names_in_any_case() {
    let (_server, base) = start(catalogue());
    // CSV, parameter names in any case.
    let (s, ct, body) = sync(
        &base,
        &[
            ("lang", "ADQL"),
            (
                "query",
                "SELECT TOP 5 source_id, ra FROM gaia.gaia_source ORDER BY source_id",
            ),
            ("responseformat", "csv"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "source_id,ra");
    assert_eq!(lines.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn maxrec_gives_overflow_only_when_more_rows_exist() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start(catalogue());
    // MAXREC: OVERFLOW only when more rows exist.
    let q = "SELECT TOP 3 source_id FROM gaia.gaia_source";
    let (s, ct, body) = sync(&base, &[("LANG", "ADQL"), ("QUERY", q), ("MAXREC", "3")]).await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("application/x-votable+xml"), "{ct}");
    assert!(
        !body.contains("OVERFLOW"),
        "exactly MAXREC rows is not an overflow"
    );
    let (_, _, body) = sync(&base, &[("LANG", "ADQL"), ("QUERY", q), ("MAXREC", "2")]).await;
    assert!(body.contains(r#"value="OVERFLOW""#), "{body}");
    votlint(dir.path(), "overflow.vot", &body);
    let (_, _, body) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT TOP 0 * FROM gaia.gaia_source"),
        ],
    )
    .await;
    assert!(body.contains("<FIELD"), "TOP 0 still describes the columns");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_votable_serialization_passes_votlint() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start(catalogue());
    // Every VOTable serialization passes votlint.
    let q =
        "SELECT TOP 20 * FROM gaia.gaia_source WHERE 1=CONTAINS(POINT(ra, dec), CIRCLE(0, 0, 180))";
    for (f, name) in [
        ("votable", "b2.vot"),
        ("votable/b", "b.vot"),
        ("votable/td", "td.vot"),
    ] {
        let (s, _, body) = sync(&base, &[("LANG", "ADQL"), ("QUERY", q), ("FORMAT", f)]).await;
        assert_eq!(s, 200, "{body}");
        votlint(dir.path(), name, &body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_dali_documents_with_the_adql_position() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, base) = start(catalogue());
    // Errors: DALI error documents with the ADQL position, status 400.
    let (s, ct, body) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT ra dec, FROM gaia.gaia_source"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert!(ct.starts_with("application/x-votable+xml"));
    assert!(
        body.contains(r#"value="ERROR""#) && body.contains("line 1, column"),
        "{body}"
    );
    votlint(dir.path(), "error.vot", &body);
    let (s, _, body) = sync(&base, &[("LANG", "SQL"), ("QUERY", "SELECT 1")]).await;
    assert_eq!(s, 400);
    assert!(body.contains("LANG=SQL"), "{body}");
    let (s, _, body) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT paralax FROM gaia.gaia_source"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert!(body.contains("did you mean parallax?"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tap_schema_lists_the_tables() {
    let (_server, base) = start(catalogue());
    // TAP_SCHEMA is there.
    let (_, _, body) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            (
                "QUERY",
                "SELECT table_name FROM TAP_SCHEMA.tables ORDER BY table_index",
            ),
            ("FORMAT", "csv"),
        ],
    )
    .await;
    assert!(
        body.contains("gaia.gaia_source") && body.contains("TAP_SCHEMA.columns"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_upload_joins_positionally_with_a_catalogue_table() {
    let (_server, base) = start(catalogue());
    // An inline upload (multipart), joined positionally with a catalogue
    // table; a VOTable upload's units reach the result's FIELDs.
    let table = "id,ra,dec\n1,45.0,10.0\n2,200.0,-30.0\n";
    let form = reqwest::multipart::Form::new()
        .text("LANG", "ADQL")
        .text("FORMAT", "csv")
        .text("UPLOAD", "mine,param:t")
        .text(
            "QUERY",
            "SELECT u.id, COUNT(*) AS n FROM TAP_UPLOAD.mine AS u \
             JOIN gaia.gaia_source AS g ON 1 = CONTAINS(POINT(g.ra, g.dec), CIRCLE(u.ra, u.dec, 5)) \
             GROUP BY u.id ORDER BY u.id",
        )
        .part(
            "t",
            reqwest::multipart::Part::bytes(table.as_bytes().to_vec()).file_name("t.csv"),
        );
    let r = reqwest::Client::new()
        .post(format!("{base}/sync"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body = r.text().await.unwrap();
    let (_, _, brute) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            ("FORMAT", "csv"),
            (
                "QUERY",
                "SELECT COUNT(*) FROM gaia.gaia_source AS g \
                 WHERE DISTANCE(POINT(g.ra, g.dec), POINT(45.0, 10.0)) <= 5",
            ),
        ],
    )
    .await;
    let n1: u64 = brute.lines().nth(1).unwrap().trim().parse().unwrap();
    assert!(n1 > 0, "{brute}");
    assert!(body.lines().any(|l| l == format!("1,{n1}")), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_from_hosts_not_allowed_are_refused() {
    let (_server, base) = start(catalogue());
    // Uploads from hosts the operator did not allow are refused.
    let (s, _, body) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT * FROM TAP_UPLOAD.x"),
            ("UPLOAD", "x,http://169.254.169.254/latest/meta-data"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        body.contains("does not fetch tables from 169.254.169.254"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_time_limit_ends_a_query_that_runs_too_long() {
    let (_server, base) = start_with(
        catalogue(),
        &[("ASTROLAKE_LIMITS_SYNC_EXECUTION_DURATION", "1")],
    );
    // The synchronous time limit cancels a query that runs too long.
    let t0 = Instant::now();
    let (s, _, body) = sync(
        &base,
        &[
            ("LANG", "ADQL"),
            (
                "QUERY",
                "SELECT COUNT(*) FROM gaia.gaia_source AS a, gaia.gaia_source AS b, gaia.gaia_source AS c",
            ),
        ],
    )
    .await;
    assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    // Planned well within the limit, the answer has started (200): the
    // document ends with QUERY_STATUS=ERROR and the reason.
    assert_eq!(s, 200, "{body}");
    assert!(
        body.contains(r#"name="QUERY_STATUS" value="ERROR""#),
        "{body}"
    );
    assert!(body.contains("longer than its limit of 1 s"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_while_running_ends_the_document_and_the_job() {
    let (_server, base) = start(catalogue());
    // A query failing while it runs: synchronously the document ends with
    // QUERY_STATUS=ERROR; asynchronously the job ends in ERROR (not
    // COMPLETED) with the message.
    let bad = "SELECT source_id / (source_id - source_id) AS x FROM gaia.gaia_source";
    let (_, _, body) = sync(&base, &[("LANG", "ADQL"), ("QUERY", bad)]).await;
    assert!(
        body.contains("value=\"ERROR\"") && body.contains("Divide by zero"),
        "{body}"
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/async"))
        .form(&[("LANG", "ADQL"), ("QUERY", bad), ("PHASE", "RUN")])
        .send()
        .await
        .unwrap();
    let job = r.headers()["location"].to_str().unwrap().to_string();
    let job = if job.starts_with("http") {
        job
    } else {
        format!("{}{job}", base.split("/tap").next().unwrap())
    };
    let mut phase = String::new();
    for _ in 0..100 {
        phase = client
            .get(format!("{job}/phase"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if phase != "QUEUED" && phase != "EXECUTING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(phase, "ERROR");
    let error = client
        .get(format!("{job}/error"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("Divide by zero"), "{error}");
}

/// `astrolake query` sees the tables the server serves, TAP_SCHEMA
/// included, and answers the same rows.
#[tokio::test(flavor = "multi_thread")]
async fn the_command_line_sees_the_tables_the_server_serves() {
    let (_server, base) = start(catalogue());
    let q = "SELECT table_name, table_type FROM TAP_SCHEMA.tables ORDER BY table_name";
    let out = Command::new(env!("CARGO_BIN_EXE_astrolake"))
        .args(["query", "--catalog", &catalogue().to_string_lossy(), q])
        .output()
        .unwrap();
    let cli = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "astrolake query: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (s, _, served) = sync(
        &base,
        &[("LANG", "ADQL"), ("QUERY", q), ("RESPONSEFORMAT", "csv")],
    )
    .await;
    assert_eq!(s, 200, "{served}");
    let lines = |t: &str| -> Vec<String> { t.lines().map(|l| l.trim_end().to_string()).collect() };
    assert_eq!(lines(&cli), lines(&served));
    assert!(
        cli.contains("gaia.gaia_source") && cli.contains("TAP_SCHEMA.columns"),
        "{cli}"
    );
}
