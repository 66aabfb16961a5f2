//! Moving catalogues between stores: `export` copies a catalogue (or one
//! table) with everything a remote reader needs, resumably; `mount`
//! registers another store's tables in a catalogue without copying them,
//! after checking every one opens.
//!
//! Resuming: the destination keeps `.astrolake-export.json` (path → size
//! and SHA-256 of each copied object); an object whose source has the same
//! size and checksum, and that the destination still holds at that size,
//! is skipped. The manifest is written last, so a reader never sees a
//! catalogue whose files are still arriving.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use object_store::{ObjectStoreExt, WriteMultipart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{CatalogError, Result};
use crate::manifest::{Manifest, RemoteTable, TableEntry, MANIFEST_FILE};
use crate::provider::TableScanner;
use crate::remote::RemoteOptions;
use crate::root::CatalogRoot;

/// The destination's record of copied objects.
pub const EXPORT_STATE_FILE: &str = ".astrolake-export.json";

/// Objects larger than this are uploaded in parts.
pub const MULTIPART_THRESHOLD: usize = 16 * 1024 * 1024;

/// Part size of multipart uploads.
pub const PART_SIZE: usize = 8 * 1024 * 1024;

#[derive(Debug, Default, Serialize, Deserialize)]
struct ExportState {
    files: BTreeMap<String, (u64, String)>,
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Objects copied.
    pub copied: usize,
    /// Objects already there (same size and checksum).
    pub skipped: usize,
    /// Bytes copied.
    pub bytes: u64,
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every object below `rel` (`""` for the whole root) of `root`, as paths
/// relative to the root with sizes, skipping hidden names (staging
/// directories, locks, export state).
pub async fn list(root: &CatalogRoot, rel: &str) -> Result<Vec<(String, u64)>> {
    let base = root.path("");
    let objects: Vec<object_store::ObjectMeta> = root
        .store()
        .list(Some(&root.path(rel)))
        .try_collect()
        .await?;
    let mut out = Vec::new();
    for o in objects {
        let Some(parts) = o.location.prefix_match(&base) else {
            continue;
        };
        let parts: Vec<String> = parts.map(|p| p.as_ref().to_string()).collect();
        if parts.iter().any(|p| p.starts_with('.')) {
            continue;
        }
        out.push((parts.join("/"), o.size));
    }
    out.sort();
    Ok(out)
}

/// Copy one object, in parts when large.
async fn put(dest: &CatalogRoot, rel: &str, bytes: bytes::Bytes) -> Result<()> {
    if bytes.len() <= MULTIPART_THRESHOLD {
        return dest.put(rel, bytes).await;
    }
    let upload = dest.store().put_multipart(&dest.path(rel)).await?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
    for chunk in bytes.chunks(PART_SIZE) {
        w.wait_for_capacity(4).await?;
        w.write(chunk);
    }
    w.finish().await?;
    Ok(())
}

/// Copy the catalogue at `src` (every table, or only `table` =
/// `(schema, table)`) to `dest`, skipping objects already copied.
/// `progress(done_bytes, total_bytes)` is called after each object. The
/// destination manifest lists exactly the exported tables and is written
/// last.
pub async fn export(
    src: &CatalogRoot,
    dest: &CatalogRoot,
    table: Option<(&str, &str)>,
    mut progress: impl FnMut(u64, u64),
) -> Result<ExportReport> {
    let mut manifest = Manifest::load(src).await?;
    if let Some((s, t)) = table {
        let (s, t) = manifest
            .table(s, t)
            .map(|(s, t, _)| (s.to_string(), t.to_string()))
            .ok_or_else(|| CatalogError::NotFound(format!("table {s}.{t}")))?;
        for (name, schema) in manifest.schemas.iter_mut() {
            schema.tables.retain(|tn, _| *name == s && *tn == t);
        }
        manifest.schemas.retain(|_, v| !v.tables.is_empty());
    }
    for (s, t, e) in manifest.tables() {
        if e.remote.is_some() {
            return Err(CatalogError::Invalid(format!(
                "{s}.{t} is mounted from {}; export the source catalogue instead",
                e.remote.as_ref().map(|r| r.url.as_str()).unwrap_or("")
            )));
        }
    }
    let mut objects = Vec::new();
    for (_, _, e) in manifest.tables() {
        objects.extend(list(src, &e.path).await?);
    }
    // Metadata after the data of each table: the files that declare a
    // table come last.
    let meta_rank = |p: &str| -> u8 {
        if p.ends_with(".parquet") {
            0
        } else {
            1
        }
    };
    objects.sort_by(|a, b| (meta_rank(&a.0), &a.0).cmp(&(meta_rank(&b.0), &b.0)));
    let total: u64 = objects.iter().map(|(_, s)| s).sum();
    let mut state: ExportState = match dest.get_opt(EXPORT_STATE_FILE).await? {
        Some(b) => serde_json::from_slice(&b).unwrap_or_default(),
        None => ExportState::default(),
    };
    let there: BTreeMap<String, u64> = list(dest, "").await?.into_iter().collect();
    let mut report = ExportReport::default();
    let mut done = 0u64;
    let mut since_save = 0usize;
    for (rel, size) in &objects {
        let bytes = src.get(rel).await?;
        let sum = hex(&Sha256::digest(&bytes));
        let same =
            state.files.get(rel) == Some(&(*size, sum.clone())) && there.get(rel) == Some(size);
        if same {
            report.skipped += 1;
        } else {
            put(dest, rel, bytes).await?;
            state.files.insert(rel.clone(), (*size, sum));
            report.copied += 1;
            report.bytes += size;
            since_save += 1;
            if since_save >= 32 {
                dest.put(EXPORT_STATE_FILE, serde_json::to_vec(&state)?)
                    .await?;
                since_save = 0;
            }
        }
        done += size;
        progress(done, total);
    }
    dest.put(EXPORT_STATE_FILE, serde_json::to_vec(&state)?)
        .await?;
    // Merge into what the destination already lists (an earlier export of
    // other tables stays listed).
    let mut out = Manifest::load(dest).await?;
    if out.title.is_none() {
        out.title = manifest.title.clone();
        out.description = manifest.description.clone();
        out.publisher = manifest.publisher.clone();
        out.waveband = manifest.waveband.clone();
        out.reference_url = manifest.reference_url.clone();
    }
    for (name, schema) in manifest.schemas {
        let e = out.schemas.entry(name).or_default();
        e.title = e.title.take().or(schema.title);
        e.description = e.description.take().or(schema.description);
        e.tables.extend(schema.tables);
    }
    out.save(dest).await?;
    Ok(report)
}

/// One table found at a remote location: its name and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Table name (unqualified).
    pub table: String,
    /// Table directory URL.
    pub url: String,
    /// `astrolake` or `hats`.
    pub layout: String,
    /// Its description, when the source has one.
    pub description: Option<String>,
}

