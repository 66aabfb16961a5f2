//! Every VOSI document, validated offline against the IVOA schemas with
//! xmllint (`../../shared/xsd/vosi-all.xsd`), plus checks that text with
//! XML-special and non-ASCII characters survives, and that the examples
//! document has the DALI 1.1 RDFa structure taplint's EXA stage reads.
//!
//! Needs `xmllint` (Debian/Ubuntu package `libxml2-utils`).

use std::path::{Path, PathBuf};
use std::process::Command;

use astrolake_vo::FieldMeta;
use astrolake_vosi::{
    availability, capabilities, default_examples, examples, find_table, select_tables, table,
    tables, tap_plus_client, tap_plus_flags, CapabilitiesConfig, DataLimit, LimitUnit, TableDoc,
    TimeLimit, UploadMethod, VosiError,
};
use quick_xml::events::Event;
use quick_xml::Reader;

/// Text with every character XML escapes, plus non-ASCII.
const SPECIAL: &str = "a < b && c > \"d\" 'e' — déclinaison ≥ 5° ✓ 日本";

fn xsd_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/xsd")
}

/// Write `doc` to a file named `name` and return its path.
fn write(name: &str, doc: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vosi-documents");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, doc).unwrap();
    path
}

/// Run xmllint; panic with its output if it fails.
fn xmllint(args: &[&str], path: &Path) {
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet"])
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xmllint ({e}): install it (apt-get install libxml2-utils)")
        });
    assert!(
        out.status.success(),
        "xmllint rejects {}:\n{}\n--- document ---\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(path).unwrap_or_default()
    );
}

/// Validate `doc` against vosi-all.xsd.
fn validate(name: &str, doc: &str) {
    let schema = xsd_dir().join("vosi-all.xsd");
    assert!(
        schema.exists(),
        "{} is missing (the shared XML schemas)",
        schema.display()
    );
    let path = write(name, doc);
    xmllint(&["--schema", schema.to_str().unwrap()], &path);
}

