//! What can go wrong building or publishing the records.

use std::path::PathBuf;

/// What can go wrong building or publishing the records.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The state file cannot be read or written.
    #[error("registry state {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A MOC file cannot be read.
    #[error("coverage MOC: {0}")]
    Moc(String),
}