/// The tables at `url`: an astrolake root or its `astrolake.json` (every
/// table it lists), or a plain HATS catalogue directory or its
/// `hats.properties` (one table, named after the directory).
pub async fn discover(url: &str, opts: &RemoteOptions) -> Result<Vec<Found>> {
    discover_at(url, opts)
        .await
        .map_err(|e| crate::remote::explain(e, url))
}

async fn discover_at(url: &str, opts: &RemoteOptions) -> Result<Vec<Found>> {
    let trimmed = url.trim_end_matches('/');
    let (root_url, file) = if let Some(r) = trimmed.strip_suffix(&format!("/{MANIFEST_FILE}")) {
        (r.to_string(), Some(MANIFEST_FILE))
    } else if let Some(r) = trimmed.strip_suffix("/hats.properties") {
        (r.to_string(), Some("hats.properties"))
    } else {
        (trimmed.to_string(), None)
    };
    let root = crate::remote::open_root(&root_url, opts)?;
    if file != Some("hats.properties") {
        if let Some(b) = root.get_opt(MANIFEST_FILE).await? {
            let m: Manifest = serde_json::from_slice(&b)
                .map_err(|e| CatalogError::Metadata(format!("{root_url}/{MANIFEST_FILE}: {e}")))?;
            let mut found = Vec::new();
            for (s, t, e) in m.tables() {
                // A table the other site mounts from elsewhere is not in
                // this store.
                if e.remote.is_some() {
                    continue;
                }
                if !crate::root::plain_relative(&e.path) {
                    return Err(CatalogError::Metadata(format!(
                        "{root_url}/{MANIFEST_FILE}: {s}.{t} is at {:?}, not a directory of \
                         the catalogue",
                        e.path
                    )));
                }
                found.push(Found {
                    table: t.to_string(),
                    url: format!("{root_url}/{}", e.path.trim_matches('/')),
                    layout: "astrolake".into(),
                    description: e.description.clone(),
                });
            }
            if found.is_empty() {
                return Err(CatalogError::NotFound(format!(
                    "{root_url}/{MANIFEST_FILE} lists no tables"
                )));
            }
            return Ok(found);
        }
        if file == Some(MANIFEST_FILE) {
            return Err(CatalogError::NotFound(format!("{url}: no such object")));
        }
    }
    if root.get_opt("hats.properties").await?.is_some() {
        let name = root_url.rsplit('/').next().unwrap_or("table").to_string();
        let layout = if root.get_opt(crate::table::TABLE_INFO_FILE).await?.is_some() {
            "astrolake"
        } else {
            "hats"
        };
        return Ok(vec![Found {
            table: name,
            url: root_url,
            layout: layout.into(),
            description: None,
        }]);
    }
    Err(CatalogError::NotFound(format!(
        "{url}: neither an astrolake catalogue ({MANIFEST_FILE}) nor a HATS catalogue \
         (hats.properties) is there"
    )))
}

