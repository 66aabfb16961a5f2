//! Parquet input. Column metadata comes from the file's VOParquet metadata
//! when it has some (FIELD order = column order; discarded if the counts do
//! not match, as the VOParquet note says), else from the Arrow types, then
//! `--metadata` overlays it.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use super::{ReadOptions, Source, SourceBatch};
use crate::error::{CatalogError, Result};
use crate::hats::voparquet_meta;
use crate::votable::{FieldMeta, TableMeta};

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
        let name = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|e| CatalogError::format(&name, format!("cannot open: {e}")))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
            CatalogError::format(&name, format!("not a readable Parquet file: {e}"))
        })?;
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
        let reader = builder.with_batch_size(opts.batch_rows()).build()?;
        Ok(ParquetSource {
            name,
            reader,
            schema,
            meta,
            row: 0,
        })
    }
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
