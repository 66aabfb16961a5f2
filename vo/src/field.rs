//! Column and table metadata: the one description of a table's columns.
//!
//! A [`TableMeta`] (table name, description, one [`FieldMeta`] per column) is
//! what the store keeps as each table's `table-metadata.vot` sidecar and inside
//! every Parquet file as VOParquet 1.0 metadata; VOSI, TAP_SCHEMA and the
//! registry read it from there, and the TAP encoders write it. VOTable
//! metadata documents are [`crate::votable`].

use arrow_schema::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};

use crate::datatype::{is_temporal, votable_type, Kind};
use crate::error::{MetadataError, Result};

/// Metadata of one column, as a VOTable FIELD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldMeta {
    /// Column name.
    pub name: String,
    /// VOTable datatype: `boolean`, `unsignedByte`, `short`, `int`, `long`,
    /// `char`, `unicodeChar`, `float`, `double`.
    pub datatype: String,
    /// VOTable arraysize (`*`, `10`, `10*`), `None` for scalars.
    pub arraysize: Option<String>,
    /// Unit (VOUnit string).
    pub unit: Option<String>,
    /// UCD.
    pub ucd: Option<String>,
    /// Utype.
    pub utype: Option<String>,
    /// Xtype (DALI), e.g. `timestamp`, `point`.
    pub xtype: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// The VALUES null sentinel for integer columns, when the input had one.
    pub null: Option<String>,
}

/// Metadata of a table: name, description and its columns in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// Table name (unqualified).
    pub name: String,
    /// Free-text description.
    pub description: Option<String>,
    /// Columns, in schema order.
    pub fields: Vec<FieldMeta>,
}

impl TableMeta {
    /// Column metadata by name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldMeta> {
        self.fields.iter().find(|f| f.name == name).or_else(|| {
            self.fields
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
        })
    }

    /// Apply declared metadata (`--metadata FILE.vot`) to the metadata read
    /// from `file`: each declared column must exist (matched
    /// case-insensitively) and its descriptive attributes overlay ours; a
    /// declared table description replaces ours.
    pub fn apply_declared(&mut self, declared: &TableMeta, file: &str) -> Result<()> {
        for d in &declared.fields {
            let idx = self
                .fields
                .iter()
                .position(|f| f.name == d.name)
                .or_else(|| {
                    self.fields
                        .iter()
                        .position(|f| f.name.eq_ignore_ascii_case(&d.name))
                });
            let Some(idx) = idx else {
                return Err(unknown_declared_column(
                    &d.name,
                    file,
                    self.fields.iter().map(|f| f.name.as_str()),
                ));
            };
            self.fields[idx].overlay(d);
        }
        if declared.description.is_some() {
            self.description.clone_from(&declared.description);
        }
        Ok(())
    }

    /// Metadata for an Arrow schema: fields from `self` where the names match
    /// (case-insensitively), derived from the Arrow types otherwise. Datatype
    /// and arraysize always follow the Arrow type, so the result describes the
    /// stored columns exactly.
    pub fn aligned_to(&self, schema: &Schema) -> TableMeta {
        let fields = schema
            .fields()
            .iter()
            .map(|f| {
                let derived = FieldMeta::from_arrow(f);
                match self.field(f.name()) {
                    Some(m) => FieldMeta {
                        name: f.name().clone(),
                        datatype: derived.datatype,
                        arraysize: derived.arraysize,
                        ..m.clone()
                    },
                    None => derived,
                }
            })
            .collect();
        TableMeta {
            name: self.name.clone(),
            description: self.description.clone(),
            fields,
        }
    }
}

impl FieldMeta {
    /// Copy the descriptive attributes `other` has (unit, UCD, utype, xtype,
    /// description) onto this field; name and type stay.
    pub fn overlay(&mut self, other: &FieldMeta) {
        for (dst, src) in [
            (&mut self.unit, &other.unit),
            (&mut self.ucd, &other.ucd),
            (&mut self.utype, &other.utype),
            (&mut self.xtype, &other.xtype),
            (&mut self.description, &other.description),
        ] {
            if src.is_some() {
                dst.clone_from(src);
            }
        }
    }

    /// Metadata derived from an Arrow field: name, datatype and arraysize;
    /// no unit, UCD or description.
    pub fn from_arrow(field: &Field) -> FieldMeta {
        let (datatype, arraysize) = votable_type(field.data_type());
        FieldMeta {
            name: field.name().clone(),
            datatype: datatype.to_string(),
            arraysize,
            ..Default::default()
        }
    }