/// Tables of an import, opened (and copied, for `--copy`) but not yet
/// registered: [`Staged::commit`] registers them, [`Staged::discard`]
/// removes what was copied.
#[derive(Debug)]
pub struct Staged {
    root: CatalogRoot,
    schema: String,
    title: Option<String>,
    entries: Vec<(String, TableEntry)>,
    scanners: Vec<TableScanner>,
    /// Directories written (copies), removed by `discard`.
    written: Vec<String>,
}

impl Staged {
    /// The schema the tables go to, as the manifest will have it (an
    /// existing schema's spelling when it differs only in case).
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The tables as `(table, scanner)`.
    pub fn tables(&self) -> impl Iterator<Item = (&str, &TableScanner)> {
        self.entries
            .iter()
            .map(|(n, _)| n.as_str())
            .zip(self.scanners.iter())
    }

    /// `m` with these tables added: what the manifest will be after
    /// [`Staged::commit`]. Fails if one of the names is taken.
    pub fn added_to(&self, m: &Manifest) -> Result<Manifest> {
        let mut m = m.clone();
        let names: Vec<(String, Option<String>)> = self
            .entries
            .iter()
            .map(|(n, _)| (n.clone(), None))
            .collect();
        check_free(&m, &self.schema, &names)?;
        let entry = m.schemas.entry(self.schema.clone()).or_default();
        if entry.title.is_none() {
            entry.title = self.title.clone();
        }
        entry.tables.extend(self.entries.iter().cloned());
        Ok(m)
    }

    /// Register the tables: the manifest is written (under the root's
    /// writer lock, re-read and checked for names taken meanwhile).
    pub async fn commit(&self) -> Result<()> {
        let _lock = crate::ingest::publish::lock(&self.root)?;
        let m = self.added_to(&Manifest::load(&self.root).await?)?;
        m.save(&self.root).await
    }

    /// Give up: remove the files copied (best effort); nothing was
    /// registered.
    pub async fn discard(self) {
        for dir in &self.written {
            let _ = self.root.delete_prefix(dir).await;
            if let Some(local) = self.root.local_dir() {
                let _ = std::fs::remove_dir_all(local.join(dir));
            }
        }
    }
}

/// Check the names of an import: `schema` and each table a plain
/// identifier (they become directories: no `/`, `..`), no two tables the
/// same (case-insensitively).
pub fn check_names(schema: &str, names: &[(String, Option<String>)]) -> Result<()> {
    crate::manifest::check_name(schema)
        .map_err(|e| CatalogError::Invalid(format!("schema {e}")))?;
    let mut seen = std::collections::BTreeSet::new();
    for (n, _) in names {
        crate::manifest::check_name(n)
            .map_err(|e| CatalogError::Invalid(format!("the source's table {e}")))?;
        if !seen.insert(n.to_ascii_lowercase()) {
            return Err(CatalogError::Invalid(format!(
                "two tables are named {n}; import them one at a time"
            )));
        }
    }
    Ok(())
}

