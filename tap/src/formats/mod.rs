//! Streaming result-format encoders for the TAP service.
//!
//! A query result is a stream of Arrow [`RecordBatch`]es plus one
//! [`FieldMeta`] per column. [`encoder`] returns an [`Encoder`] for a
//! [`Format`] that turns the stream into bytes incrementally: [`Encoder::begin`]
//! (headers), [`Encoder::batch`] per batch, then [`Encoder::finish`] (or
//! [`Encoder::fail`] when the query breaks after streaming began), and last
//! [`Encoder::next_chunk`] until it returns `None` (only FITS, which must know
//! the row count before its data, has bytes left there).
//!
//! Every format sees the columns the same way (`Column`): Arrow types are
//! mapped to VOTable datatypes (Int8→short, UInt16→int, UInt32/UInt64→long
//! (a UInt64 above i64::MAX becomes NULL), Float16→float, Decimal→double,
//! strings→`unicodeChar` arraysize `*`, timestamps and dates→ISO 8601
//! `char` with xtype `timestamp`, lists of numbers→arraysize `*` except
//! points and circles (xtype `point`/`circle`: arraysize 2 and 3, a list of
//! another length is NULL), fixed-size lists→arraysize n, anything
//! else→its Arrow display text as `unicodeChar`); unit, UCD, utype, xtype
//! and description come from the [`FieldMeta`]. Duplicate names (compared
//! case-insensitively) are renamed `name_2`, `name_3`, … The output of
//! every format depends only on the rows, never on
//! how they were split into batches.

mod csv;
mod fits;
mod json;
mod parquet;
mod votable;

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeListArray, GenericListArray, ListArray,
    OffsetSizeTrait, StringArray,
};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow::record_batch::RecordBatch;
use arrow::temporal_conversions::as_datetime;
use arrow::util::display::{ArrayFormatter, FormatOptions};

pub use votable::error_votable;

pub use astrolake_vo::FieldMeta;

use astrolake_vo::datatype::is_temporal;
pub(crate) use astrolake_vo::datatype::{Kind, Prim};
use astrolake_vo::field::delivered;

/// Errors of the encoders.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An Arrow error (a cast or a batch that does not match the schema).
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A Parquet writer error.
    #[error("parquet: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// An I/O error (the FITS spool file).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The encoder was used out of order (a batch after finish, …).
    #[error("encoder: {0}")]
    State(String),
    /// The query failed after streaming began and the format cannot say so
    /// in its own bytes (FITS, Parquet): the HTTP layer aborts the connection.
    #[error("query failed: {0}")]
    Failed(String),
}

/// Result type of the encoders.
pub type Result<T> = std::result::Result<T, Error>;

/// A TAP result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// VOTable with BINARY2 serialization (the default).
    VoTableBinary2,
    /// VOTable with BINARY serialization.
    VoTableBinary,
    /// VOTable with TABLEDATA (XML) serialization.
    VoTableTableData,
    /// Comma-separated values (RFC 4180) with a header line.
    Csv,
    /// Tab-separated values with a header line.
    Tsv,
    /// JSON: `{"columns": [...], "data": [[...], ...]}`.
    Json,
    /// FITS binary table.
    Fits,
    /// Parquet with VOParquet 1.0 metadata.
    Parquet,
}

impl Format {
    /// Every format, in the order [`Format::all`] lists them.
    const ALL: [Format; 8] = [
        Format::VoTableBinary2,
        Format::VoTableBinary,
        Format::VoTableTableData,
        Format::Csv,
        Format::Tsv,
        Format::Json,
        Format::Fits,
        Format::Parquet,
    ];

