//! `/tables` and `/tables/{schema.table}`: VODataService 1.2 table
//! descriptions.
//!
//! For TAP+ clients ([`tap_plus_client`]: astroquery's `TapPlus`, the
//! client behind `astroquery.gaia`) the documents also carry the ESA
//! archives' column attribute `esatapplus:flags` ([`tap_plus_flags`]),
//! which TapPlus needs on every column. VODataService allows attributes of
//! other namespaces on a column, but only declared ones (a strict
//! wildcard): `xsd/EsaTapPlus.xsd` in this crate declares it (served at
//! [`ESA_TAP_PLUS_SCHEMA_PATH`]), so the TAP+ documents validate with it.
//! Every other client gets plain VODataService, because a validator that
//! knows only the IVOA schemas (STILTS taplint) rejects any attribute it
//! has no schema for. Registry records never carry it.

use astrolake_adql::Tables;
use astrolake_catalog::healpix::HEALPIX_COLUMN;
use astrolake_catalog::manifest::Manifest;
use astrolake_catalog::provider::TableScanner;
use astrolake_vo::{FieldMeta, ForeignKey};

use astrolake_vo::ns;
use astrolake_vo::xml::Doc;

/// What can go wrong answering a VOSI request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VosiError {
    /// `/tables/{name}` for a table the service does not have.
    #[error("no table {name}: /tables lists the tables of this service")]
    UnknownTable {
        /// The name asked for.
        name: String,
    },
}

/// Everything `/tables` says about one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableDoc {
    /// Schema name, e.g. `gaia`.
    pub schema: String,
    /// Schema title.
    pub schema_title: Option<String>,
    /// Schema description.
    pub schema_description: Option<String>,
    /// Schema utype (the data model a standard schema implements).
    pub schema_utype: Option<String>,
    /// Table name, unqualified, e.g. `gaia_source`.
    pub name: String,
    /// Table title.
    pub title: Option<String>,
    /// Table description.
    pub description: Option<String>,
    /// Number of rows, when known.
    pub nrows: Option<u64>,
    /// Columns, in table order.
    pub columns: Vec<FieldMeta>,
    /// Names of the indexed columns (flag `indexed`).
    pub indexed: Vec<String>,
    /// The position columns (right ascension, declination) of a table
    /// with a sky position.
    pub position: Option<(String, String)>,
    /// Foreign keys from this table: target `schema.table` and
    /// (from column, target column) pairs.
    pub foreign_keys: Vec<(String, Vec<(String, String)>)>,
}

