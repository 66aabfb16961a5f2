//! CSV and ECSV input.
//!
//! [`CsvSource`] streams a CSV or ECSV file (optionally gzipped) as Arrow
//! record batches, in constant memory.
//!
//! **Plain CSV.** The first line holds the column names (kept as written,
//! trimmed of surrounding whitespace). Column types come from `--metadata`
//! ([`ReadOptions::declared`]) where it names the column, and are otherwise
//! inferred from the first [`INFER_ROWS`] data rows: the narrowest of
//! Int64, Float64, Boolean (`true`/`false`/`T`/`F`, any case) and Utf8 that
//! every non-empty sampled value parses as. An empty field is null. Rows after
//! the sample must fit the inferred type: an Int64 column that later meets
//! `1.5` is an error, never a silent widening.
//!
//! **ECSV** (astropy ECSV 1.0, as the Gaia archive writes `GaiaSource_*.csv.gz`).
//! The `# `-prefixed YAML header gives the delimiter (default: a space), the
//! columns' datatypes, units, descriptions and UCDs (`meta: {ucd: ...}`) and
//! the table's description (`meta: {description: ...}`). Array and object
//! columns (those with a `subtype`, e.g. `float64[3]`, `int64[null]`, `json`)
//! are kept as their JSON text (Utf8). Fields may be double-quoted; `null`,
//! an empty field and `""` are all null; booleans are `True`/`False`.
//!
//! **Errors.** Every value that does not parse, and every row with the wrong
//! number of fields, is a [`CatalogError::Input`] naming the 1-based physical
//! line in the (decompressed) file, counting header and comment lines, and
//! the column. With a [`Rejects`] sink the row is written there (as read) and
//! skipped instead.
//!
//! **Batches.** Rows of one [`SourceBatch`] are on consecutive lines: a batch
//! ends early after a rejected row, at blank or comment lines, after a
//! record whose quoted fields span several lines, and once its buffers hold
//! about [`InputLimits::batch_bytes`].
//!
//! **Limits** ([`CsvSource::open_with_limits`]). The file is read through a
//! [`LimitedReader`]: at most [`InputLimits::max_decompressed_bytes`] in all,
//! [`InputLimits::max_header_bytes`] of ECSV header, and
//! [`InputLimits::max_row_bytes`] per record (blank and comment lines before
//! it included), so no record is buffered beyond that. A field longer than
//! [`InputLimits::max_cell_bytes`] and more than [`InputLimits::max_columns`]
//! columns are refused. YAML anchors and aliases in an ECSV header are
//! refused unless [`InputLimits::allow_yaml_aliases`], and even then the
//! header may expand to at most [`MAX_YAML_NODES`] nodes; it may nest at most
//! [`MAX_YAML_DEPTH`] levels. Type inference samples at most
//! [`InputLimits::batch_bytes`] of rows. A limit passed is a
//! [`CatalogError::Limit`], never a rejected row.
//!
//! **Parts.** This module drives the reading ([`CsvSource`]); `rows` reads
//! records with their physical line numbers and infers column types from a
//! sample, `columns` builds each column's values for a batch and parses
//! numbers and booleans, `ecsv` reads the ECSV header within its limits.

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use ::csv::ByteRecord;
use arrow::datatypes::{Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::error::{CatalogError, Result};
use crate::input::{
    open_input, InputLimits, LimitedReader, ReadOptions, Rejects, Source, SourceBatch,
};
use astrolake_vo::{FieldMeta, TableMeta};

mod columns;
mod ecsv;
mod rows;

use columns::{Bad, Column, Kind, Origin};
use ecsv::{overlay, read_ecsv_header, table_name};
use rows::{infer_kinds, row_window, Rows, Tee};

/// The file as read, within its limits.
type Input = LimitedReader<Box<dyn BufRead + Send>>;

/// Number of data rows sampled to infer the types of plain-CSV columns that
/// `--metadata` does not declare.
pub const INFER_ROWS: usize = 10_000;

/// Raw input kept for rejects is trimmed once it grows past this.
const TEE_TRIM_BYTES: usize = 4 << 20;
/// A batch ends once a string column holds this many bytes (Utf8 offsets are
/// 32-bit).
const STRING_BATCH_BYTES: usize = 1 << 30;
/// Longest value quoted in an error message.
const MAX_QUOTED: usize = 80;
/// The CSV parser's read buffer: how far it may read ahead of the record it
/// parses.
const CSV_BUFFER: usize = 1 << 16;

/// A CSV or ECSV file as a [`Source`]: see the [module docs](self).
pub struct CsvSource {
    name: String,
    schema: SchemaRef,
    meta: TableMeta,
    rows: Rows,
    cols: Vec<Column>,
    /// Indices of the Utf8 columns.
    str_cols: Vec<usize>,
    /// `null` (unquoted or quoted) is a null value (ECSV).
    null_literal: bool,
    /// Whitespace-only lines are skipped (ECSV).
    skip_blank: bool,
    batch_rows: usize,
    rejects: Option<Rejects>,
    limits: InputLimits,
}

impl CsvSource {
    /// Open `path` (gzipped or not) as plain CSV (`ecsv = false`) or ECSV, read
    /// its header, and (plain CSV) infer the types of the columns that
    /// `opts.declared` does not declare from the first [`INFER_ROWS`] rows.
    ///
    /// Errors: [`CatalogError::Format`] for an unreadable file or header,
    /// [`CatalogError::Metadata`] when `opts.declared` names a column the file
    /// does not have or has an unsupported datatype.
    pub fn open(path: &Path, ecsv: bool, opts: &ReadOptions) -> Result<CsvSource> {
        Self::open_with_limits(path, ecsv, opts, &InputLimits::default())
    }

    /// [`CsvSource::open`], reading the file within `limits` (see the
    /// [module docs](self)).
    pub fn open_with_limits(
        path: &Path,
        ecsv: bool,
        opts: &ReadOptions,
        limits: &InputLimits,
    ) -> Result<CsvSource> {
        let file = path.display().to_string();
        let mut input = open_input(path, limits)?;
        let (header, header_lines) = if ecsv {
            input.set_header_limit(Some(limits.max_header_bytes));
            let read = read_ecsv_header(&mut input, &file, limits);
            let (h, n) = read.map_err(|e| {
                input
                    .limit_error(&file, limits, "the ECSV header")
                    .unwrap_or(e)
            })?;
            input.set_header_limit(None);
            (Some(h), n)
        } else {
            (None, 0)
        };
        let header_bytes = input.consumed();
        input.set_window(Some((header_bytes, row_window(limits))));
        let reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(header.as_ref().map_or(b',', |h| h.delimiter))
            .quote(b'"')
            .double_quote(true)
            .comment(if ecsv { Some(b'#') } else { None })
            .buffer_capacity(CSV_BUFFER)
            .from_reader(Tee {
                inner: input,
                buf: Vec::new(),
                base: 0,
            });
        let mut rows = Rows {
            file: file.clone(),
            reader,
            pending: VecDeque::new(),
            cur: ByteRecord::new(),
            cur_line: 0,
            cur_span: (0, 0),
            have_cur: false,
            prev_end: 0,
            nl_before: header_lines,
            line_base: header_lines,
            trim_ok: false,
            header_bytes,
            limits: limits.clone(),
        };

        // The column-name line.
        loop {
            if !rows.read_record()? {
                return Err(CatalogError::format(
                    &file,
                    if ecsv {
                        "no column-name line after the ECSV header"
                    } else {
                        "empty file: no header line"
                    },
                ));
            }
            if !(ecsv && rows.is_blank_line()) {
                break;
            }
        }
        let header_line = rows.cur_line;
        limits.check_columns(
            &file,
            rows.cur.len(),
            &format!("line {header_line}: the column-name line"),
        )?;
        let mut names: Vec<String> = rows
            .cur
            .iter()
            .map(|f| String::from_utf8_lossy(f).trim().to_string())
            .collect();
        if let Some(first) = names.first_mut() {
            if let Some(rest) = first.strip_prefix('\u{feff}') {
                *first = rest.trim().to_string();
            }
        }
        for (i, n) in names.iter().enumerate() {
            if n.is_empty() {
                return Err(CatalogError::format(
                    &file,
                    format!(
                        "line {header_line}: column {} of the header line has no name",
                        i + 1
                    ),
                ));
            }
            if let Some(j) = names[..i].iter().position(|m| m == n) {
                return Err(CatalogError::format(
                    &file,
                    format!(
                        "line {header_line}: column name {n:?} appears twice in the header line \
                         (columns {} and {})",
                        j + 1,
                        i + 1
                    ),
                ));
            }
        }
        if let Some(h) = &header {
            let declared: Vec<&str> = h.columns.iter().map(|c| c.name.as_str()).collect();
            if declared != names.iter().map(String::as_str).collect::<Vec<_>>() {
                return Err(CatalogError::format(
                    &file,
                    format!(
                        "line {header_line}: the column names ({}) do not match the ECSV header's \
                         datatype list ({})",
                        names.join(", "),
                        declared.join(", ")
                    ),
                ));
            }
        }

        // Declared metadata.
        let declared: Vec<Option<FieldMeta>> = match &opts.declared {
            Some(d) => {
                for f in &d.fields {
                    if !names.iter().any(|n| n.eq_ignore_ascii_case(&f.name)) {
                        return Err(astrolake_vo::unknown_declared_column(
                            &f.name,
                            &file,
                            names.iter().map(String::as_str),
                        )
                        .into());
                    }
                }
                names.iter().map(|n| d.field(n).cloned()).collect()
            }
            None => vec![None; names.len()],
        };

        // Column kinds.
        let mut kinds: Vec<Option<(Kind, Origin)>> = Vec::with_capacity(names.len());
        for (i, d) in declared.iter().enumerate() {
            kinds.push(match (d, &header) {
                (Some(fm), _) => {
                    let dt = fm
                        .arrow_type()
                        .map_err(|e| CatalogError::Metadata(format!("--metadata: {e}")))?;
                    Some((Kind::from_arrow(&dt), Origin::Declared))
                }
                (None, Some(h)) => {
                    let c = &h.columns[i];
                    Some((c.kind, Origin::Ecsv(c.type_text())))
                }
                (None, None) => None,
            });
        }
        if kinds.iter().any(Option::is_none) {
            let inferred = infer_kinds(&mut rows, names.len())?;
            for (k, inf) in kinds.iter_mut().zip(inferred) {
                if k.is_none() {
                    *k = Some((inf, Origin::Inferred));
                }
            }
        }
        rows.trim_ok = true;

        // Schema, metadata, buffers.
        let row_bytes: u64 = kinds
            .iter()
            .map(|k| k.as_ref().map_or(8, |(k, _)| k.width()))
            .sum();
        let batch_rows = limits.batch_rows_for(opts.batch_rows(), row_bytes);
        let cap = batch_rows.min(1 << 16);
        let mut fields = Vec::with_capacity(names.len());
        let mut metas = Vec::with_capacity(names.len());
        let mut cols = Vec::with_capacity(names.len());
        for (i, (name, kind)) in names.iter().zip(kinds).enumerate() {
            let (kind, origin) = kind.expect("every column has a kind");
            let field = Field::new(name, kind.arrow(), true);
            let mut fm = FieldMeta::from_arrow(&field);
            if let Some(h) = &header {
                let c = &h.columns[i];
                overlay(&mut fm, &c.unit, &c.ucd, &c.utype, &c.xtype, &c.description);
            }
            if let Some(d) = &declared[i] {
                fm.overlay(d);
            }
            fields.push(field);
            metas.push(fm);
            cols.push(Column::new(name.clone(), kind, origin, cap));
        }
        let description = opts
            .declared
            .as_ref()
            .and_then(|d| d.description.clone())
            .or_else(|| header.as_ref().and_then(|h| h.description.clone()));
        let meta = TableMeta {
            name: table_name(path),
            description,
            fields: metas,
        };
        let str_cols = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == Kind::Str)
            .map(|(i, _)| i)
            .collect();
        Ok(CsvSource {
            name: file,
            schema: Arc::new(Schema::new(fields)),
            meta,
            rows,
            cols,
            str_cols,
            null_literal: ecsv,
            skip_blank: ecsv,
            batch_rows,
            rejects: opts.rejects.clone(),
            limits: limits.clone(),
        })
    }

    /// Append the current record to the column buffers; on error, some columns
    /// may hold one value too many (see [`CsvSource::truncate`]).
    fn append_current(&mut self) -> Result<()> {
        let rec = &self.rows.cur;
        let line = self.rows.cur_line;
        if rec.len() != self.cols.len() {
            let n = self.cols.len();
            let (column, detail) = if rec.len() < n {
                (
                    self.cols[rec.len()].name.clone(),
                    "the row ends before this column",
                )
            } else {
                (
                    self.cols[n - 1].name.clone(),
                    "the row has fields after this last column",
                )
            };
            return Err(CatalogError::input(
                &self.name,
                line,
                column,
                format!("expected {n} fields, found {} ({detail})", rec.len()),
            ));
        }
        let max_cell = self.limits.max_cell_bytes;
        if rec.as_slice().len() as u64 > max_cell {
            if let Some(i) = (0..rec.len()).find(|&i| rec[i].len() as u64 > max_cell) {
                return Err(self.limits.error(
                    &self.name,
                    format!(
                        "line {line}: column {}: a value of {} bytes",
                        self.cols[i].name,
                        rec[i].len()
                    ),
                    "max_cell_bytes",
                ));
            }
        }
        let null_literal = self.null_literal;
        // Validate UTF-8 once for the whole row; fields are then slices of it.
        let failed = match std::str::from_utf8(rec.as_slice()) {
            Ok(all) => self.cols.iter_mut().enumerate().find_map(|(i, col)| {
                let field = rec.range(i).and_then(|r| all.get(r));
                match field {
                    Some(f) => col.push(f, null_literal),
                    None => Err(Bad::Utf8),
                }
                .err()
                .map(|bad| (i, bad))
            }),
            Err(_) => self
                .cols
                .iter_mut()
                .zip(rec.iter())
                .enumerate()
                .find_map(|(i, (col, f))| {
                    match std::str::from_utf8(f) {
                        Ok(f) => col.push(f, null_literal),
                        Err(_) => Err(Bad::Utf8),
                    }
                    .err()
                    .map(|bad| (i, bad))
                }),
        };
        match failed {
            None => Ok(()),
            Some((i, bad)) => {
                let col = &self.cols[i];
                Err(CatalogError::input(
                    &self.name,
                    line,
                    &col.name,
                    col.bad_message(&rec[i], bad),
                ))
            }
        }
    }

    /// Cut every column back to `rows` values.
    fn truncate(&mut self, rows: usize) {
        for c in &mut self.cols {
            c.truncate(rows);
        }
    }

    fn strings_full(&self) -> bool {
        let max =
            STRING_BATCH_BYTES.min(usize::try_from(self.limits.batch_bytes).unwrap_or(usize::MAX));
        let mut total = 0usize;
        self.str_cols.iter().any(|&i| {
            let n = self.cols[i].string_bytes();
            total += n;
            n >= STRING_BATCH_BYTES || total >= max
        })
    }
}