    /// The format for a TAP `RESPONSEFORMAT` (or `FORMAT`) value: a MIME type
    /// or a short alias, case-insensitively, with whitespace around `;` and
    /// `=` ignored. `votable`, `application/x-votable+xml` and `text/xml`
    /// are BINARY2; `serialization=` and `votable/b2`, `votable/b`,
    /// `votable/td` choose the serialization. `None` for anything else.
    pub fn parse(s: &str) -> Option<Format> {
        let norm: String = s
            .split(';')
            .map(|p| {
                p.split('=')
                    .map(|x| x.trim().trim_matches('"'))
                    .collect::<Vec<_>>()
                    .join("=")
            })
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(";")
            .to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| {
            let (mime, aliases) = f.names();
            mime.eq_ignore_ascii_case(&norm)
                || aliases.iter().any(|a| a.eq_ignore_ascii_case(&norm))
        })
    }

    /// Canonical MIME type and the other accepted values.
    fn names(self) -> (&'static str, Vec<&'static str>) {
        match self {
            Format::VoTableBinary2 => (
                "application/x-votable+xml;serialization=BINARY2",
                vec![
                    "votable",
                    "application/x-votable+xml",
                    "text/xml",
                    "votable/b2",
                    "application/x-votable",
                    "application/votable+xml",
                    "text/xml;serialization=BINARY2",
                ],
            ),
            Format::VoTableBinary => (
                "application/x-votable+xml;serialization=BINARY",
                vec![
                    "votable/b",
                    "votable/binary",
                    "text/xml;serialization=BINARY",
                ],
            ),
            Format::VoTableTableData => (
                "application/x-votable+xml;serialization=TABLEDATA",
                vec![
                    "votable/td",
                    "votable/tabledata",
                    "text/xml;serialization=TABLEDATA",
                ],
            ),
            Format::Csv => ("text/csv;header=present", vec!["csv", "text/csv"]),
            Format::Tsv => (
                "text/tab-separated-values",
                vec![
                    "tsv",
                    "text/tsv",
                    "text/tab-separated-values;header=present",
                ],
            ),
            Format::Json => ("application/json", vec!["json", "text/json"]),
            Format::Fits => (
                "application/fits",
                vec!["fits", "image/fits", "application/x-fits-table"],
            ),
            Format::Parquet => (
                "application/vnd.apache.parquet",
                vec!["parquet", "application/x-parquet", "application/parquet"],
            ),
        }
    }

    /// The canonical MIME type, for the `Content-Type` header, e.g.
    /// `application/x-votable+xml;serialization=BINARY2`.
    pub fn mime(&self) -> &'static str {
        self.names().0
    }

    /// The file-name extension (without dot), for `Content-Disposition`.
    pub fn extension(&self) -> &'static str {
        match self {
            Format::VoTableBinary2 | Format::VoTableBinary | Format::VoTableTableData => "vot",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Fits => "fits",
            Format::Parquet => "parquet",
        }
    }

    /// Every format with its canonical MIME type and its aliases (all values
    /// [`Format::parse`] accepts), for TAPRegExt `<outputFormat>`.
    pub fn all() -> Vec<(Format, &'static str, Vec<&'static str>)> {
        Format::ALL
            .into_iter()
            .map(|f| {
                let (mime, aliases) = f.names();
                (f, mime, aliases)
            })
            .collect()
    }
}

/// What the encoders need to know about a result besides its rows.
#[derive(Debug, Clone, Default)]
pub struct ResultInfo {
    /// Column metadata, in schema order (matched by position when there is
    /// one per schema field, by name otherwise; missing ones are derived
    /// from the Arrow types).
    pub columns: Vec<FieldMeta>,
    /// The query text (ADQL), written as the VOTable `QUERY` INFO.
    pub query: Option<String>,
    /// Extra INFO name/value pairs for the VOTable RESOURCE.
    pub infos: Vec<(String, String)>,
    /// The result table's name (VOTable TABLE name, FITS EXTNAME).
    pub table_name: String,
}

