//! Fuzz the ADQL pipeline: parse, check (language rules, and against a
//! small in-memory table set `s.t`, `s.y`, `s.t1`, `s.t2` with columns id,
//! ra, dec, x) and translate must never panic; plans are executed with a
//! row limit so the UDFs, units and geometry code run too.
//!
//! cargo +nightly fuzz run parse_check_translate -- -max_total_time=600
//! Inputs that crashed go to adql/fuzz/regressions/ (tests/no_panic.rs
//! replays them on stable in CI).
#![no_main]

use std::sync::OnceLock;

use astrolake_adql::Tables;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/mod.rs"]
mod common;

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(common::tables)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(q) = astrolake_adql::parse(text) else {
        return;
    };
    let _ = astrolake_adql::check_language(q.clone());
    let tables = tables();
    if let Ok(c) = astrolake_adql::check(q, tables) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            if let Ok(t) = astrolake_adql::translate(c, tables).await {
                let df = t.dataframe();
                if let Ok(df) = df.limit(0, Some(100)) {
                    if let Ok(mut s) = df.execute_stream().await {
                        while let Some(b) = s.next().await {
                            if b.is_err() {
                                break;
                            }
                        }
                    }
                }
            }
        });
    }
});
