//! Fuzz the ADQL pipeline: parse, check (language rules, and against an
//! empty table set) and translate must never panic.
//!
//! cargo +nightly fuzz run parse_check_translate -- -max_total_time=600
//! Inputs that crashed go to adql/fuzz/regressions/ (tests/no_panic.rs
//! replays them on stable in CI).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(q) = astrolake_adql::parse(text) else {
        return;
    };
    let _ = astrolake_adql::check_language(q.clone());
    let tables = astrolake_adql::Tables::new();
    if let Ok(c) = astrolake_adql::check(q, &tables) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let _ = rt.block_on(astrolake_adql::translate(c, &tables));
    }
});
