//! Fuzz with structure: libFuzzer's bytes drive the generator of
//! `gen.rs` (deep and wide ADQL: chains, nesting, huge literals, big IN
//! lists, wide selects, joins and set operations; upload documents of
//! every format, damaged or gzipped). Queries go through parse → check →
//! translate → execute against the in-memory tables; uploads through the
//! TAP upload path with the service's default limits. Nothing may panic,
//! overflow the stack or run out of memory (run with -rss_limit_mb).
//!
//! cargo +nightly fuzz run structured -- -rss_limit_mb=4096 -max_total_time=600
//! (stable: see adql/fuzz/regressions/README.md). Inputs that crashed
//! become regression cases in adql/fuzz/regressions/.
#![no_main]

#[path = "../gen.rs"]
mod gen;
#[path = "../../tests/common/mod.rs"]
mod tables;

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use astrolake_adql::Tables;
use bytes::Bytes;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

fn query_tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(tables::tables)
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_stack_size(64 << 20)
            .enable_all()
            .build()
            .unwrap()
    })
}

async fn query(adql: String) {
    let tables = query_tables();
    let Ok(q) = astrolake_adql::parse(&adql) else {
        return;
    };
    let _ = astrolake_adql::check_language(q.clone());
    let Ok(c) = astrolake_adql::check(q, tables) else {
        return;
    };
    let Ok(t) = astrolake_adql::translate(c, tables).await else {
        return;
    };
    let df = t.dataframe();
    if let Ok(df) = df.limit(0, Some(10)) {
        if let Ok(mut s) = df.execute_stream().await {
            while let Some(b) = s.next().await {
                if b.is_err() {
                    break;
                }
            }
        }
    }
}

async fn upload(doc: Vec<u8>) {
    let parts: HashMap<String, Bytes> = [("p".to_string(), Bytes::from(doc))].into();
    let limits = astrolake_tap::upload::UploadLimits::default();
    let _ = astrolake_tap::upload::with_uploads(&Tables::new(), Some("t,param:p"), &parts, &limits)
        .await;
}

/// With `ASTROLAKE_FUZZ_SHOW` set (replaying an artefact), print what the
/// bytes generated.
fn show(what: &str, bytes: &[u8]) {
    if std::env::var_os("ASTROLAKE_FUZZ_SHOW").is_some() {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4000)]);
        eprintln!("{what} ({} bytes): {text}", bytes.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let mut r = gen::Rng::from_bytes(data);
    let job = if r.below(2) == 0 {
        let q = gen::query(&mut r, 100_000);
        show("query", q.as_bytes());
        runtime().spawn(query(q))
    } else {
        let kind = *r.pick(&gen::DOCS);
        let mut doc = gen::upload(&mut r, kind, 200_000);
        if r.below(2) == 0 {
            gen::corrupt(&mut r, &mut doc);
        }
        if r.below(2) == 0 {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&doc).unwrap();
            doc = e.finish().unwrap();
        }
        show(&format!("{kind:?}"), &doc);
        runtime().spawn(upload(doc))
    };
    // A panic in the task is a finding: re-raise it here.
    if let Err(e) = runtime().block_on(job) {
        std::panic::resume_unwind(e.into_panic());
    }
});
