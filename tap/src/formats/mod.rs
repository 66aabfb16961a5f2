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
//! Every format sees the columns the same way (`plan`): each Arrow type
//! is written as the one Arrow → VOTable mapping (`astrolake_vo::datatype`)
//! says, converted to a canonical Arrow type first; unit, UCD, utype, xtype
//! and description come from the [`FieldMeta`]; duplicate names (compared
//! case-insensitively) are renamed `name_2`, `name_3`, … Values are read
//! and written as text the same way by every format (`cell`). The output
//! of every format depends only on the rows, never on how they were split
//! into batches.
//!
//! `format` names the formats: MIME types, the short names clients send
//! as `RESPONSEFORMAT`, file extensions.

mod cell;
mod csv;
mod ecsv;
mod fits;
mod format;
mod json;
mod parquet;
mod plan;
mod votable;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

pub use astrolake_vo::FieldMeta;
pub use format::Format;
pub use votable::error_votable;

pub(crate) use astrolake_vo::datatype::{Kind, Prim};
pub(crate) use cell::{cell, cell_text, element, Cell};
pub(crate) use plan::{Column, Plan};

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
        Format::Csv => Box::new(csv::TextEncoder::new(csv::Flavor::Csv, String::new(), plan)),
        Format::Tsv => Box::new(csv::TextEncoder::new(csv::Flavor::Tsv, String::new(), plan)),
        Format::Json => Box::new(json::JsonEncoder::new(plan)),
        Format::Ecsv => Box::new(csv::TextEncoder::new(
            csv::Flavor::Ecsv,
            ecsv::header(&info, &plan),
            plan,
        )),
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
