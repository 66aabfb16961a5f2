//! Staging and atomic publish.
//!
//! * Local roots: a new version is built in `SCHEMA/.staging/TABLE.<id>/`
//!   next to the table, moved to `SCHEMA/.versions/TABLE.<id>/`, and
//!   published by renaming a symbolic link over `SCHEMA/TABLE`
//!   (-> `.versions/TABLE.<id>`): readers that open `SCHEMA/TABLE` (hats,
//!   LSDB, DuckDB, `/catalogue/`) see either the whole old table or the
//!   whole new one, and a running server keeps reading the version it
//!   opened (the provider resolves the link once). A version directory is
//!   never changed after it is published. The new and the previous version
//!   are kept; older ones are deleted (a server still reading one follows
//!   the table to its current version). A table published before versioned
//!   directories (a real `SCHEMA/TABLE/`) is swapped for the link by one
//!   `renameat2(RENAME_EXCHANGE)` and then deleted. A killed ingest leaves
//!   only its staging directory, which the next ingest of the table removes.
//! * Object-store roots: the version is built in a local scratch directory,
//!   uploaded to `SCHEMA/TABLE/v<id>/`, and becomes visible when the
//!   manifest (one atomic PUT) points at it; the previous version's objects
//!   are deleted afterwards.
//!
//! Writers take an exclusive lock on `ROOT/.astrolake.lock` (local roots), so
//! two ingests never interleave their manifest updates.

use std::path::{Path, PathBuf};

use moc::deser::fits::ranges_to_fits_ivoa;
use moc::moc::range::RangeMOC;
use moc::moc::RangeMOCIntoIterator;
use moc::qty::Hpx;

use super::BuiltTable;
use crate::error::{CatalogError, Result};
use crate::hats::{partition_info_csv, summary_metadata_files, Properties};
use crate::manifest::{Manifest, SchemaEntry, TableEntry};
use crate::root::CatalogRoot;
use crate::table::{TableInfo, TableKind, MOC_FILE, SIDECAR_FILE, TABLE_INFO_FILE};

/// Where a schema's table versions live (hidden: not served, not exported).
pub const VERSIONS_DIR: &str = ".versions";

/// fsync a directory (after renames in it).
fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Delete the versions of `table` in `versions` other than `keep`.
fn delete_old_versions(versions: &Path, table: &str, keep: &[&str]) -> Result<()> {
    let prefix = format!("{table}.");
    for e in std::fs::read_dir(versions)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with(&prefix) && !keep.contains(&name.as_str()) {
            std::fs::remove_dir_all(e.path())?;
        }
    }
    Ok(())
}

/// An exclusive writer lock on a local root (none for object stores).
pub struct RootLock(#[allow(dead_code)] Option<std::fs::File>);

/// Take the writer lock of a root, waiting for another ingest to finish.
pub fn lock(root: &CatalogRoot) -> Result<RootLock> {
    let Some(dir) = root.local_dir() else {
        return Ok(RootLock(None));
    };
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".astrolake.lock"))?;
    f.lock()?;
    Ok(RootLock(Some(f)))
}

/// One table version being built.
pub struct Publisher {
    schema: String,
    table: String,
    id: String,
    staging: PathBuf,
    spill: PathBuf,
    /// Local roots: the table directory; object stores: `None`.
    local_table: Option<PathBuf>,
    _scratch: Option<tempfile::TempDir>,
}

