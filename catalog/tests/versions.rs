//! A table re-ingested while a catalogue is open (as in a running server)
//! is read either as the version the catalogue opened or, once that
//! version is gone, as the current one: never one version's descriptor
//! (file list, sizes, `_healpix_29` bounds) over another version's files.

use arrow::array::{Array, Int64Array};
use astrolake_catalog::ingest::{ingest_sources, IngestOptions};
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::CatalogRoot;
use datafusion::prelude::SessionContext;

async fn ingest(root: &CatalogRoot, kind: SynthTable, seed: u64, rows: u64) {
    let mut o = IngestOptions::new("s", "t");
    o.max_rows_per_partition = 400;
    ingest_sources(root, o, SynthSource::openers(kind, seed, rows, 2), None)
        .await
        .unwrap();
}

/// Row count and a checksum of the HEALPix indices: differs between
/// versions with other rows.
async fn summary(ctx: &SessionContext) -> (i64, i64) {
    let b = ctx
        .sql("SELECT COUNT(*), SUM(_healpix_29 % 1000003) FROM s.t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let v = |i: usize| {
        b[0].column(i)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(0)
    };
    (v(0), v(1))
}

async fn fresh(root: &CatalogRoot) -> (i64, i64) {
    summary(&Catalog::open(root).await.unwrap().session().unwrap()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_open_catalogue_reads_its_version_then_follows_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
    ingest(&root, SynthTable::GaiaSource, 1, 3000).await;
    let v1 = fresh(&root).await;
    assert_eq!(v1.0, 3000);

    let open = Catalog::open(&root).await.unwrap();
    let ctx = open.session().unwrap();
    let pinned = open.table("s", "t").unwrap().dir().to_string();
    assert!(pinned.starts_with("s/.versions/t."), "{pinned}");
    assert_eq!(summary(&ctx).await, v1);

    // v2: the open catalogue keeps answering from v1, whole.
    ingest(&root, SynthTable::GaiaSource, 2, 5000).await;
    let v2 = fresh(&root).await;
    assert_eq!(v2.0, 5000);
    assert_ne!(v1.1, v2.1);
    assert_eq!(summary(&ctx).await, v1);
    assert!(
        dir.path().join(&pinned).is_dir(),
        "the previous version is kept"
    );
    // Readers of SCHEMA/TABLE (hats, DuckDB, /catalogue/) see v2 whole.
    let props = std::fs::read_to_string(dir.path().join("s/t/hats.properties")).unwrap();
    assert!(props.contains("hats_nrows=5000"), "{props}");
    let table = std::fs::symlink_metadata(dir.path().join("s/t")).unwrap();
    assert!(table.file_type().is_symlink());

    // v3: v1 is deleted (only the current and the previous version are
    // kept); the open catalogue follows the table to v3.
    ingest(&root, SynthTable::GaiaSource, 3, 7000).await;
    assert!(!dir.path().join(&pinned).exists(), "v1 is deleted");
    let versions = std::fs::read_dir(dir.path().join("s/.versions"))
        .unwrap()
        .count();
    assert_eq!(versions, 2);
    let v3 = fresh(&root).await;
    assert_eq!(v3.0, 7000);
    assert_eq!(summary(&ctx).await, v3);
    // Nothing is left in the staging area.
    let staged = std::fs::read_dir(dir.path().join("s/.staging"))
        .unwrap()
        .count();
    assert_eq!(staged, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replacement_with_other_columns_is_refused_not_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
    ingest(&root, SynthTable::GaiaSource, 1, 2000).await;
    let open = Catalog::open(&root).await.unwrap();
    let ctx = open.session().unwrap();
    assert_eq!(summary(&ctx).await.0, 2000);
    ingest(&root, SynthTable::TmassPsc, 2, 2000).await;
    ingest(&root, SynthTable::TmassPsc, 3, 2500).await;
    let e = ctx
        .sql("SELECT COUNT(*) FROM s.t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.t") && e.contains("other columns"), "{e}");
    // A fresh open reads the new table.
    assert!(fresh(&root).await.0 > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_from_before_versions_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
    ingest(&root, SynthTable::GaiaSource, 1, 3000).await;
    // The layout of earlier releases: SCHEMA/TABLE a real directory.
    let link = dir.path().join("s/t");
    let target = dir
        .path()
        .join("s")
        .join(std::fs::read_link(&link).unwrap());
    std::fs::remove_file(&link).unwrap();
    std::fs::rename(&target, &link).unwrap();
    let open = Catalog::open(&root).await.unwrap();
    let ctx = open.session().unwrap();
    assert_eq!(open.table("s", "t").unwrap().dir(), "s/t");
    let v1 = summary(&ctx).await;
    assert_eq!(v1.0, 3000);

    ingest(&root, SynthTable::GaiaSource, 2, 4000).await;
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    let v2 = fresh(&root).await;
    assert_eq!(v2.0, 4000);
    // The old directory was replaced in place: the open catalogue sees
    // the replaced descriptor and reads v2, not v1's bounds over v2's files.
    assert_eq!(summary(&ctx).await, v2);
}
