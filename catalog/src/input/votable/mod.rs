//! Streaming VOTable reader: the first TABLE of a VOTable file as an input
//! [`Source`].
//!
//! The file (optionally gzipped) is read with quick-xml's buffered reader, one
//! event at a time, so memory stays constant whatever the file size: the
//! header is parsed up to `<DATA>`, then rows are decoded straight into
//! per-column buffers and handed out as Arrow record batches.
//!
//! Supported serializations:
//!
//! * **TABLEDATA**: `TR`/`TD`; an empty `TD` is null, as is the VALUES `null`
//!   sentinel of an integer column, `NaN` in a float column and `?` in a
//!   boolean one. Leading and trailing whitespace of a `TD` is ignored (as
//!   astropy does). Integers may be written in hex (`0x1F`); booleans as
//!   `T`/`F`/`true`/`false`/`1`/`0`/`?` (any case). Arrays are
//!   whitespace-separated values.
//! * **BINARY** and **BINARY2** with an inline `STREAM encoding="base64"`:
//!   the base64 text is decoded incrementally, straight from the XML input.
//!   Values are big-endian; variable-length arrays (arraysize containing `*`)
//!   have a 4-byte count prefix; fixed-size char arrays are trimmed of NUL and
//!   space padding on the right; `unicodeChar` is UCS-2 (UTF-16) big-endian.
//!   BINARY has no null flags: NaN (floats), the VALUES `null` sentinel
//!   (integers), `?`/space/NUL (booleans) and the empty string (char) are
//!   null. BINARY2 adds a null bitmask before each row (first column in the
//!   most significant bit); NaN and the integer sentinels are null there too.
//!
//! Not supported (a clear error): FITS serialization, `STREAM href` (data in
//! an external file), STREAM encodings other than base64, `TD encoding`,
//! complex datatypes, and multidimensional char arrays in BINARY/BINARY2.
//!
//! **Limits** ([`VOTableSource::open_with_limits`]). The file is read through
//! a [`LimitedReader`]: at most [`InputLimits::max_decompressed_bytes`] in
//! all, [`InputLimits::max_header_bytes`] before the first row, and, per
//! row, [`InputLimits::max_row_bytes`] of `TR` text (twice that, plus the
//! reader's buffer, of STREAM text). When the FIELDs are read, an arraysize
//! whose dimensions multiply to more than [`InputLimits::max_array_elements`],
//! a fixed-size cell of more than [`InputLimits::max_cell_bytes`], fixed-size
//! cells adding up to more than [`InputLimits::max_row_bytes`] per row and
//! more than [`InputLimits::max_columns`] FIELDs are refused, before any row
//! is read; so are, while rows are read, a `TD` or binary cell larger than
//! [`InputLimits::max_cell_bytes`], a binary row larger than
//! [`InputLimits::max_row_bytes`] and an array of more elements than
//! [`InputLimits::max_array_elements`]. A limit passed is a
//! [`CatalogError::Limit`], never a rejected row. Batches end early once
//! their buffers hold about [`InputLimits::batch_bytes`].
//!
//! Bad values fail with [`CatalogError::Input`] naming the file, the 1-based
//! row number and the column; with a [`Rejects`] sink the row is written
//! there instead (TABLEDATA rows as their `<TR>`, binary rows as the hex of
//! their bytes) and skipped. A batch ends early at a rejected row so that
//! every batch's rows are numbered consecutively from its `first_line`.
//!
//! **Parts.** This module reads the header, finds the serialization and
//! reads TABLEDATA rows ([`VOTableSource`]); `binary` decodes inline base64
//! STREAMs and walks a binary row's bytes; `columns` holds each FIELD's
//! shape and the typed buffers values are decoded into.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{CatalogError, Result};
use crate::input::limits::Stop;
use crate::input::{
    open_input, InputLimits, LimitedReader, ReadOptions, Rejects, Source, SourceBatch,
};
use astrolake_vo::votable::{read_table_header, HeaderEnd};
use astrolake_vo::xml::{attribute, local_name, read_text_into, xml_error};
use astrolake_vo::{FieldMeta, TableMeta};

mod binary;
mod columns;

use binary::{B64Stream, BinCursor};
use columns::Column;

type XmlReader = Reader<LimitedReader<Box<dyn BufRead + Send>>>;

/// How the header is named in limit errors.
const HEADER: &str = "the VOTable header (the document up to the first TABLE's <DATA>)";

/// What a STREAM row may read beyond twice its limit: the reader's buffer,
/// read ahead.
const STREAM_SLACK: u64 = 2 << 20;

/// Base64 as VOTable STREAMs use it; padding optional (some writers split
/// the stream into separately padded blocks, handled by the caller).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The first TABLE of a VOTable file (TABLEDATA, BINARY or BINARY2,
/// optionally gzipped), read as a stream of record batches.
pub struct VOTableSource {
    name: String,
    schema: SchemaRef,
    meta: TableMeta,
    reader: XmlReader,
    buf: Vec<u8>,
    batch_rows: usize,
    rejects: Option<Rejects>,
    columns: Vec<Column>,
    data: Serialization,
    /// 1-based number of the next row to read.
    next_row: u64,
    done: bool,
    /// TABLEDATA: the cells of the current row (reused).
    cells: Vec<String>,
    /// TABLEDATA: the number of cells of the current row.
    ncells: usize,
    /// BINARY/BINARY2: the bytes of the current row, kept for rejects.
    row_bytes: Vec<u8>,
    /// BINARY2: the null bitmask of the current row.
    mask: Vec<u8>,
    limits: InputLimits,
}

/// Where the rows come from.
enum Serialization {
    /// No rows (no DATA, or an empty serialization element).
    Empty,
    /// `<TABLEDATA>`.
    TableData,
    /// `<BINARY>` (`v2 == false`) or `<BINARY2>`, inline base64 STREAM.
    Binary { v2: bool, stream: B64Stream },
}

