//! The seed's hpx5 aggregate through DataFusion over the store equals
//! DuckDB's answer over the same Parquet files.

mod common;

use arrow::array::{Array, Float64Array, Int64Array};
use astrolake_catalog::ingest::{ingest_sources, IngestOptions};
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::CatalogRoot;

#[tokio::test(flavor = "multi_thread")]
async fn hpx5_aggregate_equals_duckdb() {
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
    let mut o = IngestOptions::new("gaia", "gaia_source");
    o.max_rows_per_partition = 50_000;
    let openers = SynthSource::openers(SynthTable::GaiaSource, 5, 400_000, 4);
    ingest_sources(&root, o, openers, None).await.unwrap();

    // The seed's query, verbatim: bigint / bigint is integer division.
    let ctx = Catalog::open(&root).await.unwrap().session().unwrap();
    let batches = ctx
        .sql("SELECT source_id / 562949953421312 AS hpx5, COUNT(*) AS n, AVG(pmra), AVG(pmdec) FROM gaia_source GROUP BY hpx5 ORDER BY hpx5")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut ours = Vec::new();
    for b in &batches {
        let h = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let n = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        let a = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        let d = b.column(3).as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            let opt = |x: &Float64Array| (!x.is_null(i)).then(|| x.value(i));
            ours.push((h.value(i), n.value(i), opt(a), opt(d)));
        }
    }
    assert!(
        ours.len() > 1000,
        "hpx5 has 12288 cells; {} groups",
        ours.len()
    );
    assert_eq!(ours.iter().map(|r| r.1).sum::<i64>(), 400_000);

    // DuckDB on the same files (`//` is DuckDB's integer division).
    let glob = dir.path().join("gaia/gaia_source/dataset/*/*/*.parquet");
    let out = common::run_python(
        "duckdb_query.py",
        &[
            &glob.to_string_lossy(),
            "SELECT source_id // 562949953421312 AS hpx5, COUNT(*), AVG(pmra), AVG(pmdec) FROM t GROUP BY hpx5 ORDER BY hpx5",
        ],
    );
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(rows.len(), ours.len());
    let f = |v: &serde_json::Value| -> Option<f64> {
        match v {
            serde_json::Value::String(s) => Some(s.parse().unwrap()),
            serde_json::Value::Null => None,
            other => Some(other.as_f64().unwrap()),
        }
    };
    for (r, o) in rows.iter().zip(&ours) {
        assert_eq!(r[0].as_i64().unwrap(), o.0);
        assert_eq!(r[1].as_i64().unwrap(), o.1, "count of hpx5 {}", o.0);
        // Sums in a different order: equal to within rounding.
        for (d, x) in [(f(&r[2]), o.2), (f(&r[3]), o.3)] {
            match (d, x) {
                (Some(d), Some(x)) => assert!(
                    (d - x).abs() <= 1e-9 * d.abs().max(1.0),
                    "hpx5 {}: duckdb {d} vs {x}",
                    o.0
                ),
                (None, None) => {}
                other => panic!("hpx5 {}: duckdb vs ours {other:?}", o.0),
            }
        }
    }
}