/// The spelling `m` has for `schema` (names are case-insensitive), else
/// `schema`.
fn schema_spelling(m: &Manifest, schema: &str) -> String {
    m.schemas
        .keys()
        .find(|k| k.eq_ignore_ascii_case(schema))
        .cloned()
        .unwrap_or_else(|| schema.to_string())
}

/// Open `tables` for registering under `schema`, read in place: every
/// table is opened (metadata, schema, partitions, coverage); nothing is
/// registered. Fails if a name is invalid or `schema` already has a table
/// of one of these names.
pub async fn prepare_mount(
    root: &CatalogRoot,
    schema: &str,
    tables: &[RemoteTable],
    names: &[(String, Option<String>)],
    title: Option<String>,
    remotes: &crate::store::RemoteSettings,
) -> Result<Staged> {
    check_names(schema, names)?;
    let m = Manifest::load(root).await?;
    let schema = schema_spelling(&m, schema);
    check_free(&m, &schema, names)?;
    let mut opened = Vec::new();
    for (r, (name, _)) in tables.iter().zip(names) {
        let s = crate::store::open_remote(r, &schema, name, remotes)
            .await
            .map_err(|e| {
                CatalogError::Invalid(format!("cannot mount {} as {schema}.{name}: {e}", r.url))
            })?;
        opened.push(s);
    }
    let entries = tables
        .iter()
        .zip(names)
        .map(|(r, (name, description))| {
            (
                name.clone(),
                TableEntry {
                    path: String::new(),
                    description: description.clone(),
                    remote: Some(RemoteTable {
                        options: r.options.public(),
                        ..r.clone()
                    }),
                },
            )
        })
        .collect();
    Ok(Staged {
        root: root.clone(),
        schema,
        title,
        entries,
        scanners: opened,
        written: Vec::new(),
    })
}

/// Register `tables` under `schema` in the catalogue at `root`, read in
/// place: every table is opened first (metadata, schema, partitions), and
/// nothing is registered unless all open. Fails if `schema` already has a
/// table of one of these names.
pub async fn mount(
    root: &CatalogRoot,
    schema: &str,
    tables: &[RemoteTable],
    names: &[(String, Option<String>)],
    title: Option<String>,
    remotes: &crate::store::RemoteSettings,
) -> Result<Vec<TableScanner>> {
    let staged = prepare_mount(root, schema, tables, names, title, remotes).await?;
    staged.commit().await?;
    Ok(staged.scanners)
}

/// Fail if `schema` in `m` already has a table of one of `names`.
fn check_free(m: &Manifest, schema: &str, names: &[(String, Option<String>)]) -> Result<()> {
    let Some((schema, e)) = m
        .schemas
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(schema))
    else {
        return Ok(());
    };
    for (name, _) in names {
        if e.tables.keys().any(|t| t.eq_ignore_ascii_case(name)) {
            return Err(CatalogError::Invalid(format!(
                "{schema}.{name} exists already; choose another --schema"
            )));
        }
    }
    Ok(())
}

/// Copy the mounted-to-be tables into the catalogue at `root` under
/// `schema` (`import --copy`): their files, plus astrolake's descriptor
/// and sidecar for plain HATS tables; then open the copies. Nothing is
/// registered; a failure removes what was copied.
pub async fn prepare_copy(
    root: &CatalogRoot,
    schema: &str,
    tables: &[RemoteTable],
    names: &[(String, Option<String>)],
    remotes: &crate::store::RemoteSettings,
) -> Result<Staged> {
    check_names(schema, names)?;
    let m = Manifest::load(root).await?;
    let schema = schema_spelling(&m, schema);
    check_free(&m, &schema, names)?;
    let mut staged = Staged {
        root: root.clone(),
        schema: schema.clone(),
        title: None,
        entries: Vec::new(),
        scanners: Vec::new(),
        written: Vec::new(),
    };
    match copy_tables(&mut staged, tables, names, remotes).await {
        Ok(()) => Ok(staged),
        Err(e) => {
            staged.discard().await;
            Err(e)
        }
    }
}

