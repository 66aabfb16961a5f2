//! Ingest behaviour on small real files: formats, metadata, errors, rejects,
//! plain tables, append, idempotence and failure atomicity.

use std::path::{Path, PathBuf};

use arrow::array::{Array, Float64Array, Int64Array};
use astrolake_catalog::healpix::index29;
use astrolake_catalog::ingest::{ingest_files, IngestOptions};
use astrolake_catalog::store::Catalog;
use astrolake_catalog::table::TableKind;
use astrolake_catalog::{CatalogError, CatalogRoot};
use astrolake_vo::TableMeta;
use datafusion::prelude::SessionContext;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A small star list: id, ra, dec, mag. Includes stars next to HEALPix base
/// cell borders, the poles and RA 0/360.
fn stars() -> Vec<(i64, f64, f64, f64)> {
    let mut v = vec![
        (1, 0.0, 0.0, 10.0),
        (2, 359.9999999, 0.0, 11.0),
        (3, 45.0, 41.8103149, 12.0),
        (4, 10.0, 89.9999, 9.5),
        (5, 200.0, -89.9999, 8.25),
        (6, 90.0, -41.8103149, 13.5),
    ];
    for i in 0..500 {
        let f = i as f64;
        v.push((
            100 + i,
            (f * 7.31) % 360.0,
            ((f * 3.17) % 178.0) - 89.0,
            5.0 + (f % 13.0),
        ));
    }
    v
}

fn csv_text() -> String {
    let mut s = String::from("id,ra,dec,mag\n");
    for (id, ra, dec, mag) in stars() {
        s.push_str(&format!("{id},{ra},{dec},{mag}\n"));
    }
    s
}

async fn query(root: &CatalogRoot, sql: &str) -> Vec<arrow::array::RecordBatch> {
    let ctx: SessionContext = Catalog::open(root).await.unwrap().session().unwrap();
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

async fn ids_and_positions(root: &CatalogRoot, table: &str) -> Vec<(i64, f64, f64, i64)> {
    let batches = query(
        root,
        &format!("SELECT id, ra, dec, _healpix_29 FROM {table} ORDER BY id"),
    )
    .await;
    let mut out = Vec::new();
    for b in batches {
        let id = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let ra = b.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
        let dec = b.column(2).as_any().downcast_ref::<Float64Array>().unwrap();
        let h = b.column(3).as_any().downcast_ref::<Int64Array>().unwrap();
        for i in 0..b.num_rows() {
            out.push((id.value(i), ra.value(i), dec.value(i), h.value(i)));
        }
    }
    out
}

fn opts(table: &str) -> IngestOptions {
    let mut o = IngestOptions::new("test", table);
    o.max_rows_per_partition = 50; // several orders of partitions
    o.max_order = 6;
    o.row_group_rows = 16;
    o
}

#[tokio::test]
async fn csv_ingest_is_exact_and_hats_shaped() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "stars.csv", &csv_text());
    let root = CatalogRoot::open(&dir.path().join("cat").to_string_lossy()).unwrap();
    let r = ingest_files(&root, opts("stars"), vec![input])
        .await
        .unwrap();
    assert_eq!(r.rows, stars().len() as u64);
    assert_eq!(r.kind, TableKind::Hats);
    assert!(
        r.files > 5,
        "adaptive partitioning should split: {} files",
        r.files
    );

    let got = ids_and_positions(&root, "test.stars").await;
    let mut want = stars();
    want.sort_by_key(|s| s.0);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, g.1, g.2), (w.0, w.1, w.2));
        assert_eq!(
            g.3 as u64,
            index29(g.1, g.2).unwrap(),
            "_healpix_29 of id {}",
            g.0
        );
    }

    // HATS layout and metadata.
    let t = dir.path().join("cat/test/stars");
    for f in [
        "hats.properties",
        "partition_info.csv",
        "dataset/_metadata",
        "dataset/_common_metadata",
        "table-metadata.vot",
        "coverage.moc.fits",
        "astrolake-table.json",
    ] {
        assert!(t.join(f).is_file(), "{f} missing");
    }
    let props = std::fs::read_to_string(t.join("hats.properties")).unwrap();
    assert!(props.contains(&format!("hats_nrows={}", stars().len())));
    assert!(props.contains("hats_col_ra=ra") && props.contains("dataproduct_type=object"));
    let cat = Catalog::open(&root).await.unwrap();
    let scanner = cat.table("test", "stars").unwrap();
    let mut sum = 0;
    for f in &scanner.info().files {
        let p = f.pixel.unwrap();
        assert!(t.join(&f.path).is_file());
        let file = std::fs::File::open(t.join(&f.path)).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        use parquet::file::reader::FileReader;
        let kv = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap();
        let v = kv
            .iter()
            .find(|k| k.key == "IVOA.VOTable-Parquet.version")
            .unwrap();
        assert_eq!(v.value.as_deref(), Some("1.0"));
        let content = kv
            .iter()
            .find(|k| k.key == "IVOA.VOTable-Parquet.content")
            .unwrap();
        let meta = TableMeta::from_votable(content.value.as_ref().unwrap()).unwrap();
        let names: Vec<_> = meta.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["_healpix_29", "id", "ra", "dec", "mag"]);
        assert_eq!(reader.metadata().file_metadata().num_rows() as u64, f.rows);
        let r = p.range29();
        assert!(f.healpix_min.unwrap() >= r.start && f.healpix_max.unwrap() < r.end);
        sum += f.rows;
    }
    assert_eq!(sum, stars().len() as u64);
}

