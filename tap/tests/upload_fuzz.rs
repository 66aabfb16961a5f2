//! Upload documents from the structured generator (`adql/fuzz/gen.rs`,
//! which the `structured` fuzz target drives with libFuzzer's bytes),
//! seeded so every run sends the same cases: VOTable TABLEDATA, BINARY and
//! BINARY2 with huge declared array sizes, thousands of columns, deep
//! element nesting and long cells; CSV with long values, unbalanced
//! quotes and ragged rows; ECSV with alias bombs, deep YAML and long
//! headers; Parquet-shaped bytes with lying footers, and a real Parquet
//! file damaged. Each is sent as is, damaged, and gzipped, through the
//! upload path with the service's default limits, on threads with the
//! server's stack size. Each loads or fails with an `UploadError`; none
//! may panic, overflow the stack or exhaust memory.
//!
//! `ASTROLAKE_FUZZ_CASES=N` runs N cases instead of the default.

#[path = "../../adql/fuzz/gen.rs"]
mod gen;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use astrolake_adql::Tables;
use astrolake_tap::upload::{with_uploads, UploadLimits};
use bytes::Bytes;

/// The stack of the server's threads (services' THREAD_STACK_BYTES).
const STACK: usize = 64 << 20;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A real two-column Parquet file.
fn parquet() -> Vec<u8> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("ra", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from((0..100).collect::<Vec<i64>>())),
            Arc::new(Float64Array::from(
                (0..100).map(f64::from).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

#[derive(Default, Debug)]
struct Outcome {
    loaded: usize,
    refused_by_limit: usize,
    other_errors: usize,
}

#[test]
fn generated_upload_documents_load_or_fail_cleanly() {
    let cases: u64 = std::env::var("ASTROLAKE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(STACK)
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(async move {
        let real = parquet();
        let mut out = Outcome::default();
        for seed in 0..cases {
            let mut r = gen::Rng::seeded(seed);
            let kind = gen::DOCS[(seed % gen::DOCS.len() as u64) as usize];
            let mut doc = if kind == gen::Doc::Parquet && r.below(2) == 0 {
                real.clone()
            } else {
                gen::upload(&mut r, kind, 200_000)
            };
            match (seed / gen::DOCS.len() as u64) % 4 {
                0 => {}
                1 => gen::corrupt(&mut r, &mut doc),
                2 => doc = gzip(&doc),
                _ => {
                    doc = gzip(&doc);
                    gen::corrupt(&mut r, &mut doc);
                }
            }
            let parts: HashMap<String, Bytes> = [("p".to_string(), Bytes::from(doc))].into();
            let task = tokio::spawn(async move {
                with_uploads(
                    &Tables::new(),
                    Some("t,param:p"),
                    &parts,
                    &UploadLimits::default(),
                )
                .await
                .map(|_| ())
                .map_err(|e| e.message().to_string())
            });
            match task.await {
                Ok(Ok(())) => out.loaded += 1,
                Ok(Err(m)) => {
                    assert!(m.starts_with("UPLOAD t"), "seed {seed}: {m}");
                    if m.contains("(uploads.") || m.contains("limit of") {
                        out.refused_by_limit += 1;
                    } else {
                        out.other_errors += 1;
                    }
                }
                Err(e) => panic!("seed {seed} ({kind:?}): the upload panicked: {e}"),
            }
        }
        out
    });
    eprintln!("{cases} generated uploads: {outcome:?}");
    assert!(outcome.loaded > 0, "{outcome:?}");
    assert!(outcome.refused_by_limit > 0, "{outcome:?}");
}
