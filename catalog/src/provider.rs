//! The DataFusion [`TableProvider`] of a stored table.
//!
//! A scan is pruned in three steps:
//! 1. **files**: a HEALPix cover (half-open `_healpix_29` ranges) read from
//!    the pushed-down filters on `_healpix_29` (`=`, `<`, `<=`, `>`, `>=`,
//!    `BETWEEN`, `IN`, `AND`, `OR`, and the ADQL layer's
//!    [`crate::cover`] calls) selects only the partitions whose pixel range
//!    (and recorded min/max) overlaps it;
//! 2. **row groups and pages**: the same filters, and the cover as range
//!    terms, go to the Parquet reader, whose min/max statistics on the
//!    sorted `_healpix_29` column skip groups;
//! 3. **rows**: filters are `Inexact`, so DataFusion re-applies them exactly.
//!
//! Local and object-store tables take the same path: files are addressed in
//! the root's object store and DataFusion reads them with range requests.
//!
//! Versions: a scanner reads one published version, the one it was opened
//! on (local tables: the `SCHEMA/.versions/TABLE.<id>/` directory the
//! table's link pointed at; object stores: `SCHEMA/TABLE/v<id>/`). Version
//! directories are never changed once published, so a scan never mixes
//! one version's descriptor (file list, sizes, `_healpix_29` bounds) with
//! another's files. A scanner opened by [`crate::store::Catalog`] follows
//! the table once its version has been deleted (after later ingests): the
//! next scan reopens the version the manifest names, if it has the same
//! columns.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::datatypes::SchemaRef;
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::{
    utils::conjunction, Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown,
};
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::ExecutionPlan;
use object_store::ObjectStoreExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{CatalogError, Result};
use crate::healpix::{intersect_ranges, normalize_ranges, ranges_overlap, HEALPIX_COLUMN};
use crate::root::CatalogRoot;
use crate::table::{DataFile, TableInfo, TableKind, MOC_FILE, SIDECAR_FILE, TABLE_INFO_FILE};
use astrolake_vo::TableMeta;

/// A stored table, ready to scan.
#[derive(Debug, Clone)]
pub struct TableScanner {
    root: CatalogRoot,
    dir: String,
    info: Arc<TableInfo>,
    meta: Arc<TableMeta>,
    schema: SchemaRef,
    moc: Option<bytes::Bytes>,
    follow: Option<Arc<Follow>>,
    /// The descriptor as it was read (a replaced descriptor means a
    /// replaced version, for directories that are not pinned versions).
    descriptor: Option<Stamp>,
}

/// What tells one object version from another.
type Stamp = (Option<String>, chrono::DateTime<chrono::Utc>, u64);

fn stamp(m: &object_store::ObjectMeta) -> Stamp {
    (m.e_tag.clone(), m.last_modified, m.size)
}

/// How a catalogue table finds its current version once its own is gone.
#[derive(Debug)]
struct Follow {
    schema: String,
    table: String,
    state: tokio::sync::Mutex<FollowState>,
}

#[derive(Debug, Default)]
struct FollowState {
    /// When the pinned version was last seen.
    seen: Option<Instant>,
    /// The version that replaced it.
    next: Option<TableScanner>,
}

/// The directory of the version a local table's link (`SCHEMA/TABLE` ->
/// `.versions/TABLE.<id>`) points at, relative to the root; `dir` itself
/// when it is not such a link (object stores, tables published before
/// versioned directories).
fn pinned_dir(root: &CatalogRoot, dir: &str) -> String {
    let Some(local) = root.local_dir() else {
        return dir.to_string();
    };
    let Ok(target) = std::fs::read_link(local.join(dir)) else {
        return dir.to_string();
    };
    let parts: Option<Vec<String>> = target
        .components()
        .map(|c| match c {
            std::path::Component::Normal(p) => p.to_str().map(str::to_string),
            _ => None,
        })
        .collect();
    match (parts, dir.trim_matches('/').rsplit_once('/')) {
        (Some(p), Some((parent, _))) if !p.is_empty() => format!("{parent}/{}", p.join("/")),
        (Some(p), None) if !p.is_empty() => p.join("/"),
        _ => dir.to_string(),
    }
}

/// Check that every data file the descriptor lists is a plain relative
/// path inside the table directory (a descriptor from another site could
/// name anything).
fn check_files(dir: &str, info: &TableInfo) -> Result<()> {
    for f in &info.files {
        if !crate::root::plain_relative(&f.path) {
            return Err(CatalogError::Metadata(format!(
                "{dir}/{TABLE_INFO_FILE}: the data file {:?} is not a path inside the table",
                f.path
            )));
        }
    }
    Ok(())
}

