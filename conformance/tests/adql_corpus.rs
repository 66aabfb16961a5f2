//! The IVOA lyonetia ADQL corpus (read from ../shared, not copied here):
//! do the parse and check stages accept exactly the queries marked valid?
//!
//! The corpus names tables we do not have, so the check stage runs in its
//! language-only mode ([`astrolake_adql::check_language`]): every rule but
//! the existence of tables and columns. 493/495 agree; the two left:
//!
//! * `SELECT * FROM t1 INNER JOIN t2` is marked invalid, but ADQL 2.1's
//!   BNF makes the join specification optional (`<qualified_join> ::= ...
//!   JOIN <table_reference> [ <join_specification> ]`), and the corpus
//!   itself marks `t1 JOIN t2` and `t1 INNER JOIN (t2 JOIN t3)` valid: we
//!   follow the BNF.
//! * `my_undefined_function(ra, dec)` is invalid because the service does
//!   not declare it; without knowing the corpus's service, a prefixed name
//!   may be one of its UDFs (the corpus marks `ivo_foo(6)` and
//!   `ESO_INTERSECTION(...)` valid). Against our tables, [`check`] rejects
//!   every undeclared function.
//!
//! The test prints every disagreement and fails if a valid query is
//! rejected or agreement drops below the floor.

mod common;

use quick_xml::events::Event;
use quick_xml::Reader;

/// Agreement measured with the parse and check stages.
const FLOOR: usize = 493;

struct Case {
    file: String,
    valid: bool,
    adql: String,
}

fn corpus() -> Vec<Case> {
    let dir = common::workspace()
        .parent()
        .unwrap()
        .join("shared/conformance/lyonetia/adql");
    assert!(
        dir.is_dir(),
        "{} is missing (the shared folder sits beside the repository)",
        dir.display()
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .flat_map(|d| {
            std::fs::read_dir(d.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
        })
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut r = Reader::from_str(&text);
        let mut current: Option<bool> = None;
        let mut buf = String::new();
        loop {
            match r.read_event().unwrap() {
                Event::Start(e) if e.local_name().into_inner() == "adql" => {
                    let valid = e
                        .attributes()
                        .flatten()
                        .find(|a| a.key.local_name().into_inner() == "valid")
                        .map(|a| &*a.value == "true")
                        .unwrap_or(true);
                    current = Some(valid);
                    buf.clear();
                }
                Event::Text(t) if current.is_some() => buf.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if current.is_some() => {
                    let name = r.xml10_content().to_string();
                    buf.push_str(match name.as_str() {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        _ => "?",
                    });
                }
                Event::CData(t) if current.is_some() => buf.push_str(&t.xml10_content()),
                Event::End(e) if e.local_name().into_inner() == "adql" => {
                    out.push(Case {
                        file: f.strip_prefix(&dir).unwrap().display().to_string(),
                        valid: current.take().unwrap(),
                        adql: buf.clone(),
                    });
                }
                Event::Eof => break,
                _ => {}
            }
        }
    }
    out
}

/// The corpus names tables we do not have: parse, then check the language
/// rules only.
fn verdict(adql: &str) -> Result<(), String> {
    let q = astrolake_adql::parse(adql).map_err(|e| e.to_string())?;
    astrolake_adql::check_language(q).map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn lyonetia_corpus_parse_and_check_stages() {
    let cases = corpus();
    assert!(cases.len() >= 490, "{} queries read", cases.len());
    let mut agree = 0;
    let mut accepted_invalid = Vec::new();
    let mut rejected_valid = Vec::new();
    for c in &cases {
        let ok = verdict(&c.adql).is_ok();
        if ok == c.valid {
            agree += 1;
        } else if ok {
            accepted_invalid.push(c);
        } else {
            rejected_valid.push(c);
        }
    }
    eprintln!(
        "lyonetia: {agree}/{} agree with the parse and check stages",
        cases.len()
    );
    for c in &rejected_valid {
        eprintln!(
            "  valid, rejected [{}]: {} -- {}",
            c.file,
            c.adql.replace('\n', " "),
            verdict(&c.adql).unwrap_err()
        );
    }
    for c in &accepted_invalid {
        eprintln!(
            "  invalid, accepted [{}]: {}",
            c.file,
            c.adql.replace('\n', " ")
        );
    }
    assert!(
        rejected_valid.is_empty(),
        "{} valid queries rejected",
        rejected_valid.len()
    );
    assert!(agree >= FLOOR, "agreement fell to {agree} (floor {FLOOR})");
}
