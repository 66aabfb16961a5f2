//! Ingest: input files → a published HATS (or plain Parquet) table.
//!
//! ```text
//!  sources ──► align to one schema ──► _healpix_29 + checks ──► spill by bucket   (phase 1,
//!  (readers)      (casts, names)        (bad rows: error or      (local IPC files)   all cores)
//!                                        --rejects)
//!                      histogram at max order ──► adaptive partition plan
//!  spill files ──► per partition: sort by _healpix_29 ──► Parquet + VOParquet      (phase 2,
//!                                                                                   all cores)
//!  staging dir ──► _metadata, _common_metadata, hats.properties, partition_info.csv,
//!                  table-metadata.vot, coverage.moc.fits, astrolake-table.json
//!              ──► atomic publish (rename-exchange locally; new version + manifest on S3)
//! ```
//!
//! Memory is bounded by the spill buffers, the batches in flight and the
//! largest unit of phase 2 (at most `max(memory_rows, max_rows_per_partition)`
//! rows), never by the input size. Until the publish step nothing is visible:
//! an interrupted ingest leaves the previous version intact, and its staging
//! files are removed by the next ingest of the same table.

pub mod publish;
pub mod spill;
pub mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow::array::{Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::array_value_to_string;
use indicatif::{ProgressBar, ProgressStyle};
use parquet::file::metadata::ParquetMetaData;

use crate::error::{CatalogError, Result};
use crate::hats::pixel_file_path;
use crate::healpix::{index29, Pixel, HEALPIX_COLUMN};
use crate::input::{open_source, Format, ReadOptions, Rejects, Source};
use crate::partition::Histogram;
use crate::root::CatalogRoot;
use crate::table::{DataFile, TableKind};
use astrolake_vo::{FieldMeta, TableMeta};

/// Default partition threshold (rows per file), as HATS tools use.
pub const DEFAULT_MAX_ROWS: u64 = 1_000_000;
/// Default deepest partition order (and order of the histogram and MOC).
pub const DEFAULT_MAX_ORDER: u8 = 10;
/// Default rows phase 2 sorts in memory at once.
pub const DEFAULT_MEMORY_ROWS: usize = 1_000_000;

/// Position column names recognised when `--ra/--dec` are not given
/// (case-insensitive), in order of preference.
pub const POSITION_COLUMNS: &[(&str, &str)] = &[
    ("ra", "dec"),
    ("RA_ICRS", "DE_ICRS"),
    ("RAJ2000", "DEJ2000"),
    ("ra_deg", "dec_deg"),
    ("RA_ICRS", "DEC_ICRS"),
    ("RAdeg", "DEdeg"),
];

/// How to ingest.
#[derive(Clone)]
pub struct IngestOptions {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Force an input format instead of detecting it.
    pub format: Option<Format>,
    /// Declared metadata (`--metadata FILE.vot`).
    pub metadata: Option<TableMeta>,
    /// Table description (else the input's).
    pub description: Option<String>,
    /// Right-ascension column (else detected).
    pub ra: Option<String>,
    /// Declination column (else detected).
    pub dec: Option<String>,
    /// Write rejected rows here instead of failing.
    pub rejects: Option<PathBuf>,
    /// Add the inputs to the existing table instead of replacing it.
    pub append: bool,
    /// Partition threshold.
    pub max_rows_per_partition: u64,
    /// Deepest partition order.
    pub max_order: u8,
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Rows sorted in memory at once in phase 2.
    pub memory_rows: usize,
    /// Worker threads (0 = all cores).
    pub threads: usize,
    /// Rows per batch read from the inputs (0 = the readers' default).
    pub batch_rows: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Local scratch directory for spill files when the root is remote.
    pub tmp_dir: Option<PathBuf>,
}

impl IngestOptions {
    /// Defaults for `schema.table`.
    pub fn new(schema: impl Into<String>, table: impl Into<String>) -> Self {
        IngestOptions {
            schema: schema.into(),
            table: table.into(),
            format: None,
            metadata: None,
            description: None,
            ra: None,
            dec: None,
            rejects: None,
            append: false,
            max_rows_per_partition: DEFAULT_MAX_ROWS,
            max_order: DEFAULT_MAX_ORDER,
            row_group_rows: write::DEFAULT_ROW_GROUP_ROWS,
            memory_rows: DEFAULT_MEMORY_ROWS,
            threads: 0,
            batch_rows: 0,
            progress: false,
            tmp_dir: None,
        }
    }

    fn threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.threads
        }
    }
}

/// What an ingest did.
#[derive(Debug, Clone)]
pub struct IngestReport {
    /// `schema.table`.
    pub table: String,
    /// Layout.
    pub kind: TableKind,
    /// Rows in the published table.
    pub rows: u64,
    /// Rows read from the new inputs.
    pub rows_read: u64,
    /// Rows written to the rejects file.
    pub rejected: u64,
    /// Data files written.
    pub files: usize,
    /// Bytes of data files.
    pub bytes: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Notes from the readers (e.g. excluded records).
    pub notes: Vec<String>,
}

