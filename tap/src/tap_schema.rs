//! `TAP_SCHEMA` (TAP 1.1 §4): schemas, tables, columns, keys and
//! key_columns, built from the tables' VOTable metadata and queryable
//! through ADQL like any table. TAP_SCHEMA describes itself too.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use astrolake_adql::{TableEntry, Tables};
use astrolake_vo::datatype::Kind;
use astrolake_vo::{FieldMeta, TableMeta};
use datafusion::datasource::MemTable;

/// The schema name.
pub const SCHEMA: &str = "TAP_SCHEMA";

/// A column of a TAP_SCHEMA table: name, type, description, UCD.
struct Col {
    name: &'static str,
    ty: DataType,
    description: &'static str,
    ucd: &'static str,
}

const fn c(name: &'static str, ty: DataType, description: &'static str, ucd: &'static str) -> Col {
    Col {
        name,
        ty,
        description,
        ucd,
    }
}

/// One row value.
enum V {
    S(Option<String>),
    I(Option<i32>),
}

fn s(x: impl Into<String>) -> V {
    V::S(Some(x.into()))
}
fn os(x: Option<&str>) -> V {
    V::S(x.filter(|v| !v.is_empty()).map(str::to_string))
}
fn i(x: i32) -> V {
    V::I(Some(x))
}

fn definitions() -> Vec<(&'static str, &'static str, Vec<Col>)> {
    use DataType::{Int32, Utf8};
    vec![
        (
            "schemas",
            "Schemas of this service",
            vec![
                c(
                    "schema_name",
                    Utf8,
                    "Schema name, as used in queries",
                    "meta.id;meta.dataset",
                ),
                c("utype", Utf8, "Utype of the schema", "meta.utype"),
                c(
                    "description",
                    Utf8,
                    "Description of the schema",
                    "meta.note",
                ),
                c(
                    "schema_index",
                    Int32,
                    "Suggested position in listings",
                    "meta.code.class",
                ),
            ],
        ),
        (
            "tables",
            "Tables of this service",
            vec![
                c(
                    "schema_name",
                    Utf8,
                    "Schema the table belongs to",
                    "meta.id;meta.dataset",
                ),
                c(
                    "table_name",
                    Utf8,
                    "Fully qualified table name, as used in queries",
                    "meta.id;meta.table",
                ),
                c("table_type", Utf8, "table or view", "meta.code.class"),
                c("utype", Utf8, "Utype of the table", "meta.utype"),
                c("description", Utf8, "Description of the table", "meta.note"),
                c(
                    "table_index",
                    Int32,
                    "Suggested position in listings",
                    "meta.code.class",
                ),
            ],
        ),
        (
            "columns",
            "Columns of the tables of this service",
            vec![
                c(
                    "table_name",
                    Utf8,
                    "Fully qualified name of the table",
                    "meta.id;meta.table",
                ),
                c(
                    "column_name",
                    Utf8,
                    "Column name, as used in queries",
                    "meta.id;meta.main",
                ),
                c("datatype", Utf8, "VOTable datatype", "meta.code.class"),
                c("arraysize", Utf8, "VOTable arraysize", "meta.number"),
                c("xtype", Utf8, "VOTable xtype (DALI)", "meta.code.class"),
                c(
                    "size",
                    Int32,
                    "Deprecated: the length of fixed-size arrays",
                    "meta.number",
                ),
                c(
                    "description",
                    Utf8,
                    "Description of the column",
                    "meta.note",
                ),
                c("utype", Utf8, "Utype of the column", "meta.utype"),
                c("unit", Utf8, "Unit (VOUnits)", "meta.unit"),
                c("ucd", Utf8, "UCD", "meta.ucd"),
                c(
                    "indexed",
                    Int32,
                    "1 if the column is indexed (spatially or otherwise)",
                    "meta.code",
                ),
                c(
                    "principal",
                    Int32,
                    "1 if the column is of main interest",
                    "meta.code",
                ),
                c(
                    "std",
                    Int32,
                    "1 if the column is defined by a standard",
                    "meta.code",
                ),
                c(
                    "column_index",
                    Int32,
                    "Suggested position in listings",
                    "meta.code.class",
                ),
            ],
        ),
        (
            "keys",
            "Foreign keys between tables",
            vec![
                c("key_id", Utf8, "Identifier of the key", "meta.id"),
                c(
                    "from_table",
                    Utf8,
                    "Table with the foreign key",
                    "meta.id;meta.table",
                ),
                c(
                    "target_table",
                    Utf8,
                    "Table with the primary key",
                    "meta.id;meta.table",
                ),
                c("description", Utf8, "Description of the key", "meta.note"),
                c("utype", Utf8, "Utype of the key", "meta.utype"),
            ],
        ),
        (
            "key_columns",
            "Columns of the foreign keys",
            vec![
                c("key_id", Utf8, "Identifier of the key", "meta.id"),
                c("from_column", Utf8, "Column of the from_table", "meta.id"),
                c(
                    "target_column",
                    Utf8,
                    "Column of the target_table",
                    "meta.id",
                ),
            ],
        ),
    ]
}