/// Turns a stream of record batches into bytes, incrementally: the HTTP
/// layer sends each returned chunk as soon as it has it.
///
/// Call order: `begin`, `batch`*, then `finish` or `fail`, then
/// `next_chunk` until it returns `None`.
pub trait Encoder: Send {
    /// Everything before the data: the VOTable preamble up to the start of
    /// the stream, the CSV header line, …
    fn begin(&mut self) -> Result<Vec<u8>>;
    /// The bytes for these rows; may be empty while the format buffers
    /// (Parquet row groups, FITS spooling).
    fn batch(&mut self, b: &RecordBatch) -> Result<Vec<u8>>;
    /// The end of the output. `overflow`: the result was truncated at
    /// MAXREC (VOTable: `<INFO name="QUERY_STATUS" value="OVERFLOW"/>` after
    /// the TABLE).
    fn finish(&mut self, overflow: bool) -> Result<Vec<u8>>;
    /// The end of the output after the query failed mid-stream: a valid
    /// document that says so where the format can (VOTable: an ERROR INFO
    /// after the TABLE; CSV/TSV: a last line `# ERROR: message`; JSON: an
    /// `"error"` member), an [`Error::Failed`] where it cannot (FITS,
    /// Parquet: abort the connection).
    fn fail(&mut self, message: &str) -> Result<Vec<u8>>;
    /// Output still to send after `finish`, in bounded chunks: call until
    /// it returns `None`. Only FITS, which writes its spooled rows after
    /// the header it can only write at the end, has any.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

/// The encoder for `format`: `schema` is the schema of every batch, `info`
/// the column metadata and query description.
pub fn encoder(format: Format, info: ResultInfo, schema: SchemaRef) -> Box<dyn Encoder> {
    let plan = Plan::new(&info, &schema);
    match format {
        Format::VoTableBinary2 => Box::new(votable::VoTableEncoder::new(
            votable::Serialization::Binary2,
            info,
            plan,
        )),
        Format::VoTableBinary => Box::new(votable::VoTableEncoder::new(
            votable::Serialization::Binary,
            info,
            plan,
        )),
        Format::VoTableTableData => Box::new(votable::VoTableEncoder::new(
            votable::Serialization::TableData,
            info,
            plan,
        )),
        Format::Csv => Box::new(csv::TextEncoder::new(csv::Flavor::Csv, plan)),
        Format::Tsv => Box::new(csv::TextEncoder::new(csv::Flavor::Tsv, plan)),
        Format::Json => Box::new(json::JsonEncoder::new(plan)),
        Format::Fits => Box::new(fits::FitsEncoder::new(info, plan)),
        Format::Parquet => Box::new(parquet::ParquetEncoder::new(info, plan)),
    }
}

/// Run an encoder over whole batches and return all its output (tests and
/// small results).
pub fn encode_all(
    enc: &mut dyn Encoder,
    batches: &[RecordBatch],
    overflow: bool,
) -> Result<Vec<u8>> {
    let mut out = enc.begin()?;
    for b in batches {
        out.extend(enc.batch(b)?);
    }
    out.extend(enc.finish(overflow)?);
    while let Some(c) = enc.next_chunk()? {
        out.extend(c);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Column plan: how each Arrow column is written.

/// One output column.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// Final metadata: unique name, datatype and arraysize from the Arrow type.
    pub meta: FieldMeta,
    /// Representation.
    pub kind: Kind,
    /// The Arrow field may hold nulls.
    pub nullable: bool,
    /// Source type, for the conversion.
    source: DataType,
}

/// The columns of a result and how to convert its batches.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub columns: Vec<Column>,
    /// Schema of the converted batches ([`Plan::convert`]).
    pub schema: SchemaRef,
}

impl Plan {
    pub(crate) fn new(info: &ResultInfo, schema: &Schema) -> Plan {
        let columns: Vec<Column> = delivered(&info.columns, schema)
            .into_iter()
            .zip(schema.fields())
            .map(|((meta, kind), f)| Column {
                meta,
                kind,
                nullable: f.is_nullable(),
                source: f.data_type().clone(),
            })
            .collect();
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| Field::new(&c.meta.name, c.arrow_type(), c.nullable))
            .collect();
        Plan {
            columns,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The batch with every column converted to its canonical Arrow type:
    /// Boolean, UInt8, Int16, Int32, Int64, Float32, Float64, Utf8,
    /// List or FixedSizeList of one of those numbers.
    pub(crate) fn convert(&self, b: &RecordBatch) -> Result<Vec<ArrayRef>> {
        if b.num_columns() != self.columns.len() {
            return Err(Error::State(format!(
                "batch has {} columns, the schema {}",
                b.num_columns(),
                self.columns.len()
            )));
        }
        self.columns
            .iter()
            .zip(b.columns())
            .map(|(c, a)| c.convert(a))
            .collect()
    }
}

impl Column {
    fn arrow_type(&self) -> DataType {
        match self.kind {
            Kind::Scalar(p) => p.arrow(),
            Kind::Char | Kind::UnicodeChar => DataType::Utf8,
            Kind::Array(p) => DataType::List(Arc::new(Field::new("item", p.arrow(), true))),
            Kind::Fixed(p, n) => {
                DataType::FixedSizeList(Arc::new(Field::new("item", p.arrow(), true)), n as i32)
            }
        }
    }