impl TableDoc {
    /// `schema.table`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

/// Description of TAP_SCHEMA when the manifest has none (as in
/// TAP_SCHEMA.schemas).
const TAP_SCHEMA_DESCRIPTION: &str =
    "The TAP 1.1 metadata schema: the tables and columns of this service";

/// The table descriptions of every table a query can name, except the
/// per-request `TAP_UPLOAD` ones: schema title and description, and table
/// descriptions the table metadata lacks, come from the manifest; row
/// counts from the stored tables; the position columns of HEALPix tables
/// and `_healpix_29` are indexed. Tables are grouped by schema (in the
/// order schemas first appear), TAP_SCHEMA last.
///
/// `keys` are every foreign key to publish, TAP_SCHEMA's own among them
/// (as TAP_SCHEMA.keys lists them).
pub fn table_docs(
    tables: &Tables,
    manifest: Option<&Manifest>,
    keys: &[ForeignKey],
) -> Vec<TableDoc> {
    let mut docs: Vec<TableDoc> = tables
        .entries()
        .iter()
        .filter(|e| !e.schema.eq_ignore_ascii_case("TAP_UPLOAD"))
        .map(|e| {
            let schema_entry = manifest.and_then(|m| {
                m.schemas
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(&e.schema))
                    .map(|(_, s)| s)
            });
            let is_tap_schema = e.schema.eq_ignore_ascii_case("TAP_SCHEMA");
            let schema_description = schema_entry
                .and_then(|s| s.description.clone())
                .or_else(|| is_tap_schema.then(|| TAP_SCHEMA_DESCRIPTION.to_string()));
            let description = e.meta.description.clone().or_else(|| {
                manifest
                    .and_then(|m| m.table(&e.schema, &e.name))
                    .and_then(|(_, _, t)| t.description.clone())
            });
            let nrows = e
                .provider
                .downcast_ref::<TableScanner>()
                .map(|s| s.info().rows);
            let indexed = e
                .meta
                .fields
                .iter()
                .filter(|f| {
                    f.name == HEALPIX_COLUMN
                        || e.position
                            .as_ref()
                            .is_some_and(|(ra, dec)| *ra == f.name || *dec == f.name)
                })
                .map(|f| f.name.clone())
                .collect();
            TableDoc {
                position: e.position.clone(),
                schema: e.schema.clone(),
                schema_title: schema_entry.and_then(|s| s.title.clone()),
                schema_description,
                schema_utype: None,
                name: e.name.clone(),
                title: None,
                description,
                nrows,
                columns: astrolake_vo::published_fields(&e.meta.fields, &e.provider.schema()),
                indexed,
                foreign_keys: keys
                    .iter()
                    .filter(|(from, _, _)| from.eq_ignore_ascii_case(&e.qualified()))
                    .map(|(_, target, cols)| (target.clone(), cols.clone()))
                    .collect(),
            }
        })
        .collect();
    // Group by schema in order of first appearance, TAP_SCHEMA last.
    let mut order: Vec<String> = Vec::new();
    for d in &docs {
        if !order.contains(&d.schema) {
            order.push(d.schema.clone());
        }
    }
    let rank = |s: &str| {
        let tap = s.eq_ignore_ascii_case("TAP_SCHEMA");
        (tap, order.iter().position(|o| o == s))
    };
    docs.sort_by_key(|d| rank(&d.schema));
    docs
}

/// The table named `name` (`schema.table`, case-insensitively; an
/// unqualified name if it is unique), for `/tables/{name}`.
pub fn find_table<'a>(docs: &'a [TableDoc], name: &str) -> Result<&'a TableDoc, VosiError> {
    let unknown = || VosiError::UnknownTable {
        name: name.to_string(),
    };
    let hits: Vec<&TableDoc> = match name.split_once('.') {
        Some((s, t)) => docs
            .iter()
            .filter(|d| d.schema.eq_ignore_ascii_case(s) && d.name.eq_ignore_ascii_case(t))
            .collect(),
        None => docs
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case(name))
            .collect(),
    };
    match hits[..] {
        [one] => Ok(one),
        [..] => {
            // Several case-insensitive matches: an exact one wins.
            hits.into_iter()
                .find(|d| d.qualified() == name || d.name == name)
                .ok_or_else(unknown)
        }
    }
}

/// The tables named in `names` (each as [`find_table`] finds it), in the
/// order given, for `/tables?tables=a,b` (the TAP+ request astroquery's
/// `load_table` sends).
pub fn select_tables(docs: &[TableDoc], names: &[&str]) -> Result<Vec<TableDoc>, VosiError> {
    names.iter().map(|n| find_table(docs, n).cloned()).collect()
}

/// Whether a `/tables` request comes from a TAP+ client, which needs the
/// `esatapplus` attributes: one that names astroquery in its
/// `User-Agent`, or sends none at all (TapPlus's GET requests go out from
/// Python's `http.client` without one; pyvo, TOPCAT, STILTS, curl and
/// browsers all name themselves).
pub fn tap_plus_client(user_agent: Option<&str>) -> bool {
    match user_agent.map(str::trim) {
        None | Some("") => true,
        Some(ua) => ua.to_ascii_lowercase().contains("astroquery"),
    }
}

