//! Mounted and imported tables: a mounted table that cannot be opened
//! (unreachable store, malformed MOC, an invalid location) is left out
//! and reported, the others are served; imports check names and register
//! nothing until committed.

use astrolake_catalog::ingest::{ingest_sources, IngestOptions};
use astrolake_catalog::manifest::{Manifest, RemoteTable, TableEntry};
use astrolake_catalog::remote::RemoteOptions;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::table::MOC_FILE;
use astrolake_catalog::transfer;
use astrolake_catalog::CatalogRoot;

async fn catalogue(dir: &std::path::Path, schema: &str, table: &str) -> CatalogRoot {
    let root = CatalogRoot::open(&dir.to_string_lossy()).unwrap();
    let mut o = IngestOptions::new(schema, table);
    o.max_rows_per_partition = 500;
    let openers = SynthSource::openers(SynthTable::GaiaSource, 7, 2000, 2);
    ingest_sources(&root, o, openers, None).await.unwrap();
    root
}

/// A copy of a table directory (the version its link points at).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if std::fs::metadata(&p).unwrap().is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn remote(url: String, options: RemoteOptions) -> TableEntry {
    TableEntry {
        path: String::new(),
        description: None,
        remote: Some(RemoteTable {
            url,
            options,
            layout: "astrolake".into(),
            source: None,
        }),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unopenable_mounted_tables_are_left_out_with_the_reason() {
    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("a");
    catalogue(&a, "s", "t").await;
    let bad_moc = work.path().join("bad-moc");
    copy_dir(&a.join("s/t"), &bad_moc);
    std::fs::write(bad_moc.join(MOC_FILE), b"SIMPLE  = not a MOC").unwrap();

    let b = catalogue(&work.path().join("b"), "local", "t").await;
    let mut m = Manifest::load(&b).await.unwrap();
    let tables = &mut m.schemas.entry("mnt".into()).or_default().tables;
    let file = |p: &std::path::Path| format!("file://{}", p.display());
    tables.insert(
        "good".into(),
        remote(file(&a.join("s/t")), RemoteOptions::default()),
    );
    tables.insert(
        "badmoc".into(),
        remote(file(&bad_moc), RemoteOptions::default()),
    );
    tables.insert(
        "down".into(),
        remote("http://127.0.0.1:9/cat/t".into(), RemoteOptions::default()),
    );
    tables.insert(
        "region".into(),
        remote(
            "s3://bucket/t".into(),
            RemoteOptions {
                region: Some("evil.example/".into()),
                anonymous: true,
                ..Default::default()
            },
        ),
    );
    m.save(&b).await.unwrap();

    let cat = Catalog::open_with(&b, &[]).await.unwrap();
    let mut served: Vec<String> = cat
        .tables()
        .iter()
        .map(|(s, t, _)| format!("{s}.{t}"))
        .collect();
    served.sort();
    assert_eq!(served, vec!["local.t", "mnt.good"]);
    let problems = cat.problems().join("\n");
    assert_eq!(cat.problems().len(), 3, "{problems}");
    assert!(
        problems.contains("mnt.badmoc") && problems.contains("not a MOC"),
        "{problems}"
    );
    assert!(
        problems.contains("mnt.down (http://127.0.0.1:9/cat/t)"),
        "{problems}"
    );
    assert!(
        problems.contains("mnt.region") && problems.contains("is not an S3 region"),
        "{problems}"
    );
    // The good mount's coverage was read (and checked) when it was opened.
    assert!(cat.table("mnt", "good").unwrap().moc().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_check_names_and_register_only_when_committed() {
    let work = tempfile::tempdir().unwrap();
    let a = work.path().join("a");
    catalogue(&a, "s", "t").await;
    let b = catalogue(&work.path().join("b"), "local", "t").await;
    let before = Manifest::load(&b).await.unwrap();
    let src = vec![RemoteTable {
        url: format!("file://{}", a.join("s/t").display()),
        options: RemoteOptions::default(),
        layout: "astrolake".into(),
        source: None,
    }];
    let named = |n: &str| vec![(n.to_string(), None)];

    // Names that would reach a sibling's files, or are not identifiers.
    for bad in ["../local", "x/t", "..", "", "t.u", "1t"] {
        let e = transfer::prepare_copy(&b, "imp", &src, &named(bad), &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid name"), "{bad:?}: {e}");
        assert!(
            transfer::prepare_mount(&b, "imp", &src, &named(bad), None, &[])
                .await
                .is_err()
        );
    }
    let e = transfer::prepare_mount(&b, "../local", &src, &named("t"), None, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a valid name"), "{e}");
    // A schema differing only in case is the same schema.
    let e = transfer::prepare_mount(&b, "LOCAL", &src, &named("T"), None, &[])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("exists already"), "{e}");
    assert_eq!(Manifest::load(&b).await.unwrap(), before);
    let local = b.local_dir().unwrap();
    assert!(!local.join("imp").exists(), "nothing was written");

    // A copy discarded: its files go, the manifest never listed it.
    let staged = transfer::prepare_copy(&b, "imp", &src, &named("t"), &[])
        .await
        .unwrap();
    assert!(local.join("imp/t/astrolake-table.json").exists());
    let planned = staged.added_to(&before).unwrap();
    assert!(planned.table("imp", "t").is_some());
    assert_eq!(Manifest::load(&b).await.unwrap(), before);
    staged.discard().await;
    assert!(!local.join("imp/t").exists());
    assert_eq!(Manifest::load(&b).await.unwrap(), before);

    // Committed: listed and served.
    let staged = transfer::prepare_mount(&b, "Local", &src, &named("u"), None, &[])
        .await
        .unwrap();
    assert_eq!(staged.schema(), "local", "the existing spelling is kept");
    staged.commit().await.unwrap();
    let cat = Catalog::open(&b).await.unwrap();
    assert!(cat.table("local", "u").is_some());
    assert!(cat.problems().is_empty(), "{:?}", cat.problems());
}
