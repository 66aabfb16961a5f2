//! The one error type of the crate, with its HTTP status.

use actix_web::http::StatusCode;

/// Everything that can go wrong with a UWS request or job operation.
///
/// [`UwsError::status`] maps each kind to its HTTP status, in this one place;
/// the HTTP layer answers with that status and the message as text/plain.
#[derive(Debug, thiserror::Error)]
pub enum UwsError {
    /// No job with this id (never existed, deleted or destroyed). 404.
    #[error("no job '{0}' (it never existed, or was deleted or destroyed)")]
    NoSuchJob(String),
    /// The job exists but the resource asked for does not (an unknown
    /// result id, an error of a job that has none). 404.
    #[error("{0}")]
    NotFound(String),
    /// A parameter value that cannot be understood (a bad date, a negative
    /// duration, an unknown PHASE). 400.
    #[error("{0}")]
    BadRequest(String),
    /// A request the job's phase does not allow (running a finished job,
    /// changing parameters of a job that is no longer PENDING). 400.
    #[error("{0}")]
    Phase(String),
    /// Too many jobs already waiting to run. 503.
    #[error("{0}")]
    Busy(String),
    /// A request body (uploads) larger than the configured limit. 413.
    #[error("{0}")]
    TooLarge(String),
    /// The job database failed. 500.
    #[error("job database: {0}")]
    Database(#[from] rusqlite::Error),
    /// Reading or writing the job files failed. 500.
    #[error("job files: {0}")]
    Io(#[from] std::io::Error),
    /// Anything else that is the server's fault. 500.
    #[error("{0}")]
    Internal(String),
}

impl UwsError {
    /// The HTTP status code for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            UwsError::NoSuchJob(_) | UwsError::NotFound(_) => StatusCode::NOT_FOUND,
            UwsError::BadRequest(_) | UwsError::Phase(_) => StatusCode::BAD_REQUEST,
            UwsError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            UwsError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            UwsError::Database(_) | UwsError::Io(_) | UwsError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

/// The crate's result type.
pub type Result<T, E = UwsError> = std::result::Result<T, E>;
