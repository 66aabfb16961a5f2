//! Parquet input. Column metadata comes from the file's VOParquet metadata
//! when it has some (FIELD order = column order; discarded if the counts do
//! not match, as the VOParquet note says), else from the Arrow types, then
//! `--metadata` overlays it.
//!
//! **Limits** ([`ParquetSource::open_with_limits`]). Before the footer is
//! decoded, its declared length must be at most
//! [`InputLimits::max_header_bytes`]; once decoded, the file may have at most
//! [`InputLimits::max_columns`] leaf columns and its row groups may declare
//! at most [`InputLimits::max_decompressed_bytes`] of uncompressed data in
//! all. Batches are sized from the declared bytes per row to hold about
//! [`InputLimits::batch_bytes`]. (Page headers that lie about their sizes
//! are the Parquet decoder's to catch.)

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{InputLimits, ReadOptions, Source, SourceBatch};
use crate::error::{CatalogError, Result};
use crate::hats::voparquet_meta;
use astrolake_vo::{FieldMeta, TableMeta};

/// A Parquet file as a source.
pub struct ParquetSource {
    name: String,
    reader: ParquetRecordBatchReader,
    schema: SchemaRef,
    meta: TableMeta,
    row: u64,
}

impl ParquetSource {
    /// Open a Parquet file.
    pub fn open(path: &Path, opts: &ReadOptions) -> Result<Self> {
        Self::open_with_limits(path, opts, &InputLimits::default())
    }

    /// [`ParquetSource::open`], refusing files whose footer declares more
    /// than `limits` allow (see the [module docs](self)).
    pub fn open_with_limits(path: &Path, opts: &ReadOptions, limits: &InputLimits) -> Result<Self> {
        let name = path.display().to_string();
        let mut file = std::fs::File::open(path)
            .map_err(|e| CatalogError::format(&name, format!("cannot open: {e}")))?;
        check_footer_length(&mut file, &name, limits)?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            CatalogError::format(&name, format!("not a readable Parquet file: {e}"))
        })?;
        let md = builder.metadata();
        limits.check_columns(
            &name,
            md.file_metadata().schema_descr().num_columns(),
            "the file",
        )?;
        let uncompressed: u64 = md
            .row_groups()
            .iter()
            .flat_map(|rg| rg.columns())
            .map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(u64::MAX))
            .fold(0u64, u64::saturating_add);
        if uncompressed > limits.max_decompressed_bytes {
            return Err(limits.error(
                &name,
                format!("the file declares {uncompressed} bytes of uncompressed column data"),
                "max_decompressed_bytes",
            ));
        }
        let rows = u64::try_from(md.file_metadata().num_rows()).unwrap_or(0);
        let batch_rows = limits.batch_rows_for(opts.batch_rows(), uncompressed / rows.max(1));
        let schema = Arc::clone(builder.schema());
        let kv = builder.metadata().file_metadata().key_value_metadata();
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let derived = TableMeta {
            name: stem,
            description: None,
            fields: schema
                .fields()
                .iter()
                .map(|f| FieldMeta::from_arrow(f))
                .collect(),
        };
        let mut meta = match voparquet_meta(kv) {
            Ok(Some(m)) if m.fields.len() == schema.fields().len() => {
                // Parquet types are authoritative; names, units, UCDs and
                // descriptions come from the FIELDs, matched by position.
                let mut out = derived.clone();
                for (d, f) in out.fields.iter_mut().zip(m.fields) {
                    *d = FieldMeta {
                        name: d.name.clone(),
                        datatype: d.datatype.clone(),
                        arraysize: d.arraysize.clone(),
                        ..f
                    };
                }
                out.description = m.description;
                if !m.name.is_empty() {
                    out.name = m.name;
                }
                out
            }
            _ => derived,
        };
        if let Some(decl) = &opts.declared {
            meta.apply_declared(decl, &name)?;
        }
        let reader = builder.with_batch_size(batch_rows).build()?;
        Ok(ParquetSource {
            name,
            reader,
            schema,
            meta,
            row: 0,
        })
    }
}

/// Refuse a file whose footer (the Thrift metadata the reader decodes in one
/// piece) is declared longer than [`InputLimits::max_header_bytes`]. Files too
/// short to have a footer are left to the Parquet reader to refuse.
fn check_footer_length(file: &mut std::fs::File, name: &str, limits: &InputLimits) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let len = file.metadata()?.len();
    if len < 8 {
        return Ok(());
    }
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::End(-8))?;
    file.read_exact(&mut tail)?;
    file.seek(SeekFrom::Start(0))?;
    let footer = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if footer > limits.max_header_bytes {
        return Err(limits.error(
            name,
            format!("the Parquet footer is declared {footer} bytes long"),
            "max_header_bytes",
        ));
    }
    Ok(())
}

impl Source for ParquetSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
    fn meta(&self) -> &TableMeta {
        &self.meta
    }
    fn next_batch(&mut self) -> Result<Option<SourceBatch>> {
        match self.reader.next() {
            None => Ok(None),
            Some(Err(e)) => Err(CatalogError::format(
                &self.name,
                format!("after row {}: {e}", self.row),
            )),
            Some(Ok(batch)) => {
                let first_line = self.row + 1;
                self.row += batch.num_rows() as u64;
                Ok(Some(SourceBatch { batch, first_line }))
            }
        }
    }
}