impl Source for CsvSource {
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
        let max = self.batch_rows;
        let mut rows = 0usize;
        let mut first_line = 0u64;
        loop {
            if !self.rows.have_cur && !self.rows.fetch()? {
                break;
            }
            if rows > 0
                && (rows >= max
                    || self.rows.cur_line != first_line + rows as u64
                    || (!self.str_cols.is_empty() && self.strings_full()))
            {
                break;
            }
            if self.skip_blank && self.rows.is_blank_line() {
                self.rows.have_cur = false;
                continue;
            }
            match self.append_current() {
                Ok(()) => {
                    if rows == 0 {
                        first_line = self.rows.cur_line;
                    }
                    rows += 1;
                }
                Err(e) => {
                    self.truncate(rows);
                    self.rows.have_cur = false;
                    if matches!(e, CatalogError::Limit { .. }) {
                        return Err(e);
                    }
                    match &self.rejects {
                        Some(r) => r.reject_error(&e, &self.rows.raw_text())?,
                        None => return Err(e),
                    }
                }
            }
            self.rows.have_cur = false;
        }
        if rows == 0 {
            return Ok(None);
        }
        let cap = self.batch_rows.min(1 << 16);
        let arrays = self
            .cols
            .iter_mut()
            .map(|c| c.finish(cap))
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)?;
        Ok(Some(SourceBatch { batch, first_line }))
    }
}

