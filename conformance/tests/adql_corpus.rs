//! The IVOA lyonetia ADQL corpus (read from ../shared, not copied here):
//! does our parse stage accept exactly the queries marked valid?
//!
//! Only the parse stage exists so far (issue 4 in progress): queries that
//! are invalid for reasons a parser cannot see (unknown functions, types,
//! reserved words as identifiers) still count as disagreements. The test
//! prints every disagreement and fails if agreement drops below the floor
//! measured when it was written.

mod common;

use quick_xml::events::Event;
use quick_xml::Reader;

/// Agreement measured for the parse stage alone; raise it as stages land.
const FLOOR: usize = 456;

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

#[test]
fn lyonetia_corpus_parse_stage() {
    let cases = corpus();
    assert!(cases.len() >= 490, "{} queries read", cases.len());
    let mut agree = 0;
    let mut accepted_invalid = Vec::new();
    let mut rejected_valid = Vec::new();
    for c in &cases {
        let ok = astrolake_adql::parse(&c.adql).is_ok();
        if ok == c.valid {
            agree += 1;
        } else if ok {
            accepted_invalid.push(c);
        } else {
            rejected_valid.push(c);
        }
    }
    eprintln!(
        "lyonetia: {agree}/{} agree with the parse stage",
        cases.len()
    );
    for c in &rejected_valid {
        eprintln!(
            "  valid, rejected [{}]: {} -- {}",
            c.file,
            c.adql.replace('\n', " "),
            astrolake_adql::parse(&c.adql).unwrap_err()
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