    fn convert(&self, a: &ArrayRef) -> Result<ArrayRef> {
        let target = self.arrow_type();
        if a.data_type() == &target {
            return Ok(a.clone());
        }
        if is_temporal(a.data_type()) {
            return Ok(Arc::new(timestamps(a.as_ref())));
        }
        // Safe casts: a value that does not fit (UInt64 above i64::MAX)
        // becomes NULL instead of failing the stream.
        let opts = CastOptions {
            safe: true,
            ..Default::default()
        };
        if target == DataType::Utf8
            && !matches!(self.source, DataType::LargeUtf8 | DataType::Utf8View)
        {
            return display_strings(a.as_ref());
        }
        if let (Kind::Fixed(p, n), DataType::List(_) | DataType::LargeList(_)) =
            (self.kind, a.data_type())
        {
            return to_fixed(a.as_ref(), p, n, &opts);
        }
        Ok(cast_with_options(a, &target, &opts)?)
    }
}

/// A list column as fixed-size lists of `n` (a list of another length is
/// NULL). Written out here because arrow's cast mishandles sliced lists.
fn to_fixed(a: &dyn Array, p: Prim, n: usize, opts: &CastOptions) -> Result<ArrayRef> {
    let (values, offsets): (ArrayRef, Vec<usize>) = match a.data_type() {
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|o| *o as usize).collect(),
            )
        }
        _ => {
            let l = a.as_list::<i32>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|o| *o as usize).collect(),
            )
        }
    };
    let mut indices: Vec<Option<u64>> = Vec::with_capacity(a.len() * n);
    let mut valid = Vec::with_capacity(a.len());
    for row in 0..a.len() {
        let (start, end) = (offsets[row], offsets[row + 1]);
        let ok = a.is_valid(row) && end - start == n;
        valid.push(ok);
        for k in 0..n {
            indices.push(ok.then_some((start + k) as u64));
        }
    }
    let child = arrow::compute::take(
        values.as_ref(),
        &arrow::array::UInt64Array::from(indices),
        None,
    )?;
    let child = cast_with_options(&child, &p.arrow(), opts)?;
    let field = Arc::new(Field::new("item", p.arrow(), true));
    Ok(Arc::new(FixedSizeListArray::try_new(
        field,
        n as i32,
        child,
        Some(arrow::buffer::NullBuffer::from(valid)),
    )?))
}

/// ISO 8601 text (DALI timestamp, UTC, no zone suffix) of a timestamp or
/// date column: seconds, milliseconds, microseconds or nanoseconds digits
/// after the point as the unit has them; dates (Date32) as `YYYY-MM-DD`.
fn timestamps(a: &dyn Array) -> StringArray {
    fn fmt<T: arrow::datatypes::ArrowPrimitiveType>(v: i64, f: &str) -> Option<String> {
        as_datetime::<T>(v).map(|d| d.format(f).to_string())
    }
    const S: &str = "%Y-%m-%dT%H:%M:%S";
    const MS: &str = "%Y-%m-%dT%H:%M:%S%.3f";
    const US: &str = "%Y-%m-%dT%H:%M:%S%.6f";
    const NS: &str = "%Y-%m-%dT%H:%M:%S%.9f";
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            match a.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    fmt::<TimestampSecondType>(a.as_primitive::<TimestampSecondType>().value(i), S)
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => fmt::<TimestampMillisecondType>(
                    a.as_primitive::<TimestampMillisecondType>().value(i),
                    MS,
                ),
                DataType::Timestamp(TimeUnit::Microsecond, _) => fmt::<TimestampMicrosecondType>(
                    a.as_primitive::<TimestampMicrosecondType>().value(i),
                    US,
                ),
                DataType::Timestamp(TimeUnit::Nanosecond, _) => fmt::<TimestampNanosecondType>(
                    a.as_primitive::<TimestampNanosecondType>().value(i),
                    NS,
                ),
                DataType::Date32 => {
                    fmt::<Date32Type>(a.as_primitive::<Date32Type>().value(i) as i64, "%Y-%m-%d")
                }
                DataType::Date64 => fmt::<Date64Type>(a.as_primitive::<Date64Type>().value(i), MS),
                _ => None,
            }
        })
        .collect()
}

