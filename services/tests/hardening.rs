//! One request must never take the server down: the real binary, under an
//! address-space limit (so a regression kills the server, which the test
//! sees, not the machine), gets requests built to exhaust its stack or its
//! memory, in several variants of each class. Each must get a 4xx DALI
//! error (or a correct answer), and the server must answer the next query.

use std::path::Path;
use std::time::Duration;

mod common;
#[path = "../../adql/fuzz/gen.rs"]
mod gen;

use common::Server;

/// The server's address space: room for its runtime and the demo queries,
/// far below what any of the attacks would need.
const ADDRESS_SPACE: u64 = 6 << 30;

struct Target {
    server: Server,
    base: String,
    log: std::path::PathBuf,
    client: reqwest::Client,
}

impl Target {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Target {
        let cat = dir.join("cat");
        if !cat.exists() {
            common::synth(&cat, 3000);
        }
        let log = dir.join("server.log");
        let mut env = env.to_vec();
        env.push(("ASTROLAKE_DATA", dir.to_str().unwrap()));
        let (server, bind) = common::serve_logged(&cat, &env, &log, Some(ADDRESS_SPACE));
        let base = format!("http://{bind}/tap");
        Target {
            server,
            base,
            log,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(300))
                .build()
                .unwrap(),
        }
    }

    async fn sync(&self, query: &str) -> (u16, String) {
        let r = self
            .client
            .post(format!("{}/sync", self.base))
            .form(&[("LANG", "ADQL"), ("FORMAT", "csv"), ("QUERY", query)])
            .send()
            .await;
        answer(r).await
    }

    /// POST `/sync` as multipart: the query, `UPLOAD`, and `files` as
    /// parts (name, file name, bytes), plus `extra` text parameters.
    async fn sync_multipart(
        &self,
        query: &str,
        upload: &str,
        files: Vec<(String, String, Vec<u8>)>,
        extra: &[(String, String)],
    ) -> (u16, String) {
        self.post_multipart("/sync", query, upload, files, extra)
            .await
    }

    /// A multipart query request to `path` (`/sync`, `/async`).
    async fn post_multipart(
        &self,
        path: &str,
        query: &str,
        upload: &str,
        files: Vec<(String, String, Vec<u8>)>,
        extra: &[(String, String)],
    ) -> (u16, String) {
        let mut form = reqwest::multipart::Form::new()
            .text("LANG", "ADQL")
            .text("FORMAT", "csv")
            .text("QUERY", query.to_string());
        if !upload.is_empty() {
            form = form.text("UPLOAD", upload.to_string());
        }
        for (k, v) in extra {
            form = form.text(k.clone(), v.clone());
        }
        for (name, file, bytes) in files {
            form = form.part(name, reqwest::multipart::Part::bytes(bytes).file_name(file));
        }
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form)
            .send()
            .await;
        answer(r).await
    }

    /// One upload `t` (part `p`, file `file`) is refused with a 4xx DALI
    /// error containing `expect`, and the server stays up.
    async fn upload_refused(&mut self, what: &str, file: &str, bytes: Vec<u8>, expect: &str) {
        let (status, body) = self
            .sync_multipart(
                "SELECT COUNT(*) AS n FROM TAP_UPLOAD.t",
                "t,param:p",
                vec![("p".into(), file.into(), bytes)],
                &[],
            )
            .await;
        self.check_refused(what, status, &body, expect).await;
    }

    async fn check_refused(&mut self, what: &str, status: u16, body: &str, expect: &str) {
        assert!(
            (400..500).contains(&status),
            "{what}: HTTP {status}: {}; log:\n{}",
            &body[..body.len().min(500)],
            tail(&self.log)
        );
        assert!(
            body.contains(expect),
            "{what}: the error should say {expect:?}: {}",
            &body[..body.len().min(1000)]
        );
        self.still_up(what).await;
    }

    /// The server is still up and answers a real query correctly.
    async fn still_up(&mut self, after: &str) {
        if let Ok(Some(st)) = self.server.0.try_wait() {
            panic!(
                "the server died after {after} ({st}); its log:\n{}",
                tail(&self.log)
            );
        }
        let (status, body) = self
            .sync("SELECT COUNT(*) AS n FROM gaia.gaia_source")
            .await;
        assert_eq!(
            (status, body.replace("\r\n", "\n").trim()),
            (200, "n\n3000"),
            "after {after}; log:\n{}",
            tail(&self.log)
        );
    }

    /// `query` is refused with a 4xx DALI error whose message contains
    /// `expect`, and the server stays up.
    async fn refused(&mut self, what: &str, query: &str, expect: &str) {
        let (status, body) = self.sync(query).await;
        assert!(
            body.contains("QUERY_STATUS"),
            "{what}: HTTP {status}, not a DALI error: {}",
            &body[..body.len().min(1000)]
        );
        self.check_refused(what, status, &body, expect).await;
    }
}

