//! Helpers shared by the UDF unit tests: a session with the UDFs and a
//! small table, and accessors for query results.

use std::sync::Arc;

use arrow::array::{
    Array, AsArray, Float64Array, Int32Array as I32, RecordBatch, StringArray as Strs,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use datafusion::common::{Result, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use super::registry::register;

pub(super) fn ctx() -> SessionContext {
    let ctx = SessionContext::new();
    register(&ctx);
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        Field::new("ra", DataType::Float64, true),
        Field::new("dec", DataType::Float64, true),
        Field::new("ira", DataType::Int32, true),
        Field::new("idec", DataType::Int32, true),
        Field::new("s_region", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(I32::from(vec![1, 2, 3, 4, 5])),
            Arc::new(Float64Array::from(vec![
                Some(10.0),
                Some(10.5),
                None,
                Some(12.0),
                Some(f64::NAN),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(20.0),
                Some(20.5),
                Some(20.0),
                None,
                Some(20.0),
            ])),
            Arc::new(I32::from(vec![
                Some(10),
                Some(11),
                None,
                Some(12),
                Some(10),
            ])),
            Arc::new(I32::from(vec![
                Some(20),
                Some(20),
                Some(20),
                Some(21),
                None,
            ])),
            Arc::new(Strs::from(vec![
                Some("Circle ICRS 10 20 1"),
                Some("Polygon ICRS 9 19 11 19 11 21 9 21"),
                None,
                Some("Box ICRS 12 21 2 2"),
                Some("10 20 0.5"),
            ])),
        ],
    )
    .unwrap();
    let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
    ctx.register_table("t", Arc::new(table)).unwrap();
    ctx
}

pub(super) async fn query(sql: &str) -> Result<Vec<RecordBatch>> {
    ctx().sql(sql).await?.collect().await
}

/// All values of column `col` of the result, as ScalarValues.
pub(super) async fn column(sql: &str, col: usize) -> Vec<ScalarValue> {
    let batches = query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for b in batches {
        for i in 0..b.num_rows() {
            out.push(ScalarValue::try_from_array(b.column(col), i).unwrap());
        }
    }
    out
}

pub(super) async fn one(sql: &str) -> ScalarValue {
    let v = column(sql, 0).await;
    assert_eq!(v.len(), 1, "{sql}");
    v.into_iter().next().unwrap()
}

pub(super) async fn err(sql: &str) -> String {
    match query(sql).await {
        Ok(b) => panic!("{sql} should fail, gave {b:?}"),
        Err(e) => e.to_string(),
    }
}

pub(super) fn f64_of(v: &ScalarValue) -> Option<f64> {
    match v {
        ScalarValue::Float64(x) => *x,
        other => panic!("not a Float64: {other:?}"),
    }
}

pub(super) fn i32_of(v: &ScalarValue) -> Option<i32> {
    match v {
        ScalarValue::Int32(x) => *x,
        other => panic!("not an Int32: {other:?}"),
    }
}

pub(super) fn list_of(v: &ScalarValue) -> Option<Vec<Option<f64>>> {
    match v {
        ScalarValue::List(a) => {
            if a.is_null(0) {
                return None;
            }
            let inner = a.value(0);
            Some(inner.as_primitive::<Float64Type>().iter().collect())
        }
        other => panic!("not a List: {other:?}"),
    }
}

pub(super) fn geom_of(v: &ScalarValue) -> Option<Vec<f64>> {
    list_of(v).map(|l| l.into_iter().map(Option::unwrap).collect())
}

pub(super) fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}