/// Arrow's display text of each value (NULL stays NULL), for types VOTable
/// has no datatype for.
fn display_strings(a: &dyn Array) -> Result<ArrayRef> {
    let f = ArrayFormatter::try_new(a, &FormatOptions::default())?;
    let out: StringArray = (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| f.value(i).to_string()))
        .collect();
    Ok(Arc::new(out))
}

// ---------------------------------------------------------------------------
// Value access and text formatting shared by the text formats.

/// One converted cell, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f32),
    Double(f64),
    Str(&'a str),
    /// Array elements: the converted child array and the range.
    Array(&'a dyn Array, usize, usize),
}

/// The cell at `row` of a converted column.
pub(crate) fn cell(a: &ArrayRef, row: usize) -> Cell<'_> {
    if a.is_null(row) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Boolean => Cell::Bool(a.as_boolean().value(row)),
        DataType::UInt8 => {
            Cell::Int(a.as_primitive::<arrow::datatypes::UInt8Type>().value(row) as i64)
        }
        DataType::Int16 => {
            Cell::Int(a.as_primitive::<arrow::datatypes::Int16Type>().value(row) as i64)
        }
        DataType::Int32 => {
            Cell::Int(a.as_primitive::<arrow::datatypes::Int32Type>().value(row) as i64)
        }
        DataType::Int64 => Cell::Int(a.as_primitive::<arrow::datatypes::Int64Type>().value(row)),
        DataType::Float32 => {
            Cell::Float(a.as_primitive::<arrow::datatypes::Float32Type>().value(row))
        }
        DataType::Float64 => {
            Cell::Double(a.as_primitive::<arrow::datatypes::Float64Type>().value(row))
        }
        DataType::Utf8 => Cell::Str(a.as_string::<i32>().value(row)),
        DataType::List(_) => {
            let l: &ListArray = a.as_list::<i32>();
            list_cell(l, row)
        }
        DataType::FixedSizeList(_, n) => {
            let l: &FixedSizeListArray = a.as_fixed_size_list();
            let n = *n as usize;
            Cell::Array(l.values().as_ref(), row * n, row * n + n)
        }
        _ => Cell::Null,
    }
}

fn list_cell<O: OffsetSizeTrait>(l: &GenericListArray<O>, row: usize) -> Cell<'_> {
    let off = l.value_offsets();
    Cell::Array(
        l.values().as_ref(),
        off[row].as_usize(),
        off[row + 1].as_usize(),
    )
}

/// Element `i` of an array cell's child array (`Cell::Null` for NULL).
pub(crate) fn element(values: &dyn Array, i: usize) -> Cell<'_> {
    if values.is_null(i) {
        return Cell::Null;
    }
    match values.data_type() {
        DataType::Boolean => {
            let b: &BooleanArray = values.as_boolean();
            Cell::Bool(b.value(i))
        }
        DataType::UInt8 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::UInt8Type>()
                .value(i) as i64,
        ),
        DataType::Int16 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::Int16Type>()
                .value(i) as i64,
        ),
        DataType::Int32 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::Int32Type>()
                .value(i) as i64,
        ),
        DataType::Int64 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(i),
        ),
        DataType::Float32 => Cell::Float(
            values
                .as_primitive::<arrow::datatypes::Float32Type>()
                .value(i),
        ),
        DataType::Float64 => Cell::Double(
            values
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(i),
        ),
        _ => Cell::Null,
    }
}

