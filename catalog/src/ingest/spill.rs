//! Phase 1 of ingest: spill rows to local Arrow IPC files, one per coarse
//! HEALPix bucket per worker, so that phase 2 can assemble each partition
//! without holding the whole input in memory.
//!
//! The rows of each incoming batch are copied out per bucket (in
//! `_healpix_29` order) and buffered; a bucket's buffer is written as one IPC
//! message when it reaches [`FLUSH_ROWS`], and all buffers are written when
//! the worker holds more than [`MAX_PENDING_ROWS`], which bounds memory. A
//! message is thus a concatenation of sorted runs, not sorted as a whole.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use arrow::array::{Array, Int64Array, RecordBatch};
use arrow::compute::{concat_batches, sort_to_indices, take_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;

use crate::error::Result;
use crate::healpix::INDEX_ORDER;

/// Rows a bucket buffers before writing an IPC message.
pub const FLUSH_ROWS: usize = 16_384;
/// Rows a worker buffers over all buckets before writing everything.
pub const MAX_PENDING_ROWS: usize = 262_144;

/// Sort a batch by its `_healpix_29` column (column 0).
pub fn sort_by_healpix(batch: &RecordBatch) -> Result<RecordBatch> {
    let idx = sort_to_indices(batch.column(0), None, None)?;
    Ok(take_record_batch(batch, &idx)?)
}

/// The `_healpix_29` column (column 0) of a batch.
pub fn healpix_values(batch: &RecordBatch) -> &[i64] {
    batch
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("_healpix_29 is column 0, Int64")
        .values()
}

/// One worker's spill files.
pub struct Spiller {
    dir: PathBuf,
    order: u8,
    schema: SchemaRef,
    writers: HashMap<u64, (StreamWriter<BufWriter<File>>, u64)>,
    pending: HashMap<u64, (Vec<RecordBatch>, usize)>,
    pending_rows: usize,
}

impl Spiller {
    /// Spill into `dir` (created), bucketing at HEALPix `order`.
    pub fn new(dir: PathBuf, order: u8, schema: SchemaRef) -> Result<Self> {
        std::fs::create_dir_all(&dir)?;
        Ok(Spiller {
            dir,
            order,
            schema,
            writers: HashMap::new(),
            pending: HashMap::new(),
            pending_rows: 0,
        })
    }

    /// Add a batch (any row order). Its rows are copied per bucket, so a
    /// buffered bucket never pins the memory of a whole input batch.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<()> {
        let order = sort_to_indices(batch.column(0), None, None)?;
        let hpx = healpix_values(batch);
        let shift = 2 * (INDEX_ORDER - self.order) as u32;
        let idx = order.values();
        let mut start = 0usize;
        while start < idx.len() {
            let bucket = (hpx[idx[start] as usize] as u64) >> shift;
            let end_value = ((bucket + 1) << shift) as i64;
            let end = start + idx[start..].partition_point(|&i| hpx[i as usize] < end_value);
            let rows = take_record_batch(batch, &order.slice(start, end - start))?;
            let e = self
                .pending
                .entry(bucket)
                .or_insert_with(|| (Vec::new(), 0));
            e.0.push(rows);
            e.1 += end - start;
            self.pending_rows += end - start;
            if e.1 >= FLUSH_ROWS {
                self.flush_bucket(bucket)?;
            }
            start = end;
        }
        if self.pending_rows > MAX_PENDING_ROWS {
            self.flush_all()?;
        }
        Ok(())
    }

    fn flush_bucket(&mut self, bucket: u64) -> Result<()> {
        let Some((batches, rows)) = self.pending.remove(&bucket) else {
            return Ok(());
        };
        self.pending_rows -= rows;
        let merged = concat_batches(&self.schema, &batches)?;
        let (w, n) = match self.writers.entry(bucket) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let f = File::create(self.dir.join(format!("b{bucket}.arrows")))?;
                let w = StreamWriter::try_new(BufWriter::with_capacity(1 << 16, f), &self.schema)?;
                v.insert((w, 0))
            }
        };
        w.write(&merged)?;
        *n += rows as u64;
        Ok(())
    }

    fn flush_all(&mut self) -> Result<()> {
        let buckets: Vec<u64> = self.pending.keys().copied().collect();
        for b in buckets {
            self.flush_bucket(b)?;
        }
        Ok(())
    }

    /// Write what is buffered and close the files: bucket → (file, rows).
    pub fn finish(mut self) -> Result<HashMap<u64, (PathBuf, u64)>> {
        self.flush_all()?;
        let mut out = HashMap::new();
        for (bucket, (mut w, rows)) in self.writers.drain() {
            w.finish()?;
            out.insert(bucket, (self.dir.join(format!("b{bucket}.arrows")), rows));
        }
        Ok(out)
    }
}

/// Read every batch of a spill file.
pub fn read_spill(path: &Path) -> Result<Vec<RecordBatch>> {
    let f = File::open(path)?;
    let r = StreamReader::try_new(std::io::BufReader::with_capacity(1 << 16, f), None)?;
    let mut out = Vec::new();
    for b in r {
        let b = b?;
        if b.num_rows() > 0 {
            out.push(b);
        }
    }
    Ok(out)
}

/// Stream the batches of a spill file one at a time.
pub fn stream_spill(path: &Path) -> Result<impl Iterator<Item = Result<RecordBatch>>> {
    let f = File::open(path)?;
    let r = StreamReader::try_new(std::io::BufReader::with_capacity(1 << 16, f), None)?;
    Ok(r.map(|b| b.map_err(Into::into)))
}

/// Keep only non-empty values of a column (helper for tests).
#[cfg(test)]
pub fn count_rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.column(0).len()).sum()
}