/// Where the service serves `xsd/EsaTapPlus.xsd`, below its root.
pub const ESA_TAP_PLUS_SCHEMA_PATH: &str = "/xml/EsaTapPlus.xsd";

/// The XML schema of the `esatapplus` attributes.
pub const ESA_TAP_PLUS_SCHEMA: &str = include_str!("../xsd/EsaTapPlus.xsd");

/// The TAP+ `esatapplus:flags` of a column, as the ESA archives set them:
/// 1 the main right ascension, 2 the main declination, 4 a flux, 8 a
/// magnitude, 16 the main identifier (the primary key), 0 anything else.
/// The position columns are the table's own (`position`) or, without one,
/// the columns whose UCD says `pos.eq.ra;meta.main` / `pos.eq.dec;meta.main`.
pub fn tap_plus_flags(f: &FieldMeta, position: Option<&(String, String)>) -> u32 {
    let ucd = f.ucd.as_deref().unwrap_or("").to_ascii_lowercase();
    let words: Vec<&str> = ucd.split(';').map(str::trim).collect();
    let main = words.contains(&"meta.main");
    let first = words.first().copied().unwrap_or("");
    match position {
        Some((ra, _)) if *ra == f.name => return 1,
        Some((_, dec)) if *dec == f.name => return 2,
        _ => {}
    }
    if position.is_none() && main && first == "pos.eq.ra" {
        1
    } else if position.is_none() && main && first == "pos.eq.dec" {
        2
    } else if first.starts_with("phot.flux") {
        4
    } else if first.starts_with("phot.mag") {
        8
    } else if main && first == "meta.id" {
        16
    } else {
        0
    }
}

/// Write the `<column>` of a field; `flags`: its `esatapplus:flags`.
fn column(d: &mut Doc, f: &FieldMeta, indexed: bool, flags: Option<u32>) {
    let flags = flags.map(|v| v.to_string());
    match &flags {
        Some(v) => d.start("column", &[("esatapplus:flags", v)]),
        None => d.start("column", &[]),
    }
    d.elem("name", &[], &astrolake_adql::check::adql_name(&f.name));
    d.opt_elem("description", f.description.as_deref());
    d.opt_elem("unit", f.unit.as_deref());
    d.opt_elem("ucd", f.ucd.as_deref());
    d.opt_elem("utype", f.utype.as_deref());
    let mut attrs = vec![("xsi:type", "vs:VOTableType")];
    if let Some(a) = f
        .arraysize
        .as_deref()
        .filter(|a| !a.is_empty() && *a != "1")
    {
        attrs.push(("arraysize", a));
    }
    if let Some(x) = f.xtype.as_deref().filter(|x| !x.is_empty()) {
        attrs.push(("extendedType", x));
    }
    d.elem("dataType", &attrs, &f.datatype);
    if indexed {
        d.elem("flag", &[], "indexed");
    }
    if f.null.is_some() {
        d.elem("flag", &[], "nullable");
    }
    d.end("column");
}

/// Write the content of a `vs:Table` (name … columns) inside the element
/// `tag`.
///
/// `tap_plus`: write the `esatapplus` attributes (the prefix declared by
/// `root_attrs` or an enclosing element).
fn table_body(
    d: &mut Doc,
    tag: &str,
    root_attrs: &[(&str, &str)],
    t: &TableDoc,
    detail: bool,
    tap_plus: bool,
) {
    let mut attrs = root_attrs.to_vec();
    // A table of the service (VODataService's `output` is a query's result).
    attrs.push(("type", "base_table"));
    d.start(tag, &attrs);
    d.elem("name", &[], &t.qualified());
    d.opt_elem("title", t.title.as_deref());
    d.opt_elem("description", t.description.as_deref());
    if let Some(n) = t.nrows {
        d.elem("nrows", &[], &n.to_string());
    }
    if detail {
        for f in &t.columns {
            let flags = tap_plus.then(|| tap_plus_flags(f, t.position.as_ref()));
            column(d, f, t.indexed.contains(&f.name), flags);
        }
        for (target, cols) in &t.foreign_keys {
            d.start("foreignKey", &[]);
            d.elem("targetTable", &[], target);
            for (from, to) in cols {
                d.start("fkColumn", &[]);
                d.elem("fromColumn", &[], &astrolake_adql::check::adql_name(from));
                d.elem("targetColumn", &[], &astrolake_adql::check::adql_name(to));
                d.end("fkColumn");
            }
            d.end("foreignKey");
        }
    }
    d.end(tag);
}