#[cfg(test)]
mod tests {
    use super::columns::{parse_bool, parse_f64, parse_i64, parse_u64};
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, Float32Type, Float64Type, Int16Type, Int64Type, Int8Type};
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    static COUNTER: AtomicUsize = AtomicUsize::new(0);

    /// A file in a per-test temporary directory, removed on drop.
    struct TempFile(PathBuf);
    impl Drop for TempFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    fn temp(name: &str, content: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "astrolake-csv-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, content).unwrap();
        TempFile(p)
    }

    fn read_all(src: &mut CsvSource) -> Result<Vec<SourceBatch>> {
        let mut out = Vec::new();
        while let Some(b) = src.next_batch()? {
            out.push(b);
        }
        Ok(out)
    }

    fn concat(batches: &[SourceBatch]) -> RecordBatch {
        let schema = batches[0].batch.schema();
        arrow::compute::concat_batches(&schema, batches.iter().map(|b| &b.batch)).unwrap()
    }

    #[derive(Clone, Default)]
    struct SharedBuf(Arc<Mutex<Vec<u8>>>);
    impl Write for SharedBuf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl SharedBuf {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn ty(src: &CsvSource, name: &str) -> DataType {
        src.schema()
            .field_with_name(name)
            .unwrap()
            .data_type()
            .clone()
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"+0012"), Some(12));
        assert_eq!(parse_i64(b"00000000000000000000012"), Some(12));
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"1.0"), None);
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"-1"), None);
        for s in [
            "NaN",
            "nan",
            "inf",
            "-inf",
            "+inf",
            "Infinity",
            "-Infinity",
            "INF",
        ] {
            assert!(parse_f64(s.as_bytes()).is_some(), "{s}");
        }
        assert!(parse_f64(b"nan").unwrap().is_nan());
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1.5e3"), Some(1500.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"1,5"), None);
        assert_eq!(parse_bool(b"TRUE"), Some(true));
        assert_eq!(parse_bool(b"f"), Some(false));
        assert_eq!(parse_bool(b"yes"), None);
    }

    #[test]
    fn infers_types() {
        let f = temp(
            "stars.csv",
            b" id , ra,flag,name,empty,mixed,bools2,special\n\
              1,10.5,T,alpha,,1,true,nan\n\
              2,11,F,beta,,2.5,FALSE,inf\n\
              -3,,t,,,3,,-inf\n\
              4,1e3,f,delta,,-4,True,Infinity\n",
        );
        let mut src = CsvSource::open(&f.0, false, &ReadOptions::default()).unwrap();
        let names: Vec<_> = src
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            names,
            ["id", "ra", "flag", "name", "empty", "mixed", "bools2", "special"]
        );
        assert_eq!(ty(&src, "id"), DataType::Int64);
        assert_eq!(ty(&src, "ra"), DataType::Float64);
        assert_eq!(ty(&src, "flag"), DataType::Boolean);
        assert_eq!(ty(&src, "name"), DataType::Utf8);
        assert_eq!(ty(&src, "empty"), DataType::Utf8);
        assert_eq!(ty(&src, "mixed"), DataType::Float64);
        assert_eq!(ty(&src, "bools2"), DataType::Boolean);
        assert_eq!(ty(&src, "special"), DataType::Float64);
        let meta = src.meta().clone();
        assert_eq!(meta.name, "stars");
        assert_eq!(meta.fields.len(), 8);
        assert_eq!(meta.fields[0].datatype, "long");
        assert_eq!(meta.fields[1].datatype, "double");
        assert_eq!(meta.fields[3].datatype, "char");
        let batches = read_all(&mut src).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].first_line, 2);
        let b = &batches[0].batch;
        assert_eq!(b.num_rows(), 4);
        let id = b.column(0).as_primitive::<Int64Type>();
        assert_eq!(id.values(), &[1, 2, -3, 4]);
        let ra = b.column(1).as_primitive::<Float64Type>();
        assert_eq!(ra.value(3), 1000.0);
        assert!(ra.is_null(2));
        let flag = b.column(2).as_boolean();
        assert_eq!(
            (0..4).map(|i| flag.value(i)).collect::<Vec<_>>(),
            [true, false, true, false]
        );
        let name = b.column(3).as_string::<i32>();
        assert_eq!(name.value(1), "beta");
        assert!(name.is_null(2));
        assert_eq!(b.column(4).null_count(), 4);
        let sp = b.column(7).as_primitive::<Float64Type>();
        assert!(sp.value(0).is_nan());
        assert_eq!(sp.value(1), f64::INFINITY);
        assert_eq!(sp.value(2), f64::NEG_INFINITY);
        assert_eq!(sp.value(3), f64::INFINITY);
    }

    #[test]
    fn nulls_in_every_type() {
        let f = temp("n.csv", b"i,x,b,s\n1,1.5,true,a\n,,,\n3, ,false,c\n");
        let mut src = CsvSource::open(&f.0, false, &ReadOptions::default()).unwrap();
        let b = concat(&read_all(&mut src).unwrap());
        for c in 0..4 {
            assert!(b.column(c).is_null(1), "column {c}");
            assert!(b.column(c).is_valid(0), "column {c}");
        }
        // Whitespace-only in a numeric column is null too.
        assert!(b.column(1).is_null(2));
        assert_eq!(b.column(1).null_count(), 2);
    }

    fn declared_meta() -> TableMeta {
        TableMeta {
            name: "decl".into(),
            description: Some("Declared table".into()),
            fields: vec![
                FieldMeta {
                    name: "RA".into(),
                    datatype: "float".into(),
                    unit: Some("deg".into()),
                    ucd: Some("pos.eq.ra;meta.main".into()),
                    description: Some("Right ascension".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "n".into(),
                    datatype: "short".into(),
                    ..Default::default()
                },
                FieldMeta {
                    name: "code".into(),
                    datatype: "char".into(),
                    arraysize: Some("*".into()),
                    utype: Some("x:code".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "vec".into(),
                    datatype: "double".into(),
                    arraysize: Some("3".into()),
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn declared_metadata() {
        let f = temp(
            "cat.csv",
            b"ra,dec,n,code,vec\n10.5,-5.25,3,007,1 2 3\n11.25,1,4,42,4 5 6\n",
        );
        let opts = ReadOptions {
            declared: Some(declared_meta()),
            ..Default::default()
        };
        let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
        assert_eq!(ty(&src, "ra"), DataType::Float32);
        assert_eq!(ty(&src, "dec"), DataType::Float64); // inferred
        assert_eq!(ty(&src, "n"), DataType::Int16);
        assert_eq!(ty(&src, "code"), DataType::Utf8); // declared char beats inferred int
        assert_eq!(ty(&src, "vec"), DataType::Utf8); // arrays kept as text
        let m = src.meta().clone();
        assert_eq!(m.name, "cat");
        assert_eq!(m.description.as_deref(), Some("Declared table"));
        let ra = &m.fields[0];
        assert_eq!(ra.name, "ra");
        assert_eq!(ra.datatype, "float");
        assert_eq!(ra.unit.as_deref(), Some("deg"));
        assert_eq!(ra.ucd.as_deref(), Some("pos.eq.ra;meta.main"));
        assert_eq!(ra.description.as_deref(), Some("Right ascension"));
        assert_eq!(m.fields[1].unit, None);
        assert_eq!(m.fields[3].utype.as_deref(), Some("x:code"));
        assert_eq!(m.fields[4].datatype, "char");
        let b = concat(&read_all(&mut src).unwrap());
        assert_eq!(b.column(0).as_primitive::<Float32Type>().value(1), 11.25);
        assert_eq!(b.column(2).as_primitive::<Int16Type>().value(0), 3);
        assert_eq!(b.column(3).as_string::<i32>().value(0), "007");
        assert_eq!(b.column(4).as_string::<i32>().value(1), "4 5 6");
    }

    #[test]
    fn declared_unknown_column() {
        let f = temp("cat.csv", b"ra,dec\n1,2\n");
        let mut meta = declared_meta();
        meta.fields.truncate(1);
        meta.fields.push(FieldMeta {
            name: "pmra".into(),
            datatype: "double".into(),
            ..Default::default()
        });
        let opts = ReadOptions {
            declared: Some(meta),
            ..Default::default()
        };
        let err = CsvSource::open(&f.0, false, &opts).err().unwrap();
        match err {
            CatalogError::Metadata(m) => assert_eq!(
                m,
                format!(
                    "--metadata names column pmra, which {} does not have; its columns are: ra, dec",
                    f.0.display()
                )
            ),
            other => panic!("{other}"),
        }
    }

    #[test]
    fn bad_value_after_sample_names_line_and_column() {
        let mut text = String::from("id,mag\n");
        for i in 0..INFER_ROWS + 5 {
            text.push_str(&format!("{i},{}.5\n", i % 20));
        }
        text.push_str("12.5,3\n"); // line INFER_ROWS + 7
        let f = temp("big.csv", text.as_bytes());
        let opts = ReadOptions {
            batch_rows: 1000,
            ..Default::default()
        };
        let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
        assert_eq!(ty(&src, "id"), DataType::Int64);
        let mut rows = 0;
        let err = loop {
            match src.next_batch() {
                Ok(Some(b)) => rows += b.batch.num_rows(),
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        // The batch holding the bad row fails as a whole.
        assert_eq!(rows, INFER_ROWS);
        match &err {
            CatalogError::Input {
                line,
                column,
                message,
                file,
            } => {
                assert_eq!(*line, INFER_ROWS as u64 + 7);
                assert_eq!(column, "id");
                assert_eq!(file, &f.0.display().to_string());
                assert!(
                    message.starts_with(
                        "cannot parse \"12.5\" as long (type inferred from the first 10000 rows"
                    ),
                    "{message}"
                );
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn bad_declared_value_in_sample() {
        let f = temp("c.csv", b"ra,dec\n1,2\n3,x4\n5,6\n");
        let opts = ReadOptions {
            declared: Some(TableMeta {
                fields: vec![FieldMeta {
                    name: "dec".into(),
                    datatype: "double".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
        let err = read_all(&mut src).err().unwrap();
        assert_eq!(
            err.to_string(),
            format!(
                "{}:3: column dec: cannot parse \"x4\" as double (type declared by --metadata)",
                f.0.display()
            )
        );
    }

    #[test]
    fn wrong_field_count() {
        let f = temp("w.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n");
        let mut src = CsvSource::open(&f.0, false, &ReadOptions::default()).unwrap();
        let err = read_all(&mut src).err().unwrap();
        match err {
            CatalogError::Input {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(line, 3);
                assert_eq!(column, "c");
                assert!(message.contains("expected 3 fields, found 2"), "{message}");
            }
            other => panic!("{other}"),
        }
        let f = temp("w.csv", b"a,b\n1,2\n4,5,6\n");
        let mut src = CsvSource::open(&f.0, false, &ReadOptions::default()).unwrap();
        let err = read_all(&mut src).err().unwrap();
        assert!(
            err.to_string()
                .contains(":3: column b: expected 2 fields, found 3"),
            "{err}"
        );
    }

    #[test]
    fn rejects_skip_rows_and_keep_lines_consecutive() {
        let mut text = String::from("ln,x,s\n");
        // ln holds the row's own physical line number.
        for line in 2..=40u64 {
            match line {
                7 => text.push_str("7,oops,\"q,\"\"uoted\"\"\"\n"),
                8 => text.push_str("8,1.5\n"),
                20 => text.push_str("20,2.5,x,extra\n"),
                _ => text.push_str(&format!("{line},{}.25,s{line}\n", line % 3)),
            }
        }
        let f = temp("r.csv", text.as_bytes());
        let sink = SharedBuf::default();
        let rejects = Rejects::to_writer(Box::new(sink.clone())).unwrap();
        let opts = ReadOptions {
            batch_rows: 5,
            declared: Some(TableMeta {
                fields: vec![FieldMeta {
                    name: "x".into(),
                    datatype: "double".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            rejects: Some(rejects.clone()),
        };
        let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
        let batches = read_all(&mut src).unwrap();
        let mut seen = Vec::new();
        for b in &batches {
            assert!(b.batch.num_rows() <= 5);
            let ln = b.batch.column(0).as_primitive::<Int64Type>();
            for i in 0..b.batch.num_rows() {
                assert_eq!(ln.value(i) as u64, b.first_line + i as u64);
                seen.push(ln.value(i));
            }
        }
        let expect: Vec<i64> = (2..=40).filter(|l| ![7, 8, 20].contains(l)).collect();
        assert_eq!(seen, expect);
        assert_eq!(rejects.count(), 3);
        let out = sink.text();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "file,line,column,reason,row");
        let file = f.0.display().to_string();
        assert_eq!(
            lines[1],
            format!(
                "\"{file}\",7,\"x\",\"cannot parse \"\"oops\"\" as double (type declared by --metadata)\",\"7,oops,\"\"q,\"\"\"\"uoted\"\"\"\"\"\"\""
            )
        );
        assert!(
            lines[2].starts_with(&format!("\"{file}\",8,\"s\",\"expected 3 fields, found 2")),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(",\"8,1.5\""), "{}", lines[2]);
        assert!(
            lines[3].contains(",20,\"s\",\"expected 3 fields, found 4"),
            "{}",
            lines[3]
        );
        assert!(lines[3].ends_with(",\"20,2.5,x,extra\""), "{}", lines[3]);
    }

    #[test]
    fn batches_end_at_gaps_multiline_records_and_crlf() {
        for eol in ["\n", "\r\n"] {
            let rows = [
                "ln,s", "2,a", "3,b", "", "5,c", "6,\"two", "lines\"", "8,d", "9,e", "", "", "12,f",
            ];
            let text = rows.join(eol) + eol;
            let f = temp("g.csv", text.as_bytes());
            let opts = ReadOptions {
                batch_rows: 3,
                ..Default::default()
            };
            let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
            let batches = read_all(&mut src).unwrap();
            let mut seen = Vec::new();
            for b in &batches {
                let ln = b.batch.column(0).as_primitive::<Int64Type>();
                for i in 0..b.batch.num_rows() {
                    assert_eq!(ln.value(i) as u64, b.first_line + i as u64, "{eol:?}");
                    seen.push(ln.value(i));
                }
            }
            assert_eq!(seen, [2, 3, 5, 6, 8, 9, 12], "{eol:?}");
            let firsts: Vec<u64> = batches.iter().map(|b| b.first_line).collect();
            assert_eq!(firsts, [2, 5, 8, 12], "{eol:?}");
        }
    }

    #[test]
    fn gzipped_input() {
        let mut text = String::from("id,ra,dec\n");
        for i in 0..25_000 {
            text.push_str(&format!("{i},{}.5,{}\n", i % 360, -(i % 90)));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let f = temp("stars.csv.gz", &gz.finish().unwrap());
        let opts = ReadOptions {
            batch_rows: 10_000,
            ..Default::default()
        };
        let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
        assert_eq!(src.meta().name, "stars");
        assert_eq!(ty(&src, "dec"), DataType::Int64);
        let batches = read_all(&mut src).unwrap();
        assert_eq!(
            batches
                .iter()
                .map(|b| b.batch.num_rows())
                .collect::<Vec<_>>(),
            [10_000, 10_000, 5_000]
        );
        assert_eq!(batches[2].first_line, 20_002);
        let last = batches[2].batch.column(0).as_primitive::<Int64Type>();
        assert_eq!(last.value(4999), 24_999);
    }

    const GAIA: &str = "\
# %ECSV 1.0
# ---
# delimiter: ','
# datatype:
# -
#   name: solution_id
#   datatype: int64
#   description: Solution Identifier
#   meta:
#     ucd: meta.version
# -
#   name: designation
#   datatype: string
#   description: Unique source designation (unique across all Data Releases)
#   meta:
#     ucd: meta.id;meta.main
# -
#   name: source_id
#   datatype: int64
#   description: Unique source identifier (unique within a particular Data Release)
#   meta:
#     ucd: meta.id
# -
#   name: ra
#   datatype: float64
#   unit: deg
#   description: Right ascension
#   meta:
#     ucd: pos.eq.ra;meta.main
#     utype: stc:AstroCoords.Position3D.Value3.C1
#     CoosysSystem: ICRS
#     CoosysEpoch: J2016.0
# -
#   name: pmra
#   datatype: float64
#   unit: mas.yr**-1
#   description: Proper motion in right ascension direction
#   meta:
#     ucd: pos.pm;pos.eq.ra
# -
#   name: phot_bp_mean_flux
#   datatype: float64
#   unit: '''electron''.s**-1'
#   description: Integrated BP mean flux
#   meta:
#     ucd: phot.flux;stat.mean;em.opt.B
# -
#   name: phot_bp_mean_mag
#   datatype: float32
#   unit: mag
#   description: Integrated BP mean magnitude
#   meta:
#     ucd: phot.mag;stat.mean;em.opt.B
# -
#   name: nu_eff_used_in_astrometry
#   datatype: float32
#   unit: um**-1
#   description: Effective wavenumber of the source used in the astrometric solution
#   meta:
#     ucd: em.wavenumber
# -
#   name: phot_variable_flag
#   datatype: string
#   description: Photometric variability flag
#   meta:
#     ucd: meta.code;src.var
# -
#   name: duplicated_source
#   datatype: bool
#   description: Source with multiple source identifiers
#   meta:
#     ucd: meta.code.status
# -
#   name: ruwe_bin
#   datatype: int8
#   meta:
#     ucd: stat.fit.goodness
# -
#   name: visibility_periods_used
#   datatype: int16
#   description: Number of visibility periods used in Astrometric solution
#   meta:
#     ucd: meta.number
# -
#   name: bp_coefficients
#   datatype: string
#   subtype: float64[3]
#   description: Basis function coefficients for BP spectrum
#   meta:
#     ucd: stat.fit.param
# -
#   name: epochs
#   datatype: string
#   subtype: int64[null]
#   description: Epochs of observation
# meta:
#   name: votable
#   QUERY_STATUS: OK
#   description: 'The Gaia DR3 source table: astrometry and photometry'
solution_id,designation,source_id,ra,pmra,phot_bp_mean_flux,phot_bp_mean_mag,nu_eff_used_in_astrometry,phot_variable_flag,duplicated_source,ruwe_bin,visibility_periods_used,bp_coefficients,epochs
375316653866487564,\"Gaia DR3 4295806720\",4295806720,44.99615537864534,-0.1,223.1,17.64126,1.5551,\"NOT_AVAILABLE\",\"False\",3,14,\"[1.0,2.5,null]\",\"[1,2,3]\"
375316653866487564,\"Gaia DR3 34361129088\",34361129088,45.00432028915398,null,null,null,null,\"NOT_AVAILABLE\",\"True\",null,null,null,\"[]\"
375316653866487564,\"Gaia DR3 38655544960\",38655544960,45.004978371745516,2.5,\"\",19.0,,\"VARIABLE\",False,-7,9,\"[0.5,0.25,0.125]\",null
";

    #[test]
    fn gaia_dr3_ecsv() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(GAIA.as_bytes()).unwrap();
        let f = temp("GaiaSource_000000-003111.csv.gz", &gz.finish().unwrap());
        let mut src = CsvSource::open(&f.0, true, &ReadOptions::default()).unwrap();
        let types: Vec<DataType> = src
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Int64,
                DataType::Utf8,
                DataType::Int64,
                DataType::Float64,
                DataType::Float64,
                DataType::Float64,
                DataType::Float32,
                DataType::Float32,
                DataType::Utf8,
                DataType::Boolean,
                DataType::Int8,
                DataType::Int16,
                DataType::Utf8,
                DataType::Utf8,
            ]
        );
        let m = src.meta().clone();
        assert_eq!(m.name, "GaiaSource_000000-003111");
        assert_eq!(
            m.description.as_deref(),
            Some("The Gaia DR3 source table: astrometry and photometry")
        );
        let ra = m.field("ra").unwrap();
        assert_eq!(ra.unit.as_deref(), Some("deg"));
        assert_eq!(ra.ucd.as_deref(), Some("pos.eq.ra;meta.main"));
        assert_eq!(
            ra.utype.as_deref(),
            Some("stc:AstroCoords.Position3D.Value3.C1")
        );
        assert_eq!(ra.description.as_deref(), Some("Right ascension"));
        assert_eq!(ra.datatype, "double");
        let sid = m.field("source_id").unwrap();
        assert_eq!(sid.ucd.as_deref(), Some("meta.id"));
        assert_eq!(sid.datatype, "long");
        assert_eq!(
            m.field("phot_bp_mean_flux").unwrap().unit.as_deref(),
            Some("'electron'.s**-1")
        );
        assert_eq!(m.field("pmra").unwrap().unit.as_deref(), Some("mas.yr**-1"));
        let mag = m.field("phot_bp_mean_mag").unwrap();
        assert_eq!(
            (mag.datatype.as_str(), mag.unit.as_deref()),
            ("float", Some("mag"))
        );
        assert_eq!(m.field("ruwe_bin").unwrap().description, None);
        assert_eq!(
            m.field("bp_coefficients").unwrap().description.as_deref(),
            Some("Basis function coefficients for BP spectrum")
        );

        let batches = read_all(&mut src).unwrap();
        assert_eq!(batches.len(), 1);
        // 102 header lines + the column-name line: data starts on line 104.
        let header_lines = GAIA.lines().take_while(|l| l.starts_with('#')).count() as u64;
        assert_eq!(batches[0].first_line, header_lines + 2);
        let b = &batches[0].batch;
        assert_eq!(b.num_rows(), 3);
        let des = b.column(1).as_string::<i32>();
        assert_eq!(des.value(0), "Gaia DR3 4295806720");
        let sid = b.column(2).as_primitive::<Int64Type>();
        assert_eq!(sid.value(1), 34361129088);
        let ra = b.column(3).as_primitive::<Float64Type>();
        assert_eq!(ra.value(0), 44.99615537864534);
        let pmra = b.column(4).as_primitive::<Float64Type>();
        assert!(pmra.is_null(1));
        assert!(b.column(5).is_null(1) && b.column(5).is_null(2));
        let bpmag = b.column(6).as_primitive::<Float32Type>();
        assert_eq!(bpmag.value(0), 17.64126f32);
        assert!(bpmag.is_null(1));
        assert!(b.column(7).is_null(2));
        let dup = b.column(9).as_boolean();
        assert!(!dup.value(0) && dup.value(1) && !dup.value(2));
        let rb = b.column(10).as_primitive::<Int8Type>();
        assert!(rb.is_null(1));
        assert_eq!(rb.value(2), -7);
        let coeff = b.column(12).as_string::<i32>();
        assert_eq!(coeff.value(0), "[1.0,2.5,null]");
        assert!(coeff.is_null(1));
        let ep = b.column(13).as_string::<i32>();
        assert_eq!(ep.value(1), "[]");
        assert!(ep.is_null(2));
    }

    #[test]
    fn gaia_ecsv_bad_value_line() {
        let bad = GAIA.replace(",-7,9,", ",300,9,");
        let f = temp("g.csv", bad.as_bytes());
        let mut src = CsvSource::open(&f.0, true, &ReadOptions::default()).unwrap();
        let err = read_all(&mut src).err().unwrap();
        let header_lines = GAIA.lines().take_while(|l| l.starts_with('#')).count() as u64;
        match err {
            CatalogError::Input {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(line, header_lines + 4);
                assert_eq!(column, "ruwe_bin");
                assert_eq!(
                    message,
                    "value \"300\" is out of range for int8 (ECSV datatype int8)"
                );
            }
            other => panic!("{other}"),
        }
    }

    #[test]
    fn astropy_ecsv_space_delimited_omap() {
        let text = "\
# %ECSV 1.0
# ---
# datatype:
# - {name: obj id, datatype: uint32, unit: '', description: Object number}
# - {name: name, datatype: string}
# - {name: flux, datatype: float16, unit: Jy, meta: !!omap [ {ucd: phot.flux}, {note: x} ]}
# - {name: ok, datatype: bool, ucd: meta.code}
# - {name: obj_pos, datatype: string, subtype: 'float64[2]'}
# meta: !!omap
# - {description: Test table}
# - {author: me}
# schema: astropy-2.0
\"obj id\" name flux ok obj_pos
1 \"M 31\" 1.5 True \"[10.68, 41.27]\"
2 \"\" nan False \"[0, 0]\"
# a comment line in the data section
3 Vega \"\" True \"[279.2, 38.8]\"
";
        let f = temp("objs.ecsv", text.as_bytes());
        let mut src = CsvSource::open(&f.0, true, &ReadOptions::default()).unwrap();
        assert_eq!(ty(&src, "obj id"), DataType::UInt32);
        assert_eq!(ty(&src, "flux"), DataType::Float32);
        assert_eq!(ty(&src, "ok"), DataType::Boolean);
        assert_eq!(ty(&src, "obj_pos"), DataType::Utf8);
        let m = src.meta().clone();
        assert_eq!(m.name, "objs");
        assert_eq!(m.description.as_deref(), Some("Test table"));
        assert_eq!(m.fields[0].unit, None);
        assert_eq!(m.fields[0].description.as_deref(), Some("Object number"));
        assert_eq!(m.fields[2].ucd.as_deref(), Some("phot.flux"));
        assert_eq!(m.fields[2].unit.as_deref(), Some("Jy"));
        assert_eq!(m.fields[3].ucd.as_deref(), Some("meta.code"));
        let batches = read_all(&mut src).unwrap();
        let firsts: Vec<u64> = batches.iter().map(|b| b.first_line).collect();
        assert_eq!(firsts, [14, 17]);
        let b = concat(&batches);
        assert_eq!(b.num_rows(), 3);
        let name = b.column(1).as_string::<i32>();
        assert_eq!(name.value(0), "M 31");
        assert!(name.is_null(1));
        let flux = b.column(2).as_primitive::<Float32Type>();
        assert!(flux.value(1).is_nan());
        assert!(flux.is_null(2));
        assert_eq!(b.column(4).as_string::<i32>().value(0), "[10.68, 41.27]");
    }

    #[test]
    fn ecsv_header_errors() {
        let f = temp(
            "x.csv",
            b"# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\nb\n1\n",
        );
        let err = CsvSource::open(&f.0, true, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("line 5: the column names (b) do not match"),
            "{err}"
        );
        let f = temp("x.csv", b"a,b\n1,2\n");
        let err = CsvSource::open(&f.0, true, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("not an ECSV file"), "{err}");
        let f = temp(
            "x.csv",
            b"# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int128}\na\n1\n",
        );
        let err = CsvSource::open(&f.0, true, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("unknown datatype \"int128\""),
            "{err}"
        );
    }

    #[test]
    fn invalid_utf8_is_an_input_error() {
        let f = temp("u.csv", b"n,s\n1,ok\n2,caf\xe9\n3,\xc3\xa9t\xc3\xa9\n");
        let sink = SharedBuf::default();
        let rejects = Rejects::to_writer(Box::new(sink.clone())).unwrap();
        let opts = ReadOptions {
            rejects: Some(rejects.clone()),
            ..Default::default()
        };
        let mut src = CsvSource::open(&f.0, false, &opts).unwrap();
        let b = concat(&read_all(&mut src).unwrap());
        assert_eq!(b.num_rows(), 2);
        assert_eq!(b.column(1).as_string::<i32>().value(1), "été");
        assert_eq!(rejects.count(), 1);
        let out = sink.text();
        assert!(
            out.contains(",3,\"s\",\"value \"\"caf\u{fffd}\"\" is not valid UTF-8"),
            "{out}"
        );
    }

    #[test]
    fn ecsv_crlf_blank_and_comment_lines() {
        let text = "# %ECSV 1.0\r\n# ---\r\n# datatype:\r\n# - {name: ln, datatype: int32}\r\n\
                    # - {name: v, datatype: float64}\r\nln v\r\n7 1.5\r\n8 null\r\n   \r\n\
                    # note\r\n11 2\r\n\r\n13 \"\"\r\n";
        let f = temp("c.ecsv", text.as_bytes());
        let mut src = CsvSource::open(&f.0, true, &ReadOptions::default()).unwrap();
        let batches = read_all(&mut src).unwrap();
        let mut seen = Vec::new();
        for b in &batches {
            let ln = b
                .batch
                .column(0)
                .as_primitive::<arrow::datatypes::Int32Type>();
            for i in 0..b.batch.num_rows() {
                assert_eq!(ln.value(i) as u64, b.first_line + i as u64);
                seen.push(ln.value(i));
            }
        }
        assert_eq!(seen, [7, 8, 11, 13]);
        let b = concat(&batches);
        assert_eq!(b.column(1).null_count(), 2);
    }

    #[test]
    fn header_problems() {
        let f = temp("e.csv", b"");
        assert!(CsvSource::open(&f.0, false, &ReadOptions::default()).is_err());
        let f = temp("d.csv", b"a,b,a\n1,2,3\n");
        let err = CsvSource::open(&f.0, false, &ReadOptions::default())
            .err()
            .unwrap();
        assert!(err.to_string().contains("appears twice"), "{err}");
        // Header only: no batches, Utf8 columns.
        let f = temp("h.csv", b"\xef\xbb\xbfa,b\n");
        let mut src = CsvSource::open(&f.0, false, &ReadOptions::default()).unwrap();
        assert_eq!(src.schema().field(0).name(), "a");
        assert!(src.next_batch().unwrap().is_none());
    }
}