/// Status and body, or 0 and why there was no response.
async fn answer(r: reqwest::Result<reqwest::Response>) -> (u16, String) {
    match r {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.text().await.unwrap_or_default())
        }
        Err(e) => (0, format!("no response: {e}")),
    }
}

fn tail(log: &Path) -> String {
    let t = std::fs::read_to_string(log).unwrap_or_default();
    t[t.len().saturating_sub(3000)..].to_string()
}

fn chain(op: &str, n: usize) -> String {
    let mut q = String::with_capacity(n * (op.len() + 3) + 40);
    q.push_str("SELECT ");
    for i in 0..n {
        if i > 0 {
            q.push(' ');
            q.push_str(op);
            q.push(' ');
        }
        q.push('1');
    }
    q.push_str(" AS x FROM gaia.gaia_source");
    q
}

#[tokio::test(flavor = "multi_thread")]
async fn deep_and_long_queries_get_errors_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Target::start(dir.path(), &[]);
    t.still_up("start").await;

    // Left-deep chains of every operator kind: refused by depth (10^4,
    // 10^5 terms) or by length (10^6 terms is more than 1 MiB).
    for op in ["+", "-", "*", "/", "||", "AND", "OR", "=", "<", "%"] {
        for n in [10_000, 100_000] {
            t.refused(
                &format!("a chain of {n} {op}"),
                &chain(op, n),
                "max_query_depth",
            )
            .await;
        }
    }
    t.refused(
        "a chain of 10^6 +",
        &chain("+", 1_000_000),
        "max_query_length",
    )
    .await;
    // Chains in WHERE, inside parentheses, and of conditions.
    let ors = vec!["ra = 1"; 20_000].join(" OR ");
    t.refused(
        "20000 ORs in WHERE",
        &format!("SELECT ra FROM gaia.gaia_source WHERE {ors}"),
        "max_query_depth",
    )
    .await;
    let inner = vec!["ra"; 20_000].join(" + ");
    t.refused(
        "a chain in parentheses",
        &format!("SELECT ((({inner}))) AS x FROM gaia.gaia_source"),
        "max_query_depth",
    )
    .await;
    // Long set-operation chains.
    let unions = vec!["SELECT ra FROM gaia.gaia_source"; 10_000].join(" UNION ALL ");
    t.refused("10^4 UNIONs", &unions, "max_query_tables").await;
    // Many joins: planning time grows faster than the number of tables.
    let mut joins = "SELECT t0.ra FROM gaia.gaia_source AS t0".to_string();
    for i in 1..1000 {
        joins.push_str(&format!(
            " JOIN gaia.gaia_source AS t{i} ON t{i}.source_id = t0.source_id"
        ));
    }
    t.refused("1000 JOINs", &joins, "max_query_tables").await;
    let from: Vec<String> = (0..1000)
        .map(|i| format!("gaia.gaia_source AS t{i}"))
        .collect();
    t.refused(
        "1000 tables in FROM",
        &format!("SELECT t0.ra FROM {}", from.join(", ")),
        "max_query_tables",
    )
    .await;
    // Deep nesting of functions, parentheses, prefix operators, CASE and
    // subqueries: the parser's own recursion limit.
    let n = 10_000;
    let funcs = format!(
        "SELECT {}1{} AS x FROM gaia.gaia_source",
        "SIN(".repeat(n),
        ")".repeat(n)
    );
    t.refused("10^4 nested functions", &funcs, "nests").await;
    let parens = format!(
        "SELECT {}1{} AS x FROM gaia.gaia_source",
        "(".repeat(n),
        ")".repeat(n)
    );
    t.refused("10^4 nested parentheses", &parens, "nests").await;
    let minus = format!("SELECT {}1 AS x FROM gaia.gaia_source", "- ".repeat(n));
    t.refused("10^4 unary minus", &minus, "nests").await;
    let nots = format!(
        "SELECT ra FROM gaia.gaia_source WHERE {}1=1",
        "NOT ".repeat(n)
    );
    t.refused("10^4 NOTs", &nots, "nests").await;
    let cases = format!(
        "SELECT {}1{} AS x FROM gaia.gaia_source",
        "CASE WHEN 1=1 THEN ".repeat(2000),
        " END".repeat(2000)
    );
    t.refused("2000 nested CASE", &cases, "nests").await;
    let subq = format!(
        "SELECT ra FROM {}gaia.gaia_source{}",
        "(SELECT ra FROM ".repeat(2000),
        ") AS s".repeat(2000)
    );
    t.refused("2000 nested subqueries", &subq, "nests").await;
    // Recursive queries are refused with a message.
    t.refused(
        "WITH RECURSIVE",
        "WITH RECURSIVE r(n) AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT n FROM r",
        "RECURSIVE",
    )
    .await;

    // Wide but shallow queries are answered (or refused clearly), never
    // fatal: a 50,000-value IN list, 2,000 columns, a 500 KB string.
    let ids: Vec<String> = (0..50_000).map(|i| i.to_string()).collect();
    let (status, body) = t
        .sync(&format!(
            "SELECT COUNT(*) AS n FROM gaia.gaia_source WHERE source_id IN ({})",
            ids.join(",")
        ))
        .await;
    assert!(
        status == 200 || (400..500).contains(&status),
        "IN list: {status} {body}"
    );
    t.still_up("a 50,000-value IN list").await;
    let cols = (0..2000)
        .map(|i| format!("ra + {i} AS c{i}"))
        .collect::<Vec<_>>();
    let (status, body) = t
        .sync(&format!(
            "SELECT TOP 1 {} FROM gaia.gaia_source",
            cols.join(", ")
        ))
        .await;
    assert_eq!(
        status,
        200,
        "2000 columns: {}",
        &body[..body.len().min(500)]
    );
    t.still_up("2000 columns").await;
    let long = "x".repeat(500_000);
    let (status, body) = t
        .sync(&format!("SELECT TOP 1 '{long}' AS s FROM gaia.gaia_source"))
        .await;
    assert_eq!(
        status,
        200,
        "a 500 KB literal: {}",
        &body[..body.len().min(500)]
    );
    assert!(body.contains(&long));
    t.still_up("a 500 KB literal").await;
    // The deepest query allowed is answered correctly.
    let (status, body) = t.sync(&chain("+", 900)).await;
    assert_eq!(status, 200, "900 terms: {}", &body[..body.len().min(500)]);
    assert_eq!(
        body.lines().nth(1).map(str::trim),
        Some("900"),
        "{}",
        &body[..body.len().min(200)]
    );
    t.still_up("the deepest allowed chain").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn query_size_limits_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Target::start(
        dir.path(),
        &[
            ("ASTROLAKE_LIMITS_MAX_QUERY_DEPTH", "20"),
            ("ASTROLAKE_LIMITS_MAX_QUERY_LENGTH", "2000"),
            ("ASTROLAKE_UPLOADS_MAX_BYTES", "3000000"),
            ("ASTROLAKE_UPLOADS_MAX_DECOMPRESSED_BYTES", "8388608"),
            ("ASTROLAKE_UPLOADS_MAX_ROWS", "100000000"),
            ("ASTROLAKE_UPLOADS_MAX_COLUMNS", "5"),
            ("ASTROLAKE_SERVER_MAX_REQUEST_PARTS", "20"),
            ("ASTROLAKE_SERVER_MAX_REQUEST_BYTES", "4000000"),
        ],
    );
    let (status, _) = t.sync(&chain("+", 15)).await;
    assert_eq!(status, 200);
    t.refused(
        "30 terms with a limit of 20",
        &chain("+", 30),
        "limit of 20 levels",
    )
    .await;
    t.refused(
        "3000 bytes with a limit of 2000",
        &format!(
            "SELECT TOP 1 '{}' AS s FROM gaia.gaia_source",
            "y".repeat(3000)
        ),
        "limit of 2000 bytes",
    )
    .await;
    // Uploads: the gzip bomb stops at 8 MiB decompressed, a sixth column
    // is one too many; a request of more than 20 parts is refused.
    t.upload_refused(
        "a 2 GiB gzip bomb, 8 MiB allowed",
        "t.csv.gz",
        gzip_bomb(64),
        "limit of 8388608 bytes once decompressed (uploads.max_decompressed_bytes)",
    )
    .await;
    t.upload_refused(
        "6 columns, 5 allowed",
        "t.csv",
        b"a,b,c,d,e,f\n1,2,3,4,5,6\n".to_vec(),
        "limit of 5 columns (uploads.max_columns)",
    )
    .await;
    let extra: Vec<(String, String)> = (0..30).map(|i| (format!("x{i}"), "1".into())).collect();
    let (status, body) = t
        .sync_multipart("SELECT 1 AS x FROM gaia.gaia_source", "", vec![], &extra)
        .await;
    t.check_refused(
        "30 parts, 20 allowed",
        status,
        &body,
        "more than 20 parameters",
    )
    .await;
    // A body over server.max_request_bytes is 413 on /sync as on /async
    // (the same request gets the same status), a DALI error on /sync.
    for path in ["/sync", "/async"] {
        let (status, body) = t
            .post_multipart(
                path,
                "SELECT 1 AS x FROM gaia.gaia_source",
                "t,param:p",
                vec![("p".into(), "t.csv".into(), vec![b'1'; 5_000_000])],
                &[],
            )
            .await;
        assert_eq!(status, 413, "{path}: {}", &body[..body.len().min(300)]);
        if path == "/sync" {
            assert!(body.contains("QUERY_STATUS"), "{body}");
        }
        t.still_up(&format!("a 5 MB body to {path}")).await;
    }
}