impl VOTableSource {
    /// Open a VOTable file and read its header, up to the first row of its
    /// first TABLE.
    ///
    /// The schema has one nullable Arrow field per FIELD, of type
    /// [`FieldMeta::arrow_type`]. When `opts.declared` is given, its columns
    /// (matched by name, case-insensitively) override the unit, UCD, utype,
    /// xtype and description of the file's; a declared column the file does
    /// not have is a [`CatalogError::Metadata`] error.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<VOTableSource> {
        Self::open_with_limits(path, opts, &InputLimits::default())
    }

    /// [`VOTableSource::open`], reading the file within `limits` (see the
    /// [module docs](self)).
    pub fn open_with_limits(
        path: &Path,
        opts: &ReadOptions,
        limits: &InputLimits,
    ) -> Result<VOTableSource> {
        let input = open_input(path, limits)?;
        Self::from_limited(
            path.display().to_string(),
            input,
            file_stem(path),
            opts,
            limits,
        )
    }

    /// [`VOTableSource::open`] on any (already decompressed) input; `stem`
    /// names the table when the TABLE has neither name nor ID.
    #[cfg(test)]
    fn from_reader(
        name: String,
        input: Box<dyn BufRead + Send>,
        stem: String,
        opts: &ReadOptions,
    ) -> Result<VOTableSource> {
        let limits = InputLimits::default();
        let input = LimitedReader::new(input, limits.max_decompressed_bytes);
        Self::from_limited(name, input, stem, opts, &limits)
    }

    fn from_limited(
        name: String,
        mut input: LimitedReader<Box<dyn BufRead + Send>>,
        stem: String,
        opts: &ReadOptions,
        limits: &InputLimits,
    ) -> Result<VOTableSource> {
        input.set_header_limit(Some(limits.max_header_bytes));
        let mut reader: XmlReader = Reader::from_reader(input);
        let mut buf = Vec::new();
        let limit_err = |reader: &XmlReader, e: CatalogError| {
            reader
                .get_ref()
                .limit_error(&name, limits, HEADER)
                .unwrap_or(e)
        };
        let (mut meta, end) = read_table_header(&mut reader, &mut buf)
            .map_err(|e| limit_err(&reader, in_file(&name, e.into())))?;
        if meta.fields.is_empty() {
            return Err(CatalogError::format(
                &name,
                "the first TABLE has no FIELD, so there are no columns to read",
            ));
        }
        limits.check_columns(&name, meta.fields.len(), "the first TABLE")?;
        check_unique_names(&name, &meta.fields)?;
        let mem_row_bytes = check_declared_sizes(&name, &meta.fields, limits)?;
        let data = match end {
            HeaderEnd::NoData => Serialization::Empty,
            HeaderEnd::Data => find_serialization(&mut reader, &mut buf, &name)
                .map_err(|e| limit_err(&reader, e))?,
        };
        reader.get_mut().set_header_limit(None);
        let binary = matches!(data, Serialization::Binary { .. });
        let columns = meta
            .fields
            .iter()
            .map(|f| Column::new(f, binary).map_err(|m| CatalogError::format(&name, m)))
            .collect::<Result<Vec<_>>>()?;
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|c| Field::new(&c.name, c.data_type.clone(), true))
                .collect::<Vec<_>>(),
        ));
        if let Some(declared) = &opts.declared {
            meta.apply_declared(declared, &name)?;
        }
        if meta.name.is_empty() {
            meta.name = stem;
        }
        Ok(VOTableSource {
            name,
            schema,
            meta,
            reader,
            buf,
            batch_rows: limits.batch_rows_for(opts.batch_rows(), mem_row_bytes),
            rejects: opts.rejects.clone(),
            columns,
            data,
            next_row: 1,
            done: false,
            cells: Vec::new(),
            ncells: 0,
            row_bytes: Vec::new(),
            mask: Vec::new(),
            limits: limits.clone(),
        })
    }

    /// The limit error for a read the [`LimitedReader`] stopped.
    fn stopped_error(&self) -> Option<CatalogError> {
        let input = self.reader.get_ref();
        match input.stopped()? {
            (Stop::Window, _) => Some(self.limits.error(
                &self.name,
                match self.data {
                    Serialization::Binary { .. } => format!(
                        "row {}: the STREAM text of the row (base64, whitespace, markup) is too long",
                        self.next_row
                    ),
                    _ => format!("row {}: the TR is too long", self.next_row),
                },
                "max_row_bytes",
            )),
            _ => input.limit_error(&self.name, &self.limits, HEADER),
        }
    }

    /// A row error in the rows' context: a limit, or the file's `Format`.
    fn cell_limit(&self, column: &str, what: String, name: &'static str) -> CatalogError {
        self.limits.error(
            &self.name,
            format!("row {}: column {column}: {what}", self.next_row),
            name,
        )
    }

    /// Bytes held by the batch being built.
    fn batch_bytes(&self) -> u64 {
        self.columns.iter().map(Column::mem_bytes).sum()
    }

    /// Read one row into the column buffers.
    fn read_row(&mut self) -> Result<Row> {
        match &mut self.data {
            Serialization::Empty => Ok(Row::End),
            Serialization::TableData => self.read_tabledata_row(),
            Serialization::Binary { .. } => self.read_binary_row(),
        }
    }

    fn read_tabledata_row(&mut self) -> Result<Row> {
        let input = self.reader.get_mut();
        let start = input.consumed();
        input.set_window(Some((start, self.limits.max_row_bytes)));
        let ncells = match read_tr(&mut self.reader, &mut self.buf, &mut self.cells)
            .map_err(|m| self.stopped_error().unwrap_or_else(|| self.fatal(m)))?
        {
            None => return Ok(Row::End),
            Some(n) => n,
        };
        self.ncells = ncells;
        let ncols = self.columns.len();
        if ncells != ncols {
            let column = if ncells < ncols {
                self.columns[ncells].name.clone()
            } else {
                format!("(TD #{})", ncols + 1)
            };
            return Ok(Row::Bad {
                column,
                message: format!("the row has {ncells} TD cells; the table has {ncols} columns"),
            });
        }
        let max_cell = self.limits.max_cell_bytes;
        if let Some((i, c)) = self.cells[..ncells]
            .iter()
            .enumerate()
            .find(|(_, c)| c.len() as u64 > max_cell)
        {
            let what = format!("a TD of {} bytes", c.len());
            return Err(self.cell_limit(&self.columns[i].name, what, "max_cell_bytes"));
        }
        let max_elements = self.limits.max_array_elements;
        for (col, cell) in self.columns.iter_mut().zip(&self.cells[..ncells]) {
            if let Err(e) = col.push_text(cell.trim(), max_elements) {
                return match e {
                    CellError::Value(message) => Ok(Row::Bad {
                        column: col.name.clone(),
                        message,
                    }),
                    CellError::Limit(what, name) => Err(self.limits.error(
                        &self.name,
                        format!("row {}: column {}: {what}", self.next_row, col.name),
                        name,
                    )),
                    CellError::Fatal(m) => Err(CatalogError::format(
                        &self.name,
                        format!("row {}: column {}: {m}", self.next_row, col.name),
                    )),
                };
            }
        }
        Ok(Row::Good)
    }

    fn read_binary_row(&mut self) -> Result<Row> {
        let Serialization::Binary { v2, stream } = &mut self.data else {
            unreachable!("read_binary_row on non-binary data")
        };
        let v2 = *v2;
        let input = self.reader.get_mut();
        let start = input.consumed();
        let window = self
            .limits
            .max_row_bytes
            .saturating_mul(2)
            .saturating_add(STREAM_SLACK);
        input.set_window(Some((start, window)));
        let more = stream
            .ensure(1, &mut self.reader, &mut self.buf)
            .map_err(|m| CatalogError::format(&self.name, m))?;
        if !more {
            return Ok(Row::End);
        }
        let keep_raw = self.rejects.is_some();
        self.row_bytes.clear();
        let mut cur = BinCursor {
            stream,
            reader: &mut self.reader,
            buf: &mut self.buf,
            raw: if keep_raw {
                Some(&mut self.row_bytes)
            } else {
                None
            },
            row_taken: 0,
            limits: &self.limits,
        };
        let ncols = self.columns.len();
        if v2 {
            let bytes = cur.take(ncols.div_ceil(8)).map_err(|e| match e {
                CellError::Fatal(m) | CellError::Value(m) => CatalogError::format(
                    &self.name,
                    format!("row {}: null bitmask: {m}", self.next_row),
                ),
                CellError::Limit(what, name) => self.limits.error(
                    &self.name,
                    format!("row {}: null bitmask: {what}", self.next_row),
                    name,
                ),
            })?;
            self.mask.clear();
            self.mask.extend_from_slice(bytes);
        }
        let mut bad: Option<(String, String)> = None;
        for (i, col) in self.columns.iter_mut().enumerate() {
            let null_flag = v2.then(|| self.mask[i / 8] & (0x80 >> (i % 8)) != 0);
            match col.push_binary(&mut cur, null_flag) {
                Ok(()) => {}
                Err(CellError::Value(m)) => {
                    // Keep reading the row's other cells to stay in step.
                    if bad.is_none() {
                        bad = Some((col.name.clone(), m));
                    }
                }
                Err(CellError::Fatal(m)) => {
                    return Err(CatalogError::format(
                        &self.name,
                        format!("row {}: column {}: {m}", self.next_row, col.name),
                    ))
                }
                Err(CellError::Limit(what, name)) => {
                    return Err(self.limits.error(
                        &self.name,
                        format!("row {}: column {}: {what}", self.next_row, col.name),
                        name,
                    ))
                }
            }
        }
        Ok(match bad {
            None => Row::Good,
            Some((column, message)) => Row::Bad { column, message },
        })
    }

    fn fatal(&self, message: String) -> CatalogError {
        CatalogError::format(&self.name, format!("row {}: {message}", self.next_row))
    }

    /// The current (bad) row as text for the rejects file.
    fn raw_row(&self) -> String {
        match &self.data {
            Serialization::TableData => {
                let mut s = String::from("<TR>");
                for c in &self.cells[..self.ncells] {
                    s.push_str("<TD>");
                    s.push_str(&quick_xml::escape::escape(c.as_str()));
                    s.push_str("</TD>");
                }
                s.push_str("</TR>");
                s
            }
            _ => {
                let mut s = String::with_capacity(self.row_bytes.len() * 2 + 16);
                s.push_str("hex:");
                for b in &self.row_bytes {
                    s.push_str(&format!("{b:02x}"));
                }
                s
            }
        }
    }

    fn finish_batch(&mut self, rows: usize, first_line: u64) -> Result<SourceBatch> {
        let arrays = self
            .columns
            .iter_mut()
            .map(|c| c.finish())
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        debug_assert_eq!(batch.num_rows(), rows);
        Ok(SourceBatch { batch, first_line })
    }
}

