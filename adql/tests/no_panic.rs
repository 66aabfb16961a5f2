//! No input makes the pipeline panic: our corpus, the fuzz regression
//! corpus (`adql/fuzz/regressions/`, inputs cargo-fuzz once found) and
//! deterministic mutations of both (every prefix, every single-token
//! deletion and duplication, stray bytes) go through parse → check →
//! translate against a small in-memory table. The coverage-guided fuzzer
//! itself is `adql/fuzz` (cargo +nightly fuzz run parse_check_translate).

mod common;

use astrolake_adql::Tables;
use common::tables;

/// The whole pipeline on one input; errors are fine, panics are not.
async fn run(adql: &str, tables: &Tables) {
    if let Ok(q) = astrolake_adql::parse(adql) {
        let _ = astrolake_adql::check_language(q.clone());
        if let Ok(c) = astrolake_adql::check(q, tables) {
            let _ = astrolake_adql::translate(c, tables).await;
        }
    }
}

fn seeds() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let mut out = Vec::new();
    for dir in [
        root.join("conformance/adql"),
        root.join("adql/fuzz/regressions"),
    ] {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            if f.extension().is_some_and(|e| e == "test") {
                // The ADQL of each case: lines after a query/error header
                // up to ---- or a blank line.
                let mut cur: Option<String> = None;
                for l in text.lines() {
                    match &mut cur {
                        None if l.starts_with("query ") || l.starts_with("error ") => {
                            cur = Some(String::new())
                        }
                        Some(q) if l.trim() == "----" || l.trim().is_empty() => {
                            out.push(std::mem::take(q));
                            cur = None;
                        }
                        Some(q) => {
                            q.push_str(l);
                            q.push('\n');
                        }
                        None => {}
                    }
                }
            } else if f.extension().is_some_and(|e| e == "adql") {
                out.push(text);
            }
        }
    }
    // Queries aimed at the in-memory table too.
    out.extend(
        [
            "SELECT TOP 2 * FROM s.t WHERE 1=CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 1))",
            "SELECT a.id, b.id FROM s.t AS a JOIN s.t2 AS b ON 1=CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, 0.1))",
            "SELECT * FROM s.t AS a, s.t1 AS b WHERE DISTANCE(a.ra, a.dec, b.ra, b.dec) < 1",
            "SELECT POLYGON(POINT(1, 2), POINT(3, 4), POINT(5, 6)), REGION('Box 1 2 3 4') FROM s.t",
            "SELECT IN_UNIT(x, 'deg'), CAST(ra AS POINT), COORD1(CENTROID(CIRCLE(1, 2, 3))) FROM s.t",
        ]
        .map(String::from),
    );
    out
}

fn mutations(q: &str) -> Vec<String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    // Prefixes (every 3rd cut, to keep it quick).
    for i in (0..chars.len()).step_by(3) {
        out.push(chars[..i].iter().collect());
    }
    // Token deletions and duplications.
    let toks: Vec<&str> = q.split_whitespace().collect();
    for i in 0..toks.len() {
        let mut v = toks.clone();
        v.remove(i);
        out.push(v.join(" "));
        let mut v = toks.clone();
        v.insert(i, toks[i]);
        out.push(v.join(" "));
    }
    // Stray bytes at a few places.
    for (k, junk) in ["(", ")", "'", "\"", ",", "*", "--", "\u{0}", "é", "1e999"]
        .iter()
        .enumerate()
    {
        let at = (k * 7919) % (chars.len() + 1);
        let mut s: String = chars[..at].iter().collect();
        s.push_str(junk);
        s.extend(&chars[at..]);
        out.push(s);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn no_input_makes_the_pipeline_panic() {
    let tables = tables();
    let seeds = seeds();
    assert!(seeds.len() > 50, "{} seeds", seeds.len());
    let mut n = 0;
    for s in &seeds {
        run(s, &tables).await;
        for m in mutations(s) {
            run(&m, &tables).await;
            n += 1;
        }
    }
    eprintln!("{} seeds, {n} mutations: no panic", seeds.len());
}