impl Publisher {
    /// Prepare a staging area (and remove what an interrupted ingest left).
    pub async fn begin(
        root: &CatalogRoot,
        schema: &str,
        table: &str,
        tmp: Option<&Path>,
    ) -> Result<Self> {
        crate::manifest::check_name(schema)?;
        crate::manifest::check_name(table)?;
        let id = format!(
            "{}-{:08x}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            rand::random::<u32>()
        );
        match root.local_dir() {
            Some(dir) => {
                let staging_root = dir.join(schema).join(".staging");
                std::fs::create_dir_all(&staging_root)?;
                // We hold the root lock: anything staged for this table is stale.
                for e in std::fs::read_dir(&staging_root)? {
                    let e = e?;
                    let name = e.file_name().to_string_lossy().to_string();
                    if name.starts_with(&format!("{table}.")) {
                        std::fs::remove_dir_all(e.path())?;
                    }
                }
                let staging = staging_root.join(format!("{table}.{id}"));
                let spill = staging_root.join(format!("{table}.{id}.spill"));
                std::fs::create_dir_all(&staging)?;
                Ok(Publisher {
                    schema: schema.into(),
                    table: table.into(),
                    id,
                    staging,
                    spill,
                    local_table: Some(dir.join(schema).join(table)),
                    _scratch: None,
                })
            }
            None => {
                let scratch = match tmp {
                    Some(t) => tempfile::Builder::new()
                        .prefix("astrolake-")
                        .tempdir_in(t)?,
                    None => tempfile::Builder::new().prefix("astrolake-").tempdir()?,
                };
                let staging = scratch.path().join("table");
                let spill = scratch.path().join("spill");
                std::fs::create_dir_all(&staging)?;
                Ok(Publisher {
                    schema: schema.into(),
                    table: table.into(),
                    id,
                    staging,
                    spill,
                    local_table: None,
                    _scratch: Some(scratch),
                })
            }
        }
    }

    /// Where data files are written.
    pub fn staging_dir(&self) -> &Path {
        &self.staging
    }
    /// Where spill files go.
    pub fn spill_dir(&self) -> &Path {
        &self.spill
    }

    /// The current version's data files and metadata, for appending.
    pub async fn current_files(
        &self,
        root: &CatalogRoot,
    ) -> Result<Option<(Vec<PathBuf>, astrolake_vo::TableMeta)>> {
        let manifest = Manifest::load(root).await?;
        let Some((_, _, entry)) = manifest.table(&self.schema, &self.table) else {
            return Ok(None);
        };
        let Some(dir) = root.local_dir().map(|d| d.join(&entry.path)) else {
            return Err(CatalogError::Invalid(
                "appending to a table in an object store is not supported; ingest into a local root and export".into(),
            ));
        };
        let info: TableInfo = serde_json::from_slice(&std::fs::read(dir.join(TABLE_INFO_FILE))?)?;
        let meta = astrolake_vo::TableMeta::from_votable(&std::fs::read_to_string(
            dir.join(SIDECAR_FILE),
        )?)?;
        // Our own _healpix_29 column is recomputed: drop its metadata.
        let meta = astrolake_vo::TableMeta {
            fields: meta
                .fields
                .into_iter()
                .filter(|f| f.name != crate::healpix::HEALPIX_COLUMN)
                .collect(),
            ..meta
        };
        Ok(Some((
            info.files.iter().map(|f| dir.join(&f.path)).collect(),
            meta,
        )))
    }

    /// Write every metadata file of the new version into staging.
    pub async fn write_metadata(&self, built: &BuiltTable) -> Result<()> {
        let mut info = built.info.clone();
        info.version = self.id.clone();
        let s = &self.staging;
        std::fs::create_dir_all(s.join("dataset"))?;
        if !built.footers.is_empty() {
            let (all, common) = summary_metadata_files(&built.footers)?;
            std::fs::write(s.join("dataset/_metadata"), all)?;
            std::fs::write(s.join("dataset/_common_metadata"), common)?;
        }
        if info.kind == TableKind::Hats {
            let props = Properties {
                info: &info,
                max_order: built.max_order,
                builder: format!("astrolake v{}", env!("CARGO_PKG_VERSION")),
                default_columns: None,
            };
            std::fs::write(s.join("hats.properties"), props.to_text())?;
            std::fs::write(
                s.join("partition_info.csv"),
                partition_info_csv(&info.files),
            )?;
            if let Some(h) = &built.histogram {
                let moc = RangeMOC::<u64, Hpx<u64>>::from_fixed_depth_cells(
                    h.order(),
                    h.nonempty_cells(),
                    None,
                );
                let mut buf = Vec::new();
                ranges_to_fits_ivoa((&moc).into_range_moc_iter(), None, None, &mut buf)
                    .map_err(|e| CatalogError::Invalid(format!("writing the MOC: {e}")))?;
                std::fs::write(s.join(MOC_FILE), buf)?;
            }
        }
        std::fs::write(s.join(SIDECAR_FILE), built.meta.to_votable())?;
        std::fs::write(s.join(TABLE_INFO_FILE), serde_json::to_vec_pretty(&info)?)?;
        Ok(())
    }