async fn copy_tables(
    staged: &mut Staged,
    tables: &[RemoteTable],
    names: &[(String, Option<String>)],
    remotes: &crate::store::RemoteSettings,
) -> Result<()> {
    let root = staged.root.clone();
    let schema = staged.schema.clone();
    for (r, (name, description)) in tables.iter().zip(names) {
        let scanner = crate::store::open_remote(r, &schema, name, remotes).await?;
        let src = scanner.root();
        let dir = format!("{schema}/{name}");
        // Whatever an earlier, failed copy left there goes first.
        root.delete_prefix(&dir).await?;
        staged.written.push(dir.clone());
        for (rel, _) in list(src, "").await? {
            let bytes = src.get(&rel).await?;
            put(&root, &format!("{dir}/{rel}"), bytes).await?;
        }
        let mut info = scanner.info().clone();
        info.schema = schema.clone();
        info.table = name.clone();
        root.put(
            &format!("{dir}/{}", crate::table::TABLE_INFO_FILE),
            serde_json::to_vec_pretty(&info)?,
        )
        .await?;
        if r.layout == "hats" {
            root.put(
                &format!("{dir}/{}", crate::table::SIDECAR_FILE),
                scanner.meta().to_votable(),
            )
            .await?;
        }
        staged.scanners.push(TableScanner::open(&root, &dir).await?);
        staged.entries.push((
            name.clone(),
            TableEntry {
                path: dir,
                description: description.clone(),
                remote: None,
            },
        ));
    }
    Ok(())
}

/// Copy the mounted-to-be tables into the catalogue at `root` under
/// `schema` (`import --copy`) and register them as local tables.
pub async fn copy_in(
    root: &CatalogRoot,
    schema: &str,
    tables: &[RemoteTable],
    names: &[(String, Option<String>)],
    remotes: &crate::store::RemoteSettings,
) -> Result<()> {
    let staged = prepare_copy(root, schema, tables, names, remotes).await?;
    if let Err(e) = staged.commit().await {
        staged.discard().await;
        return Err(e);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn export_copies_in_parts_resumes_and_recopies_changes() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let src = CatalogRoot::open(&a.path().to_string_lossy()).unwrap();
        let dest = CatalogRoot::open(&b.path().to_string_lossy()).unwrap();
        let mut m = Manifest::default();
        m.schemas.entry("s".into()).or_default().tables.insert(
            "t".into(),
            TableEntry {
                path: "s/t".into(),
                ..Default::default()
            },
        );
        m.save(&src).await.unwrap();
        // Larger than the multipart threshold, and not a repeating pattern.
        let big: Vec<u8> = (0..MULTIPART_THRESHOLD + 3 * PART_SIZE / 2)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        src.put("s/t/dataset/big.parquet", big.clone())
            .await
            .unwrap();
        src.put("s/t/hats.properties", "a=1\n").await.unwrap();
        src.put("s/t/.staging/x", "hidden").await.unwrap();

        let r = export(&src, &dest, None, |_, _| {}).await.unwrap();
        assert_eq!((r.copied, r.skipped), (2, 0));
        assert_eq!(
            dest.get("s/t/dataset/big.parquet").await.unwrap().as_ref(),
            &big[..]
        );
        assert!(dest.get_opt("s/t/.staging/x").await.unwrap().is_none());
        assert!(dest.get_opt(MANIFEST_FILE).await.unwrap().is_some());

        let r = export(&src, &dest, None, |_, _| {}).await.unwrap();
        assert_eq!((r.copied, r.skipped), (0, 2));

        src.put("s/t/hats.properties", "a=2\n").await.unwrap();
        let r = export(&src, &dest, None, |_, _| {}).await.unwrap();
        assert_eq!((r.copied, r.skipped), (1, 1));
        assert_eq!(
            dest.get("s/t/hats.properties").await.unwrap().as_ref(),
            b"a=2\n"
        );

        // Exporting one table keeps the others listed at the destination.
        let mut m = Manifest::load(&src).await.unwrap();
        m.schemas.entry("s".into()).or_default().tables.insert(
            "u".into(),
            TableEntry {
                path: "s/u".into(),
                ..Default::default()
            },
        );
        m.save(&src).await.unwrap();
        src.put("s/u/hats.properties", "b=1\n").await.unwrap();
        export(&src, &dest, Some(("s", "u")), |_, _| {})
            .await
            .unwrap();
        let listed = Manifest::load(&dest).await.unwrap();
        assert!(listed.table("s", "t").is_some() && listed.table("s", "u").is_some());
    }
}
