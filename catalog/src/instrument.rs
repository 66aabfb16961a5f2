//! An object store wrapper that logs reads: which objects were opened and
//! how many bytes were fetched. Tests and benchmarks use it to prove that
//! pruning works ("a cone search opens only the files its cover touches").

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result,
};

/// Reads of one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// GET requests (a `get_ranges` call counts once per range).
    pub requests: u64,
    /// Bytes returned.
    pub bytes: u64,
}

/// An [`ObjectStore`] that counts reads per object.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    reads: Mutex<BTreeMap<String, ReadStats>>,
}

impl CountingStore {
    /// Wrap a store.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        CountingStore {
            inner,
            reads: Mutex::new(BTreeMap::new()),
        }
    }
    /// Reads so far, by object path.
    pub fn reads(&self) -> BTreeMap<String, ReadStats> {
        self.reads.lock().expect("reads").clone()
    }
    /// Forget the reads so far.
    pub fn reset(&self) {
        self.reads.lock().expect("reads").clear();
    }
    fn record(&self, location: &Path, requests: u64, bytes: u64) {
        let mut r = self.reads.lock().expect("reads");
        let e = r.entry(location.to_string()).or_default();
        e.requests += requests;
        e.bytes += bytes;
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountingStore({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        let r = self.inner.get_opts(location, options).await?;
        self.record(location, 1, r.range.end - r.range.start);
        Ok(r)
    }
    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        let r = self.inner.get_ranges(location, ranges).await?;
        self.record(
            location,
            ranges.len() as u64,
            r.iter().map(|b| b.len() as u64).sum(),
        );
        Ok(r)
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
