//! Phase 2 of ingest: assemble each partition from the spill files, sort it
//! by `_healpix_29` and write it as one Parquet file with VOParquet metadata.
//!
//! Row groups hold [`DEFAULT_ROW_GROUP_ROWS`] rows by default. Files are
//! sorted by `_healpix_29`, so each row group covers one contiguous run of
//! the index — a compact patch of sky — and its min/max statistics let a
//! cone or cross-match skip most of a file: with the default 1 M-row
//! partitions a file has ~16 row groups, each about 1/16 of its pixel, and a
//! small cone reads one or two of them. Much smaller groups cost compression
//! and per-group overhead (and DataFusion parallelises by row group); much
//! larger ones prune less. Page statistics and the page index are written
//! too, for finer pruning inside a group.

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::{ParquetMetaData, SortingColumn};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::error::Result;
use crate::hats::voparquet_key_values;
use astrolake_vo::TableMeta;

/// Default rows per row group.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 65_536;

/// Writer settings shared by every file of a table.
pub fn writer_properties(
    meta: &TableMeta,
    row_group_rows: usize,
    sorted_by_healpix: bool,
) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_key_value_metadata(Some(voparquet_key_values(meta)))
        .set_created_by(format!("astrolake {}", env!("CARGO_PKG_VERSION")));
    if sorted_by_healpix {
        b = b.set_sorting_columns(Some(vec![SortingColumn {
            column_idx: 0,
            descending: false,
            nulls_first: false,
        }]));
    }
    b.build()
}

/// Write batches to a new Parquet file; returns its footer and size.
pub fn write_parquet(
    path: &Path,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    props: &WriterProperties,
) -> Result<(ParquetMetaData, u64)> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(path)?;
    let mut w = ArrowWriter::try_new(
        std::io::BufWriter::with_capacity(1 << 20, file),
        Arc::clone(schema),
        Some(props.clone()),
    )?;
    for b in batches {
        w.write(b)?;
    }
    let meta = w.close()?;
    let bytes = std::fs::metadata(path)?.len();
    Ok((meta, bytes))
}