/// A deferred source: opened by a reader thread when its turn comes.
pub type SourceOpener = Box<dyn FnOnce() -> Result<Box<dyn Source>> + Send>;

/// Expand globs and check every input exists.
pub fn expand_inputs(inputs: &[String]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for i in inputs {
        if i.contains(['*', '?', '[']) {
            let mut found: Vec<PathBuf> = glob::glob(i)
                .map_err(|e| CatalogError::Invalid(format!("bad glob {i:?}: {e}")))?
                .filter_map(|p| p.ok())
                .filter(|p| p.is_file())
                .collect();
            if found.is_empty() {
                return Err(CatalogError::Invalid(format!("{i}: no file matches")));
            }
            found.sort();
            out.extend(found);
        } else {
            let p = PathBuf::from(i);
            if !p.is_file() {
                return Err(CatalogError::format(i, "no such file"));
            }
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(CatalogError::Invalid("no input files given".into()));
    }
    Ok(out)
}

/// Ingest files into `root` as `opts.schema.opts.table`.
pub async fn ingest_files(
    root: &CatalogRoot,
    opts: IngestOptions,
    inputs: Vec<PathBuf>,
) -> Result<IngestReport> {
    let rejects = match &opts.rejects {
        Some(p) => Some(Rejects::create(p)?),
        None => None,
    };
    let read = ReadOptions {
        batch_rows: opts.batch_rows,
        declared: opts.metadata.clone(),
        rejects: rejects.clone(),
    };
    let openers: Vec<SourceOpener> = inputs
        .into_iter()
        .map(|p| {
            let read = read.clone();
            let format = opts.format;
            Box::new(move || open_source(&p, format, &read)) as SourceOpener
        })
        .collect();
    ingest_sources(root, opts, openers, rejects).await
}

/// Ingest any sources.
pub async fn ingest_sources(
    root: &CatalogRoot,
    opts: IngestOptions,
    openers: Vec<SourceOpener>,
    rejects: Option<Rejects>,
) -> Result<IngestReport> {
    let started = Instant::now();
    if opts.max_order > 20 {
        return Err(CatalogError::Invalid(
            "--max-order must be at most 20".into(),
        ));
    }
    let _lock = publish::lock(root)?;
    let publisher =
        publish::Publisher::begin(root, &opts.schema, &opts.table, opts.tmp_dir.as_deref()).await?;

    // Appending re-partitions the current rows together with the new ones.
    let mut openers = openers;
    let mut existing_meta = None;
    if opts.append {
        if let Some((files, meta)) = publisher.current_files(root).await? {
            existing_meta = Some(meta);
            let mut old: Vec<SourceOpener> = files
                .into_iter()
                .map(|p| {
                    Box::new(move || -> Result<Box<dyn Source>> {
                        Ok(Box::new(crate::input::parquet::ParquetSource::open(
                            &p,
                            &ReadOptions::default(),
                        )?))
                    }) as SourceOpener
                })
                .collect();
            old.append(&mut openers);
            openers = old;
        }
    }
    if openers.is_empty() {
        return Err(CatalogError::Invalid("no inputs".into()));
    }

    let result = async {
        let opts2 = opts.clone();
        let staging = publisher.staging_dir().to_path_buf();
        let spill_dir = publisher.spill_dir().to_path_buf();
        let rejects2 = rejects.clone();
        let built = tokio::task::spawn_blocking(move || {
            build_table(
                opts2,
                openers,
                existing_meta,
                &staging,
                &spill_dir,
                rejects2,
            )
        })
        .await
        .map_err(|e| CatalogError::Invalid(format!("ingest worker failed: {e}")))??;
        if let Some(r) = &rejects {
            r.flush()?;
        }
        publisher.write_metadata(&built).await?;
        Ok::<_, CatalogError>(built)
    }
    .await;
    let built = match result {
        Ok(b) => b,
        Err(e) => {
            publisher.abort();
            return Err(e);
        }
    };
    let rows = built.info.rows;
    let files = built.info.files.len();
    let bytes = built.info.bytes;
    let kind = built.info.kind;
    publisher
        .publish(
            root,
            opts.description.clone().or(built.meta.description.clone()),
        )
        .await?;
    Ok(IngestReport {
        table: format!("{}.{}", opts.schema, opts.table),
        kind,
        rows,
        rows_read: built.rows_read,
        rejected: rejects.map(|r| r.count()).unwrap_or(0),
        files,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
        notes: built.notes,
    })
}

/// Everything phase 1 and 2 produced, ready to be described and published.
pub struct BuiltTable {
    /// The table descriptor.
    pub info: crate::table::TableInfo,
    /// Column metadata of the stored schema.
    pub meta: TableMeta,
    /// Footers of the data files, paths relative to `dataset/`.
    pub footers: Vec<(String, ParquetMetaData)>,
    /// The coverage histogram (HATS tables).
    pub histogram: Option<Histogram>,
    /// Deepest partition order used.
    pub max_order: u8,
    /// Rows read from all sources (including an appended table's).
    pub rows_read: u64,
    /// Reader notes.
    pub notes: Vec<String>,
}

/// The stored schema: `_healpix_29` first (HATS), then the input columns.
fn stored_schema(input: &Schema) -> SchemaRef {
    let mut fields = vec![Arc::new(Field::new(HEALPIX_COLUMN, DataType::Int64, false))];
    fields.extend(input.fields().iter().cloned());
    Arc::new(Schema::new(fields))
}

fn healpix_field_meta() -> FieldMeta {
    FieldMeta {
        name: HEALPIX_COLUMN.into(),
        datatype: "long".into(),
        ucd: Some("pos.healpix".into()),
        description: Some(
            "Nested HEALPix index at order 29 of the row's position (HATS spatial index; \
             the order-k index is _healpix_29 / 4^(29-k))"
                .into(),
        ),
        ..Default::default()
    }
}

/// The input schema every source is aligned to: the first source's,
/// without any `_healpix_29` column (it is recomputed).
fn input_schema(first: &Schema) -> SchemaRef {
    Arc::new(Schema::new(
        first
            .fields()
            .iter()
            .filter(|f| f.name() != HEALPIX_COLUMN)
            .map(|f| Arc::new(f.as_ref().clone().with_nullable(true)))
            .collect::<Vec<_>>(),
    ))
}

/// Whether a value of type `from` can be widened to `to` without loss of
/// meaning (integers to wider integers or floats, float to double).
fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    if from == to {
        return true;
    }
    matches!(
        (from, to),
        (
            Int8 | Int16 | Int32 | UInt8 | UInt16,
            Int32 | Int64 | Float64
        ) | (Int64 | UInt32, Int64 | Float64)
            | (Int8 | Int16 | UInt8 | UInt16, Int16 | Float32)
            | (Float32, Float64)
            | (Utf8View | LargeUtf8, Utf8)
            | (Null, _)
    )
}