/// Every (element name, text) pair of a document, text unescaped.
fn texts(doc: &str) -> Vec<(String, String)> {
    let mut reader = Reader::from_str(doc);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => stack.push(e.name().as_ref().to_string()),
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                let text = t.xml10_content().into_owned();
                if let Some(name) = stack.last() {
                    out.push((name.clone(), text));
                }
            }
            Event::GeneralRef(r) => {
                // quick-xml reports entity and character references apart
                // from the text around them: resolve and append.
                let name = r.as_ref().to_string();
                let s = match r.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&name)
                        .expect("predefined entity")
                        .to_string(),
                };
                if let Some(el) = stack.last() {
                    match out.last_mut() {
                        Some((n, t)) if n == el => t.push_str(&s),
                        _ => out.push((el.clone(), s)),
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    // Merge adjacent text pieces of the same element.
    let mut merged: Vec<(String, String)> = Vec::new();
    for (n, t) in out {
        match merged.last_mut() {
            Some((m, u)) if *m == n => u.push_str(&t),
            _ => merged.push((n, t)),
        }
    }
    merged
}

fn field(name: &str, datatype: &str) -> FieldMeta {
    FieldMeta {
        name: name.to_string(),
        datatype: datatype.to_string(),
        ..Default::default()
    }
}

fn sample_tables() -> Vec<TableDoc> {
    let source = TableDoc {
        schema: "gaia".into(),
        schema_title: Some("Gaia DR3 & 2MASS".into()),
        schema_description: Some(SPECIAL.into()),
        schema_utype: Some("ivo://example.org/std/synth#1".into()),
        name: "gaia_source".into(),
        title: Some("Gaia sources".into()),
        description: Some(format!("The sources: {SPECIAL}")),
        nrows: Some(1_811_709_771),
        columns: vec![
            FieldMeta {
                description: Some("Unique source identifier".into()),
                ucd: Some("meta.id;meta.main".into()),
                null: Some("-1".into()),
                ..field("source_id", "long")
            },
            FieldMeta {
                unit: Some("deg".into()),
                ucd: Some("pos.eq.ra;meta.main".into()),
                description: Some(format!("Right ascension {SPECIAL}")),
                ..field("ra", "double")
            },
            FieldMeta {
                unit: Some("deg".into()),
                ucd: Some("pos.eq.dec;meta.main".into()),
                utype: Some("stc:AstroCoords.Position2D.Value2.C2".into()),
                ..field("dec", "double")
            },
            FieldMeta {
                arraysize: Some("2".into()),
                xtype: Some("point".into()),
                unit: Some("deg".into()),
                ..field("pos", "double")
            },
            FieldMeta {
                arraysize: Some("*".into()),
                xtype: Some("timestamp".into()),
                ..field("obs_time", "char")
            },
            FieldMeta {
                arraysize: Some("*".into()),
                ..field("designation", "unicodeChar")
            },
            field("flag", "boolean"),
            field("_healpix_29", "long"),
        ],
        indexed: vec!["ra".into(), "dec".into(), "_healpix_29".into()],
        position: Some(("ra".into(), "dec".into())),
        foreign_keys: vec![],
    };
    let tmass = TableDoc {
        name: "tmass_psc".into(),
        description: None,
        title: None,
        nrows: None,
        columns: vec![
            field("tmass_oid", "long"),
            FieldMeta {
                ucd: Some("phot.mag;em.IR.J".into()),
                ..field("j_m", "float")
            },
        ],
        indexed: vec![],
        position: None,
        ..source.clone()
    };
    let schemas = TableDoc {
        schema: "TAP_SCHEMA".into(),
        schema_title: None,
        schema_description: Some("The TAP 1.1 metadata schema".into()),
        schema_utype: None,
        name: "schemas".into(),
        title: None,
        description: Some("Schemas of this service".into()),
        nrows: None,
        columns: vec![
            FieldMeta {
                arraysize: Some("*".into()),
                ..field("schema_name", "char")
            },
            field("schema_index", "int"),
        ],
        indexed: vec![],
        position: None,
        foreign_keys: vec![(
            "TAP_SCHEMA.tables".into(),
            vec![("schema_name".into(), "schema_name".into())],
        )],
    };
    vec![source, tmass, schemas]
}

fn formats() -> Vec<(String, Vec<String>)> {
    [
        (
            "application/x-votable+xml;serialization=BINARY2",
            &["votable", "application/x-votable+xml", "text/xml"][..],
        ),
        (
            "application/x-votable+xml;serialization=TABLEDATA",
            &["votable/td"][..],
        ),
        ("text/csv;header=present", &["csv", "text/csv"][..]),
        ("application/vnd.apache.parquet", &["parquet"][..]),
    ]
    .iter()
    .map(|(m, a)| (m.to_string(), a.iter().map(|s| s.to_string()).collect()))
    .collect()
}

fn full_config() -> CapabilitiesConfig {
    CapabilitiesConfig {
        data_models: vec![(
            "ivo://ivoa.net/std/ObsCore#core-1.1".into(),
            "Obscore-1.1".into(),
        )],
        retention_period: Some(TimeLimit {
            default: 7 * 86400,
            hard: 30 * 86400,
        }),
        execution_duration: Some(TimeLimit {
            default: 3600,
            hard: 7200,
        }),
        output_limit: Some(DataLimit {
            default: 100_000,
            hard: 10_000_000,
            unit: LimitUnit::Row,
        }),
        upload_limit: Some(DataLimit {
            default: 100_000_000,
            hard: 100_000_000,
            unit: LimitUnit::Byte,
        }),
        ..CapabilitiesConfig::new("https://example.org/tap/", &formats())
    }
}

#[test]
fn availability_validates() {
    let up = availability(true, Some("2025-01-31T12:00:00Z"), Some(SPECIAL));
    validate("availability-up.xml", &up);
    assert!(texts(&up).contains(&("vosi:note".into(), SPECIAL.into())));
    assert!(texts(&up).contains(&("vosi:available".into(), "true".into())));
    let down = availability(false, None, None);
    validate("availability-down.xml", &down);
    assert!(texts(&down).contains(&("vosi:available".into(), "false".into())));
}

#[test]
fn capabilities_validate() {
    let doc = capabilities(&full_config());
    validate("capabilities.xml", &doc);
    for id in [
        "standardID=\"ivo://ivoa.net/std/TAP\"",
        "xsi:type=\"tr:TableAccess\"",
        "ivo://ivoa.net/std/VOSI#capabilities",
        "ivo://ivoa.net/std/VOSI#availability",
        "ivo://ivoa.net/std/VOSI#tables-1.1",
        "ivo://ivoa.net/std/DALI#examples",
        "xsi:type=\"vr:WebBrowser\"",
        "ivo://ivoa.net/std/ADQL#v2.0",
        "ivo://ivoa.net/std/ADQL#v2.1",
        "ivo://ivoa.net/std/TAPRegExt#features-udf",
        "ivo://ivoa.net/std/TAPRegExt#features-adqlgeo",
        "ivo://ivoa.net/std/TAPRegExt#features-adql-string",
        "ivo://ivoa.net/std/TAPRegExt#features-adql-sets",
        "ivo://ivoa.net/std/TAPRegExt#features-adql-type",
        "ivo://ivoa.net/std/TAPRegExt#features-adql-unit",
        "ivo://ivoa.net/std/TAPRegExt#features-adql-common-table",
        "ivo://ivoa.net/std/TAPRegExt#features-adql-offset",
        "ivo://ivoa.net/std/TAPRegExt#upload-inline",
        "ivo://ivoa.net/std/TAPRegExt#upload-http",
        "ivo://ivoa.net/std/TAPRegExt#upload-https",
        "ivo://ivoa.net/std/TAPRegExt#output-votable-binary2",
        "ivo://ivoa.net/std/TAPRegExt#output-votable-td",
        "<accessURL use=\"base\">https://example.org/tap</accessURL>",
        "https://example.org/tap/tables</accessURL>",
        "https://example.org/tap/examples</accessURL>",
        "<hard unit=\"row\">10000000</hard>",
        "<default unit=\"byte\">100000000</default>",
    ] {
        assert!(doc.contains(id), "{id} missing from\n{doc}");
    }
    let t = texts(&doc);
    // Every UDF, with its signature as form and a description.
    for f in astrolake_adql::functions::FUNCTIONS
        .iter()
        .filter(|f| f.feature == astrolake_adql::functions::Feature::Udf)
    {
        assert!(
            t.contains(&("form".into(), f.signature.into())),
            "{}",
            f.name
        );
        assert!(t.contains(&("description".into(), f.description.into())));
    }
    for g in [
        "POINT", "CIRCLE", "COORDSYS", "ILIKE", "WITH", "OFFSET", "CAST",
    ] {
        assert!(t.contains(&("form".into(), g.into())), "{g}");
    }

    // The least a service can declare: no uploads, limits or examples.
    let minimal = CapabilitiesConfig {
        upload_methods: vec![],
        examples: false,
        ..CapabilitiesConfig::new("http://localhost:8080/tap", &formats()[..1])
    };
    let doc = capabilities(&minimal);
    validate("capabilities-minimal.xml", &doc);
    assert!(!doc.contains("uploadMethod") && !doc.contains("DALI#examples"));
    assert_eq!(UploadMethod::ALL.len(), 3);
}

#[test]
fn tables_validate() {
    let docs = sample_tables();
    let full = tables(&docs, false, false);
    validate("tables.xml", &full);
    let min = tables(&docs, true, false);
    validate("tables-min.xml", &min);
    assert!(full.contains("<column>") && !min.contains("<column>"));
    assert!(min.contains("<name>gaia.gaia_source</name>"));
    assert!(
        full.contains("<utype>ivo://example.org/std/synth#1</utype>"),
        "{full}"
    );
    assert!(full.contains(
        "<dataType xsi:type=\"vs:VOTableType\" arraysize=\"2\" extendedType=\"point\">double</dataType>"
    ));
    assert!(full.contains("<nrows>1811709771</nrows>"));
    assert!(full.contains("<flag>indexed</flag>"));
    assert!(full.contains("<flag>nullable</flag>"));
    assert_eq!(full.matches("<schema>").count(), 2);
    assert!(full.contains("<table type=\"base_table\">"));

    // Special characters survive, unescaped by a parser.
    let t = texts(&full);
    assert!(t.contains(&("description".into(), SPECIAL.into())));
    assert!(t.contains(&("description".into(), format!("The sources: {SPECIAL}"))));
    assert!(t.contains(&("description".into(), format!("Right ascension {SPECIAL}"))));
    assert!(t.contains(&("title".into(), "Gaia DR3 & 2MASS".into())));

    for d in &docs {
        let one = table(d, false);
        validate(&format!("table-{}.xml", d.qualified()), &one);
        assert!(one.contains(&format!("<name>{}</name>", d.qualified())));
    }

    // No tables at all is still a valid document.
    validate("tables-empty.xml", &tables(&[], false, false));

    // Control characters XML cannot carry do not break the document.
    let mut odd = docs[0].clone();
    odd.description = Some("bell\u{7} and nul\u{0}".into());
    validate("table-control.xml", &table(&odd, false));
}

/// Validate `doc` against vosi-all.xsd with this crate's EsaTapPlus.xsd.
fn validate_tap_plus(name: &str, doc: &str) {
    let both = format!(
        "<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" \
         targetNamespace=\"urn:astrolake-check:tap-plus\">\n\
         <xs:import namespace=\"urn:astrolake-check:vosi\" schemaLocation=\"{}\"/>\n\
         <xs:import namespace=\"http://esa.int/xml/EsaTapPlus\" schemaLocation=\"{}\"/>\n\
         </xs:schema>\n",
        xsd_dir().join("vosi-all.xsd").display(),
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("xsd/EsaTapPlus.xsd")
            .display()
    );
    let schema = write("tap-plus-all.xsd", &both);
    let path = write(name, doc);
    xmllint(&["--schema", schema.to_str().unwrap()], &path);
}

/// The TAP+ variant: every column has `esatapplus:flags` (what it is by
/// position and UCD), the documents validate with the EsaTapPlus schema,
/// and plain documents have none of it.
#[test]
fn tables_for_tap_plus_clients() {
    let docs = sample_tables();
    let full = tables(&docs, false, true);
    validate_tap_plus("tables-tap-plus.xml", &full);
    let columns = docs.iter().map(|d| d.columns.len()).sum::<usize>();
    assert_eq!(full.matches("<column esatapplus:flags=").count(), columns);
    assert!(full.contains("xmlns:esatapplus=\"http://esa.int/xml/EsaTapPlus\""));
    validate_tap_plus("table-tap-plus.xml", &table(&docs[0], true));
    validate_tap_plus("tables-min-tap-plus.xml", &tables(&docs, true, true));
    let plain = tables(&docs, false, false);
    assert!(!plain.contains("esatapplus"));

    let flags: Vec<(&str, u32)> = docs[0]
        .columns
        .iter()
        .map(|f| {
            (
                f.name.as_str(),
                tap_plus_flags(f, docs[0].position.as_ref()),
            )
        })
        .collect();
    assert_eq!(
        flags,
        [
            ("source_id", 16),
            ("ra", 1),
            ("dec", 2),
            ("pos", 0),
            ("obs_time", 0),
            ("designation", 0),
            ("flag", 0),
            ("_healpix_29", 0)
        ]
    );
    // Without position columns the UCDs say which they are.
    assert_eq!(tap_plus_flags(&docs[0].columns[1], None), 1);
    assert_eq!(tap_plus_flags(&docs[1].columns[1], None), 8);

    // TAP+ clients: astroquery by name, or no User-Agent at all.
    assert!(tap_plus_client(None));
    assert!(tap_plus_client(Some(
        "astroquery/0.4.11 Python/3.11.7 (Linux)"
    )));
    assert!(!tap_plus_client(Some(
        "pyVO/1.9.1 Python/3.11.7 (Linux) (IVOA-science)"
    )));
    assert!(!tap_plus_client(Some("STILTS/3.4.7-debian Java/17.0.15")));

    // tables=a,b: those tables, in that order; an unknown one is an error.
    let some = select_tables(&docs, &["tmass_psc", "gaia.gaia_source"]).unwrap();
    let names: Vec<String> = some.iter().map(|d| d.qualified()).collect();
    assert_eq!(names, ["gaia.tmass_psc", "gaia.gaia_source"]);
    assert!(select_tables(&docs, &["gaia.nope"]).is_err());
}

#[test]
fn find_table_by_name() {
    let docs = sample_tables();
    assert_eq!(
        find_table(&docs, "gaia.gaia_source").unwrap().name,
        "gaia_source"
    );
    assert_eq!(
        find_table(&docs, "GAIA.Gaia_Source").unwrap().name,
        "gaia_source"
    );
    assert_eq!(
        find_table(&docs, "tap_schema.schemas").unwrap().schema,
        "TAP_SCHEMA"
    );
    assert_eq!(find_table(&docs, "tmass_psc").unwrap().name, "tmass_psc");
    assert_eq!(
        find_table(&docs, "gaia.nope"),
        Err(VosiError::UnknownTable {
            name: "gaia.nope".into()
        })
    );
}

/// The attributes of an element, unescaped.
fn attrs(e: &quick_xml::events::BytesStart) -> Vec<(String, String)> {
    e.attributes()
        .map(|a| {
            let a = a.unwrap();
            (
                a.key.as_ref().to_string(),
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned(),
            )
        })
        .collect()
}

#[test]
fn examples_document() {
    let available = [
        "gaia.gaia_source",
        "gaia.tmass_psc",
        "gaia.gaia_source_tmass_best_neighbours",
    ];
    let mut list = default_examples(&available);
    assert_eq!(list.len(), 4);
    list.push(astrolake_vosi::Example {
        id: "special".into(),
        name: format!("Special {SPECIAL}"),
        description: SPECIAL.into(),
        query: "SELECT TOP 1 * FROM gaia.gaia_source WHERE designation <> 'a&b' AND ra < 1".into(),
        tables: vec!["gaia.gaia_source".into()],
        uploads: vec![],
    });
    let doc = examples("https://example.org/tap/", &list);
    // Well-formed XML (there is no schema for XHTML+RDFa here).
    let path = write("examples.xhtml", &doc);
    xmllint(&[], &path);

    // The RDFa structure: a vocab, then per example a typeof="example"
    // element with id, resource="#id", and name/query/table properties.
    assert!(doc.contains("vocab=\"http://www.ivoa.net/rdf/examples#\""));
    let mut reader = Reader::from_str(&doc);
    let mut found: Vec<(String, String)> = Vec::new(); // (id, resource)
    let mut property: Option<String> = None;
    let mut props: Vec<(String, String)> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let a = attrs(&e);
                let get = |k: &str| a.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                if get("typeof").as_deref() == Some("example") {
                    found.push((get("id").unwrap(), get("resource").unwrap()));
                }
                if let Some(p) = get("property") {
                    property = Some(p.clone());
                    props.push((p, String::new()));
                }
            }
            Event::Text(t) if property.is_some() => {
                props.last_mut().unwrap().1 += &t.xml10_content();
            }
            Event::GeneralRef(r) if property.is_some() => {
                let name = r.as_ref().to_string();
                let s = quick_xml::escape::resolve_predefined_entity(&name).unwrap();
                props.last_mut().unwrap().1 += s;
            }
            Event::End(_) => property = None,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(found.len(), list.len());
    for ((id, resource), ex) in found.iter().zip(&list) {
        assert_eq!(*id, ex.id);
        assert_eq!(*resource, format!("#{}", ex.id));
    }
    for ex in &list {
        assert!(props.contains(&("name".into(), ex.name.clone())));
        assert!(
            props.contains(&("query".into(), ex.query.clone())),
            "{}",
            ex.query
        );
        for t in &ex.tables {
            assert!(props.contains(&("table".into(), t.clone())));
        }
        // Every example is ADQL our parser accepts.
        astrolake_adql::parse(&ex.query)
            .unwrap_or_else(|e| panic!("example {} does not parse: {e:?}", ex.id));
    }
    assert!(doc.contains(
        "href=\"https://example.org/tap/sync?REQUEST=doQuery&amp;LANG=ADQL&amp;QUERY=SELECT%20"
    ));

    // Examples needing missing tables are dropped.
    let only_gaia = default_examples(&["gaia.gaia_source"]);
    assert!(only_gaia.iter().all(|e| !e.query.contains("tmass")));
    assert_eq!(only_gaia.len(), 3);
    let doc = examples("https://example.org/tap", &[]);
    xmllint(&[], &write("examples-empty.xhtml", &doc));
}
