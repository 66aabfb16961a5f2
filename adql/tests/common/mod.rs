//! The small in-memory table set the pipeline tests run against:
//! `s.t`, `s.y`, `s.t1`, `s.t2`, each with columns id, ra, dec, x and
//! three rows.
#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use astrolake_adql::{TableEntry, Tables};
use astrolake_vo::{FieldMeta, TableMeta};
use datafusion::datasource::MemTable;

pub fn tables() -> Tables {
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
    let meta = TableMeta {
        name: "t".into(),
        description: None,
        fields: schema
            .fields()
            .iter()
            .map(|f| FieldMeta::from_arrow(f))
            .collect(),
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
}