#[tokio::test]
async fn declared_metadata_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "stars.csv", &csv_text());
    let root = CatalogRoot::open(&dir.path().join("cat").to_string_lossy()).unwrap();

    let meta = TableMeta {
        name: "stars".into(),
        description: Some("Test stars".into()),
        fields: vec![
            astrolake_vo::FieldMeta {
                name: "ra".into(),
                datatype: "double".into(),
                unit: Some("deg".into()),
                ucd: Some("pos.eq.ra;meta.main".into()),
                ..Default::default()
            },
            astrolake_vo::FieldMeta {
                name: "mag".into(),
                datatype: "float".into(),
                unit: Some("mag".into()),
                description: Some("V magnitude".into()),
                ..Default::default()
            },
        ],
    };
    let mut o = opts("stars");
    o.metadata = Some(meta.clone());
    ingest_files(&root, o, vec![input.clone()]).await.unwrap();
    let sidecar = TableMeta::from_votable(
        &std::fs::read_to_string(dir.path().join("cat/test/stars/table-metadata.vot")).unwrap(),
    )
    .unwrap();
    let mag = sidecar.field("mag").unwrap();
    assert_eq!(
        (
            mag.datatype.as_str(),
            mag.unit.as_deref(),
            mag.description.as_deref()
        ),
        ("float", Some("mag"), Some("V magnitude"))
    );
    assert_eq!(
        sidecar.field("ra").unwrap().ucd.as_deref(),
        Some("pos.eq.ra;meta.main")
    );

    // A declared column the input does not have.
    let mut bad = meta.clone();
    bad.fields.push(astrolake_vo::FieldMeta {
        name: "vmag".into(),
        datatype: "float".into(),
        ..Default::default()
    });
    let mut o = opts("stars2");
    o.metadata = Some(bad);
    let e = ingest_files(&root, o, vec![input])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("vmag"), "{e}");

    // A row without a position: error names file, line and column.
    let mut text = csv_text();
    text.push_str("9999,,12.5,10\n7777,12.0,95.0,10\n");
    let bad_input = write(dir.path(), "bad.csv", &text);
    let e = ingest_files(&root, opts("stars3"), vec![bad_input.clone()])
        .await
        .unwrap_err();
    let line = stars().len() as u64 + 2;
    match &e {
        CatalogError::Input {
            file,
            line: l,
            column,
            ..
        } => {
            assert!(file.ends_with("bad.csv"));
            assert_eq!(*l, line);
            assert_eq!(column, "ra");
        }
        other => panic!("expected an input error, got {other}"),
    }
    assert!(
        !dir.path().join("cat/test/stars3").exists(),
        "a failed ingest must publish nothing"
    );

    // With --rejects both bad rows go there and the rest is ingested.
    let mut o = opts("stars3");
    let rejects = dir.path().join("rejects.csv");
    o.rejects = Some(rejects.clone());
    let r = ingest_files(&root, o, vec![bad_input]).await.unwrap();
    assert_eq!(r.rejected, 2);
    assert_eq!(r.rows, stars().len() as u64);
    let rej = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(rej.lines().count(), 3, "{rej}");
    assert!(rej.contains(&format!(",{line},\"ra\",")), "{rej}");
    assert!(rej.contains(&format!(",{},\"dec\",", line + 1)), "{rej}");
}

