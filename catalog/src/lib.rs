//! # astrolake-catalog: the catalogue store
//!
//! Catalogues of billions of rows as HEALPix-partitioned Parquet, laid out as
//! [HATS](https://hats.readthedocs.io) v1.0 so `hats`/`lsdb` open them
//! unchanged, described by VOTable metadata that VOSI, TAP_SCHEMA and the
//! registry read, and scanned by DataFusion with HEALPix pruning.
//!
//! ```text
//!             ROOT/ (local dir, file://, s3://bucket/prefix)
//!             ├── astrolake.json                  manifest: catalogue + schema metadata, table paths
//!             └── SCHEMA/TABLE/                   one HATS catalogue per table
//!                 ├── hats.properties, partition_info.csv
//!                 ├── dataset/Norder=K/Dir=D/Npix=N.parquet   (+ _metadata, _common_metadata)
//!                 ├── table-metadata.vot          VOTable sidecar: units, UCDs, descriptions
//!                 ├── coverage.moc.fits           MOC 2.0 coverage
//!                 └── astrolake-table.json        scan descriptor
//!
//!  input files ─► input::Source ─► ingest (index, spill, partition, write) ─► publish (atomic)
//!  synth ───────► synth::SynthSource ─┘
//!  Catalog::open ─► provider::TableScanner (DataFusion TableProvider) ─► SQL / ADQL
//! ```
//!
//! * [`input`]: readers (CSV, ECSV, Parquet, VOTable, real-data formats).
//! * [`ingest`]: the parallel, larger-than-memory ingest and atomic publish.
//! * [`synth`]: deterministic Gaia-like synthetic catalogues.
//! * [`provider`]: the `TableProvider`, pruning files and row groups by
//!   HEALPix ranges; [`store::Catalog`] registers all tables in a session.
//! * [`healpix`], [`partition`], [`hats`], [`manifest`], [`table`]: layout
//!   and metadata building blocks; column and table metadata
//!   (`FieldMeta`, `TableMeta`) and the VOTable metadata documents are the
//!   `astrolake-vo` crate's.
//!
//! ```no_run
//! # async fn demo() -> astrolake_catalog::Result<()> {
//! use astrolake_catalog::{CatalogRoot, store::Catalog};
//! let root = CatalogRoot::open("/data/catalog")?;
//! let ctx = Catalog::open(&root).await?.session()?;
//! let df = ctx.sql("SELECT COUNT(*) FROM gaia.gaia_source").await?;
//! df.show().await?;
//! # Ok(()) }
//! ```

pub mod cover;
pub mod error;
pub mod hats;
pub mod healpix;
pub mod ingest;
pub mod input;
pub mod instrument;
pub mod manifest;
pub mod partition;
pub mod provider;
pub mod remote;
pub mod root;
pub mod store;
pub mod synth;
pub mod table;
pub mod transfer;

pub use error::{CatalogError, Result};
pub use root::{atomic_write, CatalogRoot};
