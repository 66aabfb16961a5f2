//! The table descriptor, `astrolake-table.json`: everything a reader needs to
//! plan a scan with one small GET (kind, position columns, every data file with
//! its pixel, row count, size and `_healpix_29` bounds).
//!
//! It is derived data: `partition_info.csv` and `dataset/_metadata` (HATS)
//! hold the same facts for other readers; this file saves the provider from
//! parsing a Parquet footer of every file before it can prune.

use serde::{Deserialize, Serialize};

use crate::healpix::Pixel;

/// File name of the descriptor inside a table directory.
pub const TABLE_INFO_FILE: &str = "astrolake-table.json";
/// File name of the VOTable metadata sidecar inside a table directory.
pub const SIDECAR_FILE: &str = "table-metadata.vot";
/// File name of the MOC 2.0 coverage (FITS) inside a table directory.
pub const MOC_FILE: &str = "coverage.moc.fits";

/// How a table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableKind {
    /// HEALPix-partitioned HATS catalogue (has positions).
    Hats,
    /// Plain multi-file Parquet table (no positions).
    Plain,
}

/// One data file of a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the table directory, e.g.
    /// `dataset/Norder=3/Dir=0/Npix=17.parquet`.
    pub path: String,
    /// The HEALPix pixel (HATS tables only).
    pub pixel: Option<Pixel>,
    /// Rows in the file.
    pub rows: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// Smallest and largest `_healpix_29` in the file (HATS tables only).
    pub healpix_min: Option<u64>,
    /// See `healpix_min`.
    pub healpix_max: Option<u64>,
}

/// The descriptor of one published table version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Descriptor format tag.
    pub format: String,
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Layout.
    pub kind: TableKind,
    /// Right-ascension column (HATS tables).
    pub ra_column: Option<String>,
    /// Declination column (HATS tables).
    pub dec_column: Option<String>,
    /// Total rows.
    pub rows: u64,
    /// Total bytes of data files.
    pub bytes: u64,
    /// Partition threshold used: no file holds more rows (unless a pixel at
    /// the deepest order holds more).
    pub max_rows_per_partition: u64,
    /// Rows per Parquet row group.
    pub row_group_rows: usize,
    /// Order of the MOC coverage.
    pub moc_order: u8,
    /// Fraction of the sky covered by the MOC.
    pub sky_fraction: f64,
    /// When this version was published (RFC 3339, UTC).
    pub created: String,
    /// A content hash of the version (changes when the data changes).
    pub version: String,
    /// Data files, ordered by pixel (HATS) or by name (plain).
    pub files: Vec<DataFile>,
}

impl TableInfo {
    /// Current descriptor format tag.
    pub const FORMAT: &'static str = "astrolake-table/1";

    /// Qualified name `schema.table`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }
}
