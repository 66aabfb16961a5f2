//! Catalogue roots: a local directory or an object-store URL, behind one
//! [`ObjectStore`] so that reading is one code path for both.
//!
//! `ROOT` may be `path/to/dir`, `file:///abs/dir` or `s3://bucket/prefix`.
//! Local roots use the process-wide `file://` store (absolute paths), like
//! DataFusion's default; S3 roots use `AmazonS3Builder::from_env()`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use url::Url;

use crate::error::{CatalogError, Result};

/// A catalogue root.
#[derive(Clone, Debug)]
pub struct CatalogRoot {
    url: Url,
    store: Arc<dyn ObjectStore>,
    store_url: ObjectStoreUrl,
    prefix: ObjPath,
    local: Option<PathBuf>,
}

impl CatalogRoot {
    /// Open a root from a directory path or URL. A local directory is created
    /// if missing.
    pub fn open(root: &str) -> Result<Self> {
        if let Some(rest) = root.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(CatalogError::Invalid(format!("{root}: no bucket name")));
            }
            let store = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .build()?;
            let url = Url::parse(&format!("s3://{bucket}/{}", prefix.trim_end_matches('/')))
                .map_err(|e| CatalogError::Invalid(format!("{root}: {e}")))?;
            return Ok(CatalogRoot {
                url,
                store: Arc::new(store),
                store_url: ObjectStoreUrl::parse(format!("s3://{bucket}"))?,
                prefix: ObjPath::from(prefix.trim_matches('/')),
                local: None,
            });
        }
        let path = match root.strip_prefix("file://") {
            Some(p) => PathBuf::from(p),
            None if root.contains("://") => {
                return Err(CatalogError::Invalid(format!(
                    "{root}: unsupported catalogue URL scheme (use a directory, file:// or s3://)"
                )))
            }
            None => PathBuf::from(root),
        };
        std::fs::create_dir_all(&path)?;
        let path = std::fs::canonicalize(&path)?;
        let url = Url::from_directory_path(&path).map_err(|_| {
            CatalogError::Invalid(format!("{}: not a valid directory", path.display()))
        })?;
        let prefix = ObjPath::from_absolute_path(&path)
            .map_err(|e| CatalogError::Invalid(format!("{}: {e}", path.display())))?;
        Ok(CatalogRoot {
            url,
            store: Arc::new(LocalFileSystem::new()),
            store_url: ObjectStoreUrl::local_filesystem(),
            prefix,
            local: Some(path),
        })
    }

    /// A root on a store already built (see [`crate::remote::open_root`]):
    /// its URL, the store, the key DataFusion finds the store by, and the
    /// path of the root in the store.
    pub fn from_parts(
        url: Url,
        store: Arc<dyn ObjectStore>,
        store_url: ObjectStoreUrl,
        prefix: ObjPath,
    ) -> Self {
        CatalogRoot {
            url,
            store,
            store_url,
            prefix,
            local: None,
        }
    }

    /// A root at `rel` below this one, on the same store (a table
    /// directory of a remote catalogue).
    pub fn child(&self, rel: &str) -> Self {
        let mut url = self.url.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}/{}", rel.trim_matches('/')));
        CatalogRoot {
            url,
            store: Arc::clone(&self.store),
            store_url: self.store_url.clone(),
            prefix: self.path(rel),
            local: self.local.as_ref().map(|l| l.join(rel)),
        }
    }

    /// The root as a URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
    /// The object store holding the root.
    pub fn store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }
    /// Replace the object store (e.g. with an instrumented wrapper).
    pub fn with_store(mut self, store: Arc<dyn ObjectStore>) -> Self {
        self.store = store;
        self
    }
    /// The URL DataFusion registers the store under (`file://`, `s3://bucket`).
    pub fn object_store_url(&self) -> &ObjectStoreUrl {
        &self.store_url
    }
    /// The local directory, for local roots.
    pub fn local_dir(&self) -> Option<&std::path::Path> {
        self.local.as_deref()
    }
    /// Object path of `rel` (a `/`-separated path relative to the root).
    pub fn path(&self, rel: &str) -> ObjPath {
        let mut p = self.prefix.clone();
        for part in rel.split('/').filter(|s| !s.is_empty()) {
            p = p.clone().join(part);
        }
        p
    }

    /// Read an object, `None` if it does not exist.
    pub async fn get_opt(&self, rel: &str) -> Result<Option<Bytes>> {
        match self.store.get(&self.path(rel)).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Read an object that must exist.
    pub async fn get(&self, rel: &str) -> Result<Bytes> {
        self.get_opt(rel)
            .await?
            .ok_or_else(|| CatalogError::NotFound(format!("{}{rel}", self.display_prefix())))
    }

    /// Write an object (atomically: readers see the old or the new content).
    pub async fn put(&self, rel: &str, bytes: impl Into<Bytes>) -> Result<()> {
        let bytes: Bytes = bytes.into();
        self.store
            .put(&self.path(rel), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    /// Delete every object under `rel/`.
    pub async fn delete_prefix(&self, rel: &str) -> Result<()> {
        use futures::TryStreamExt;
        let prefix = self.path(rel);
        let objects: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        for o in objects {
            self.store.delete(&o.location).await?;
        }
        Ok(())
    }

    /// `rel` below the root, as errors name it.
    pub(crate) fn display_path(&self, rel: &str) -> String {
        format!("{}{rel}", self.display_prefix())
    }

    fn display_prefix(&self) -> String {
        let s = self.url.to_string();
        if s.ends_with('/') {
            s
        } else {
            format!("{s}/")
        }
    }
}

/// Replace the file at `path` with `bytes`, atomically and durably: the
/// bytes go to a unique temporary name in the same directory (hidden,
/// `.NAME.XXXXXX.tmp`), are fsynced, renamed over `path`, and the
/// directory is fsynced, so after a crash `path` holds the old or the new
/// content, never a part. The directory is created if missing.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{}: not a file name", path.display())))?;
    std::fs::create_dir_all(dir)?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        // Readable like a file the process creates (tempfile's own
        // default is 0600); the umask still applies.
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = b.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Whether `p` is a plain relative path inside a catalogue: non-empty
/// `/`-separated segments, none `.`, `..` or hidden, no `\\` or `:`.
pub fn plain_relative(p: &str) -> bool {
    !p.is_empty()
        && p.split('/')
            .all(|s| !s.is_empty() && !s.starts_with('.') && !s.contains('\\') && !s.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        // Two writers never share a temporary name.
        let p = Arc::new(dir.path().join("many.json"));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let p = Arc::clone(&p);
                std::thread::spawn(move || atomic_write(&p, format!("{i}").as_bytes()).unwrap())
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(p.as_ref()).unwrap();
        assert!(text.parse::<u32>().unwrap() < 8, "{text}");
    }
}
