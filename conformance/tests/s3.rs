//! A catalogue root in a real S3-compatible server (moto, from PyPI) on
//! 127.0.0.1: ingest publishes there, queries read from there, and the
//! answers equal the same ingest on local disk.

mod common;

use std::process::Command;
use std::sync::Arc;

use arrow::array::{Array, Float64Array, Int64Array};
use astrolake_catalog::healpix::cone_cover;
use astrolake_catalog::ingest::{ingest_sources, IngestOptions, SourceOpener};
use astrolake_catalog::instrument::CountingStore;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::CatalogRoot;
use futures::TryStreamExt;

fn synth(rows: u64, seed: u64) -> Vec<SourceOpener> {
    SynthSource::openers(SynthTable::GaiaSource, seed, rows, 4)
}

async fn aggregate(root: &CatalogRoot) -> Vec<(i64, i64, f64)> {
    let ctx = Catalog::open(root).await.unwrap().session().unwrap();
    let b = ctx
        .sql("SELECT source_id / 562949953421312 AS hpx5, COUNT(*) AS n, SUM(ra) FROM gaia.gaia_source GROUP BY hpx5 ORDER BY hpx5")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let mut out = Vec::new();
    for b in b {
        let h = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let n = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
        let s = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        for i in 0..b.num_rows() {
            out.push((h.value(i), n.value(i), s.value(i)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_root_ingest_and_query() {
    let (_server, endpoint) = common::start_moto(&[]);
    // Explicit credentials and no metadata lookups: nothing leaves loopback.
    for (k, v) in [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(k, v);
    }
    let out = Command::new(common::python())
        .args([
            "-c",
            &format!(
                "import boto3; boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='testing', \
                 aws_secret_access_key='testing', region_name='us-east-1').create_bucket(Bucket='astrolake')"
            ),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let s3 = CatalogRoot::open("s3://astrolake/site-a").unwrap();
    let local_dir = tempfile::tempdir().unwrap();
    let local = CatalogRoot::open(&local_dir.path().to_string_lossy()).unwrap();
    let mut o = IngestOptions::new("gaia", "gaia_source");
    o.max_rows_per_partition = 20_000;
    ingest_sources(&s3, o.clone(), synth(150_000, 9), None)
        .await
        .unwrap();
    ingest_sources(&local, o.clone(), synth(150_000, 9), None)
        .await
        .unwrap();
    let want = aggregate(&local).await;
    assert_eq!(want.iter().map(|r| r.1).sum::<i64>(), 150_000);
    let got = aggregate(&s3).await;
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1), (w.0, w.1));
        assert!((g.2 - w.2).abs() <= 1e-9 * w.2.abs().max(1.0));
    }

    // A range scan reads only the covered files from S3.
    let counting = Arc::new(CountingStore::new(s3.store()));
    let s3c = s3.clone().with_store(counting.clone());
    let cat = Catalog::open(&s3c).await.unwrap();
    let scanner = cat.table("gaia", "gaia_source").unwrap();
    let cover = cone_cover(266.4, -29.0, 1.0, 9);
    let expected = scanner.files_for(Some(&cover)).len();
    assert!(expected * 4 < scanner.info().files.len());
    let pred = cover
        .iter()
        .map(|r| format!("(_healpix_29 >= {} AND _healpix_29 < {})", r.start, r.end))
        .collect::<Vec<_>>()
        .join(" OR ");
    counting.reset();
    let ctx = cat.session().unwrap();
    ctx.sql(&format!(
        "SELECT COUNT(*) FROM gaia.gaia_source WHERE {pred}"
    ))
    .await
    .unwrap()
    .collect()
    .await
    .unwrap();
    let opened = counting
        .reads()
        .keys()
        .filter(|k| k.ends_with(".parquet"))
        .count();
    assert_eq!(opened, expected);

    // Re-ingest: a new version is published and the old one deleted.
    let old = scanner.dir().to_string();
    ingest_sources(&s3, o, synth(50_000, 10), None)
        .await
        .unwrap();
    let cat = Catalog::open(&s3).await.unwrap();
    let new = cat.table("gaia", "gaia_source").unwrap();
    assert_ne!(new.dir(), old);
    assert_eq!(new.info().rows, 50_000);
    let left: Vec<_> = s3
        .store()
        .list(Some(&s3.path(&old)))
        .try_collect()
        .await
        .unwrap();
    assert!(
        left.is_empty(),
        "old version still has {} objects",
        left.len()
    );
    assert_eq!(
        aggregate(&s3).await.iter().map(|r| r.1).sum::<i64>(),
        50_000
    );
}