impl Source for VOTableSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn meta(&self) -> &TableMeta {
        &self.meta
    }

    fn next_batch(&mut self) -> Result<Option<SourceBatch>> {
        if self.done {
            return Ok(None);
        }
        let mut first_line = self.next_row;
        let mut rows = 0usize;
        while rows < self.batch_rows {
            let row = match self.read_row() {
                Ok(r) => r,
                Err(e) => {
                    self.done = true;
                    return Err(self.stopped_error().unwrap_or(e));
                }
            };
            match row {
                Row::End => {
                    self.done = true;
                    break;
                }
                Row::Good => {
                    rows += 1;
                    self.next_row += 1;
                    if self.batch_bytes() >= self.limits.batch_bytes {
                        break;
                    }
                }
                Row::Bad { column, message } => {
                    for c in &mut self.columns {
                        c.truncate(rows);
                    }
                    let err = CatalogError::input(&self.name, self.next_row, column, message);
                    let Some(rejects) = &self.rejects else {
                        self.next_row += 1;
                        return Err(err);
                    };
                    rejects.reject_error(&err, &self.raw_row())?;
                    self.next_row += 1;
                    if rows > 0 {
                        break;
                    }
                    first_line = self.next_row;
                }
            }
        }
        if rows == 0 {
            return Ok(None);
        }
        self.finish_batch(rows, first_line).map(Some)
    }
}

/// The outcome of reading one row.
enum Row {
    /// No more rows.
    End,
    /// The row was appended to every column.
    Good,
    /// A bad value; the caller truncates the columns.
    Bad { column: String, message: String },
}

/// Why a cell could not be read.
enum CellError {
    /// A bad value: the row can be rejected and reading go on.
    Value(String),
    /// The stream is unreadable from here on.
    Fatal(String),
    /// The cell passes one of the [`InputLimits`]: what it has, and the
    /// limit's name.
    Limit(String, &'static str),
}

/// Bytes of one element of a VOTable datatype in BINARY (bits: 1, an upper
/// bound); `None` for datatypes the reader does not support.
fn element_bytes(datatype: &str) -> Option<u64> {
    Some(match datatype {
        "boolean" | "bit" | "unsignedByte" | "char" => 1,
        "short" | "unicodeChar" => 2,
        "int" | "float" => 4,
        "long" | "double" => 8,
        _ => return None,
    })
}

/// The elements an arraysize declares: the product of its fixed dimensions
/// (saturating), and whether the last is variable (`*`, `10*`). `None`
/// when it does not parse (the column's constructor says why).
fn declared_elements(arraysize: Option<&str>) -> Option<(u64, bool)> {
    let Some(s) = arraysize else {
        return Some((1, false));
    };
    let dims: Vec<&str> = s.split('x').map(str::trim).collect();
    let mut product = 1u64;
    for (i, d) in dims.iter().enumerate() {
        if i + 1 == dims.len() && d.ends_with('*') {
            return Some((product, true));
        }
        product = product.saturating_mul(d.parse::<u64>().ok()?);
    }
    Some((product, false))
}

/// Refuse FIELDs that declare cells or rows larger than `limits` allow;
/// returns the bytes the fixed-size part of a row takes in a batch.
fn check_declared_sizes(file: &str, fields: &[FieldMeta], limits: &InputLimits) -> Result<u64> {
    let mut row_bytes = 0u64;
    let mut mem_bytes = 0u64;
    for f in fields {
        let Some((n, variable)) = declared_elements(f.arraysize.as_deref()) else {
            continue;
        };
        let size = element_bytes(&f.datatype).unwrap_or(1);
        let arraysize = f.arraysize.as_deref().unwrap_or("1");
        if n > limits.max_array_elements {
            let what = if arraysize.contains('x') {
                format!(
                    "column {} declares arraysize {arraysize} ({n} elements)",
                    f.name
                )
            } else {
                format!("column {} declares arraysize {arraysize}", f.name)
            };
            return Err(limits.error(file, what, "max_array_elements"));
        }
        let bytes = n.saturating_mul(size);
        if !variable && bytes > limits.max_cell_bytes {
            let what = format!(
                "column {} declares arraysize {arraysize} of {}: cells of {bytes} bytes",
                f.name, f.datatype
            );
            return Err(limits.error(file, what, "max_cell_bytes"));
        }
        let text = matches!(f.datatype.as_str(), "char" | "unicodeChar");
        if variable {
            row_bytes = row_bytes.saturating_add(4);
            mem_bytes = mem_bytes.saturating_add(5);
        } else {
            row_bytes = row_bytes.saturating_add(bytes);
            // Values and their validity; text is stored at its length.
            mem_bytes = mem_bytes.saturating_add(if text {
                5
            } else {
                n.saturating_mul(size + 1).saturating_add(1)
            });
        }
    }
    if row_bytes > limits.max_row_bytes {
        return Err(limits.error(
            file,
            format!("the FIELDs declare rows of {row_bytes} bytes"),
            "max_row_bytes",
        ));
    }
    Ok(mem_bytes)
}

/// Map a header error to a file format error naming the file.
fn in_file(file: &str, e: CatalogError) -> CatalogError {
    match e {
        CatalogError::Metadata(m) => CatalogError::format(file, m),
        other => other,
    }
}

fn check_unique_names(file: &str, fields: &[FieldMeta]) -> Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if let Some(g) = fields[..i]
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(&f.name))
        {
            return Err(CatalogError::format(
                file,
                format!(
                    "FIELD #{} ({:?}) has the same name as an earlier FIELD ({:?}); column \
                     names must be unique (case-insensitively)",
                    i + 1,
                    f.name,
                    g.name
                ),
            ));
        }
    }
    Ok(())
}

fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    let lower = name.to_ascii_lowercase();
    for ext in [".votable", ".vot", ".xml"] {
        if lower.ends_with(ext) {
            return name[..name.len() - ext.len()].to_string();
        }
    }
    name.to_string()
}

/// After `<DATA>`: find the serialization element and, for BINARY/BINARY2,
/// its STREAM.
fn find_serialization(
    reader: &mut XmlReader,
    buf: &mut Vec<u8>,
    file: &str,
) -> Result<Serialization> {
    let fmt = |m: String| CatalogError::format(file, m);
    // The serialization element (once seen) and whether it is BINARY2.
    let mut binary: Option<bool> = None;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(|e| fmt(xml_error(reader, &e)))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => return Ok(Serialization::Empty),
            Event::Eof => return Err(fmt("the file ends inside DATA".into())),
            _ => continue,
        };
        let name = local_name(e);
        match (binary, name.as_str()) {
            (None, "TABLEDATA") => {
                return Ok(if empty {
                    Serialization::Empty
                } else {
                    Serialization::TableData
                });
            }
            (None, "BINARY") | (None, "BINARY2") => {
                if empty {
                    return Ok(Serialization::Empty);
                }
                binary = Some(name == "BINARY2");
            }
            (None, "FITS") => {
                return Err(fmt(
                    "FITS-serialized VOTable is not supported; convert it to \
                     TABLEDATA, BINARY or BINARY2 (e.g. with TOPCAT/STILTS or astropy)"
                        .into(),
                ))
            }
            (Some(v2), "STREAM") => {
                let what = if v2 { "BINARY2" } else { "BINARY" };
                if let Some(href) = attribute(reader, e, "href").map_err(fmt)? {
                    return Err(fmt(format!(
                        "{what} STREAM href={href:?} (data in an external file) is not \
                         supported; only inline base64 STREAMs are"
                    )));
                }
                let encoding = attribute(reader, e, "encoding").map_err(fmt)?;
                match encoding.as_deref().map(str::trim) {
                    None | Some("base64") => {}
                    Some(other) => {
                        return Err(fmt(format!(
                            "{what} STREAM encoding {other:?} is not supported; only base64 is"
                        )))
                    }
                }
                if empty {
                    return Ok(Serialization::Empty);
                }
                return Ok(Serialization::Binary {
                    v2,
                    stream: B64Stream::default(),
                });
            }
            (_, other) => {
                return Err(fmt(format!(
                    "unexpected <{other}> in DATA (expected TABLEDATA, BINARY, BINARY2 or FITS, \
                     and STREAM inside BINARY/BINARY2)"
                )))
            }
        }
    }
}