pub use astrolake_vo::ForeignKey;

/// The given foreign keys followed by TAP_SCHEMA's own (tables → schemas,
/// columns → tables, keys → tables twice, key_columns → keys), as
/// TAP_SCHEMA.keys and VOSI `/tables` publish them.
pub fn with_own_keys(keys: &[ForeignKey]) -> Vec<ForeignKey> {
    let ts = |t: &str| format!("{SCHEMA}.{t}");
    let own = [
        ("tables", "schemas", "schema_name", "schema_name"),
        ("columns", "tables", "table_name", "table_name"),
        ("keys", "tables", "from_table", "table_name"),
        ("keys", "tables", "target_table", "table_name"),
        ("key_columns", "keys", "key_id", "key_id"),
    ]
    .into_iter()
    .map(|(from, target, fc, tc)| (ts(from), ts(target), vec![(fc.to_string(), tc.to_string())]));
    keys.iter().cloned().chain(own).collect()
}

/// What TAP_SCHEMA.schemas says about one schema besides its tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaInfo {
    /// The schema name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Its utype (the data model a standard schema implements, e.g.
    /// RegTAP's `ivo://ivoa.net/std/regtap#1.2` for `rr`).
    pub utype: Option<String>,
    /// Whether its tables and columns are defined by a standard (`std` = 1
    /// in TAP_SCHEMA.columns, as for TAP_SCHEMA's own).
    pub standard: bool,
}

/// The schemas TAP_SCHEMA.schemas describes (those not listed get only
/// their name).
pub type SchemaDescriptions = Vec<SchemaInfo>;

/// The metadata of the TAP_SCHEMA tables themselves.
pub fn own_metadata() -> Vec<(String, TableMeta)> {
    definitions()
        .into_iter()
        .map(|(name, description, cols)| {
            let fields = cols
                .iter()
                .map(|col| {
                    let (datatype, arraysize) = Kind::of(&col.ty, None, None).votable();
                    FieldMeta {
                        name: col.name.to_string(),
                        datatype: datatype.to_string(),
                        arraysize,
                        unit: None,
                        ucd: Some(col.ucd.to_string()),
                        utype: None,
                        xtype: None,
                        description: Some(col.description.to_string()),
                        null: None,
                    }
                })
                .collect();
            (
                name.to_string(),
                TableMeta {
                    name: format!("{SCHEMA}.{name}"),
                    description: Some(description.to_string()),
                    fields,
                },
            )
        })
        .collect()
}

/// Whether a column is indexed: the position columns of a HEALPix table
/// (and `_healpix_29`) are.
fn indexed(e: &TableEntry, column: &str) -> bool {
    column == astrolake_catalog::healpix::HEALPIX_COLUMN
        || e.position
            .as_ref()
            .is_some_and(|(ra, dec)| ra == column || dec == column)
}

/// A described table: schema, name, description, columns, the entry
/// (absent for TAP_SCHEMA's own tables).
type Described = (
    String,
    String,
    Option<String>,
    Vec<FieldMeta>,
    Option<TableEntry>,
);

