//! One error type for the store, split by where the problem lies.
//!
//! `Input` and `Format` are the user's (bad files, bad rows, bad metadata): they
//! always name the file and, where there is one, the line and column. `Limit`
//! is the user's too: an input larger than the reader's
//! [`crate::input::InputLimits`] allow. `NotFound`
//! and `Conflict` are about catalogue state. The wrapped library errors are ours
//! or the environment's (disk, object store).

use arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use parquet::errors::ParquetError;

/// Errors of the catalogue store, ingest and synthetic data.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A value in an input file is malformed, missing or of the wrong type.
    #[error("{file}:{line}: column {column}: {message}")]
    Input {
        /// The input file (as given on the command line).
        file: String,
        /// 1-based line (CSV/ECSV) or row number (VOTable, Parquet, binary).
        line: u64,
        /// The column name.
        column: String,
        /// What is wrong, and what was expected.
        message: String,
    },
    /// A whole file is unreadable or not of the format it claims to be.
    #[error("{file}: {message}")]
    Format {
        /// The input file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An input passes one of the reader's [`crate::input::InputLimits`]:
    /// `what` it has, the `limit` (in `unit`s) and the limit's field `name`.
    #[error("{file}: {what}, more than the limit of {limit} {unit}")]
    Limit {
        /// The input file.
        file: String,
        /// What the input has, with the line or row and column where there
        /// is one ("column x declares arraysize 2147483647").
        what: String,
        /// The limit's value.
        limit: u64,
        /// What the limit counts ("elements per cell").
        unit: &'static str,
        /// The [`crate::input::InputLimits`] field ("max_array_elements").
        name: &'static str,
    },
    /// Table or column metadata is inconsistent (e.g. `--metadata` names a
    /// column that the input does not have).
    #[error("metadata: {0}")]
    Metadata(String),
    /// A schema or table that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Invalid arguments or catalogue state.
    #[error("{0}")]
    Invalid(String),
    /// Local I/O.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Arrow.
    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),
    /// Parquet.
    #[error("parquet: {0}")]
    Parquet(#[from] ParquetError),
    /// The object store (local directory or S3).
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// DataFusion.
    #[error("query: {0}")]
    DataFusion(#[from] DataFusionError),
    /// JSON (manifest).
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result with [`CatalogError`].
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

impl CatalogError {
    /// Shorthand for [`CatalogError::Input`].
    pub fn input(
        file: impl Into<String>,
        line: u64,
        column: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        CatalogError::Input {
            file: file.into(),
            line,
            column: column.into(),
            message: message.into(),
        }
    }
    /// Shorthand for [`CatalogError::Format`].
    pub fn format(file: impl Into<String>, message: impl Into<String>) -> Self {
        CatalogError::Format {
            file: file.into(),
            message: message.into(),
        }
    }
}

impl From<CatalogError> for DataFusionError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

impl From<astrolake_vo::MetadataError> for CatalogError {
    fn from(e: astrolake_vo::MetadataError) -> Self {
        CatalogError::Metadata(e.0)
    }
}
