//! `/examples`: the DALI 1.1 examples document (XHTML with RDFa Lite).

use arrow::datatypes::{DataType, Field, Schema};
use astrolake_adql::{TableEntry, Tables};
use astrolake_vo::{FieldMeta, TableMeta};
use datafusion::datasource::MemTable;

use astrolake_vo::xml::Doc;

/// The RDFa vocabulary of DALI 1.1 examples.
const VOCAB: &str = "http://www.ivoa.net/rdf/examples#";

/// One example query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// Fragment identifier, unique in the document; an XML name (letters,
    /// digits, `-`, `_`, `.`, starting with a letter or `_`).
    pub id: String,
    /// Short title (the RDFa `name`).
    pub name: String,
    /// What it does, for people.
    pub description: String,
    /// The ADQL query.
    pub query: String,
    /// The catalogue tables (`schema.table`) the query reads.
    pub tables: Vec<String>,
    /// Names of the tables the query expects in `UPLOAD` (read as
    /// `TAP_UPLOAD.name`); such queries get no "run" link.
    pub uploads: Vec<String>,
}

/// Characters left as they are in a URL query value (RFC 3986
/// unreserved); everything else is percent-encoded.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode `s` for a URL query value.
fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// The DALI 1.1 examples document of the TAP service at `base_url`: an
/// XHTML page whose `<body>` carries the examples vocabulary, with one
/// `<div typeof="example" id="ID" resource="#ID">` per example holding its
/// `name` (`<h2>`), description, `query` (`<pre>`), the `table`s it reads
/// and, unless it needs an upload, a link running it on `/sync`.
pub fn examples(base_url: &str, examples: &[Example]) -> String {
    let base = base_url.trim_end_matches('/');
    let mut d = Doc::new_flat();
    d.text("\n");
    d.doctype("html");
    d.text("\n");
    d.start(
        "html",
        &[
            ("xmlns", "http://www.w3.org/1999/xhtml"),
            ("lang", "en"),
            ("xml:lang", "en"),
        ],
    );
    d.text("\n");
    d.start("head", &[]);
    d.elem("title", &[], "Example queries");
    d.end("head");
    d.text("\n");
    d.start("body", &[("vocab", VOCAB)]);
    d.text("\n");
    d.elem("h1", &[], "Example queries");
    d.text("\n");
    d.start("p", &[]);
    d.text("ADQL queries for the TAP service at ");
    d.elem("a", &[("href", base)], base);
    d.text(".");
    d.end("p");
    d.text("\n");
    for ex in examples {
        let resource = format!("#{}", ex.id);
        d.start(
            "div",
            &[
                ("typeof", "example"),
                ("id", &ex.id),
                ("resource", &resource),
            ],
        );
        d.text("\n");
        d.elem("h2", &[("property", "name")], &ex.name);
        d.text("\n");
        if !ex.description.trim().is_empty() {
            d.elem("p", &[], &ex.description);
            d.text("\n");
        }
        d.elem("pre", &[("property", "query")], &ex.query);
        d.text("\n");
        if !ex.tables.is_empty() {
            d.start("p", &[]);
            d.text(if ex.tables.len() == 1 {
                "Table: "
            } else {
                "Tables: "
            });
            for (k, t) in ex.tables.iter().enumerate() {
                if k > 0 {
                    d.text(", ");
                }
                d.elem("span", &[("property", "table")], t);
            }
            d.text(".");
            d.end("p");
            d.text("\n");
        }
        if ex.uploads.is_empty() {
            let href = format!(
                "{base}/sync?REQUEST=doQuery&LANG=ADQL&QUERY={}",
                percent_encode(&ex.query)
            );
            d.start("p", &[]);
            d.elem("a", &[("href", &href)], "Run this query");
            d.text(" (synchronously, VOTable result).");
            d.end("p");
            d.text("\n");
        } else {
            d.start("p", &[]);
            d.text("Upload your table as ");
            for (k, u) in ex.uploads.iter().enumerate() {
                if k > 0 {
                    d.text(", ");
                }
                d.elem("code", &[], &format!("UPLOAD={u},…"));
            }
            d.text(" (TAP_UPLOAD.name in the query).");
            d.end("p");
            d.text("\n");
        }
        d.end("div");
        d.text("\n");
    }
    d.end("body");
    d.text("\n");
    d.end("html");
    d.finish()
}

/// Whether `available` (qualified names) has `table`, case-insensitively.
fn has<S: AsRef<str>>(available: &[S], table: &str) -> bool {
    available
        .iter()
        .any(|a| a.as_ref().eq_ignore_ascii_case(table))
}

