//! Deep and wide queries from the structured generator (`adql/fuzz/gen.rs`,
//! the generator the `structured` fuzz target drives with libFuzzer's
//! bytes), seeded here so every run sends the same cases: operator chains
//! of 10 to 10^6 terms, nesting of every kind, chains inside nestings,
//! huge literals, big IN lists, thousands of columns, joins and set
//! operations. Each goes through parse → check → translate → execute (a
//! few rows) on a thread with the server's stack size; each either
//! answers or fails with an error, and none may panic or overflow the
//! stack (which would abort this test's process). A query the limits
//! refuse must say which limit.
//!
//! `ASTROLAKE_FUZZ_CASES=N` runs N cases instead of the default.

mod common;

#[path = "../fuzz/gen.rs"]
mod gen;

use astrolake_adql::{QueryLimits, Tables};
use futures::StreamExt;

/// The stack of the server's query threads (services' THREAD_STACK_BYTES).
const STACK: usize = 64 << 20;

#[derive(Default, Debug)]
struct Outcome {
    answered: usize,
    refused_by_limit: usize,
    other_errors: usize,
}

/// The whole pipeline on one query; returns whether it was answered,
/// refused by a limit, or failed otherwise.
async fn run(adql: &str, tables: &Tables, out: &mut Outcome) {
    let limits = QueryLimits::default();
    let q = match astrolake_adql::parse_with(adql, &limits) {
        Ok(q) => q,
        Err(e) => {
            let m = e.to_string();
            if m.contains("query too large") {
                assert!(
                    m.contains("max_query_length")
                        || m.contains("max_query_depth")
                        || m.contains("max_query_tables")
                        || m.contains("nests more than"),
                    "a limit error must name the limit: {m}"
                );
                out.refused_by_limit += 1;
            } else {
                out.other_errors += 1;
            }
            return;
        }
    };
    let _ = astrolake_adql::check_language(q.clone());
    let Ok(c) = astrolake_adql::check(q, tables) else {
        out.other_errors += 1;
        return;
    };
    let Ok(t) = astrolake_adql::translate(c, tables).await else {
        out.other_errors += 1;
        return;
    };
    let df = t.dataframe();
    let Ok(df) = df.limit(0, Some(10)) else {
        out.other_errors += 1;
        return;
    };
    match df.execute_stream().await {
        Ok(mut s) => {
            let mut ok = true;
            while let Some(b) = s.next().await {
                ok &= b.is_ok();
            }
            if ok {
                out.answered += 1;
            } else {
                out.other_errors += 1;
            }
        }
        Err(_) => out.other_errors += 1,
    }
}

#[test]
fn generated_deep_and_wide_queries_answer_or_fail_cleanly() {
    let cases: u64 = std::env::var("ASTROLAKE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let outcome = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let tables = common::tables();
                let mut out = Outcome::default();
                let first: u64 = std::env::var("ASTROLAKE_FUZZ_FIRST")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                for seed in first..first + cases {
                    let mut r = gen::Rng::seeded(seed);
                    let q = gen::query(&mut r, 100_000);
                    if let Some(dir) = std::env::var_os("ASTROLAKE_FUZZ_TRACE") {
                        // The query about to run, for a case that hangs.
                        std::fs::write(std::path::Path::new(&dir).join("current.adql"), &q)
                            .unwrap();
                    }
                    let t0 = std::time::Instant::now();
                    run(&q, &tables, &mut out).await;
                    if t0.elapsed().as_secs_f64() > 0.5 {
                        eprintln!(
                            "seed {seed}: {:.1} s, {} bytes: {}",
                            t0.elapsed().as_secs_f64(),
                            q.len(),
                            &q[..q.len().min(150)]
                        );
                    }
                }
                out
            })
        })
        .unwrap()
        .join()
        .expect("a generated query panicked");
    eprintln!("{cases} generated queries: {outcome:?}");
    // The generator reaches both sides of the limits.
    assert!(
        outcome.refused_by_limit > cases as usize / 10,
        "{outcome:?}"
    );
    assert!(outcome.answered > cases as usize / 10, "{outcome:?}");
}