/// Align a batch from `source` to the unified input schema: columns matched
/// by name (case-insensitive), widened where needed.
fn align(
    batch: &RecordBatch,
    target: &SchemaRef,
    source: &str,
    first: &str,
    pos: Option<(usize, usize)>,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    if schema.fields().len() == target.fields().len()
        && schema
            .fields()
            .iter()
            .zip(target.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
    {
        return Ok(RecordBatch::try_new(
            Arc::clone(target),
            batch.columns().to_vec(),
        )?);
    }
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(target.fields().len());
    for (k, f) in target.fields().iter().enumerate() {
        let is_pos = pos.is_some_and(|(a, b)| k == a || k == b);
        let idx = schema
            .fields()
            .iter()
            .position(|s| s.name() == f.name())
            .or_else(|| {
                schema
                    .fields()
                    .iter()
                    .position(|s| s.name().eq_ignore_ascii_case(f.name()))
            })
            .ok_or_else(|| {
                CatalogError::format(
                    source,
                    format!("has no column {} (which {first} has)", f.name()),
                )
            })?;
        let col = batch.column(idx);
        if col.data_type() == f.data_type() {
            cols.push(Arc::clone(col));
        } else if widens(col.data_type(), f.data_type())
            || (is_pos && position_type(col.data_type()))
        {
            // Positions: values that do not convert become NULL and are
            // then reported by the position check.
            cols.push(cast(col, f.data_type())?);
        } else {
            return Err(CatalogError::format(
                source,
                format!(
                    "column {} is {} but {first} has it as {}; declare the type with --metadata",
                    f.name(),
                    col.data_type(),
                    f.data_type()
                ),
            ));
        }
    }
    for s in schema.fields() {
        if s.name() != HEALPIX_COLUMN
            && !target
                .fields()
                .iter()
                .any(|f| f.name().eq_ignore_ascii_case(s.name()))
        {
            return Err(CatalogError::format(
                source,
                format!("has a column {} that {first} does not have", s.name()),
            ));
        }
    }
    Ok(RecordBatch::try_new(Arc::clone(target), cols)?)
}

/// Types a position column may have in the input: numbers, or text (a CSV
/// column with a bad value is inferred as text; each row is then checked and
/// the bad one reported with its line).
fn position_type(dt: &DataType) -> bool {
    dt.is_numeric()
        || matches!(
            dt,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
}

/// Find the position columns: given names must exist and be numeric;
/// otherwise the first known pair present.
fn position_columns(schema: &Schema, opts: &IngestOptions) -> Result<Option<(usize, usize)>> {
    let find = |name: &str| {
        schema
            .fields()
            .iter()
            .position(|f| f.name() == name)
            .or_else(|| {
                schema
                    .fields()
                    .iter()
                    .position(|f| f.name().eq_ignore_ascii_case(name))
            })
    };
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    match (&opts.ra, &opts.dec) {
        (Some(ra), Some(dec)) => {
            let mut out = [0usize; 2];
            for (k, c) in [ra, dec].into_iter().enumerate() {
                let i = find(c).ok_or_else(|| {
                    CatalogError::Invalid(format!(
                        "position column {c} not found; columns are: {}",
                        names.join(", ")
                    ))
                })?;
                if !position_type(schema.field(i).data_type()) {
                    return Err(CatalogError::Invalid(format!(
                        "position column {c} is {}, not a number",
                        schema.field(i).data_type()
                    )));
                }
                out[k] = i;
            }
            Ok(Some((out[0], out[1])))
        }
        (None, None) => {
            for (ra, dec) in POSITION_COLUMNS {
                if let (Some(a), Some(b)) = (find(ra), find(dec)) {
                    if position_type(schema.field(a).data_type())
                        && position_type(schema.field(b).data_type())
                    {
                        return Ok(Some((a, b)));
                    }
                }
            }
            Ok(None)
        }
        _ => Err(CatalogError::Invalid(
            "give both --ra and --dec, or neither".into(),
        )),
    }
}

/// Render row `i` of a batch for the rejects file.
fn render_row(batch: &RecordBatch, i: usize) -> String {
    batch
        .columns()
        .iter()
        .map(|c| array_value_to_string(c, i).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(",")
}

/// Compute `_healpix_29` for an aligned batch, dealing with bad positions;
/// returns the batch in the stored schema.
fn index_batch(
    batch: RecordBatch,
    pos: (usize, usize),
    stored: &SchemaRef,
    source: &str,
    first_line: u64,
    rejects: Option<&Rejects>,
) -> Result<Option<RecordBatch>> {
    let ra_col = cast(batch.column(pos.0), &DataType::Float64)?;
    let dec_col = cast(batch.column(pos.1), &DataType::Float64)?;
    let ra = ra_col.as_any().downcast_ref::<Float64Array>().expect("f64");
    let dec = dec_col
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("f64");
    let n = batch.num_rows();
    let mut hpx = Vec::with_capacity(n);
    let mut keep: Option<Vec<bool>> = None;
    for i in 0..n {
        let h = if ra.is_null(i) || dec.is_null(i) {
            None
        } else {
            index29(ra.value(i), dec.value(i))
        };
        match h {
            Some(h) => {
                hpx.push(h as i64);
                if let Some(k) = keep.as_mut() {
                    k.push(true);
                }
            }
            None => {
                let (rname, dname) = (
                    batch.schema().field(pos.0).name().clone(),
                    batch.schema().field(pos.1).name().clone(),
                );
                let show = |c: usize| match array_value_to_string(batch.column(c), i) {
                    Ok(v) if !batch.column(c).is_null(i) => format!("{v:?}"),
                    _ => "NULL".to_string(),
                };
                let err = CatalogError::input(
                    source,
                    first_line + i as u64,
                    if ra.is_null(i) || !ra.value(i).is_finite() { &rname } else { &dname },
                    format!(
                        "no valid position: {rname}={}, {dname}={} (need finite values, |dec| <= 90)",
                        show(pos.0),
                        show(pos.1)
                    ),
                );
                let Some(r) = rejects else { return Err(err) };
                r.reject_error(&err, &render_row(&batch, i))?;
                let k = keep.get_or_insert_with(|| vec![true; i]);
                k.push(false);
            }
        }
    }
    let mut cols: Vec<ArrayRef> = batch.columns().to_vec();
    cols[pos.0] = Arc::clone(&ra_col);
    cols[pos.1] = Arc::clone(&dec_col);
    let batch = RecordBatch::try_new(Arc::new(Schema::new(stored.fields()[1..].to_vec())), cols)?;
    let batch = match keep {
        Some(k) => {
            let mask = BooleanArray::from(k);
            filter_record_batch(&batch, &mask)?
        }
        None => batch,
    };
    if batch.num_rows() == 0 {
        return Ok(None);
    }
    let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(hpx))];
    cols.extend(batch.columns().iter().cloned());
    let out = RecordBatch::try_new(Arc::clone(stored), cols)?;
    Ok(Some(out))
}

fn progress(enabled: bool, template: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(ProgressStyle::with_template(template).expect("valid template"));
    pb.enable_steady_tick(std::time::Duration::from_millis(200));
    pb
}

/// Phase 1 and 2 (blocking, multi-threaded): read, index, spill, plan,
/// write the data files into `staging`.
fn build_table(
    opts: IngestOptions,
    openers: Vec<SourceOpener>,
    existing_meta: Option<TableMeta>,
    staging: &Path,
    spill_dir: &Path,
    rejects: Option<Rejects>,
) -> Result<BuiltTable> {
    let threads = opts.threads();
    let mut openers = openers.into_iter();
    let first = (openers.next().expect("at least one source"))()?;
    let first_name = first.name().to_string();
    let input = input_schema(&first.schema());
    let pos = position_columns(&input, &opts)?;
    let base_meta = existing_meta.unwrap_or_else(|| first.meta().clone());
    let kind = if pos.is_some() {
        TableKind::Hats
    } else {
        TableKind::Plain
    };
    let (stored, meta) = match pos {
        Some((a, b)) => {
            // Positions are always stored as doubles.
            let fields: Vec<_> = input
                .fields()
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    if i == a || i == b {
                        Arc::new(f.as_ref().clone().with_data_type(DataType::Float64))
                    } else {
                        Arc::clone(f)
                    }
                })
                .collect();
            let stored = stored_schema(&Schema::new(fields));
            let mut m = base_meta.aligned_to(&stored);
            m.fields[0] = healpix_field_meta();
            (stored, m)
        }
        None => (Arc::clone(&input), base_meta.aligned_to(&input)),
    };
    let meta = TableMeta {
        name: opts.table.clone(),
        description: opts.description.clone().or(meta.description),
        fields: meta.fields,
    };
    let props = write::writer_properties(&meta, opts.row_group_rows, kind == TableKind::Hats);

    // Phase 1: readers → channel → workers.
    let pb = progress(
        opts.progress,
        "{spinner} reading: {human_pos} rows ({per_sec}) {elapsed}",
    );
    let cancel = AtomicBool::new(false);
    let rows_read = AtomicU64::new(0);
    let histogram = (kind == TableKind::Hats).then(|| Histogram::new(opts.max_order));
    let spill_order = opts.max_order.min(3);
    let queue: Mutex<Vec<SourceOpener>> = Mutex::new(openers.rev().collect());
    let first_slot: Mutex<Option<Box<dyn Source>>> = Mutex::new(Some(first));
    let notes: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let n_readers = threads.min(1 + queue.lock().expect("q").len()).max(1);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(RecordBatch, Arc<str>, u64)>(threads * 2);
    let rx = Mutex::new(rx);
    type WorkerOut = (
        HashMap<u64, (PathBuf, u64)>,
        Vec<(DataFile, ParquetMetaData)>,
    );
    let results: Vec<Result<WorkerOut>> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for _ in 0..n_readers {
            let tx = tx.clone();
            let (queue, first_slot, cancel, input, notes, first_name) =
                (&queue, &first_slot, &cancel, &input, &notes, &first_name);
            handles.push(s.spawn(move || -> Result<WorkerOut> {
                loop {
                    let next = first_slot.lock().expect("first").take();
                    let mut src = match next {
                        Some(s) => s,
                        None => match queue.lock().expect("queue").pop() {
                            Some(open) => open()?,
                            None => break,
                        },
                    };
                    let name: Arc<str> = Arc::from(src.name());
                    while let Some(sb) = src.next_batch()? {
                        if cancel.load(Ordering::Relaxed) {
                            return Ok(Default::default());
                        }
                        let b = align(&sb.batch, input, &name, first_name, pos)?;
                        if tx.send((b, Arc::clone(&name), sb.first_line)).is_err() {
                            return Ok(Default::default());
                        }
                    }
                    notes.lock().expect("notes").extend(src.notes());
                }
                Ok(Default::default())
            }));
        }
        drop(tx);
        for w in 0..threads {
            let (rx, cancel, rows_read, histogram, stored, rejects, pb, props, opts) = (
                &rx, &cancel, &rows_read, &histogram, &stored, &rejects, &pb, &props, &opts,
            );
            let dir = spill_dir.join(format!("w{w}"));
            handles.push(s.spawn(move || -> Result<WorkerOut> {
                let run = || -> Result<WorkerOut> {
                    let mut spiller = match kind {
                        TableKind::Hats => Some(spill::Spiller::new(
                            dir.clone(),
                            spill_order,
                            Arc::clone(stored),
                        )?),
                        TableKind::Plain => None,
                    };
                    let mut plain = plain::PlainWriter::new(
                        staging,
                        w,
                        Arc::clone(stored),
                        props.clone(),
                        opts.max_rows_per_partition,
                    );
                    loop {
                        let msg = rx.lock().expect("rx").recv();
                        let Ok((batch, name, first_line)) = msg else {
                            break;
                        };
                        if cancel.load(Ordering::Relaxed) {
                            break;
                        }
                        rows_read.fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
                        pb.inc(batch.num_rows() as u64);
                        match (pos, spiller.as_mut()) {
                            (Some(pos), Some(sp)) => {
                                if let Some(b) = index_batch(
                                    batch,
                                    pos,
                                    stored,
                                    &name,
                                    first_line,
                                    rejects.as_ref(),
                                )? {
                                    let h = histogram.as_ref().expect("histogram");
                                    for &v in spill::healpix_values(&b) {
                                        h.add(v as u64);
                                    }
                                    sp.push(&b)?;
                                }
                            }
                            _ => plain.push(batch)?,
                        }
                    }
                    let spilled = match spiller {
                        Some(sp) => sp.finish()?,
                        None => HashMap::new(),
                    };
                    Ok((spilled, plain.finish()?))
                };
                let r = run();
                if r.is_err() {
                    cancel.store(true, Ordering::Relaxed);
                }
                r
            }));
        }
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(CatalogError::Invalid("ingest thread panicked".into())))
            })
            .collect()
    });
    pb.finish_and_clear();
    let mut spills: HashMap<u64, Vec<(PathBuf, u64)>> = HashMap::new();
    let mut written: Vec<(DataFile, ParquetMetaData)> = Vec::new();
    let mut first_err = None;
    for r in results {
        match r {
            Ok((s, w)) => {
                for (b, f) in s {
                    spills.entry(b).or_default().push(f);
                }
                written.extend(w);
            }
            Err(e) => {
                // Prefer the most specific error (a bad row over a closed channel).
                if first_err.is_none() || matches!(e, CatalogError::Input { .. }) {
                    first_err = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    let rows_read = rows_read.load(Ordering::Relaxed);
    let kept = histogram
        .as_ref()
        .map(|h| h.total())
        .unwrap_or_else(|| written.iter().map(|(f, _)| f.rows).sum());
    if kept == 0 {
        let rejected = rejects.as_ref().map(|r| r.count()).unwrap_or(0);
        return Err(CatalogError::Invalid(format!(
            "no rows to store: {rows_read} rows read, {rejected} rejected; the table is left as it was"
        )));
    }

    // Phase 2: partition and write (HATS tables).
    let mut max_order = 0;
    if let Some(h) = &histogram {
        let plan = h.plan(opts.max_rows_per_partition);
        max_order = plan.iter().map(|(p, _)| p.order).max().unwrap_or(0);
        let units = units(&plan, spill_order);
        let total: u64 = plan.iter().map(|(_, n)| n).sum();
        let pb = if opts.progress {
            let pb = ProgressBar::new(total);
            pb.set_style(
                ProgressStyle::with_template(
                    "{bar:40} writing: {human_pos}/{human_len} rows ({per_sec}) {elapsed}",
                )
                .expect("valid template"),
            );
            pb
        } else {
            ProgressBar::hidden()
        };
        let queue = Mutex::new(units);
        let out: Mutex<Vec<(DataFile, ParquetMetaData)>> = Mutex::new(Vec::new());
        let cancel = AtomicBool::new(false);
        let errors: Vec<CatalogError> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|_| {
                    let (queue, out, spills, stored, props, pb, opts, cancel) =
                        (&queue, &out, &spills, &stored, &props, &pb, &opts, &cancel);
                    s.spawn(move || -> Result<()> {
                        loop {
                            if cancel.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            let Some(unit) = queue.lock().expect("queue").pop() else {
                                return Ok(());
                            };
                            let r = write_unit(
                                &unit,
                                spills,
                                stored,
                                props,
                                staging,
                                spill_dir,
                                opts.memory_rows.max(opts.max_rows_per_partition as usize),
                            );
                            match r {
                                Ok(files) => {
                                    pb.inc(files.iter().map(|(f, _)| f.rows).sum());
                                    out.lock().expect("out").extend(files);
                                }
                                Err(e) => {
                                    cancel.store(true, Ordering::Relaxed);
                                    return Err(e);
                                }
                            }
                        }
                    })
                })
                .collect();
            hs.into_iter()
                .filter_map(|h| {
                    h.join()
                        .unwrap_or_else(|_| {
                            Err(CatalogError::Invalid("writer thread panicked".into()))
                        })
                        .err()
                })
                .collect()
        });
        pb.finish_and_clear();
        if let Some(e) = errors.into_iter().next() {
            return Err(e);
        }
        written = out.into_inner().expect("out");
        let written_rows: u64 = written.iter().map(|(f, _)| f.rows).sum();
        if written_rows != total {
            return Err(CatalogError::Invalid(format!(
                "internal: wrote {written_rows} rows but counted {total}"
            )));
        }
    }
    let _ = std::fs::remove_dir_all(spill_dir);

    written.sort_by(|a, b| match (a.0.pixel, b.0.pixel) {
        (Some(x), Some(y)) => x.range29().start.cmp(&y.range29().start),
        _ => a.0.path.cmp(&b.0.path),
    });
    let rows: u64 = written.iter().map(|(f, _)| f.rows).sum();
    let bytes: u64 = written.iter().map(|(f, _)| f.bytes).sum();
    let (ra_column, dec_column) = match pos {
        Some((a, b)) => (
            Some(input.field(a).name().clone()),
            Some(input.field(b).name().clone()),
        ),
        None => (None, None),
    };
    let sky_fraction = histogram.as_ref().map(|h| {
        let cells = h.nonempty_cells().count() as f64;
        cells / (12u64 << (2 * h.order() as u64)) as f64
    });
    let footers = written
        .iter()
        .map(|(f, m)| (f.path.trim_start_matches("dataset/").to_string(), m.clone()))
        .collect();
    let info = crate::table::TableInfo {
        format: crate::table::TableInfo::FORMAT.into(),
        schema: opts.schema.clone(),
        table: opts.table.clone(),
        kind,
        ra_column,
        dec_column,
        rows,
        bytes,
        max_rows_per_partition: opts.max_rows_per_partition,
        row_group_rows: opts.row_group_rows,
        moc_order: opts.max_order,
        sky_fraction: sky_fraction.unwrap_or(0.0),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        version: String::new(),
        files: written.into_iter().map(|(f, _)| f).collect(),
    };
    Ok(BuiltTable {
        info,
        meta,
        footers,
        histogram,
        max_order,
        rows_read,
        notes: notes.into_inner().expect("notes"),
    })
}

