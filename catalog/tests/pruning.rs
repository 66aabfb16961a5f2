//! A HEALPix-range scan of a 10 M-row synthetic table opens exactly the
//! files whose pixels the cover touches, and returns exactly the rows a
//! brute-force scan finds. Files opened are counted by the object store.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, Int64Array};
use astrolake_catalog::healpix::{cone_cover, ranges_overlap};
use astrolake_catalog::ingest::{ingest_sources, IngestOptions};
use astrolake_catalog::instrument::CountingStore;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::CatalogRoot;

fn rows() -> u64 {
    std::env::var("ASTROLAKE_PRUNING_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

async fn count(ctx: &datafusion::prelude::SessionContext, sql: &str) -> i64 {
    let b = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    b[0].column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0)
}

fn opened(store: &CountingStore) -> BTreeSet<String> {
    store
        .reads()
        .into_keys()
        .filter(|k| k.ends_with(".parquet"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn healpix_range_scan_opens_only_covered_files() {
    let n = rows();
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
    let mut o = IngestOptions::new("gaia", "gaia_source");
    o.max_rows_per_partition = (n / 40).max(1000);
    let openers = SynthSource::openers(SynthTable::GaiaSource, 11, n, 8);
    let report = ingest_sources(&root, o, openers, None).await.unwrap();
    assert_eq!(report.rows, n);

    let counting = Arc::new(CountingStore::new(root.store()));
    let root = root.with_store(counting.clone());
    let cat = Catalog::open(&root).await.unwrap();
    let scanner = cat.table("gaia", "gaia_source").unwrap().clone();
    let total_files = scanner.info().files.len();
    assert!(total_files > 40, "{total_files} files");

    for (ra, dec, r) in [
        (266.4, -29.0, 1.0),
        (0.05, 0.1, 2.0),
        (123.0, 89.5, 1.5),
        (45.0, 41.8103149, 2.0),
    ] {
        let cover = cone_cover(ra, dec, r, 9);
        let expected: BTreeSet<String> = scanner
            .files_for(Some(&cover))
            .into_iter()
            .map(|f| {
                root.path(&format!("{}/{}", scanner.dir(), f.path))
                    .to_string()
            })
            .collect();
        // Independently: files whose pixel range overlaps the cover.
        let by_pixel = scanner
            .info()
            .files
            .iter()
            .filter(|f| ranges_overlap(&cover, &f.pixel.unwrap().range29()))
            .count();
        assert!(expected.len() <= by_pixel && !expected.is_empty());
        assert!(
            expected.len() * 4 < total_files,
            "cone ({ra},{dec},{r}) touches {} of {total_files} files",
            expected.len()
        );

        let pred = cover
            .iter()
            .map(|r| format!("(_healpix_29 >= {} AND _healpix_29 < {})", r.start, r.end))
            .collect::<Vec<_>>()
            .join(" OR ");
        let ctx = cat.session().unwrap();
        counting.reset();
        let got = count(
            &ctx,
            &format!("SELECT COUNT(*) FROM gaia.gaia_source WHERE {pred}"),
        )
        .await;
        assert_eq!(
            opened(&counting),
            expected,
            "files opened for cone ({ra},{dec},{r})"
        );

        // The same through the cover filter (the ADQL layer's path).
        let ctx2 = datafusion::prelude::SessionContext::new();
        ctx2.register_object_store(root.object_store_url().as_ref(), root.store());
        ctx2.register_udf(astrolake_catalog::cover::cover_udf());
        ctx2.register_table("cone", Arc::new(scanner.clone()))
            .unwrap();
        let bounds = cover
            .iter()
            .map(|r| format!("{}, {}", r.start, r.end))
            .collect::<Vec<_>>()
            .join(", ");
        let call = format!("healpix_cover(_healpix_29, [{bounds}])");
        counting.reset();
        let via_cover = count(
            &ctx2,
            &format!("SELECT COUNT(*) FROM cone WHERE {call} AND ({pred})"),
        )
        .await;
        assert_eq!(opened(&counting), expected);
        assert_eq!(via_cover, got);
        // The cover alone opens the same files and keeps exactly its rows.
        counting.reset();
        let alone = count(&ctx2, &format!("SELECT COUNT(*) FROM cone WHERE {call}")).await;
        assert_eq!(opened(&counting), expected);
        assert_eq!(alone, got);
        // The same filter built with the DataFrame API.
        let df = ctx2
            .table("cone")
            .await
            .unwrap()
            .filter(astrolake_catalog::cover::cover_filter(&cover))
            .unwrap();
        assert_eq!(df.count().await.unwrap() as i64, got);

        // Brute force: every row's _healpix_29, tested against the cover.
        let all = ctx
            .sql("SELECT _healpix_29 FROM gaia.gaia_source")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let brute: i64 = all
            .iter()
            .map(|b| {
                let h = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                (0..h.len())
                    .filter(|&i| {
                        let v = h.value(i) as u64;
                        ranges_overlap(&cover, &(v..v + 1))
                    })
                    .count() as i64
            })
            .sum();
        let total_rows: usize = all.iter().map(|b| b.num_rows()).sum();
        eprintln!("cone ({ra},{dec},{r}): {} of {total_files} files, {got} rows in the cover (brute force {brute} of {total_rows})", expected.len());
        assert_eq!(got, brute, "cone ({ra},{dec},{r})");
        assert!(got > 0);
    }
}
