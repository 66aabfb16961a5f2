//! Our own ADQL corpus: `conformance/adql/*.test`, slt-like files run on
//! real data (Gaia DR3 bright stars, Hipparcos 2) and synthetic data.
//!
//! Format (a blank line ends a case; `#` starts a comment line):
//!
//! ```text
//! catalog real|synth          which catalogue the following cases use
//!
//! query NAME                  ADQL lines, then ---- and the expected result:
//! SELECT ...                  a CSV header line and one line per row
//! ----                        (floats to 10 significant digits, NULL as
//! a,b                         NULL, arrays as [x y])
//! 1,2
//!
//! error NAME                  ADQL lines, then ---- and a text the error
//! SELECT ...                  message must contain
//! ----
//! unknown column
//!
//! plan NAME                   ADQL lines, then ---- and the spatial plan:
//! SELECT ...                  one line per HEALPix cover given to a table
//! ----                        (`cover TABLE RANGES ranges`), per
//! cover gaia.hip2 12 ranges   positional join (`positional join order N
//!                             radius R`), and `scan TABLE pruned` for each
//!                             Parquet scan whose reader got `_healpix_29`
//!                             ranges; `no spatial planning` when none
//! ```
//!
//! `ASTROLAKE_REGENERATE=1 cargo test -p astrolake-conformance --test
//! adql_cases` rewrites the expected results of `query` and `plan` cases
//! from what the engine does now (review the diff before committing it).

mod common;

use std::fmt::Write as _;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use astrolake_adql::Tables;
use astrolake_catalog::store::Catalog;
use futures::StreamExt;

#[derive(Debug)]
enum Kind {
    Query,
    Error,
    Plan,
}

#[derive(Debug)]
struct Case {
    kind: Kind,
    name: String,
    catalog: String,
    adql: String,
    expected: Vec<String>,
    /// Line of the case header (1-based) in the file.
    line: usize,
}

fn parse_file(text: &str) -> Vec<Case> {
    let mut out = Vec::new();
    let mut catalog = "real".to_string();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i].trim_end();
        if l.is_empty() || l.starts_with('#') {
            i += 1;
            continue;
        }
        if let Some(c) = l.strip_prefix("catalog ") {
            catalog = c.trim().to_string();
            i += 1;
            continue;
        }
        let (kind, name) = if let Some(n) = l.strip_prefix("query ") {
            (Kind::Query, n)
        } else if let Some(n) = l.strip_prefix("error ") {
            (Kind::Error, n)
        } else if let Some(n) = l.strip_prefix("plan ") {
            (Kind::Plan, n)
        } else {
            panic!(
                "line {}: expected query, error, plan or catalog: {l}",
                i + 1
            );
        };
        let line = i + 1;
        i += 1;
        let mut adql = Vec::new();
        while i < lines.len() && lines[i].trim_end() != "----" && !lines[i].trim().is_empty() {
            adql.push(lines[i]);
            i += 1;
        }
        let mut expected = Vec::new();
        if i < lines.len() && lines[i].trim_end() == "----" {
            i += 1;
            while i < lines.len() && !lines[i].trim().is_empty() {
                expected.push(lines[i].trim_end().to_string());
                i += 1;
            }
        }
        out.push(Case {
            kind,
            name: name.trim().to_string(),
            catalog: catalog.clone(),
            adql: adql.join("\n"),
            expected,
            line,
        });
    }
    out
}