/// Text of a number or boolean the way every text format writes it: the
/// shortest text that reads back to the same value (`{:?}`, so `1.0`,
/// `1e300`, `-2.5e-7`), `NaN`, `+Inf`/`-Inf` (VOTable spelling), booleans
/// `true`/`false`. `None` for NULL.
pub(crate) fn scalar_text(c: Cell<'_>) -> Option<String> {
    Some(match c {
        Cell::Null | Cell::Array(..) => return None,
        Cell::Bool(b) => b.to_string(),
        Cell::Int(v) => v.to_string(),
        Cell::Float(v) => float_text(v as f64, v.is_finite().then(|| format!("{v:?}"))),
        Cell::Double(v) => float_text(v, v.is_finite().then(|| format!("{v:?}"))),
        Cell::Str(s) => s.to_string(),
    })
}

fn float_text(v: f64, finite: Option<String>) -> String {
    match finite {
        Some(s) => s,
        None if v.is_nan() => "NaN".into(),
        None if v > 0.0 => "+Inf".into(),
        None => "-Inf".into(),
    }
}

/// Array elements as space-separated text (DALI/VOTable TABLEDATA array
/// syntax, also used by CSV and TSV); NULL elements as `NaN`.
pub(crate) fn array_text(values: &dyn Array, start: usize, end: usize) -> String {
    let mut s = String::new();
    for i in start..end {
        if i > start {
            s.push(' ');
        }
        match scalar_text(element(values, i)) {
            Some(t) => s.push_str(&t),
            None => s.push_str("NaN"),
        }
    }
    s
}

/// Text of any cell (`None` for NULL), arrays space-separated.
pub(crate) fn cell_text(c: Cell<'_>) -> Option<String> {
    match c {
        Cell::Array(v, s, e) => Some(array_text(v, s, e)),
        other => scalar_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_formats() {
        use Format::*;
        for (s, f) in [
            ("votable", VoTableBinary2),
            ("VOTable", VoTableBinary2),
            ("application/x-votable+xml", VoTableBinary2),
            ("text/xml", VoTableBinary2),
            ("votable/b2", VoTableBinary2),
            ("votable/b", VoTableBinary),
            ("votable/td", VoTableTableData),
            (
                "application/x-votable+xml;serialization=TABLEDATA",
                VoTableTableData,
            ),
            (
                "application/x-votable+xml; serialization=tabledata",
                VoTableTableData,
            ),
            (
                "application/x-votable+xml;serialization=BINARY",
                VoTableBinary,
            ),
            (
                "application/x-votable+xml;serialization=binary2",
                VoTableBinary2,
            ),
            ("csv", Csv),
            ("text/csv", Csv),
            ("text/csv;header=present", Csv),
            ("TSV", Tsv),
            ("text/tab-separated-values", Tsv),
            ("json", Json),
            ("application/json", Json),
            ("fits", Fits),
            ("application/fits", Fits),
            ("parquet", Parquet),
            ("application/vnd.apache.parquet", Parquet),
        ] {
            assert_eq!(Format::parse(s), Some(f), "{s}");
        }
        assert_eq!(Format::parse("text/html"), None);
        assert_eq!(Format::parse(""), None);
        for (f, mime, aliases) in Format::all() {
            assert_eq!(Format::parse(mime), Some(f));
            assert_eq!(f.mime(), mime);
            for a in aliases {
                assert_eq!(Format::parse(a), Some(f), "{a}");
            }
        }
    }

    #[test]
    fn float_texts() {
        assert_eq!(scalar_text(Cell::Double(1.0)).unwrap(), "1.0");
        assert_eq!(scalar_text(Cell::Double(1e300)).unwrap(), "1e300");
        assert_eq!(scalar_text(Cell::Double(f64::NAN)).unwrap(), "NaN");
        assert_eq!(
            scalar_text(Cell::Double(f64::NEG_INFINITY)).unwrap(),
            "-Inf"
        );
        assert_eq!(scalar_text(Cell::Float(0.1)).unwrap(), "0.1");
    }
}
