//! The RegTAP mapping on record files: `tests/data/NAME.xml` (a VOResource
//! record, or an OAI-PMH response holding records) gives exactly the rows
//! of `tests/data/NAME.rows`, one line per row: the table, then the
//! values in column order separated by ` | `, NULL as `NULL`.
//!
//! `ASTROLAKE_REGENERATE=1 cargo test -p astrolake-regtap --test records`
//! rewrites the `.rows` files from what the mapping does now (review the
//! diff before committing it).

use std::path::Path;

use astrolake_regtap::{rows, Value, TABLES};

fn render(xml: &str) -> String {
    let rows = rows([xml]).expect("the record parses");
    let mut out = String::new();
    for t in TABLES {
        for r in rows.of(t.name) {
            let cells: Vec<String> = r
                .iter()
                .map(|v| match v {
                    Value::Text(Some(s)) => s.clone(),
                    Value::Short(Some(n)) => n.to_string(),
                    Value::Double(Some(x)) => format!("{x:e}"),
                    _ => "NULL".to_string(),
                })
                .collect();
            out += &format!("{}: {}\n", t.name, cells.join(" | "));
        }
    }
    out
}

#[test]
fn records_map_to_the_rows_regtap_defines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let regenerate = std::env::var_os("ASTROLAKE_REGENERATE").is_some();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "no records in {}", dir.display());
    let mut failures = Vec::new();
    for f in &files {
        let got = render(&std::fs::read_to_string(f).unwrap());
        let expected = f.with_extension("rows");
        if regenerate {
            std::fs::write(&expected, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&expected).unwrap_or_default();
        if got != want {
            failures.push(format!("{}:\nexpected\n{want}\ngot\n{got}", f.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_table_builds_and_describes_its_columns() {
    let xml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/service.xml"),
    )
    .unwrap();
    let rows = rows([xml.as_str()]).unwrap();
    let batches = astrolake_regtap::batches(&rows).unwrap();
    assert_eq!(batches.len(), 18);
    for (t, b) in &batches {
        assert_eq!(b.num_rows(), rows.of(t.name).len(), "{}", t.name);
        let meta = t.meta();
        assert_eq!(meta.fields.len(), b.num_columns(), "{}", t.name);
        assert!(meta.fields.iter().all(|f| f.description.is_some()));
    }
    // Broken XML is an error, not an empty table.
    assert!(rows_of_bad("<ri:Resource><identifier>x</ri:Resource>"));
}

fn rows_of_bad(xml: &str) -> bool {
    astrolake_regtap::rows([xml]).is_err()
}