/// Read the coverage MOC of the table in `dir`, if it has one, checking it
/// is a MOC the registry can use (FITS, 64-bit HEALPix).
async fn read_moc(root: &CatalogRoot, dir: &str) -> Result<Option<bytes::Bytes>> {
    use moc::deser::fits::{from_fits_ivoa, MocIdxType, MocQtyType};
    let path = if dir.is_empty() {
        MOC_FILE.to_string()
    } else {
        format!("{dir}/{MOC_FILE}")
    };
    let Some(b) = root.get_opt(&path).await? else {
        return Ok(None);
    };
    match from_fits_ivoa(std::io::Cursor::new(b.as_ref())) {
        Ok(MocIdxType::U64(MocQtyType::Hpx(_))) => Ok(Some(b)),
        Ok(_) => Err(CatalogError::Metadata(format!(
            "{path}: not a 64-bit HEALPix (spatial) MOC"
        ))),
        Err(e) => Err(CatalogError::Metadata(format!("{path}: not a MOC ({e})"))),
    }
}

/// The columns as a query plan sees them (names, types, nullability).
fn columns(schema: &SchemaRef) -> Vec<(String, arrow::datatypes::DataType, bool)> {
    schema
        .fields()
        .iter()
        .map(|f| (f.name().clone(), f.data_type().clone(), f.is_nullable()))
        .collect()
}