/// Add the TAP_SCHEMA tables describing every table of `tables` (and
/// themselves) to `tables`.
pub fn add_to(tables: &mut Tables, schemas: &SchemaDescriptions, keys: &[ForeignKey]) {
    let own = own_metadata();
    let defs = definitions();
    // What to describe: the catalogue's tables, then TAP_SCHEMA's own.
    let mut described: Vec<Described> = tables
        .entries()
        .iter()
        .filter(|e| {
            !e.schema.eq_ignore_ascii_case(SCHEMA) && !e.schema.eq_ignore_ascii_case("TAP_UPLOAD")
        })
        .map(|e| {
            (
                e.schema.clone(),
                e.name.clone(),
                e.meta.description.clone(),
                astrolake_vo::published_fields(&e.meta.fields, &e.provider.schema()),
                Some(e.clone()),
            )
        })
        .collect();
    for (name, meta) in &own {
        described.push((
            SCHEMA.to_string(),
            name.clone(),
            meta.description.clone(),
            meta.fields.clone(),
            None,
        ));
    }

    let mut schema_names: Vec<String> = Vec::new();
    for (s, ..) in &described {
        if !schema_names.contains(s) {
            schema_names.push(s.clone());
        }
    }
    let schema_rows: Vec<Vec<V>> = schema_names
        .iter()
        .enumerate()
        .map(|(k, s_name)| {
            let info = schemas.iter().find(|i| i.name == *s_name);
            let d = if s_name == SCHEMA {
                Some(
                    "The TAP 1.1 metadata schema: the tables and columns of this service"
                        .to_string(),
                )
            } else {
                info.and_then(|i| i.description.clone())
            };
            let utype = info.and_then(|i| i.utype.clone());
            vec![s(s_name.clone()), V::S(utype), V::S(d), i(k as i32)]
        })
        .collect();
    let table_rows: Vec<Vec<V>> = described
        .iter()
        .enumerate()
        .map(|(k, (sc, t, d, _, _))| {
            vec![
                s(sc.clone()),
                s(format!("{sc}.{t}")),
                s("table"),
                V::S(None),
                V::S(d.clone()),
                i(k as i32),
            ]
        })
        .collect();
    let mut column_rows: Vec<Vec<V>> = Vec::new();
    for (sc, t, _, fields, entry) in &described {
        for (k, f) in fields.iter().enumerate() {
            let size = f
                .arraysize
                .as_deref()
                .and_then(|a| a.trim_end_matches('*').parse::<i32>().ok());
            let size = V::I(size);
            let idx = entry.as_ref().is_some_and(|e| indexed(e, &f.name));
            let hidden = f.name == astrolake_catalog::healpix::HEALPIX_COLUMN;
            let std = sc == SCHEMA || schemas.iter().any(|i| i.standard && i.name == *sc);
            column_rows.push(vec![
                s(format!("{sc}.{t}")),
                s(astrolake_adql::check::adql_name(&f.name)),
                s(f.datatype.clone()),
                os(f.arraysize.as_deref()),
                os(f.xtype.as_deref()),
                size,
                os(f.description.as_deref()),
                os(f.utype.as_deref()),
                os(f.unit.as_deref()),
                os(f.ucd.as_deref()),
                i(idx as i32),
                i(!hidden as i32),
                i(std as i32),
                i(k as i32),
            ]);
        }
    }
    let mut key_rows = Vec::new();
    let mut key_column_rows = Vec::new();
    for (k, (from, target, cols)) in with_own_keys(keys).iter().enumerate() {
        let id = format!("k{k}");
        key_rows.push(vec![
            s(id.clone()),
            s(from.clone()),
            s(target.clone()),
            V::S(None),
            V::S(None),
        ]);
        for (f, t) in cols {
            key_column_rows.push(vec![s(id.clone()), s(f.clone()), s(t.clone())]);
        }
    }
    let rows = [
        schema_rows,
        table_rows,
        column_rows,
        key_rows,
        key_column_rows,
    ];
    for ((name, _, cols), (rows, (_, meta))) in defs.into_iter().zip(rows.into_iter().zip(own)) {
        let schema = Arc::new(Schema::new(
            cols.iter()
                .map(|c| Field::new(c.name, c.ty.clone(), true))
                .collect::<Vec<_>>(),
        ));
        let arrays: Vec<ArrayRef> = (0..cols.len())
            .map(|j| -> ArrayRef {
                match cols[j].ty {
                    DataType::Int32 => Arc::new(Int32Array::from(
                        rows.iter()
                            .map(|r| match &r[j] {
                                V::I(x) => *x,
                                V::S(_) => None,
                            })
                            .collect::<Vec<_>>(),
                    )),
                    _ => Arc::new(StringArray::from(
                        rows.iter()
                            .map(|r| match &r[j] {
                                V::S(x) => x.clone(),
                                V::I(_) => None,
                            })
                            .collect::<Vec<_>>(),
                    )),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).expect("consistent columns");
        let schema = astrolake_catalog::provider::with_field_metadata(&schema, &meta);
        let batch = batch.with_schema(Arc::clone(&schema)).expect("same fields");
        let provider = MemTable::try_new(schema, vec![vec![batch]]).expect("one partition");
        tables.add(TableEntry {
            schema: SCHEMA.to_string(),
            name: name.to_string(),
            meta,
            provider: Arc::new(provider),
            scanner: None,
            position: None,
        });
    }
}