/// A unit of phase-2 work: spill buckets and the partitions they hold.
#[derive(Debug)]
struct Unit {
    buckets: Vec<u64>,
    partitions: Vec<(Pixel, u64)>,
}

/// Group partitions into units: a partition coarser than the spill order
/// gathers all its buckets; finer partitions are grouped by their bucket.
fn units(plan: &[(Pixel, u64)], spill_order: u8) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut by_bucket: std::collections::BTreeMap<u64, Vec<(Pixel, u64)>> = Default::default();
    for &(p, n) in plan {
        if p.order <= spill_order {
            let shift = 2 * (spill_order - p.order);
            let buckets = ((p.npix << shift)..((p.npix + 1) << shift)).collect();
            out.push(Unit {
                buckets,
                partitions: vec![(p, n)],
            });
        } else {
            by_bucket
                .entry(p.ancestor(spill_order).npix)
                .or_default()
                .push((p, n));
        }
    }
    out.extend(by_bucket.into_iter().map(|(b, partitions)| Unit {
        buckets: vec![b],
        partitions,
    }));
    // Largest first, so the last units to finish are small ones.
    out.sort_by_key(|u| u.partitions.iter().map(|(_, n)| *n).sum::<u64>());
    out
}

/// Write the partitions of one unit.
fn write_unit(
    unit: &Unit,
    spills: &HashMap<u64, Vec<(PathBuf, u64)>>,
    stored: &SchemaRef,
    props: &parquet::file::properties::WriterProperties,
    staging: &Path,
    spill_dir: &Path,
    memory_rows: usize,
) -> Result<Vec<(DataFile, ParquetMetaData)>> {
    let files: Vec<&PathBuf> = unit
        .buckets
        .iter()
        .filter_map(|b| spills.get(b))
        .flatten()
        .map(|(p, _)| p)
        .collect();
    let rows: u64 = unit.partitions.iter().map(|(_, n)| n).sum();
    if rows as usize > memory_rows && unit.partitions.len() > 1 {
        // Too big to sort at once: route rows to one spill file per
        // partition, then write each partition on its own.
        let sub = spill_dir.join(format!(
            "u{}-{}",
            unit.partitions[0].0.order, unit.partitions[0].0.npix
        ));
        std::fs::create_dir_all(&sub)?;
        let mut writers: HashMap<
            usize,
            arrow::ipc::writer::StreamWriter<std::io::BufWriter<std::fs::File>>,
        > = HashMap::new();
        for f in &files {
            for b in spill::stream_spill(f)? {
                // A spill message concatenates sorted runs: sort it first.
                let b = spill::sort_by_healpix(&b?)?;
                for (k, part) in split_by_partitions(&b, &unit.partitions) {
                    let w = match writers.entry(k) {
                        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            let file = std::fs::File::create(sub.join(format!("p{k}.arrows")))?;
                            v.insert(arrow::ipc::writer::StreamWriter::try_new(
                                std::io::BufWriter::new(file),
                                stored,
                            )?)
                        }
                    };
                    w.write(&part)?;
                }
            }
        }
        for w in writers.values_mut() {
            w.finish()?;
        }
        drop(writers);
        let mut out = Vec::new();
        for (k, &(p, n)) in unit.partitions.iter().enumerate() {
            let path = sub.join(format!("p{k}.arrows"));
            let batches = spill::read_spill(&path)?;
            out.push(write_partition(p, n, batches, stored, props, staging)?);
            std::fs::remove_file(&path)?;
        }
        return Ok(out);
    }
    let mut batches = Vec::new();
    for f in &files {
        batches.extend(spill::read_spill(f)?);
    }
    if unit.partitions.len() == 1 {
        let (p, n) = unit.partitions[0];
        return Ok(vec![write_partition(
            p, n, batches, stored, props, staging,
        )?]);
    }
    let all = arrow::compute::concat_batches(stored, &batches)?;
    drop(batches);
    let all = spill::sort_by_healpix(&all)?;
    let mut out = Vec::new();
    for (k, part) in split_by_partitions(&all, &unit.partitions) {
        let (p, n) = unit.partitions[k];
        out.push(write_partition(p, n, vec![part], stored, props, staging)?);
    }
    Ok(out)
}