    /// Give up: remove the staging and spill files (best effort).
    pub fn abort(self) {
        let _ = std::fs::remove_dir_all(&self.staging);
        let _ = std::fs::remove_dir_all(&self.spill);
    }

    /// Make the new version the table's current one.
    pub async fn publish(self, root: &CatalogRoot, description: Option<String>) -> Result<()> {
        let mut manifest = Manifest::load(root).await?;
        let previous = manifest
            .table(&self.schema, &self.table)
            .map(|(_, _, e)| e.path.clone());
        let path = match &self.local_table {
            Some(target) => {
                let schema_dir = target.parent().expect("SCHEMA/TABLE has a parent");
                let versions = schema_dir.join(VERSIONS_DIR);
                std::fs::create_dir_all(&versions)?;
                let name = format!("{}.{}", self.table, self.id);
                std::fs::rename(&self.staging, versions.join(&name))?;
                sync_dir(&versions)?;
                // The link is made in the staging area, then renamed into
                // place (one atomic step for readers).
                let link = self.staging.with_file_name(format!("{name}.link"));
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(Path::new(VERSIONS_DIR).join(&name), &link)?;
                let previous = std::fs::read_link(target)
                    .ok()
                    .and_then(|t| t.file_name().map(|n| n.to_string_lossy().to_string()));
                match std::fs::symlink_metadata(target) {
                    Ok(m) if m.file_type().is_dir() => {
                        // Published before versioned directories.
                        nix::fcntl::renameat2(
                            nix::fcntl::AT_FDCWD,
                            &link,
                            nix::fcntl::AT_FDCWD,
                            target,
                            nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                        )
                        .map_err(|e| CatalogError::Io(std::io::Error::from(e)))?;
                        // The old table now sits where the link was made.
                        std::fs::remove_dir_all(&link)?;
                    }
                    _ => std::fs::rename(&link, target)?,
                }
                sync_dir(schema_dir)?;
                let mut keep = vec![name.as_str()];
                keep.extend(previous.as_deref());
                delete_old_versions(&versions, &self.table, &keep)?;
                format!("{}/{}", self.schema, self.table)
            }
            None => {
                let rel = format!("{}/{}/v{}", self.schema, self.table, self.id);
                upload_dir(root, &self.staging, &rel).await?;
                rel
            }
        };
        let schema = manifest
            .schemas
            .entry(self.schema.clone())
            .or_insert_with(SchemaEntry::default);
        let entry = schema
            .tables
            .entry(self.table.clone())
            .or_insert_with(TableEntry::default);
        let changed =
            entry.path != path || (description.is_some() && entry.description != description);
        entry.path = path.clone();
        if description.is_some() {
            entry.description = description;
        }
        if changed {
            manifest.save(root).await?;
        }
        if let (None, Some(prev)) = (&self.local_table, previous) {
            if prev != path {
                root.delete_prefix(&prev).await?;
            }
        }
        Ok(())
    }
}

/// Upload a local directory tree to `rel/` under the root.
async fn upload_dir(root: &CatalogRoot, dir: &Path, rel: &str) -> Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let sub = p
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            let target = root.path(&format!("{rel}/{sub}"));
            let mut w = object_store::buffered::BufWriter::new(root.store(), target);
            let mut f = tokio::fs::File::open(&p).await?;
            tokio::io::copy(&mut f, &mut w).await?;
            w.shutdown().await?;
        }
    }
    Ok(())
}
