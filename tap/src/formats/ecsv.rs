//! ECSV 1.0 output (Enhanced Character Separated Values, the text format
//! of astropy tables, as the ESA Gaia archive serves it for `ecsv`).
//!
//! ```text
//! # %ECSV 1.0
//! # ---
//! # delimiter: ','
//! # datatype:
//! # - {name: "source_id", datatype: int64, description: "…", meta: {ucd: "meta.id;meta.main"}}
//! # - {name: "ra", datatype: float64, unit: "deg", meta: {ucd: "pos.eq.ra;meta.main"}}
//! # - {name: "pos", datatype: string, subtype: "float64[2]", meta: {xtype: "point"}}
//! # meta:
//! #   name: "result"
//! #   QUERY: "SELECT …"
//! # schema: astropy-2.0
//! source_id,ra,pos
//! 4295806720,44.99615537864534,"[44.99615537864534,0.0]"
//! ```
//!
//! This module writes the header: YAML whose strings are all double-quoted
//! (JSON string syntax, which YAML reads the same). [`super::csv`] writes
//! the rest. The data lines are CSV (RFC 4180
//! quoting, LF line ends): numbers and the empty string as [`super::csv`]
//! writes them, NULL an empty field, booleans `True`/`False`; an array
//! column is a `string` with a `subtype` (`float64[2]`, or `[null]` when
//! the length varies) whose values are JSON arrays. Timestamps are
//! ISO 8601 strings. Like CSV, ECSV cannot carry the query status: an
//! overflow is not marked, and [`super::Encoder::fail`] appends a last
//! line `# ERROR: message`.

use serde_json::Value;

use super::{Column, Kind, Plan, Prim, ResultInfo};

/// ECSV's name of a number type.
fn ecsv_type(p: Prim) -> &'static str {
    match p {
        Prim::Bool => "bool",
        Prim::UByte => "uint8",
        Prim::Short => "int16",
        Prim::Int => "int32",
        Prim::Long => "int64",
        Prim::Float => "float32",
        Prim::Double => "float64",
    }
}

/// A YAML double-quoted string.
fn quoted(s: &str) -> String {
    Value::from(s).to_string()
}

/// The `datatype` entry of a column: one YAML flow mapping.
fn column_entry(c: &Column) -> String {
    let m = &c.meta;
    let mut e = format!("{{name: {}", quoted(&m.name));
    let (datatype, subtype) = match c.kind {
        Kind::Scalar(p) => (ecsv_type(p), None),
        Kind::Char | Kind::UnicodeChar => ("string", None),
        Kind::Array(p) => ("string", Some(format!("{}[null]", ecsv_type(p)))),
        Kind::Fixed(p, n) => ("string", Some(format!("{}[{n}]", ecsv_type(p)))),
    };
    e += &format!(", datatype: {datatype}");
    if let Some(s) = subtype {
        e += &format!(", subtype: {}", quoted(&s));
    }
    if let Some(u) = m.unit.as_deref().filter(|u| !u.is_empty()) {
        e += &format!(", unit: {}", quoted(u));
    }
    if let Some(d) = m.description.as_deref().filter(|d| !d.is_empty()) {
        e += &format!(", description: {}", quoted(d));
    }
    let meta: Vec<String> = [
        ("ucd", m.ucd.as_deref()),
        ("utype", m.utype.as_deref()),
        ("xtype", m.xtype.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| {
        v.filter(|v| !v.is_empty())
            .map(|v| format!("{k}: {}", quoted(v)))
    })
    .collect();
    if !meta.is_empty() {
        e += &format!(", meta: {{{}}}", meta.join(", "));
    }
    e.push('}');
    e
}

/// The ECSV header: the YAML lines up to, not including, the line of
/// column names (which [`super::csv::TextEncoder`] writes, as it writes the
/// rows).
pub(crate) fn header(info: &ResultInfo, plan: &Plan) -> String {
    let mut out = String::from("# %ECSV 1.0\n# ---\n# delimiter: ','\n# datatype:\n");
    for c in &plan.columns {
        out += &format!("# - {}\n", column_entry(c));
    }
    out += "# meta:\n";
    let name = if info.table_name.is_empty() {
        "result"
    } else {
        &info.table_name
    };
    out += &format!("#   name: {}\n", quoted(name));
    if let Some(q) = &info.query {
        out += &format!("#   QUERY: {}\n", quoted(q));
    }
    out += "# schema: astropy-2.0\n";
    out
}
