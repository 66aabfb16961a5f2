//! What can go wrong.

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum RegtapError {
    /// A record is not well-formed XML.
    #[error("a registry record is not readable XML: {0}")]
    Xml(String),
    /// Arrow refused a batch (a bug: the rows follow the schema).
    #[error("rr table {0}: {1}")]
    Arrow(&'static str, arrow::error::ArrowError),
}
