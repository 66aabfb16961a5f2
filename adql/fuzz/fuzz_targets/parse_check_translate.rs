//! Fuzz the ADQL pipeline: parse, check (language rules, and against a
//! small in-memory table set `s.t`, `s.y`, `s.t1`, `s.t2` with columns id,
//! ra, dec, x) and translate must never panic; plans are executed with a
//! row limit so the UDFs, units and geometry code run too.
//!
//! cargo +nightly fuzz run parse_check_translate -- -max_total_time=600
//! Inputs that crashed go to adql/fuzz/regressions/ (tests/no_panic.rs
//! replays them on stable in CI).
#![no_main]

use std::sync::{Arc, OnceLock};

use arrow::array::{Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use astrolake_adql::{TableEntry, Tables};
use astrolake_catalog::votable::{FieldMeta, TableMeta};
use datafusion::datasource::MemTable;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("ra", DataType::Float64, true),
            Field::new("dec", DataType::Float64, true),
            Field::new("x", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![10.0, 359.9, 0.1])),
                Arc::new(Float64Array::from(vec![20.0, -89.0, 90.0])),
                Arc::new(Float64Array::from(vec![Some(1.5), None, Some(-2.0)])),
            ],
        )
        .unwrap();
        let mem: Arc<dyn datafusion::datasource::TableProvider> =
            Arc::new(MemTable::try_new(schema.clone(), vec![vec![batch]]).unwrap());
        let mut fields: Vec<FieldMeta> = schema.fields().iter().map(|f| FieldMeta::from_arrow(f)).collect();
        fields[1].unit = Some("deg".into());
        fields[2].unit = Some("deg".into());
        let meta = TableMeta {
            name: "t".into(),
            description: None,
            fields,
        };
        let mut t = Tables::new();
        for name in ["t", "y", "t1", "t2"] {
            t.add(TableEntry {
                schema: "s".into(),
                name: name.into(),
                meta: meta.clone(),
                provider: Arc::clone(&mem),
                scanner: None,
                position: None,
            });
        }
        t
    })
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
                let df = datafusion::dataframe::DataFrame::new(t.ctx.state(), t.plan.clone());
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