#[tokio::test]
async fn table_without_positions_is_plain_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("source_id,hip,angular_distance\n");
    for i in 0..1000 {
        text.push_str(&format!("{},{},{}\n", 1_000_000 + i, i, (i as f64) * 0.001));
    }
    let input = write(dir.path(), "bn.csv", &text);
    let root = CatalogRoot::open(&dir.path().join("cat").to_string_lossy()).unwrap();
    let mut o = opts("best");
    o.max_rows_per_partition = 300;
    let r = ingest_files(&root, o, vec![input]).await.unwrap();
    assert_eq!(r.kind, TableKind::Plain);
    assert_eq!(r.rows, 1000);
    let t = dir.path().join("cat/test/best");
    assert!(!t.join("hats.properties").exists());
    assert!(t.join("table-metadata.vot").is_file() && t.join("dataset/_common_metadata").is_file());
    let b = query(&root, "SELECT COUNT(*), SUM(hip) FROM test.best").await;
    let n = b[0]
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    let s = b[0]
        .column(1)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .value(0);
    assert_eq!((n, s), (1000, 999 * 1000 / 2));
}

#[tokio::test]
async fn rerun_is_idempotent_append_adds_and_failure_keeps_previous() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "stars.csv", &csv_text());
    let root = CatalogRoot::open(&dir.path().join("cat").to_string_lossy()).unwrap();
    ingest_files(&root, opts("s"), vec![input.clone()])
        .await
        .unwrap();
    let first = ids_and_positions(&root, "test.s").await;
    ingest_files(&root, opts("s"), vec![input.clone()])
        .await
        .unwrap();
    assert_eq!(ids_and_positions(&root, "test.s").await, first);

    // A failing re-ingest leaves the table as it was, and no staging behind.
    let bad = write(
        dir.path(),
        "bad.csv",
        "id,ra,dec,mag\n1,10,10,1\n2,xx,10,1\n",
    );
    let mut o = opts("s");
    o.format = Some(astrolake_catalog::input::Format::Csv);
    let e = ingest_files(&root, o, vec![bad])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.csv:3: column ra") && e.contains("\"xx\""),
        "{e}"
    );
    assert_eq!(ids_and_positions(&root, "test.s").await, first);
    let staging: Vec<_> = std::fs::read_dir(dir.path().join("cat/test/.staging"))
        .unwrap()
        .collect();
    assert!(staging.is_empty(), "staging left behind: {staging:?}");

    // Append.
    let more = write(
        dir.path(),
        "more.csv",
        "id,ra,dec,mag\n90001,12.5,-30.25,7.5\n90002,250.0,60.0,8.5\n",
    );
    let mut o = opts("s");
    o.append = true;
    let r = ingest_files(&root, o, vec![more]).await.unwrap();
    assert_eq!(r.rows, first.len() as u64 + 2);
    let after = ids_and_positions(&root, "test.s").await;
    assert_eq!(after.len(), first.len() + 2);
    assert!(after.iter().any(|r| r.0 == 90002 && r.1 == 250.0));
}

