//! One request must never take the server down: the real binary, under an
//! address-space limit (so a regression kills the server, which the test
//! sees, not the machine), gets requests built to exhaust its stack or its
//! memory, in several variants of each class. Each must get a 4xx DALI
//! error (or a correct answer), and the server must answer the next query.

use std::path::Path;
use std::time::Duration;

mod common;

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
        match r {
            Ok(r) => {
                let status = r.status().as_u16();
                (status, r.text().await.unwrap_or_default())
            }
            Err(e) => (0, format!("no response: {e}")),
        }
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
            (400..500).contains(&status),
            "{what}: HTTP {status}: {}; log:\n{}",
            &body[..body.len().min(500)],
            tail(&self.log)
        );
        assert!(
            body.contains("QUERY_STATUS") && body.contains(expect),
            "{what}: the DALI error should say {expect:?}: {}",
            &body[..body.len().min(1000)]
        );
        self.still_up(what).await;
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
    t.refused("10^4 UNIONs", &unions, "max_query_depth").await;
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
}