    /// The Arrow type that stores this column.
    pub fn arrow_type(&self) -> Result<DataType> {
        let scalar = match self.datatype.as_str() {
            "boolean" | "bit" => DataType::Boolean,
            "unsignedByte" => DataType::UInt8,
            "short" => DataType::Int16,
            "int" => DataType::Int32,
            "long" => DataType::Int64,
            "float" => DataType::Float32,
            "double" => DataType::Float64,
            "char" | "unicodeChar" => return Ok(DataType::Utf8),
            other => {
                return Err(MetadataError(format!(
                    "column {}: unsupported VOTable datatype {other:?} (supported: boolean, \
                     unsignedByte, short, int, long, float, double, char, unicodeChar)",
                    self.name
                )))
            }
        };
        Ok(match self.arraysize.as_deref() {
            None | Some("1") => scalar,
            Some(size) => {
                let item = Field::new("item", scalar, true);
                match size.parse::<i32>() {
                    Ok(n) => DataType::FixedSizeList(item.into(), n),
                    Err(_) => DataType::List(item.into()),
                }
            }
        })
    }
}

/// The error for a `--metadata` column that `file` does not have.
pub fn unknown_declared_column<'a>(
    name: &str,
    file: &str,
    columns: impl Iterator<Item = &'a str>,
) -> MetadataError {
    MetadataError(format!(
        "--metadata names column {name}, which {file} does not have; its columns are: {}",
        columns.collect::<Vec<_>>().join(", ")
    ))
}

/// A foreign key: (from `schema.table`, target `schema.table`, column
/// pairs (from column, target column)), as TAP_SCHEMA.keys and VOSI
/// `/tables` publish it.
pub type ForeignKey = (String, String, Vec<(String, String)>);

/// The columns of a result or a table as the service delivers them, with
/// how each is represented: the given metadata (matched by position when
/// there is one per schema field, by name otherwise, case-sensitively
/// first; missing ones derived from the Arrow types) with the datatype and
/// arraysize [`Kind::of`] gives, xtype `timestamp` for times, and unique
/// names (duplicates, compared case-insensitively, renamed `name_2`,
/// `name_3`, …; an empty name becomes `colN`).
pub fn delivered(meta: &[FieldMeta], schema: &Schema) -> Vec<(FieldMeta, Kind)> {
    let by_position = meta.len() == schema.fields().len();
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        let given = if by_position {
            Some(&meta[i])
        } else {
            meta.iter()
                .find(|m| m.name == *f.name())
                .or_else(|| meta.iter().find(|m| m.name.eq_ignore_ascii_case(f.name())))
        };
        let kind = Kind::of(
            f.data_type(),
            given.and_then(|m| m.xtype.as_deref()),
            given.map(|m| m.datatype.as_str()),
        );
        let mut m = given.cloned().unwrap_or_default();
        let base = if m.name.is_empty() {
            f.name().clone()
        } else {
            m.name.clone()
        };
        let base = if base.is_empty() {
            format!("col{}", i + 1)
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 2;
        while seen.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        seen.push(name.clone());
        m.name = name;
        let (datatype, arraysize) = kind.votable();
        m.datatype = datatype.to_string();
        m.arraysize = arraysize;
        if is_temporal(f.data_type()) && m.xtype.is_none() {
            m.xtype = Some("timestamp".into());
        }
        out.push((m, kind));
    }
    out
}

/// The columns of a table as this service delivers them (see
/// [`delivered`]). TAP_SCHEMA and VOSI `/tables` publish these, so declared
/// and delivered types agree.
pub fn published_fields(meta: &[FieldMeta], schema: &Schema) -> Vec<FieldMeta> {
    delivered(meta, schema)
        .into_iter()
        .map(|(m, _)| m)
        .collect()
}

#[cfg(test)]
mod tests {
    use arrow_schema::Field;

    use super::*;

    #[test]
    fn delivered_names_are_unique_and_times_have_an_xtype() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("A", DataType::Utf8, true),
            Field::new("", DataType::Date32, true),
        ]);
        let cols = published_fields(&[], &schema);
        let names: Vec<_> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "A_2", "col3"]);
        assert_eq!(cols[1].datatype, "unicodeChar");
        assert_eq!(cols[2].xtype.as_deref(), Some("timestamp"));
        assert_eq!(cols[2].datatype, "char");
    }
}
