//! # astrolake-regtap
//!
//! RegTAP 1.2 (the IVOA Registry Relational Schema): the `rr` tables that
//! make a registry's VOResource records searchable through TAP, as
//! `pyvo.regsearch` and TOPCAT's registry queries use them.
//!
//! ```text
//!  VOResource records ─► tree::parse ─► ingest::add_record ─► Rows ─► batches
//!  (ri:Resource XML,      (elements,     (the RegTAP mapping:         (Arrow, one per
//!   as the registry        xsi:type       normalised, numbered,        rr table, with
//!   publishes them)        canonical)     res_detail pairs)            schema::TABLES' metadata)
//!                                          + ingest::add_tap_tables
//! ```
//!
//! * [`schema`]: the tables, their columns and keys (what TAP_SCHEMA and
//!   `/tables` say), the data model identifier.
//! * [`tree`]: the record as elements, with `xsi:type` resolved to
//!   RegTAP's canonical prefixes.
//! * [`ingest`]: the mapping of one record to rows.
//!
//! The records are the XML the registry publishes (one source of truth:
//! what OAI-PMH harvesters get is what RegTAP finds); this crate knows no
//! HTTP and no query engine.

pub mod error;
pub mod ingest;
pub mod schema;
pub mod tree;

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int16Array, RecordBatch, StringArray};

pub use error::RegtapError;
pub use ingest::{Rows, Value};
pub use schema::{foreign_keys, Table, DATA_MODEL, SCHEMA, TABLES};

/// The rows of the `rr` tables for `records` (VOResource documents or any
/// XML holding `Resource` elements, such as an OAI-PMH response).
pub fn rows<'a>(records: impl IntoIterator<Item = &'a str>) -> Result<Rows, RegtapError> {
    let mut rows = Rows::default();
    for xml in records {
        let root = tree::parse(xml)?;
        let mut found = Vec::new();
        root.find_all("Resource", &mut found);
        for r in found {
            ingest::add_record(&mut rows, r);
        }
    }
    ingest::add_tap_tables(&mut rows);
    Ok(rows)
}

/// Every `rr` table with its rows, in [`TABLES`] order.
pub fn batches(rows: &Rows) -> Result<Vec<(&'static Table, RecordBatch)>, RegtapError> {
    TABLES
        .iter()
        .map(|t| {
            let data = rows.of(t.name);
            let arrays: Vec<ArrayRef> = (0..t.columns.len())
                .map(|j| -> ArrayRef {
                    let col = data.iter().map(|r| &r[j]);
                    match t.columns[j].ty {
                        schema::Ty::Short => Arc::new(Int16Array::from(
                            col.map(|v| match v {
                                Value::Short(x) => *x,
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                        )),
                        schema::Ty::Double => Arc::new(Float64Array::from(
                            col.map(|v| match v {
                                Value::Double(x) => *x,
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                        )),
                        _ => Arc::new(StringArray::from(
                            col.map(|v| match v {
                                Value::Text(x) => x.clone(),
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                        )),
                    }
                })
                .collect();
            RecordBatch::try_new(t.arrow_schema(), arrays)
                .map(|b| (t, b))
                .map_err(|e| RegtapError::Arrow(t.name, e))
        })
        .collect()
}