/// Slices of a batch sorted by `_healpix_29`, one per partition it touches.
fn split_by_partitions(
    batch: &RecordBatch,
    partitions: &[(Pixel, u64)],
) -> Vec<(usize, RecordBatch)> {
    let hpx = spill::healpix_values(batch);
    let mut out = Vec::new();
    // The batch must be sorted by _healpix_29.
    for (k, (p, _)) in partitions.iter().enumerate() {
        let r = p.range29();
        let s = hpx.partition_point(|&v| (v as u64) < r.start);
        let e = hpx.partition_point(|&v| (v as u64) < r.end);
        if e > s {
            out.push((k, batch.slice(s, e - s)));
        }
    }
    out
}

/// Sort one partition's rows and write its file.
fn write_partition(
    p: Pixel,
    expected: u64,
    batches: Vec<RecordBatch>,
    stored: &SchemaRef,
    props: &parquet::file::properties::WriterProperties,
    staging: &Path,
) -> Result<(DataFile, ParquetMetaData)> {
    let all = arrow::compute::concat_batches(stored, &batches)?;
    drop(batches);
    // Keep only this pixel's rows (a unit's buckets may hold other pixels'
    // rows only when the partition is coarser than the buckets: then all
    // rows belong to it).
    let sorted = spill::sort_by_healpix(&all)?;
    drop(all);
    let (lo, hi) = {
        let h = spill::healpix_values(&sorted);
        (h.first().copied(), h.last().copied())
    };
    let r = p.range29();
    if sorted.num_rows() as u64 != expected
        || lo.is_some_and(|v| (v as u64) < r.start)
        || hi.is_some_and(|v| (v as u64) >= r.end)
    {
        return Err(CatalogError::Invalid(format!(
            "internal: partition {}/{} assembled {} rows, expected {expected}",
            p.order,
            p.npix,
            sorted.num_rows()
        )));
    }
    let rel = pixel_file_path(&p);
    let (meta, bytes) = write::write_parquet(&staging.join(&rel), stored, &[sorted], props)?;
    Ok((
        DataFile {
            path: rel,
            pixel: Some(p),
            rows: expected,
            bytes,
            healpix_min: lo.map(|v| v as u64),
            healpix_max: hi.map(|v| v as u64),
        },
        meta,
    ))
}