/// Read the next `<TR>` of a TABLEDATA into `cells` (raw text, unescaped).
/// Returns the number of cells, or `None` at `</TABLEDATA>`.
fn read_tr(
    reader: &mut XmlReader,
    buf: &mut Vec<u8>,
    cells: &mut Vec<String>,
) -> std::result::Result<Option<usize>, String> {
    // Find the TR.
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(|e| xml_error(reader, &e))?;
        match ev {
            Event::Start(e) if e.local_name().as_ref() == "TR" => break,
            Event::Empty(e) if e.local_name().as_ref() == "TR" => return Ok(Some(0)),
            Event::End(_) => return Ok(None),
            Event::Start(e) | Event::Empty(e) => {
                return Err(format!(
                    "unexpected <{}> in TABLEDATA (expected TR)",
                    e.name().as_ref()
                ))
            }
            Event::Eof => return Err("the file ends inside TABLEDATA".into()),
            _ => {}
        }
    }
    let mut n = 0usize;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(|e| xml_error(reader, &e))?;
        let (e, empty) = match &ev {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => return Ok(Some(n)),
            Event::Eof => return Err("the file ends inside TR".into()),
            _ => continue,
        };
        if e.local_name().as_ref() != "TD" {
            return Err(format!(
                "unexpected <{}> in TR (expected TD)",
                e.name().as_ref()
            ));
        }
        if !e.attributes_raw().trim().is_empty() {
            if let Some(enc) = attribute(reader, e, "encoding")? {
                return Err(format!("TD encoding={enc:?} is not supported"));
            }
        }
        if n == cells.len() {
            cells.push(String::new());
        }
        let cell = &mut cells[n];
        cell.clear();
        n += 1;
        if !empty {
            read_text_into(reader, buf, cell)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::columns::{parse_arraysize, parse_int, BinShape};
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{
        DataType, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    };
    use base64::Engine;
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::Mutex;

    fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("astrolake-votable-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn read_all(src: &mut VOTableSource) -> Result<Vec<SourceBatch>> {
        let mut out = Vec::new();
        while let Some(b) = src.next_batch()? {
            assert_eq!(b.batch.schema(), src.schema());
            out.push(b);
        }
        Ok(out)
    }

    fn one_batch(path: &Path) -> (VOTableSource, RecordBatch) {
        let mut src = VOTableSource::open(path, &ReadOptions::default()).unwrap();
        let mut batches = read_all(&mut src).unwrap();
        assert_eq!(batches.len(), 1);
        let b = batches.remove(0);
        assert_eq!(b.first_line, 1);
        (src, b.batch)
    }

    /// A `Write` whose bytes the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn with_rejects() -> (ReadOptions, Rejects, Shared) {
        let sink = Shared::default();
        let rejects = Rejects::to_writer(Box::new(sink.clone())).unwrap();
        let opts = ReadOptions {
            rejects: Some(rejects.clone()),
            ..Default::default()
        };
        (opts, rejects, sink)
    }

    fn votable(fields: &str, data: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">
 <RESOURCE type="results">
  <INFO name="QUERY_STATUS" value="OK"/>
  <TABLE name="test_table">
   <DESCRIPTION>A test table</DESCRIPTION>
   <PARAM name="epoch" datatype="double" value="2016.0"/>
{fields}
   <DATA>
{data}
   </DATA>
  </TABLE>
 </RESOURCE>
</VOTABLE>
"#
        )
    }

    const TD_FIELDS: &str = r#"
   <FIELD name="id" datatype="int" ucd="meta.id"><VALUES null="-1"/></FIELD>
   <FIELD name="ra" datatype="double" unit="deg"><DESCRIPTION>Right ascension</DESCRIPTION></FIELD>
   <FIELD name="flag" datatype="boolean"/>
   <FIELD name="name" datatype="char" arraysize="*"/>
   <FIELD name="uname" datatype="unicodeChar" arraysize="*"/>
   <FIELD name="mags" datatype="float" arraysize="3"/>
   <FIELD name="vals" datatype="short" arraysize="*"/>
   <FIELD name="b" datatype="unsignedByte"/>
   <FIELD name="l" datatype="long"/>"#;

    fn tabledata() -> String {
        votable(
            TD_FIELDS,
            r#"<TABLEDATA>
<TR><TD>1</TD><TD>10.5</TD><TD>T</TD><TD>alpha &amp; &lt;beta&gt;</TD><TD>Ångström 星</TD><TD>1 2 3</TD><TD>4 5</TD><TD>255</TD><TD>9007199254740993</TD></TR>
<TR><TD>-1</TD><TD>NaN</TD><TD>?</TD><TD/><TD></TD><TD></TD><TD/><TD/><TD/></TR>
<TR>
  <TD>0x10</TD><TD> -1.5e3 </TD><TD>false</TD><TD><![CDATA[x<y]]></TD><TD>&#x263A;</TD>
  <TD>NaN   2
      -inf</TD><TD>-7</TD><TD>0</TD><TD>-9223372036854775808</TD>
</TR>
<TR><TD>+4</TD><TD>+Inf</TD><TD>1</TD><TD>d</TD><TD>e</TD><TD>0 0 0</TD><TD></TD><TD>7</TD><TD>1</TD></TR>
</TABLEDATA>"#,
        )
    }

    fn check_tabledata(batch: &RecordBatch) {
        assert_eq!(batch.num_rows(), 4);
        let id = batch.column(0).as_primitive::<Int32Type>();
        assert_eq!(id.value(0), 1);
        assert!(id.is_null(1));
        assert_eq!(id.value(2), 16);
        assert_eq!(id.value(3), 4);
        let ra = batch.column(1).as_primitive::<Float64Type>();
        assert_eq!(ra.value(0), 10.5);
        assert!(ra.is_null(1));
        assert_eq!(ra.value(2), -1500.0);
        assert_eq!(ra.value(3), f64::INFINITY);
        let flag = batch.column(2).as_boolean();
        assert!(flag.value(0));
        assert!(flag.is_null(1));
        assert!(!flag.value(2));
        assert!(flag.value(3));
        let name = batch.column(3).as_string::<i32>();
        assert_eq!(name.value(0), "alpha & <beta>");
        assert!(name.is_null(1));
        assert_eq!(name.value(2), "x<y");
        let uname = batch.column(4).as_string::<i32>();
        assert_eq!(uname.value(0), "Ångström 星");
        assert!(uname.is_null(1));
        assert_eq!(uname.value(2), "☺");
        let mags = batch.column(5).as_fixed_size_list();
        assert_eq!(mags.value_length(), 3);
        let m0 = mags.value(0);
        assert_eq!(m0.as_primitive::<Float32Type>().values(), &[1.0, 2.0, 3.0]);
        assert!(mags.is_null(1));
        let m2 = mags.value(2);
        let m2 = m2.as_primitive::<Float32Type>();
        assert!(m2.is_null(0));
        assert_eq!(m2.value(1), 2.0);
        assert_eq!(m2.value(2), f32::NEG_INFINITY);
        let vals = batch.column(6).as_list::<i32>();
        assert_eq!(vals.value(0).as_primitive::<Int16Type>().values(), &[4, 5]);
        assert!(vals.is_null(1));
        assert_eq!(vals.value(2).as_primitive::<Int16Type>().values(), &[-7]);
        assert!(vals.is_null(3));
        let b = batch.column(7).as_primitive::<UInt8Type>();
        assert_eq!(b.value(0), 255);
        assert!(b.is_null(1));
        assert_eq!(b.value(2), 0);
        let l = batch.column(8).as_primitive::<Int64Type>();
        assert_eq!(l.value(0), 9007199254740993);
        assert!(l.is_null(1));
        assert_eq!(l.value(2), i64::MIN);
    }

    #[test]
    fn tabledata_values_nulls_and_arrays() {
        let p = tmp("td.vot", tabledata().as_bytes());
        let (src, batch) = one_batch(&p);
        check_tabledata(&batch);
        let schema = src.schema();
        assert!(schema.fields().iter().all(|f| f.is_nullable()));
        assert_eq!(schema.field(0).data_type(), &DataType::Int32);
        assert_eq!(schema.field(3).data_type(), &DataType::Utf8);
        assert!(matches!(
            schema.field(5).data_type(),
            DataType::FixedSizeList(_, 3)
        ));
        assert!(matches!(schema.field(6).data_type(), DataType::List(_)));
        let meta = src.meta();
        assert_eq!(meta.name, "test_table");
        assert_eq!(meta.description.as_deref(), Some("A test table"));
        assert_eq!(meta.fields.len(), 9);
        assert_eq!(meta.fields[0].null.as_deref(), Some("-1"));
        assert_eq!(meta.fields[1].unit.as_deref(), Some("deg"));
        assert_eq!(
            meta.fields[1].description.as_deref(),
            Some("Right ascension")
        );
        assert_eq!(src.name(), p.display().to_string());
    }

    #[test]
    fn gzipped_input() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(tabledata().as_bytes()).unwrap();
        let p = tmp("td.vot.gz", &enc.finish().unwrap());
        let (_, batch) = one_batch(&p);
        check_tabledata(&batch);
    }

    #[test]
    fn batches_number_rows() {
        let p = tmp("td-batches.vot", tabledata().as_bytes());
        let opts = ReadOptions {
            batch_rows: 3,
            ..Default::default()
        };
        let mut src = VOTableSource::open(&p, &opts).unwrap();
        let batches = read_all(&mut src).unwrap();
        let shape: Vec<_> = batches
            .iter()
            .map(|b| (b.first_line, b.batch.num_rows()))
            .collect();
        assert_eq!(shape, [(1, 3), (4, 1)]);
        assert!(src.next_batch().unwrap().is_none());
    }

    fn bad_tabledata() -> String {
        votable(
            r#"<FIELD name="id" datatype="int"/><FIELD name="ra" datatype="double"/>
               <FIELD name="tags" datatype="short" arraysize="*"/>"#,
            r#"<TABLEDATA>
<TR><TD>1</TD><TD>1.5</TD><TD>1</TD></TR>
<TR><TD>2</TD><TD>abc</TD><TD>2 3</TD></TR>
<TR><TD>3</TD><TD>3.5</TD><TD>4 x</TD></TR>
<TR><TD>4</TD><TD>4.5</TD><TD/></TR>
<TR><TD>5</TD><TD>5.5</TD></TR>
<TR><TD>6</TD><TD>6.5</TD><TD>6 &amp;</TD></TR>
<TR><TD>7</TD><TD>7.5</TD><TD>7</TD></TR>
</TABLEDATA>"#,
        )
    }

    #[test]
    fn bad_value_fails_with_row_and_column() {
        let p = tmp("bad.vot", bad_tabledata().as_bytes());
        let mut src = VOTableSource::open(&p, &ReadOptions::default()).unwrap();
        let err = read_all(&mut src).unwrap_err();
        match &err {
            CatalogError::Input {
                file,
                line,
                column,
                message,
            } => {
                assert_eq!(file, &p.display().to_string());
                assert_eq!(*line, 2);
                assert_eq!(column, "ra");
                assert_eq!(message, "cannot parse \"abc\" as double");
            }
            other => panic!("{other}"),
        }
        assert!(
            err.to_string()
                .ends_with(":2: column ra: cannot parse \"abc\" as double"),
            "{err}"
        );
    }

    #[test]
    fn bad_rows_go_to_rejects() {
        let p = tmp("bad-rejects.vot", bad_tabledata().as_bytes());
        let (opts, rejects, sink) = with_rejects();
        let mut src = VOTableSource::open(&p, &opts).unwrap();
        let batches = read_all(&mut src).unwrap();
        let shape: Vec<_> = batches
            .iter()
            .map(|b| (b.first_line, b.batch.num_rows()))
            .collect();
        assert_eq!(shape, [(1, 1), (4, 1), (7, 1)]);
        let ids: Vec<i32> = batches
            .iter()
            .flat_map(|b| {
                b.batch
                    .column(0)
                    .as_primitive::<Int32Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert_eq!(ids, [1, 4, 7]);
        // The row after a rejected one keeps its values in every column.
        let tags = batches[2].batch.column(2).as_list::<i32>();
        assert_eq!(tags.value(0).as_primitive::<Int16Type>().values(), &[7]);
        assert!(batches[1].batch.column(2).is_null(0));
        assert_eq!(rejects.count(), 4);
        let text = sink.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "file,line,column,reason,row");
        assert!(lines[1].contains(",2,\"ra\",\"cannot parse \"\"abc\"\" as double\",\"<TR><TD>2</TD><TD>abc</TD><TD>2 3</TD></TR>\""), "{}", lines[1]);
        assert!(
            lines[2].contains(",3,\"tags\",\"cannot parse \"\"x\"\" as short\""),
            "{}",
            lines[2]
        );
        assert!(
            lines[3].contains(",5,\"tags\",\"the row has 2 TD cells; the table has 3 columns\""),
            "{}",
            lines[3]
        );
        assert!(
            lines[4].contains(",6,\"tags\",") && lines[4].contains("<TD>6 &amp;</TD>"),
            "{}",
            lines[4]
        );
    }

    /// BINARY/BINARY2 bytes builder.
    #[derive(Default)]
    struct Bytes(Vec<u8>);
    impl Bytes {
        fn i32(&mut self, v: i32) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i16(&mut self, v: i16) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn i64(&mut self, v: i64) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn f64(&mut self, v: f64) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn f32(&mut self, v: f32) -> &mut Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        fn raw(&mut self, b: &[u8]) -> &mut Self {
            self.0.extend_from_slice(b);
            self
        }
        fn ucs2(&mut self, s: &str) -> &mut Self {
            for u in s.encode_utf16() {
                self.0.extend_from_slice(&u.to_be_bytes());
            }
            self
        }
        /// base64 in lines of 76 characters, as most writers do.
        fn base64(&self) -> String {
            let b = base64::engine::general_purpose::STANDARD.encode(&self.0);
            b.as_bytes()
                .chunks(76)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
    }

    const BIN_FIELDS: &str = r#"
   <FIELD name="id" datatype="int"><VALUES null="-1"/></FIELD>
   <FIELD name="x" datatype="double"/>
   <FIELD name="flag" datatype="boolean"/>
   <FIELD name="name" datatype="char" arraysize="8"/>
   <FIELD name="uname" datatype="unicodeChar" arraysize="*"/>
   <FIELD name="arr" datatype="short" arraysize="*"/>
   <FIELD name="fixed" datatype="float" arraysize="2"/>
   <FIELD name="b" datatype="unsignedByte"/>
   <FIELD name="c" datatype="char"/>"#;

    fn binary_rows() -> Bytes {
        let mut b = Bytes::default();
        // Row 1.
        b.i32(1).f64(1.5).raw(b"T").raw(b"abc\0\0\0\0\0");
        b.i32(2).ucs2("é星");
        b.i32(2).i16(7).i16(-8);
        b.f32(1.0).f32(f32::NAN);
        b.raw(&[200]).raw(b"Z");
        // Row 2: nulls.
        b.i32(-1).f64(f64::NAN).raw(b"?").raw(b"        ");
        b.i32(0);
        b.i32(0);
        b.f32(f32::NAN).f32(f32::NAN);
        b.raw(&[0]).raw(b" ");
        // Row 3.
        b.i32(i32::MAX).f64(-2.25).raw(b"F").raw(b"12345678");
        b.i32(1).ucs2("☺");
        b.i32(3).i16(1).i16(2).i16(3);
        b.f32(-1.0).f32(2.5);
        b.raw(&[255]).raw(b"q");
        b
    }

    fn check_binary(batch: &RecordBatch) {
        assert_eq!(batch.num_rows(), 3);
        let id = batch.column(0).as_primitive::<Int32Type>();
        assert_eq!(id.value(0), 1);
        assert!(id.is_null(1));
        assert_eq!(id.value(2), i32::MAX);
        let x = batch.column(1).as_primitive::<Float64Type>();
        assert_eq!(x.value(0), 1.5);
        assert!(x.is_null(1));
        assert_eq!(x.value(2), -2.25);
        let flag = batch.column(2).as_boolean();
        assert!(flag.value(0) && flag.is_null(1) && !flag.value(2) && flag.is_valid(2));
        let name = batch.column(3).as_string::<i32>();
        assert_eq!(name.value(0), "abc");
        assert!(name.is_null(1));
        assert_eq!(name.value(2), "12345678");
        let uname = batch.column(4).as_string::<i32>();
        assert_eq!(uname.value(0), "é星");
        assert!(uname.is_null(1));
        assert_eq!(uname.value(2), "☺");
        let arr = batch.column(5).as_list::<i32>();
        assert_eq!(arr.value(0).as_primitive::<Int16Type>().values(), &[7, -8]);
        assert!(arr.is_valid(1));
        assert_eq!(arr.value(1).len(), 0);
        assert_eq!(
            arr.value(2).as_primitive::<Int16Type>().values(),
            &[1, 2, 3]
        );
        let fixed = batch.column(6).as_fixed_size_list();
        let f0 = fixed.value(0);
        let f0 = f0.as_primitive::<Float32Type>();
        assert_eq!(f0.value(0), 1.0);
        assert!(f0.is_null(1));
        let f1 = fixed.value(1);
        assert_eq!(f1.null_count(), 2);
        assert_eq!(
            fixed.value(2).as_primitive::<Float32Type>().values(),
            &[-1.0, 2.5]
        );
        let b = batch.column(7).as_primitive::<UInt8Type>();
        assert_eq!(b.values(), &[200, 0, 255]);
        let c = batch.column(8).as_string::<i32>();
        assert_eq!(c.value(0), "Z");
        assert!(c.is_null(1));
        assert_eq!(c.value(2), "q");
    }

    #[test]
    fn binary_stream() {
        let data = format!(
            "<BINARY><STREAM encoding=\"base64\">\n{}\n</STREAM></BINARY>",
            binary_rows().base64()
        );
        let p = tmp("bin.vot", votable(BIN_FIELDS, &data).as_bytes());
        let (src, batch) = one_batch(&p);
        check_binary(&batch);
        assert_eq!(src.meta().fields[0].null.as_deref(), Some("-1"));
    }

    /// The base64 text cut by comments, a character reference and CDATA,
    /// through a reader whose buffer is smaller than a base64 quantum, and
    /// base64 written as separately padded blocks.
    #[test]
    fn binary_stream_split_everywhere() {
        let rows = binary_rows();
        let b64 = rows.base64();
        let (a, rest) = b64.split_at(10);
        let (b, rest) = rest.split_at(33);
        let (c, d) = rest.split_at(7);
        let data = format!(
            "<BINARY><STREAM encoding=\"base64\">{a}<!-- a comment -->{b}&#10;<![CDATA[{c}]]>\r\n{d}</STREAM></BINARY>"
        );
        let xml = votable(BIN_FIELDS, &data);
        for cap in [1, 3, 5, 64] {
            let input = std::io::BufReader::with_capacity(
                cap,
                std::io::Cursor::new(xml.clone().into_bytes()),
            );
            let mut src = VOTableSource::from_reader(
                "mem".into(),
                Box::new(input),
                "mem".into(),
                &ReadOptions::default(),
            )
            .unwrap();
            let batches = read_all(&mut src).unwrap();
            assert_eq!(batches.len(), 1);
            check_binary(&batches[0].batch);
        }
        // Padded blocks: each row encoded on its own.
        let bytes = &rows.0;
        let mid = 37; // not a multiple of 3: the first block ends in padding
        let e = &base64::engine::general_purpose::STANDARD;
        let data = format!(
            "<BINARY><STREAM encoding='base64'>{}\n{}</STREAM></BINARY>",
            e.encode(&bytes[..mid]),
            e.encode(&bytes[mid..])
        );
        let p = tmp("bin-blocks.vot", votable(BIN_FIELDS, &data).as_bytes());
        let (_, batch) = one_batch(&p);
        check_binary(&batch);
    }

    const BIN2_FIELDS: &str = r#"
   <FIELD name="id" datatype="long"/>
   <FIELD name="x" datatype="float"/>
   <FIELD name="s" datatype="char" arraysize="*"/>
   <FIELD name="u" datatype="unicodeChar" arraysize="4"/>
   <FIELD name="arr" datatype="int" arraysize="*"/>
   <FIELD name="flag" datatype="boolean"/>
   <FIELD name="bits" datatype="bit" arraysize="10"/>
   <FIELD name="m" datatype="double" arraysize="2x2"/>
   <FIELD name="v" datatype="short" arraysize="2x*"><VALUES null="-99"/></FIELD>"#;

    fn binary2_rows() -> Bytes {
        let mut b = Bytes::default();
        // Row 1: nothing null.
        b.raw(&[0, 0]);
        b.i64(1 << 40)
            .f32(0.5)
            .i32(5)
            .raw(b"hello")
            .ucs2("Zoë")
            .raw(&[0, 0]);
        b.i32(2)
            .i32(10)
            .i32(-20)
            .raw(b"T")
            .raw(&[0b1010_0000, 0b0100_0000]);
        b.f64(1.0).f64(2.0).f64(3.0).f64(4.0);
        b.i32(2).i16(1).i16(2).i16(-99).i16(4);
        // Row 2: id, s, arr, flag, m null (bits 0, 2, 4, 5, 7); x is NaN.
        b.raw(&[0b1010_1101, 0]);
        b.i64(0).f32(f32::NAN).i32(0).ucs2("abcd");
        b.i32(0).raw(b"T").raw(&[0xff, 0xc0]);
        b.f64(0.0).f64(0.0).f64(0.0).f64(0.0);
        b.i32(1).i16(5).i16(6);
        // Row 3: v null (bit 8), an empty string that is not null.
        b.raw(&[0, 0b1000_0000]);
        b.i64(-3)
            .f32(-1.0)
            .i32(0)
            .ucs2("a")
            .raw(&[0, 0, 0, 0, 0, 0]);
        b.i32(1).i32(7).raw(b"F").raw(&[0, 0]);
        b.f64(-1.0).f64(-2.0).f64(-3.0).f64(-4.0);
        b.i32(1).i16(8).i16(9);
        b
    }

    #[test]
    fn binary2_stream() {
        let data = format!(
            "<BINARY2>\n <STREAM encoding=\"base64\">\n{}\n </STREAM>\n</BINARY2>",
            binary2_rows().base64()
        );
        let p = tmp("bin2.vot", votable(BIN2_FIELDS, &data).as_bytes());
        let (_, batch) = one_batch(&p);
        assert_eq!(batch.num_rows(), 3);
        let id = batch.column(0).as_primitive::<Int64Type>();
        assert_eq!(id.value(0), 1 << 40);
        assert!(id.is_null(1));
        assert_eq!(id.value(2), -3);
        let x = batch.column(1).as_primitive::<Float32Type>();
        assert_eq!(x.value(0), 0.5);
        assert!(x.is_null(1));
        let s = batch.column(2).as_string::<i32>();
        assert_eq!(s.value(0), "hello");
        assert!(s.is_null(1));
        assert!(s.is_valid(2));
        assert_eq!(s.value(2), "");
        let u = batch.column(3).as_string::<i32>();
        assert_eq!(u.value(0), "Zoë");
        assert_eq!(u.value(1), "abcd");
        assert_eq!(u.value(2), "a");
        let arr = batch.column(4).as_list::<i32>();
        assert_eq!(
            arr.value(0).as_primitive::<Int32Type>().values(),
            &[10, -20]
        );
        assert!(arr.is_null(1));
        assert_eq!(arr.value(2).as_primitive::<Int32Type>().values(), &[7]);
        let flag = batch.column(5).as_boolean();
        assert!(flag.value(0) && flag.is_null(1) && !flag.value(2) && flag.is_valid(2));
        let bits = batch.column(6).as_fixed_size_list();
        let b0 = bits.value(0);
        let b0: Vec<bool> = b0.as_boolean().iter().map(|v| v.unwrap()).collect();
        assert_eq!(
            b0,
            [true, false, true, false, false, false, false, false, false, true]
        );
        let b1 = bits.value(1);
        assert!(b1.as_boolean().iter().all(|v| v == Some(true)));
        let m = batch.column(7).as_list::<i32>();
        assert_eq!(
            m.value(0).as_primitive::<Float64Type>().values(),
            &[1.0, 2.0, 3.0, 4.0]
        );
        assert!(m.is_null(1));
        let v = batch.column(8).as_list::<i32>();
        let v0 = v.value(0);
        let v0 = v0.as_primitive::<Int16Type>();
        assert_eq!(v0.len(), 4);
        assert!(v0.is_null(2));
        assert_eq!(v0.value(3), 4);
        assert_eq!(v.value(1).as_primitive::<Int16Type>().values(), &[5, 6]);
        assert!(v.is_null(2));
    }

    #[test]
    fn binary_bad_value_and_rejects() {
        let mut b = Bytes::default();
        b.i32(1).raw(b"T");
        b.i32(2).raw(b"X");
        b.i32(3).raw(b"F");
        let fields = r#"<FIELD name="id" datatype="int"/><FIELD name="flag" datatype="boolean"/>"#;
        let data = format!(
            "<BINARY><STREAM encoding=\"base64\">{}</STREAM></BINARY>",
            b.base64()
        );
        let p = tmp("bin-bad.vot", votable(fields, &data).as_bytes());
        let mut src = VOTableSource::open(&p, &ReadOptions::default()).unwrap();
        let err = read_all(&mut src).unwrap_err();
        assert!(
            matches!(&err, CatalogError::Input { line: 2, column, message, .. }
                if column == "flag" && message.contains("invalid boolean byte 0x58")),
            "{err}"
        );
        let (opts, rejects, sink) = with_rejects();
        let mut src = VOTableSource::open(&p, &opts).unwrap();
        let batches = read_all(&mut src).unwrap();
        let shape: Vec<_> = batches
            .iter()
            .map(|b| (b.first_line, b.batch.num_rows()))
            .collect();
        assert_eq!(shape, [(1, 1), (3, 1)]);
        assert_eq!(
            batches[1]
                .batch
                .column(0)
                .as_primitive::<Int32Type>()
                .value(0),
            3
        );
        assert_eq!(rejects.count(), 1);
        assert!(
            sink.text().contains(",2,\"flag\",") && sink.text().contains("\"hex:0000000258\""),
            "{}",
            sink.text()
        );
    }

    #[test]
    fn truncated_stream_is_a_format_error() {
        let mut b = Bytes::default();
        b.i32(1).i32(2).i32(3);
        let fields = r#"<FIELD name="a" datatype="int"/><FIELD name="b" datatype="int"/>"#;
        let data = format!(
            "<BINARY><STREAM encoding=\"base64\">{}</STREAM></BINARY>",
            b.base64()
        );
        let p = tmp("bin-trunc.vot", votable(fields, &data).as_bytes());
        let mut src = VOTableSource::open(&p, &ReadOptions::default()).unwrap();
        let err = read_all(&mut src).unwrap_err();
        assert!(
            matches!(&err, CatalogError::Format { message, .. } if message.contains("row 2") && message.contains("ends in the middle of a row")),
            "{err}"
        );
    }

    #[test]
    fn declared_metadata_overrides_and_unknown_column() {
        let p = tmp("declared.vot", tabledata().as_bytes());
        let declared = TableMeta {
            name: "other".into(),
            description: None,
            fields: vec![
                FieldMeta {
                    name: "RA".into(),
                    datatype: "float".into(),
                    unit: Some("rad".into()),
                    ucd: Some("pos.eq.ra;meta.main".into()),
                    description: Some("Declared RA".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "id".into(),
                    datatype: "int".into(),
                    xtype: Some("x".into()),
                    utype: Some("u".into()),
                    ..Default::default()
                },
            ],
        };
        let opts = ReadOptions {
            declared: Some(declared.clone()),
            ..Default::default()
        };
        let src = VOTableSource::open(&p, &opts).unwrap();
        let meta = src.meta();
        let ra = &meta.fields[1];
        assert_eq!(ra.name, "ra");
        assert_eq!(ra.datatype, "double");
        assert_eq!(ra.unit.as_deref(), Some("rad"));
        assert_eq!(ra.ucd.as_deref(), Some("pos.eq.ra;meta.main"));
        assert_eq!(ra.description.as_deref(), Some("Declared RA"));
        let id = &meta.fields[0];
        assert_eq!(id.ucd.as_deref(), Some("meta.id"), "not declared: kept");
        assert_eq!(id.xtype.as_deref(), Some("x"));
        assert_eq!(id.utype.as_deref(), Some("u"));
        assert_eq!(meta.name, "test_table");
        assert_eq!(src.schema().field(1).data_type(), &DataType::Float64);

        let mut bad = declared;
        bad.fields.push(FieldMeta {
            name: "dec".into(),
            datatype: "double".into(),
            ..Default::default()
        });
        let opts = ReadOptions {
            declared: Some(bad),
            ..Default::default()
        };
        let err = VOTableSource::open(&p, &opts).err().unwrap();
        let expected = format!(
            "--metadata names column dec, which {} does not have; its columns are: id, ra, flag, name, uname, mags, vals, b, l",
            p.display()
        );
        assert!(
            matches!(&err, CatalogError::Metadata(m) if *m == expected),
            "{err}"
        );
    }

    #[test]
    fn unsupported_serializations() {
        let fields = r#"<FIELD name="a" datatype="int"/>"#;
        let p = tmp(
            "fits.vot",
            votable(fields, r#"<FITS extnum="1"><STREAM href="x.fits"/></FITS>"#).as_bytes(),
        );
        let err = VOTableSource::open(&p, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Format { message, .. } if message.contains("FITS-serialized VOTable is not supported")),
            "{err}"
        );

        let p = tmp(
            "href.vot",
            votable(
                fields,
                r#"<BINARY><STREAM href="http://example.org/data.bin"/></BINARY>"#,
            )
            .as_bytes(),
        );
        let err = VOTableSource::open(&p, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Format { message, .. } if message.contains("href") && message.contains("not supported")),
            "{err}"
        );

        let p = tmp(
            "gzip-stream.vot",
            votable(
                fields,
                r#"<BINARY2><STREAM encoding="gzip">AAAA</STREAM></BINARY2>"#,
            )
            .as_bytes(),
        );
        let err = VOTableSource::open(&p, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Format { message, .. } if message.contains("encoding \"gzip\"")),
            "{err}"
        );

        let p = tmp(
            "complex.vot",
            votable(r#"<FIELD name="z" datatype="doubleComplex"/>"#, "").as_bytes(),
        );
        let err = VOTableSource::open(&p, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Format { message, .. } if message.contains("doubleComplex")),
            "{err}"
        );

        let p = tmp(
            "dup.vot",
            votable(
                r#"<FIELD name="a" datatype="int"/><FIELD name="A" datatype="int"/>"#,
                "",
            )
            .as_bytes(),
        );
        let err = VOTableSource::open(&p, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Format { message, .. } if message.contains("same name")),
            "{err}"
        );

        let p = tmp(
            "notxml.vot",
            b"<VOTABLE><RESOURCE><TABLE><FIELD name=\"a\" datatype=\"int\"></RESOURCE>",
        );
        let err = VOTableSource::open(&p, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            matches!(&err, CatalogError::Format { file, message } if message.contains("malformed XML at byte") && file.ends_with("notxml.vot")),
            "{err}"
        );
    }

    #[test]
    fn tables_without_rows() {
        let fields = r#"<FIELD name="a" datatype="int"/>"#;
        for (i, data) in [
            "",
            "<TABLEDATA/>",
            "<TABLEDATA></TABLEDATA>",
            "<BINARY><STREAM encoding=\"base64\"/></BINARY>",
            "<BINARY2><STREAM encoding=\"base64\">\n</STREAM></BINARY2>",
        ]
        .iter()
        .enumerate()
        {
            let xml = votable(fields, data).replace("<DATA>\n\n   </DATA>", "");
            let p = tmp(&format!("empty{i}.vot"), xml.as_bytes());
            let mut src = VOTableSource::open(&p, &ReadOptions::default()).unwrap();
            assert!(read_all(&mut src).unwrap().is_empty(), "{data}");
            assert_eq!(src.schema().fields().len(), 1);
        }
        // No TABLE name: the file's name stands in.
        let p = tmp("Unnamed.vot.gz", b"<VOTABLE><RESOURCE><TABLE><FIELD name=\"a\" datatype=\"int\"/></TABLE></RESOURCE></VOTABLE>");
        let src = VOTableSource::open(&p, &ReadOptions::default()).unwrap();
        assert_eq!(src.meta().name, "Unnamed");
    }

    #[test]
    fn source_is_send() {
        fn send<T: Send>() {}
        send::<VOTableSource>();
    }

    #[test]
    fn arraysize_shapes() {
        assert!(matches!(parse_arraysize(None), Ok(BinShape::Fixed(1))));
        assert!(matches!(
            parse_arraysize(Some("10")),
            Ok(BinShape::Fixed(10))
        ));
        assert!(matches!(parse_arraysize(Some("*")), Ok(BinShape::Var(1))));
        assert!(matches!(parse_arraysize(Some("10*")), Ok(BinShape::Var(1))));
        assert!(matches!(
            parse_arraysize(Some("3x2")),
            Ok(BinShape::Fixed(6))
        ));
        assert!(matches!(
            parse_arraysize(Some("3x2x*")),
            Ok(BinShape::Var(6))
        ));
        assert!(parse_arraysize(Some("*x3")).is_err());
        assert!(parse_arraysize(Some("abc")).is_err());
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("-0x10"), Some(-16));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("--7"), None);
        assert_eq!(parse_int("1.0"), None);
    }
}