fn fmt_f64(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor() as i32;
    let decimals = (9 - mag).clamp(0, 17) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

fn fmt_cell(a: &dyn Array, i: usize) -> String {
    if a.is_null(i) {
        return "NULL".into();
    }
    match a.data_type() {
        DataType::Float64 => fmt_f64(a.as_primitive::<Float64Type>().value(i)),
        DataType::Float32 => fmt_f64(a.as_primitive::<Float32Type>().value(i) as f64),
        DataType::List(_) => {
            let v = a.as_list::<i32>().value(i);
            let parts: Vec<String> = (0..v.len()).map(|j| fmt_cell(v.as_ref(), j)).collect();
            format!("[{}]", parts.join(" "))
        }
        _ => {
            let f = arrow::util::display::ArrayFormatter::try_new(a, &Default::default()).unwrap();
            let s = f.value(i).to_string();
            if s.contains(',') || s.contains('"') {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        }
    }
}

async fn run(adql: &str, tables: &Tables) -> Result<Vec<String>, String> {
    let (t, mut stream) = astrolake_adql::execute(adql, tables)
        .await
        .map_err(|e| e.to_string())?;
    let mut out = vec![t
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect::<Vec<_>>()
        .join(",")];
    while let Some(b) = stream.next().await {
        let b = b.map_err(|e| astrolake_adql::AdqlError::from(e).to_string())?;
        for r in 0..b.num_rows() {
            let mut line = String::new();
            for (c, col) in b.columns().iter().enumerate() {
                if c > 0 {
                    line.push(',');
                }
                let _ = write!(line, "{}", fmt_cell(col.as_ref(), r));
            }
            out.push(line);
        }
    }
    Ok(out)
}

/// The spatial plan of a query, as `plan` cases write it.
async fn spatial_plan(adql: &str, tables: &Tables) -> Result<Vec<String>, String> {
    let t = astrolake_adql::plan(adql, tables)
        .await
        .map_err(|e| e.to_string())?;
    let mut out: Vec<String> = t
        .covers
        .iter()
        .map(|(table, n)| format!("cover {table} {n} ranges"))
        .collect();
    out.extend(
        t.positional_joins
            .iter()
            .map(|(order, r)| format!("positional join order {order} radius {r}")),
    );
    let physical = t
        .dataframe()
        .create_physical_plan()
        .await
        .map_err(|e| e.to_string())?;
    let text = datafusion::physical_plan::displayable(physical.as_ref())
        .indent(false)
        .to_string();
    for l in text.lines().filter(|l| l.contains("DataSourceExec")) {
        if !l.contains("_healpix_29@") {
            continue;
        }
        // The table: the directory above `dataset/` of its first file
        // (`.../SCHEMA/TABLE/` or a version's `.../SCHEMA/.versions/TABLE.<id>/`).
        let table = l
            .split("dataset/")
            .next()
            .and_then(|p| {
                let dirs: Vec<&str> = p
                    .trim_end_matches('/')
                    .rsplit('/')
                    .filter(|d| *d != ".versions")
                    .take(2)
                    .collect();
                match dirs.as_slice() {
                    [t, s] => Some(format!("{s}.{}", t.split('.').next().unwrap_or(t))),
                    _ => None,
                }
            })
            .unwrap_or_else(|| "?".into());
        out.push(format!("scan {table} pruned"));
    }
    if out.is_empty() {
        out.push("no spatial planning".into());
    }
    Ok(out)
}

fn render(cases: &[Case], actual: &[Option<Vec<String>>], original: &str) -> String {
    // Rewrite each query case's expected block, keep everything else.
    let lines: Vec<&str> = original.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    for (c, a) in cases.iter().zip(actual) {
        while i + 1 < c.line {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
        }
        // Header and ADQL.
        out.push_str(lines[i]);
        out.push('\n');
        i += 1;
        while i < lines.len() && lines[i].trim_end() != "----" && !lines[i].trim().is_empty() {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
        }
        let old: Vec<String> = if i < lines.len() && lines[i].trim_end() == "----" {
            i += 1;
            let mut v = Vec::new();
            while i < lines.len() && !lines[i].trim().is_empty() {
                v.push(lines[i].to_string());
                i += 1;
            }
            v
        } else {
            Vec::new()
        };
        out.push_str("----\n");
        for l in a.as_ref().unwrap_or(&old) {
            out.push_str(l);
            out.push('\n');
        }
    }
    while i < lines.len() {
        out.push_str(lines[i]);
        out.push('\n');
        i += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn adql_corpus_of_our_own() {
    let regenerate = std::env::var_os("ASTROLAKE_REGENERATE").is_some();
    let dir = common::workspace().join("conformance/adql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    let real = Tables::from_catalog(&Catalog::open(&common::real_catalog().await).await.unwrap());
    let synth = Tables::from_catalog(
        &Catalog::open(&common::synth_catalog(50_000).await)
            .await
            .unwrap(),
    );
    let mut failures = Vec::new();
    let mut total = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let cases = parse_file(&text);
        let mut actual = Vec::new();
        for c in &cases {
            total += 1;
            let tables = match c.catalog.as_str() {
                "real" => &real,
                "synth" => &synth,
                other => panic!("{}:{}: unknown catalog {other}", f.display(), c.line),
            };
            let got = match c.kind {
                Kind::Plan => spatial_plan(&c.adql, tables).await,
                _ => run(&c.adql, tables).await,
            };
            let at = format!("{}:{} ({})", rel(f), c.line, c.name);
            match (&c.kind, got) {
                (Kind::Query | Kind::Plan, Ok(rows)) => {
                    if rows != c.expected && !regenerate {
                        failures.push(format!(
                            "{at}: expected\n  {}\ngot\n  {}",
                            c.expected.join("\n  "),
                            rows.join("\n  ")
                        ));
                    }
                    actual.push(Some(rows));
                }
                (Kind::Query | Kind::Plan, Err(e)) => {
                    failures.push(format!("{at}: failed: {e}"));
                    actual.push(None);
                }
                (Kind::Error, Ok(rows)) => {
                    failures.push(format!(
                        "{at}: expected an error, got {} rows",
                        rows.len() - 1
                    ));
                    actual.push(None);
                }
                (Kind::Error, Err(e)) => {
                    let want = c.expected.join("\n");
                    if !e.contains(&want) {
                        if regenerate && want.is_empty() {
                            actual.push(Some(vec![e]));
                            continue;
                        }
                        failures.push(format!("{at}: error should contain {want:?}, was {e:?}"));
                    }
                    actual.push(None);
                }
            }
        }
        if regenerate {
            std::fs::write(f, render(&cases, &actual, &text)).unwrap();
        }
    }
    eprintln!("{total} cases in {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn rel(p: &Path) -> String {
    p.strip_prefix(common::workspace())
        .unwrap_or(p)
        .display()
        .to_string()
}
