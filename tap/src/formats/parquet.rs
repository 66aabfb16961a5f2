//! Parquet output with VOParquet 1.0 metadata.
//!
//! The converted batches (the same column types and unique names every
//! format uses; timestamps as ISO 8601 strings) go through a parquet
//! `ArrowWriter` whose sink is an in-memory buffer that is drained after
//! every batch: memory holds at most the row group in progress
//! ([`ROW_GROUP_ROWS`] rows, cut by row count only so the file does not
//! depend on batch boundaries). Snappy compression.
//!
//! The footer carries the VOParquet keys `IVOA.VOTable-Parquet.version` =
//! `1.0` and `IVOA.VOTable-Parquet.content` = a VOTable (no DATA) with one
//! FIELD per column, the same keys `astrolake_catalog::hats` writes; when
//! the result overflowed, that VOTable has
//! `<INFO name="QUERY_STATUS" value="OVERFLOW"/>` after its TABLE.
//! [`super::Encoder::fail`] returns [`super::Error::Failed`]: a Parquet
//! file cannot say that it is incomplete, so the connection must be
//! aborted.

use std::io::Write;
use std::sync::{Arc, Mutex};

use ::parquet::arrow::ArrowWriter;
use ::parquet::basic::Compression;
use ::parquet::file::metadata::KeyValue;
use ::parquet::file::properties::WriterProperties;
use arrow::record_batch::RecordBatch;

use super::votable::metadata_votable;
use super::{Error, Plan, Result, ResultInfo};

/// VOParquet version key (as `astrolake_catalog::hats::VOPARQUET_VERSION_KEY`).
pub(crate) const VOPARQUET_VERSION_KEY: &str = "IVOA.VOTable-Parquet.version";
/// VOParquet content key (as `astrolake_catalog::hats::VOPARQUET_CONTENT_KEY`).
pub(crate) const VOPARQUET_CONTENT_KEY: &str = "IVOA.VOTable-Parquet.content";
/// VOParquet version written.
pub(crate) const VOPARQUET_VERSION: &str = "1.0";
/// Rows per row group.
pub(crate) const ROW_GROUP_ROWS: usize = 65_536;

/// A `Write` whose bytes the encoder takes out after each step.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned buffer"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl SharedBuf {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

/// The Parquet encoder.
pub(crate) struct ParquetEncoder {
    info: ResultInfo,
    plan: Plan,
    buf: SharedBuf,
    writer: Option<ArrowWriter<SharedBuf>>,
}

impl ParquetEncoder {
    pub(crate) fn new(info: ResultInfo, plan: Plan) -> Self {
        ParquetEncoder {
            info,
            plan,
            buf: SharedBuf::default(),
            writer: None,
        }
    }

    fn writer(&mut self) -> Result<&mut ArrowWriter<SharedBuf>> {
        self.writer.as_mut().ok_or_else(|| {
            Error::State("parquet writer not open (begin not called, or finished)".into())
        })
    }
}

impl super::Encoder for ParquetEncoder {
    fn begin(&mut self) -> Result<Vec<u8>> {
        if self.writer.is_some() {
            return Err(Error::State("begin called twice".into()));
        }
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let w = ArrowWriter::try_new(self.buf.clone(), self.plan.schema.clone(), Some(props))?;
        self.writer = Some(w);
        Ok(self.buf.take())
    }

    fn batch(&mut self, b: &RecordBatch) -> Result<Vec<u8>> {
        let arrays = self.plan.convert(b)?;
        let batch = RecordBatch::try_new(self.plan.schema.clone(), arrays)?;
        let w = self.writer()?;
        w.write(&batch)?;
        w.sync()?;
        Ok(self.buf.take())
    }

    fn finish(&mut self, overflow: bool) -> Result<Vec<u8>> {
        let content = metadata_votable(&self.info, &self.plan.columns, overflow);
        let mut w = self
            .writer
            .take()
            .ok_or_else(|| Error::State("finish without begin, or twice".into()))?;
        w.append_key_value_metadata(KeyValue::new(
            VOPARQUET_VERSION_KEY.to_string(),
            VOPARQUET_VERSION.to_string(),
        ));
        w.append_key_value_metadata(KeyValue::new(VOPARQUET_CONTENT_KEY.to_string(), content));
        w.close()?;
        Ok(self.buf.take())
    }

    fn fail(&mut self, message: &str) -> Result<Vec<u8>> {
        self.writer = None;
        self.buf.take();
        Err(Error::Failed(message.to_string()))
    }
}