mod plain {
    //! Plain (position-less) tables: batches go straight to Parquet parts.
    use super::*;

    pub struct PlainWriter<'a> {
        staging: &'a Path,
        worker: usize,
        schema: SchemaRef,
        props: parquet::file::properties::WriterProperties,
        max_rows: u64,
        current: Option<(
            String,
            parquet::arrow::ArrowWriter<std::io::BufWriter<std::fs::File>>,
            u64,
        )>,
        part: usize,
        done: Vec<(DataFile, ParquetMetaData)>,
    }

    impl<'a> PlainWriter<'a> {
        pub fn new(
            staging: &'a Path,
            worker: usize,
            schema: SchemaRef,
            props: parquet::file::properties::WriterProperties,
            max_rows: u64,
        ) -> Self {
            PlainWriter {
                staging,
                worker,
                schema,
                props,
                max_rows,
                current: None,
                part: 0,
                done: Vec::new(),
            }
        }

        pub fn push(&mut self, batch: RecordBatch) -> Result<()> {
            if self.current.is_none() {
                let rel = format!("dataset/part-{:03}-{:05}.parquet", self.worker, self.part);
                self.part += 1;
                let path = self.staging.join(&rel);
                std::fs::create_dir_all(path.parent().expect("parent"))?;
                let f = std::fs::File::create(&path)?;
                let w = parquet::arrow::ArrowWriter::try_new(
                    std::io::BufWriter::new(f),
                    Arc::clone(&self.schema),
                    Some(self.props.clone()),
                )?;
                self.current = Some((rel, w, 0));
            }
            let (_, w, n) = self.current.as_mut().expect("writer");
            w.write(&batch)?;
            *n += batch.num_rows() as u64;
            if *n >= self.max_rows {
                self.close()?;
            }
            Ok(())
        }

        fn close(&mut self) -> Result<()> {
            if let Some((rel, w, n)) = self.current.take() {
                let meta = w.close()?;
                let bytes = std::fs::metadata(self.staging.join(&rel))?.len();
                self.done.push((
                    DataFile {
                        path: rel,
                        pixel: None,
                        rows: n,
                        bytes,
                        healpix_min: None,
                        healpix_max: None,
                    },
                    meta,
                ));
            }
            Ok(())
        }

        pub fn finish(mut self) -> Result<Vec<(DataFile, ParquetMetaData)>> {
            self.close()?;
            Ok(self.done)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_group_partitions_by_bucket() {
        let plan = vec![
            (Pixel::new(0, 0), 10),
            (Pixel::new(4, 16 * 64), 5),
            (Pixel::new(4, 16 * 64 + 1), 5),
            (Pixel::new(5, 4 * (16 * 64 + 2)), 5),
        ];
        let u = units(&plan, 3);
        let total: usize = u.iter().map(|u| u.partitions.len()).sum();
        assert_eq!(total, 4);
        let coarse = u.iter().find(|u| u.partitions[0].0.order == 0).unwrap();
        assert_eq!(coarse.buckets.len(), 64);
        let fine = u.iter().find(|u| u.partitions.len() == 3).unwrap();
        assert_eq!(fine.buckets, vec![256]);
    }

    #[test]
    fn widening_rules() {
        assert!(widens(&DataType::Int32, &DataType::Int64));
        assert!(widens(&DataType::Int64, &DataType::Float64));
        assert!(!widens(&DataType::Float64, &DataType::Int64));
        assert!(!widens(&DataType::Utf8, &DataType::Float64));
    }
}
