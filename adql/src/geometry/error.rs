//! Errors from building or parsing geometries.

/// Errors from building or parsing geometries.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeomError {
    /// A DALI array whose length is no geometry's.
    #[error(
        "a DALI geometry has 2 (point), 3 (circle) or an even number >= 6 (polygon) values, not {0}"
    )]
    DaliLength(usize),
    /// A value out of range or otherwise unusable (NaN, negative radius,
    /// latitude beyond ±90°, degenerate polygon, ...).
    #[error("{0}")]
    Invalid(String),
    /// An STC-S (or DALI string) syntax error: what was expected at which token.
    #[error("STC-S: {message} at token {position} ('{token}')")]
    Syntax {
        /// 1-based index of the offending token (one past the last at end of input).
        position: usize,
        /// The offending token, or `<end>`.
        token: String,
        /// What was expected.
        message: String,
    },
    /// Syntactically valid but not supported (STC-S Union, ecliptic frame, ...).
    #[error("{0}")]
    Unsupported(String),
}