impl TableScanner {
    /// Open the table stored in `dir` (relative to the root): its
    /// descriptor, sidecar, schema (from `dataset/_common_metadata`) and
    /// coverage MOC. A local table's link is resolved here: the scanner
    /// reads that version ([`TableScanner::dir`]) from then on.
    pub async fn open(root: &CatalogRoot, dir: &str) -> Result<Self> {
        let dir = pinned_dir(root, dir);
        let dir = dir.as_str();
        let at = root.path(&format!("{dir}/{TABLE_INFO_FILE}"));
        let got = match root.store().get(&at).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(CatalogError::NotFound(
                    root.display_path(&format!("{dir}/{TABLE_INFO_FILE}")),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        let descriptor = Some(stamp(&got.meta));
        let info: TableInfo = serde_json::from_slice(&got.bytes().await?)
            .map_err(|e| CatalogError::Metadata(format!("{dir}/{TABLE_INFO_FILE}: {e}")))?;
        let sidecar = root.get(&format!("{dir}/{SIDECAR_FILE}")).await?;
        let meta = TableMeta::from_votable(&String::from_utf8_lossy(&sidecar))?;
        let common = root.get(&format!("{dir}/dataset/_common_metadata")).await?;
        let schema = Arc::clone(
            ParquetRecordBatchReaderBuilder::try_new(common)
                .map_err(|e| {
                    CatalogError::Metadata(format!("{dir}/dataset/_common_metadata: {e}"))
                })?
                .schema(),
        );
        if meta.fields.len() != schema.fields().len() {
            return Err(CatalogError::Metadata(format!(
                "{dir}: the sidecar describes {} columns but the data has {}",
                meta.fields.len(),
                schema.fields().len()
            )));
        }
        check_files(dir, &info)?;
        let moc = read_moc(root, dir).await?;
        let schema = with_field_metadata(&schema, &meta);
        Ok(TableScanner {
            root: root.clone(),
            dir: dir.to_string(),
            info: Arc::new(info),
            meta: Arc::new(meta),
            schema,
            moc,
            follow: None,
            descriptor,
        })
    }

    /// Open a plain HATS catalogue in `dir` (as `hats-import` writes it,
    /// without astrolake's descriptor and sidecar): the partitions from
    /// `partition_info.csv`, file sizes from one listing of `dataset/`,
    /// row counts from `dataset/_metadata` (else `hats.properties`), the
    /// schema from `dataset/_common_metadata` (else `_metadata`), column
    /// metadata from its VOParquet metadata when present, else from the
    /// Arrow types; positions from `hats_col_ra`/`hats_col_dec`.
    pub async fn open_hats(
        root: &CatalogRoot,
        dir: &str,
        schema_name: &str,
        table: &str,
    ) -> Result<Self> {
        use futures::TryStreamExt;
        let at = |f: &str| format!("{dir}/{f}");
        let props_text = root.get(&at("hats.properties")).await?;
        let props = crate::hats::parse_properties(&String::from_utf8_lossy(&props_text));
        let pixels = crate::hats::parse_partition_info(&String::from_utf8_lossy(
            &root.get(&at("partition_info.csv")).await?,
        ))?;
        let footer = match root.get_opt(&at("dataset/_common_metadata")).await? {
            Some(b) => b,
            None => root.get(&at("dataset/_metadata")).await?,
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(footer.clone())
            .map_err(|e| CatalogError::Metadata(format!("{dir}/dataset/_common_metadata: {e}")))?;
        let schema = Arc::clone(builder.schema());
        let kv = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .cloned();
        let meta = match crate::hats::voparquet_meta(kv.as_ref())? {
            Some(m) if m.fields.len() == schema.fields().len() => m,
            _ => TableMeta {
                name: table.to_string(),
                description: props.get("obs_title").cloned(),
                fields: schema
                    .fields()
                    .iter()
                    .map(|f| astrolake_vo::FieldMeta::from_arrow(f))
                    .collect(),
            },
        };
        // Rows per file, from the row groups of _metadata.
        let mut rows: std::collections::BTreeMap<String, u64> = Default::default();
        if let Some(m) = root.get_opt(&at("dataset/_metadata")).await? {
            if let Ok(b) = ParquetRecordBatchReaderBuilder::try_new(m) {
                for rg in b.metadata().row_groups() {
                    if let Some(path) = rg.columns().first().and_then(|c| c.file_path()) {
                        *rows
                            .entry(path.trim_start_matches('/').to_string())
                            .or_default() += rg.num_rows() as u64;
                    }
                }
            }
        }
        // File sizes: one listing of dataset/ where the store can list (S3,
        // local), else a HEAD per file (plain HTTP).
        let prefix = root.path(dir);
        let mut sizes: std::collections::BTreeMap<String, u64> = Default::default();
        let listed: std::result::Result<Vec<object_store::ObjectMeta>, _> = root
            .store()
            .list(Some(&root.path(&at("dataset"))))
            .try_collect()
            .await;
        match listed {
            Ok(listed) => {
                for o in listed {
                    if let Some(parts) = o.location.prefix_match(&prefix) {
                        let rel: Vec<String> = parts.map(|p| p.as_ref().to_string()).collect();
                        sizes.insert(rel.join("/"), o.size);
                    }
                }
            }
            Err(_) => {
                for p in &pixels {
                    let path = crate::hats::pixel_file_path(p);
                    if let Ok(m) = root.store().head(&root.path(&at(&path))).await {
                        sizes.insert(path, m.size);
                    }
                }
            }
        }
        let mut files = Vec::new();
        for p in pixels {
            let path = crate::hats::pixel_file_path(&p);
            let bytes = *sizes.get(&path).ok_or_else(|| {
                CatalogError::NotFound(format!(
                    "{dir}/{path}: partition_info.csv lists it but the store has no such file"
                ))
            })?;
            let in_dataset = path.trim_start_matches("dataset/").to_string();
            files.push(DataFile {
                rows: rows.get(&in_dataset).copied().unwrap_or(0),
                path,
                pixel: Some(p),
                bytes,
                healpix_min: None,
                healpix_max: None,
            });
        }
        let has = |c: &str| schema.fields().iter().any(|f| f.name() == c);
        let ra = props.get("hats_col_ra").filter(|c| has(c)).cloned();
        let dec = props.get("hats_col_dec").filter(|c| has(c)).cloned();
        let kind = if has(HEALPIX_COLUMN) {
            TableKind::Hats
        } else {
            TableKind::Plain
        };
        let total: u64 = match files.iter().map(|f| f.rows).sum::<u64>() {
            0 => props
                .get("hats_nrows")
                .and_then(|n| n.parse().ok())
                .unwrap_or(0),
            n => n,
        };
        let info = TableInfo {
            format: TableInfo::FORMAT.to_string(),
            schema: schema_name.to_string(),
            table: table.to_string(),
            kind,
            ra_column: ra,
            dec_column: dec,
            rows: total,
            bytes: files.iter().map(|f| f.bytes).sum(),
            max_rows_per_partition: files.iter().map(|f| f.rows).max().unwrap_or(0),
            row_group_rows: 0,
            moc_order: files
                .iter()
                .filter_map(|f| f.pixel.map(|p| p.order))
                .max()
                .unwrap_or(0),
            sky_fraction: 0.0,
            created: props.get("hats_creation_date").cloned().unwrap_or_default(),
            version: props
                .get("hats_creation_date")
                .cloned()
                .unwrap_or_else(|| format!("{}-{}", files.len(), total)),
            files,
        };
        let moc = read_moc(root, dir).await?;
        let schema = with_field_metadata(&schema, &meta);
        Ok(TableScanner {
            root: root.clone(),
            dir: dir.to_string(),
            info: Arc::new(info),
            meta: Arc::new(meta),
            schema,
            moc,
            follow: None,
            descriptor: None,
        })
    }

    /// This scanner, following the catalogue's table `schema.table` once
    /// the version it reads is deleted: the next scan then reads the
    /// version the root's manifest names (checked before each scan on
    /// local roots, at most once a second on object stores).
    pub fn following(self, schema: &str, table: &str) -> Self {
        TableScanner {
            follow: Some(Arc::new(Follow {
                schema: schema.to_string(),
                table: table.to_string(),
                state: Default::default(),
            })),
            ..self
        }
    }

    /// The coverage MOC (FITS), read and checked when the table was opened.
    pub fn moc(&self) -> Option<&[u8]> {
        self.moc.as_deref()
    }

    /// The version to scan: this one while it exists, else the one that
    /// replaced it (when following a catalogue table).
    async fn current(&self) -> DfResult<Option<TableScanner>> {
        let Some(f) = &self.follow else {
            return Ok(None);
        };
        let mut st = f.state.lock().await;
        if let Some(next) = &st.next {
            return Ok(Some(next.clone()));
        }
        let every = if self.root.local_dir().is_some() {
            Duration::ZERO
        } else {
            Duration::from_secs(1)
        };
        if st.seen.is_some_and(|t| t.elapsed() < every) {
            return Ok(None);
        }
        let descriptor = self.root.path(&format!("{}/{TABLE_INFO_FILE}", self.dir));
        match self.root.store().head(&descriptor).await {
            Err(object_store::Error::NotFound { .. }) => {}
            // Replaced in place (a table directory from before versioned
            // directories): this version is gone too.
            Ok(m) if self.descriptor.as_ref().is_some_and(|d| *d != stamp(&m)) => {}
            // Present, or the store cannot tell now: keep this version.
            _ => {
                st.seen = Some(Instant::now());
                return Ok(None);
            }
        }
        let name = format!("{}.{}", f.schema, f.table);
        let plan = datafusion::error::DataFusionError::Plan;
        let manifest = crate::manifest::Manifest::load(&self.root).await?;
        let Some((_, _, entry)) = manifest.table(&f.schema, &f.table) else {
            return Err(plan(format!(
                "{name} was removed from the catalogue since this service opened it"
            )));
        };
        let next = TableScanner::open(&self.root, &entry.path)
            .await
            .map_err(|e| {
                plan(format!(
                    "{name} was re-published since this service opened it, and the new \
                     version cannot be opened: {e}"
                ))
            })?
            .following(&f.schema, &f.table);
        if columns(&next.schema) != columns(&self.schema) {
            return Err(plan(format!(
                "{name} was re-published with other columns since this service opened it; \
                 it is served as published after a restart"
            )));
        }
        st.next = Some(next.clone());
        Ok(Some(next))
    }

    /// The root the table's files are under (the catalogue's, or a
    /// remote store's).
    pub fn root(&self) -> &CatalogRoot {
        &self.root
    }

    /// The table descriptor.
    pub fn info(&self) -> &TableInfo {
        &self.info
    }
    /// Column metadata (the sidecar), in schema order.
    pub fn meta(&self) -> &TableMeta {
        &self.meta
    }
    /// The directory the scanner reads, relative to the root: the pinned
    /// version's (`SCHEMA/.versions/TABLE.<id>` for local tables).
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The data files a scan restricted to `ranges` must open.
    pub fn files_for(&self, ranges: Option<&[Range<u64>]>) -> Vec<&DataFile> {
        let Some(ranges) = ranges else {
            return self.info.files.iter().collect();
        };
        if self.info.kind == TableKind::Plain {
            return self.info.files.iter().collect();
        }
        self.info
            .files
            .iter()
            .filter(|f| {
                let r = match (f.healpix_min, f.healpix_max, f.pixel) {
                    (Some(lo), Some(hi), _) => lo..hi + 1,
                    (_, _, Some(p)) => p.range29(),
                    _ => return true,
                };
                ranges_overlap(ranges, &r)
            })
            .collect()
    }

    fn effective_ranges(&self, filters: &[Expr]) -> Option<Vec<Range<u64>>> {
        let mut out: Option<Vec<Range<u64>>> = None;
        if self.info.kind == TableKind::Hats {
            for f in filters {
                if let Some(r) = healpix_ranges(f) {
                    out = Some(match out {
                        Some(o) => intersect_ranges(&o, &r),
                        None => r,
                    });
                }
            }
        }
        out
    }
}

/// A predicate `_healpix_29` ∈ ranges for statistics pruning, with at most
/// `max_terms` ranges (the closest ones merged: a superset).
fn cover_predicate(cover: &[Range<u64>], max_terms: usize) -> Option<Expr> {
    use datafusion::prelude::{col, lit};
    let mut r: Vec<Range<u64>> = cover.to_vec();
    while r.len() > max_terms.max(1) {
        // Merge across the smallest gap.
        let i = (0..r.len() - 1)
            .min_by_key(|&i| r[i + 1].start - r[i].end)
            .expect("two ranges");
        r[i].end = r[i + 1].end;
        r.remove(i + 1);
    }
    r.into_iter()
        .map(|x| {
            col(HEALPIX_COLUMN)
                .gt_eq(lit(x.start as i64))
                .and(col(HEALPIX_COLUMN).lt(lit(x.end as i64)))
        })
        .reduce(|a, b| a.or(b))
}

/// `_healpix_29` ranges implied by a filter, or `None` if it does not
/// constrain `_healpix_29` in a way we recognise.
pub fn healpix_ranges(e: &Expr) -> Option<Vec<Range<u64>>> {
    if let Some(r) = crate::cover::ranges_of(e) {
        return Some(r);
    }
    const FULL: u64 = 12 << 58;
    let is_hpx = |e: &Expr| matches!(e, Expr::Column(c) if c.name == HEALPIX_COLUMN);
    let lit_i = |e: &Expr| -> Option<i128> {
        match e {
            Expr::Literal(v, _) => match v {
                ScalarValue::Int64(Some(x)) => Some(*x as i128),
                ScalarValue::Int32(Some(x)) => Some(*x as i128),
                ScalarValue::UInt64(Some(x)) => Some(*x as i128),
                ScalarValue::Int16(Some(x)) => Some(*x as i128),
                ScalarValue::Int8(Some(x)) => Some(*x as i128),
                ScalarValue::UInt32(Some(x)) => Some(*x as i128),
                _ => None,
            },
            Expr::Cast(c) => match c.expr.as_ref() {
                Expr::Literal(..) => None,
                _ => None,
            },
            _ => None,
        }
    };
    let clamp = |v: i128| v.clamp(0, FULL as i128) as u64;
    let range = |lo: i128, hi_excl: i128| -> Vec<Range<u64>> {
        let (a, b) = (clamp(lo), clamp(hi_excl));
        if a < b {
            vec![a..b]
        } else {
            vec![]
        }
    };
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => match (healpix_ranges(left), healpix_ranges(right)) {
                (Some(a), Some(b)) => Some(intersect_ranges(&a, &b)),
                (Some(a), None) | (None, Some(a)) => Some(a),
                (None, None) => None,
            },
            Operator::Or => {
                let (a, b) = (healpix_ranges(left)?, healpix_ranges(right)?);
                Some(normalize_ranges(a.into_iter().chain(b).collect()))
            }
            _ => {
                let (op, v) = if is_hpx(left) {
                    (*op, lit_i(right)?)
                } else if is_hpx(right) {
                    (op.swap()?, lit_i(left)?)
                } else {
                    return None;
                };
                Some(match op {
                    Operator::Eq => range(v, v + 1),
                    Operator::Lt => range(0, v),
                    Operator::LtEq => range(0, v + 1),
                    Operator::Gt => range(v + 1, FULL as i128),
                    Operator::GtEq => range(v, FULL as i128),
                    _ => return None,
                })
            }
        },
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_hpx(expr) => Some(range(lit_i(low)?, lit_i(high)? + 1)),
        Expr::InList(l) if !l.negated && is_hpx(&l.expr) => {
            let mut v = Vec::new();
            for x in &l.list {
                let x = lit_i(x)?;
                v.extend(range(x, x + 1));
            }
            Some(normalize_ranges(v))
        }
        _ => None,
    }
}

/// The schema with each field's sidecar metadata (unit, ucd, utype, xtype,
/// description) as Arrow field metadata, so it follows columns through
/// query plans.
pub fn with_field_metadata(schema: &SchemaRef, meta: &TableMeta) -> SchemaRef {
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut md = f.metadata().clone();
            if let Some(m) = meta.field(f.name()) {
                // The declared string datatype (char or unicodeChar), which
                // the TAP encoders keep.
                if m.datatype == "char" || m.datatype == "unicodeChar" {
                    md.insert("datatype".to_string(), m.datatype.clone());
                }
                for (k, v) in [
                    ("unit", &m.unit),
                    ("ucd", &m.ucd),
                    ("utype", &m.utype),
                    ("xtype", &m.xtype),
                    ("description", &m.description),
                ] {
                    if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                        md.insert(k.to_string(), v.clone());
                    }
                }
            }
            f.as_ref().clone().with_metadata(md)
        })
        .collect();
    Arc::new(arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

#[async_trait]
impl TableProvider for TableScanner {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        if let Some(next) = self.current().await? {
            return next.scan(state, projection, filters, limit).await;
        }
        let ranges = self.effective_ranges(filters);
        let files = self.files_for(ranges.as_deref());
        if files.is_empty() {
            let schema = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => Arc::clone(&self.schema),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        // Footers and page indexes are cached in the runtime (shared by the
        // queries of a server), so repeated cones do not re-read them.
        let runtime = state.runtime_env();
        let store = runtime.object_store(self.root.object_store_url())?;
        let factory =
            datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory::new(
                store,
                runtime.cache_manager.get_file_metadata_cache(),
            );
        let mut source = ParquetSource::new(Arc::clone(&self.schema))
            .with_enable_page_index(true)
            .with_parquet_file_reader_factory(Arc::new(factory));
        // The cover also prunes row groups and pages as range terms (the
        // reader uses the predicate for statistics and cannot look into a
        // function call; rows are filtered above the scan).
        let mut prune: Vec<Expr> = filters.to_vec();
        if let (Some(cover), TableKind::Hats) = (&ranges, self.info.kind) {
            if filters.iter().any(|f| crate::cover::ranges_of(f).is_some()) {
                prune.extend(cover_predicate(cover, 64));
            }
        }
        if let Some(pred) = conjunction(prune) {
            let df_schema = DFSchema::try_from(self.schema.as_ref().clone())?;
            source = source.with_predicate(state.create_physical_expr(pred, &df_schema)?);
        }
        // Spread files over the target partitions, largest first.
        let n = state.config().target_partitions().max(1).min(files.len());
        let mut groups: Vec<(u64, Vec<PartitionedFile>)> =
            (0..n).map(|_| (0, Vec::new())).collect();
        let mut sorted = files;
        sorted.sort_by_key(|f| std::cmp::Reverse(f.bytes));
        for f in sorted {
            let g = groups.iter_mut().min_by_key(|g| g.0).expect("n >= 1");
            g.0 += f.bytes;
            let path = self.root.path(&format!("{}/{}", self.dir, f.path));
            g.1.push(PartitionedFile::new(path.to_string(), f.bytes));
        }
        let config =
            FileScanConfigBuilder::new(self.root.object_store_url().clone(), Arc::new(source))
                .with_file_groups(groups.into_iter().map(|(_, g)| FileGroup::new(g)).collect())
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    #[test]
    fn recognises_healpix_filters() {
        let h = || col(HEALPIX_COLUMN);
        assert_eq!(
            healpix_ranges(&h().gt_eq(lit(10i64)).and(h().lt(lit(20i64)))),
            Some(vec![10..20])
        );
        assert_eq!(
            healpix_ranges(&h().between(lit(5i64), lit(7i64))),
            Some(vec![5..8])
        );
        assert_eq!(
            healpix_ranges(
                &h().eq(lit(3i64))
                    .or(h().in_list(vec![lit(9i64), lit(4i64)], false))
            ),
            Some(vec![3..5, 9..10])
        );
        assert_eq!(healpix_ranges(&lit(100i64).gt(h())), Some(vec![0..100]));
        assert_eq!(healpix_ranges(&col("ra").gt(lit(1.0))), None);
        // A conjunct we don't understand leaves the other one in force.
        assert_eq!(
            healpix_ranges(&col("ra").gt(lit(1.0)).and(h().lt(lit(4i64)))),
            Some(vec![0..4])
        );
        // A disjunct we don't understand makes the whole OR unusable.
        assert_eq!(
            healpix_ranges(&col("ra").gt(lit(1.0)).or(h().lt(lit(4i64)))),
            None
        );
    }
}