#[tokio::test]
async fn every_input_format_gives_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    let root = CatalogRoot::open(&dir.path().join("cat").to_string_lossy()).unwrap();
    let csv = write(dir.path(), "stars.csv", &csv_text());
    ingest_files(&root, opts("from_csv"), vec![csv])
        .await
        .unwrap();
    let want = ids_and_positions(&root, "test.from_csv").await;

    // ECSV, gzipped, with units and UCDs in its header.
    let mut ecsv = String::from(
        "# %ECSV 1.0\n# ---\n# delimiter: ','\n# datatype:\n\
         # - {name: id, datatype: int64, description: Source id}\n\
         # - {name: ra, unit: deg, datatype: float64, meta: {ucd: pos.eq.ra;meta.main}}\n\
         # - {name: dec, unit: deg, datatype: float64}\n\
         # - {name: mag, unit: mag, datatype: float64}\n",
    );
    ecsv.push_str(&csv_text());
    let gz = dir.path().join("stars.csv.gz");
    {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        e.write_all(ecsv.as_bytes()).unwrap();
        e.finish().unwrap();
    }
    ingest_files(&root, opts("from_ecsv"), vec![gz])
        .await
        .unwrap();
    assert_eq!(ids_and_positions(&root, "test.from_ecsv").await, want);
    let side = TableMeta::from_votable(
        &std::fs::read_to_string(dir.path().join("cat/test/from_ecsv/table-metadata.vot")).unwrap(),
    )
    .unwrap();
    assert_eq!(side.field("ra").unwrap().unit.as_deref(), Some("deg"));
    assert_eq!(
        side.field("ra").unwrap().ucd.as_deref(),
        Some("pos.eq.ra;meta.main")
    );

    // VOTable TABLEDATA.
    let mut vot = String::from(
        "<?xml version=\"1.0\"?>\n<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\"><RESOURCE><TABLE name=\"stars\">\
         <FIELD name=\"id\" datatype=\"long\"/><FIELD name=\"ra\" datatype=\"double\" unit=\"deg\"/>\
         <FIELD name=\"dec\" datatype=\"double\" unit=\"deg\"/><FIELD name=\"mag\" datatype=\"double\"/><DATA><TABLEDATA>\n",
    );
    for (id, ra, dec, mag) in stars() {
        vot.push_str(&format!(
            "<TR><TD>{id}</TD><TD>{ra}</TD><TD>{dec}</TD><TD>{mag}</TD></TR>\n"
        ));
    }
    vot.push_str("</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>\n");
    let v = write(dir.path(), "stars.vot", &vot);
    ingest_files(&root, opts("from_vot"), vec![v])
        .await
        .unwrap();
    assert_eq!(ids_and_positions(&root, "test.from_vot").await, want);

    // Parquet: the stored files themselves, as many inputs (a glob).
    let glob = dir
        .path()
        .join("cat/test/from_csv/dataset/Norder=*/Dir=*/*.parquet");
    let inputs =
        astrolake_catalog::ingest::expand_inputs(&[glob.to_string_lossy().to_string()]).unwrap();
    assert!(inputs.len() > 5);
    ingest_files(&root, opts("from_parquet"), inputs)
        .await
        .unwrap();
    assert_eq!(ids_and_positions(&root, "test.from_parquet").await, want);
}

#[tokio::test]
async fn a_small_memory_budget_gives_the_same_table() {
    let dir = tempfile::tempdir().unwrap();
    // A dense cluster: many partitions inside one spill bucket.
    let mut text = csv_text();
    for i in 0..400 {
        let f = i as f64;
        text.push_str(&format!(
            "{},{},{},10\n",
            10_000 + i,
            150.0 + (f * 0.013) % 0.5,
            20.0 + (f * 0.007) % 0.5
        ));
    }
    let input = write(dir.path(), "stars.csv", &text);
    let root = CatalogRoot::open(&dir.path().join("cat").to_string_lossy()).unwrap();
    ingest_files(&root, opts("roomy"), vec![input.clone()])
        .await
        .unwrap();
    // Buckets bigger than the budget are re-routed to one spill file per
    // partition before sorting.
    let mut o = opts("tight");
    o.memory_rows = 10;
    o.max_rows_per_partition = 20;
    o.threads = 1;
    // Many small input batches: spill messages concatenate many sorted runs.
    o.batch_rows = 7;
    let r = ingest_files(&root, o, vec![input]).await.unwrap();
    assert_eq!(r.rows, stars().len() as u64 + 400);
    assert!(r.files > 30, "{} files", r.files);
    assert_eq!(
        ids_and_positions(&root, "test.tight").await,
        ids_and_positions(&root, "test.roomy").await
    );
}