/// `copies` gzip members of the 32 MiB-inflating fixture, one after the
/// other (one valid gzip file to every reader that reads them all).
fn gzip_bomb(copies: usize) -> Vec<u8> {
    let one = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tap/tests/data/bomb-32MiB.csv.gz"),
    )
    .unwrap();
    one.repeat(copies)
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_files_and_links_built_to_exhaust_or_leak_get_errors_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut t = Target::start(dir.path(), &[]);
    t.still_up("start").await;

    // A 300-byte VOTable whose one empty cell declares 2^31 values, in
    // TABLEDATA, as a 2-D array, and as a BINARY2 variable-length count.
    let doc = gen::votable_doc(
        r#"<FIELD name="x" datatype="char" arraysize="2147483647"/>"#,
        "<TABLEDATA><TR><TD></TD></TR></TABLEDATA>",
    );
    assert!(doc.len() < 300);
    t.upload_refused("arraysize 2^31", "t.vot", doc, "uploads.max_array_elements")
        .await;
    let doc = gen::votable_doc(
        r#"<FIELD name="img" datatype="double" arraysize="100000x100000"/>"#,
        "<TABLEDATA><TR><TD/></TR></TABLEDATA>",
    );
    t.upload_refused(
        "arraysize 10^5 x 10^5",
        "t.vot",
        doc,
        "uploads.max_array_elements",
    )
    .await;
    let doc = gen::votable_doc(
        r#"<FIELD name="v" datatype="int" arraysize="*"/>"#,
        &format!(
            r#"<BINARY2><STREAM encoding="base64">{}</STREAM></BINARY2>"#,
            gen::b64(&[0, 0x7f, 0xff, 0xff, 0xff])
        ),
    );
    t.upload_refused(
        "BINARY2 count 2^31",
        "t.vot",
        doc,
        "uploads.max_array_elements",
    )
    .await;
    // A 513-byte ECSV header of nested YAML aliases (9^9 nodes expanded).
    let mut ecsv =
        String::from("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n# meta:\n");
    ecsv.push_str("#   l0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        ecsv.push_str(&format!("#   l{i}: &a{i} [{refs}]\n"));
    }
    ecsv.push_str("a\n1\n");
    t.upload_refused("a YAML alias bomb", "t.ecsv", ecsv.into_bytes(), "aliases")
        .await;
    // A gzip of 2 MB that inflates to 2 GiB of CSV rows.
    let bomb = gzip_bomb(64);
    assert!(bomb.len() < 3_000_000);
    t.upload_refused("a 2 GiB gzip bomb", "t.csv.gz", bomb, "UPLOAD t")
        .await;
    // One 10 MiB value; 2000 columns; an ECSV header of 5 MiB.
    let mut wide = b"a,b\n1,".to_vec();
    wide.extend(std::iter::repeat_n(b'9', 10 << 20));
    wide.push(b'\n');
    t.upload_refused("a 10 MiB value", "t.csv", wide, "uploads.max_cell_bytes")
        .await;
    let cols: Vec<String> = (0..2000).map(|i| format!("c{i}")).collect();
    let many = format!("{}\n{}\n", cols.join(","), vec!["1"; 2000].join(","));
    t.upload_refused(
        "2000 columns",
        "t.csv",
        many.into_bytes(),
        "uploads.max_columns",
    )
    .await;
    let mut header =
        String::from("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n");
    while header.len() < 5 << 20 {
        header.push_str(
            "# meta: {note: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}\n",
        );
    }
    header.push_str("a\n1\n");
    t.upload_refused(
        "a 5 MiB ECSV header",
        "t.ecsv",
        header.into_bytes(),
        "uploads.max_header_bytes",
    )
    .await;

    // Eleven uploads in one request; 2000 parts; a part with 64 KiB of
    // headers.
    let names: Vec<String> = (0..11).map(|i| format!("t{i},param:p{i}")).collect();
    let files = (0..11)
        .map(|i| (format!("p{i}"), "t.csv".to_string(), b"a\n1\n".to_vec()))
        .collect();
    let (status, body) = t
        .sync_multipart(
            "SELECT 1 AS x FROM TAP_UPLOAD.t0",
            &names.join(";"),
            files,
            &[],
        )
        .await;
    t.check_refused("11 uploads", status, &body, "uploads per request")
        .await;
    let extra: Vec<(String, String)> = (0..2000).map(|i| (format!("x{i}"), "1".into())).collect();
    let (status, body) = t
        .sync_multipart("SELECT 1 AS x FROM gaia.gaia_source", "", vec![], &extra)
        .await;
    t.check_refused("2000 parts", status, &body, "multipart parts")
        .await;
    let (status, body) = t
        .sync_multipart(
            "SELECT COUNT(*) AS n FROM TAP_UPLOAD.t",
            "t,param:p",
            vec![("p".into(), "f".repeat(64 << 10), b"a\n1\n".to_vec())],
            &[],
        )
        .await;
    // Refused by the multipart reader itself (its own header limit) or by
    // ours, never read.
    assert!(
        body.contains("bytes of headers") || body.contains("cannot read the request body"),
        "{body}"
    );
    t.check_refused("64 KiB of part headers", status, &body, "QUERY_STATUS")
        .await;

    // A URL upload naming the server's own loopback port: nothing is
    // allowed by default.
    let own = t.base.replace("/tap", "/tap/availability");
    let (status, body) = t
        .sync_multipart(
            "SELECT COUNT(*) AS n FROM TAP_UPLOAD.t",
            &format!("t,{own}"),
            vec![],
            &[],
        )
        .await;
    t.check_refused(
        "an upload from loopback",
        status,
        &body,
        "does not fetch tables from 127.0.0.1",
    )
    .await;

    // Ranges of /catalogue/ files at the edges of u64.
    let site = t.base.trim_end_matches("/tap").to_string();
    let file = format!("{site}/catalogue/gaia/gaia_source/hats.properties");
    let whole = t.client.get(&file).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    let size = whole.bytes().await.unwrap().len();
    for (range, want) in [
        ("bytes=18446744073709551615-", 416),
        ("bytes=18446744073709551615-18446744073709551615", 416),
        ("bytes=18446744073709551616-", 416),
        ("bytes=-18446744073709551615", 206),
        ("bytes=0-18446744073709551615", 206),
        ("bytes=5-2", 416),
    ] {
        let r = t
            .client
            .get(&file)
            .header("Range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{range}");
        let cr = r
            .headers()
            .get("content-range")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        if want == 206 {
            assert_eq!(cr, format!("bytes 0-{}/{size}", size - 1), "{range}");
            assert_eq!(r.bytes().await.unwrap().len(), size, "{range}");
        } else {
            assert_eq!(cr, format!("bytes */{size}"), "{range}");
        }
    }
    t.still_up("ranges").await;

    // Links never come from client headers: a job created with a forged
    // Host and X-Forwarded-* is at the address the connection reached.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/async", t.base))
        .header("X-Forwarded-Host", "evil.example")
        .header("X-Forwarded-Proto", "https")
        .header("Forwarded", "host=evil.example;proto=https")
        .form(&[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT 1 AS x FROM gaia.gaia_source"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/async/", t.base)),
        "{location}"
    );
    let job = t
        .client
        .get(&location)
        .header("X-Forwarded-Host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!job.contains("evil"), "{job}");
    let caps = t
        .client
        .get(format!("{}/capabilities", t.base))
        .header("X-Forwarded-Host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!caps.contains("evil") && caps.contains(&t.base), "{caps}");
}