/// The standard examples, keeping only those whose tables are all among
/// `available` (qualified `schema.table` names, compared
/// case-insensitively): a Gaia × 2MASS best-neighbour join, mean proper
/// motions per HEALPix order-5 cell, a cone search and a cross-match
/// against an uploaded table.
pub fn default_examples<S: AsRef<str>>(available: &[S]) -> Vec<Example> {
    let ex = |id: &str, name: &str, description: &str, query: &str, tables: &[&str]| Example {
        id: id.to_string(),
        name: name.to_string(),
        description: description.to_string(),
        query: query.to_string(),
        tables: tables.iter().map(|t| t.to_string()).collect(),
        uploads: Vec::new(),
    };
    let all = vec![
        ex(
            "gaia-tmass-best-neighbours",
            "Gaia sources with their 2MASS counterparts",
            "Joins gaia_source to tmass_psc through the best-neighbour table \
             (on source_id, then tmass_oid), around the Pleiades.",
            "SELECT TOP 1000 g.source_id, g.ra, g.dec, g.phot_g_mean_mag,\n  \
             t.designation, t.j_m, t.h_m, t.ks_m, x.angular_distance\n\
             FROM gaia.gaia_source AS g\n\
             JOIN gaia.gaia_source_tmass_best_neighbours AS x ON x.source_id = g.source_id\n\
             JOIN gaia.tmass_psc AS t ON t.tmass_oid = x.tmass_oid\n\
             WHERE 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', 56.75, 24.12, 1))",
            &[
                "gaia.gaia_source",
                "gaia.gaia_source_tmass_best_neighbours",
                "gaia.tmass_psc",
            ],
        ),
        ex(
            "mean-proper-motion-hpx5",
            "Mean proper motions per HEALPix cell",
            "source_id / 2^35 is the order-12 nested HEALPix index of a source, so \
             source_id / 2^49 (562949953421312) is its order-5 index: this averages \
             the proper motions of every source in each of the 12288 order-5 cells \
             (a scan of the whole table).",
            "SELECT source_id/562949953421312 AS hpx5, COUNT(*) AS n,\n  \
             AVG(pmra) AS pmra, AVG(pmdec) AS pmdec\n\
             FROM gaia.gaia_source\n\
             GROUP BY hpx5",
            &["gaia.gaia_source"],
        ),
        ex(
            "cone-search",
            "Cone search",
            "The sources within 0.5 degrees of the Pleiades centre.",
            "SELECT source_id, ra, dec, phot_g_mean_mag\n\
             FROM gaia.gaia_source\n\
             WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 56.75, 24.12, 0.5))",
            &["gaia.gaia_source"],
        ),
        ex(
            "gaia-hipparcos-crossmatch",
            "Gaia counterparts of Hipparcos stars",
            "A positional join: every Hipparcos 2 star with the Gaia sources within \
             1 arcsec of it, brightest first (run as a HEALPix-bucketed join).",
            "SELECT TOP 100 h.hip, h.hpmag, g.source_id, g.phot_g_mean_mag,\n  \
             DISTANCE(POINT('ICRS', h.ra, h.dec), POINT('ICRS', g.ra, g.dec)) * 3600 AS dist_arcsec\n\
             FROM gaia.hip2 AS h\n\
             JOIN gaia.gaia_source AS g\n  \
             ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', h.ra, h.dec, 1.0/3600))\n\
             ORDER BY hpmag",
            &["gaia.gaia_source", "gaia.hip2"],
        ),
        Example {
            uploads: vec!["mine".to_string()],
            ..ex(
                "upload-crossmatch",
                "Cross-match with your own table",
                "Upload a table named mine with ICRS positions in columns ra and dec \
                 (degrees); this finds the Gaia sources within 1 arcsec of each row.",
                "SELECT m.*, g.source_id, g.phot_g_mean_mag,\n  \
                 DISTANCE(POINT('ICRS', m.ra, m.dec), POINT('ICRS', g.ra, g.dec)) * 3600 AS dist_arcsec\n\
                 FROM TAP_UPLOAD.mine AS m\n\
                 JOIN gaia.gaia_source AS g\n  \
                 ON 1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', m.ra, m.dec, 1.0/3600))",
                &["gaia.gaia_source"],
            )
        },
    ];
    all.into_iter()
        .filter(|e| e.tables.iter().all(|t| has(available, t)))
        .collect()
}

/// The examples whose queries plan against `tables` (every table and
/// column they name exists, in scope). Tables an example uploads are
/// assumed to have `ra` and `dec` columns, as their descriptions ask.
pub async fn checked_examples(candidates: Vec<Example>, tables: &Tables) -> Vec<Example> {
    let mut out = Vec::new();
    for e in candidates {
        let mut t = tables.clone();
        for name in &e.uploads {
            t.add(upload_placeholder(name));
        }
        if astrolake_adql::plan(&e.query, &t).await.is_ok() {
            out.push(e);
        }
    }
    out
}

/// An empty `TAP_UPLOAD.name` with ICRS `ra` and `dec` columns.
fn upload_placeholder(name: &str) -> TableEntry {
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("ra", DataType::Float64, true),
        Field::new("dec", DataType::Float64, true),
    ]));
    let meta = TableMeta {
        name: name.to_string(),
        description: None,
        fields: schema
            .fields()
            .iter()
            .map(|f| FieldMeta::from_arrow(f))
            .collect(),
    };
    let provider =
        MemTable::try_new(Arc::clone(&schema), vec![vec![]]).expect("an empty table with a schema");
    TableEntry {
        schema: "TAP_UPLOAD".into(),
        name: name.to_string(),
        meta,
        provider: Arc::new(provider),
        scanner: None,
        position: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding() {
        assert_eq!(percent_encode("a b&c=é'"), "a%20b%26c%3D%C3%A9%27");
    }

    #[test]
    fn examples_need_their_tables() {
        let none: [&str; 0] = [];
        assert!(default_examples(&none).is_empty());
        let ids = |tables: &[&str]| -> Vec<String> {
            default_examples(tables).into_iter().map(|e| e.id).collect()
        };
        assert_eq!(
            ids(&["GAIA.gaia_source"]),
            [
                "mean-proper-motion-hpx5",
                "cone-search",
                "upload-crossmatch"
            ]
        );
        assert_eq!(
            ids(&[
                "gaia.gaia_source",
                "gaia.tmass_psc",
                "gaia.gaia_source_tmass_best_neighbours"
            ])
            .len(),
            4
        );
    }
}
