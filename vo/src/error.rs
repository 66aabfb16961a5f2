//! The one error of this crate: metadata that cannot be read or used.

/// Metadata that cannot be read (malformed VOTable, a FIELD without name
/// or datatype) or used (an unsupported datatype, a declared column the
/// table lacks). The message says what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MetadataError(pub String);

/// Results of this crate.
pub type Result<T> = std::result::Result<T, MetadataError>;