/// The VOSI 1.1 tableset document (`<vosi:tableset>`): one `schema` per
/// schema (name, title, description), one `table` per table (qualified
/// name, description, `nrows`, columns). `detail_min` (`detail=min`)
/// leaves the columns out. `tap_plus`: the columns carry
/// `esatapplus:flags` (for [`tap_plus_client`]s).
pub fn tables(entries: &[TableDoc], detail_min: bool, tap_plus: bool) -> String {
    let mut d = Doc::new();
    write_tableset(
        &mut d,
        "vosi:tableset",
        &root_attrs(tap_plus),
        entries,
        detail_min,
    );
    d.finish()
}

/// The namespace declarations of a `/tables` document.
fn root_attrs(tap_plus: bool) -> Vec<(&'static str, &'static str)> {
    let mut attrs = vec![
        ("xmlns:vosi", ns::VOSI_TABLES),
        ("xmlns:vs", ns::VS),
        ("xmlns:xsi", ns::XSI),
    ];
    if tap_plus {
        attrs.push(("xmlns:esatapplus", ns::ESA_TAP_PLUS));
    }
    attrs
}

/// A VODataService `TableSet` element named `tag` (`vosi:tableset` for
/// `/tables`, `tableset` inside a registry record) with the attributes
/// `attrs`: see [`tables()`]. The `vs` and `xsi` prefixes must be declared
/// by `attrs` or an enclosing element; when `attrs` declares the
/// `esatapplus` prefix, columns carry `esatapplus:flags`.
pub fn write_tableset(
    d: &mut Doc,
    tag: &str,
    attrs: &[(&str, &str)],
    entries: &[TableDoc],
    detail_min: bool,
) {
    let tap_plus = attrs.iter().any(|(k, _)| *k == "xmlns:esatapplus");
    d.start(tag, attrs);
    // Schemas in order of first appearance (a TableSet needs at least one).
    let mut schemas: Vec<&str> = Vec::new();
    for t in entries {
        if !schemas.contains(&t.schema.as_str()) {
            schemas.push(&t.schema);
        }
    }
    if schemas.is_empty() {
        d.start("schema", &[]);
        d.elem("name", &[], "default");
        d.end("schema");
    }
    for s in schemas {
        let members: Vec<&TableDoc> = entries.iter().filter(|t| t.schema == s).collect();
        let title = members.iter().find_map(|t| t.schema_title.as_deref());
        let description = members.iter().find_map(|t| t.schema_description.as_deref());
        let utype = members.iter().find_map(|t| t.schema_utype.as_deref());
        d.start("schema", &[]);
        d.elem("name", &[], s);
        d.opt_elem("title", title);
        d.opt_elem("description", description);
        d.opt_elem("utype", utype);
        for t in members {
            table_body(d, "table", &[], t, !detail_min, tap_plus);
        }
        d.end("schema");
    }
    d.end(tag);
}

/// The VOSI 1.1 document of one table (`<vosi:table>`), for
/// `/tables/{schema.table}`: the table with all its columns (`tap_plus`:
/// with `esatapplus:flags`).
pub fn table(entry: &TableDoc, tap_plus: bool) -> String {
    let mut d = Doc::new();
    table_body(
        &mut d,
        "vosi:table",
        &root_attrs(tap_plus),
        entry,
        true,
        tap_plus,
    );
    d.finish()
}
