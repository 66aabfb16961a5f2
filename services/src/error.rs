//! The error policy of the HTTP services, in one place: which status a
//! failure gets and what its body says. Each service family has one error
//! type implementing actix's `ResponseError` (its status a `StatusCode`,
//! never a number); handlers return `Result<HttpResponse, ThatType>`.
//!
//! * TAP (`/sync`, and what `/async` jobs record): [`TapFailure`], a DALI
//!   error VOTable. Whose fault it is comes from `astrolake_tap::error`
//!   ([`Blame`]): the client's mistakes are 400 with the message (and the
//!   ADQL position); the service's faults are 500 with a log reference, the
//!   detail in the log. A request body that cannot be read has the status
//!   UWS gives it (413 when too large) on `/sync` as on `/async`
//!   ([`body_error`]); a full queue is 503 with Retry-After ([`busy`]).
//! * UWS (`/async/...`): `astrolake_uws::UwsError` is its own
//!   `ResponseError` (text/plain; 5xx answered with a log reference).
//! * VOSI: [`VosiFailure`], 404 as text/plain naming the unknown table.
//! * The registry: [`RegistryFailure`], 404 for an unknown record and 410
//!   for a removed one, as text/plain.
//! * Admin: [`AdminFailure`], JSON `{"error": ...}`; 401 with
//!   `WWW-Authenticate: Bearer` without a valid token, 404 when no admin
//!   token is configured, 400 for a request or a source that cannot be
//!   imported (with the whole cause: the operator is the only client), 500
//!   with a log reference when the service itself failed (its own disk, a
//!   panicked import).
//! * Files (`/catalogue/...`): [`FileFailure`], 404, 416 with
//!   `Content-Range: bytes */SIZE` for a range that does not fit, and 500
//!   naming only the requested path (the store's detail in the log).

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use astrolake_tap::error::{log_fault, service_fault, Blame, TapError};

/// The DALI error document of an error, with its HTTP status (the policy
/// is `astrolake_tap::error`'s: the service's own faults are logged, the
/// client gets a reference).
pub fn error_response(e: &TapError) -> HttpResponse {
    let status = match e.blame() {
        Blame::Client => StatusCode::BAD_REQUEST,
        Blame::Service => StatusCode::INTERNAL_SERVER_ERROR,
    };
    dali_error(status, &e.document())
}

/// A DALI error document with `status`.
pub fn dali_error(status: StatusCode, document: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/x-votable+xml")
        .body(document.to_string())
}

/// A request body that could not be read, as a DALI error with the status
/// `/async` gives the same body (413 when too large).
pub fn body_error(e: &astrolake_uws::UwsError) -> HttpResponse {
    let status = e.status();
    let message = if status.is_server_error() {
        astrolake_tap::error::service_fault(&e.to_string())
    } else {
        e.to_string()
    };
    dali_error(status, &astrolake_tap::formats::error_votable(&message))
}

/// HTTP 503 with Retry-After: every synchronous slot is taken.
pub fn busy() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "10"))
        .content_type("application/x-votable+xml")
        .body(astrolake_tap::formats::error_votable(
            "the service is running as many synchronous queries as it allows \
             (limits.sync_concurrent) and its queue is full; retry in a few seconds, \
             or submit the query as an asynchronous job (/async)",
        ))
}

/// A TAP request that failed before its answer started (the answer's own
/// failures end its stream: `astrolake_tap::query::Outcome`).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct TapFailure(#[from] pub TapError);

impl ResponseError for TapFailure {
    fn status_code(&self) -> StatusCode {
        match self.0.blame() {
            Blame::Client => StatusCode::BAD_REQUEST,
            Blame::Service => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn error_response(&self) -> HttpResponse {
        error_response(&self.0)
    }
}

fn plain(status: StatusCode, text: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::plaintext())
        .body(text)
}

/// A VOSI request for something the service does not have.
#[derive(Debug, thiserror::Error)]
pub enum VosiFailure {
    /// `/tables/{name}` of a table that is not served.
    #[error(transparent)]
    UnknownTable(#[from] astrolake_vosi::VosiError),
}

impl ResponseError for VosiFailure {
    fn status_code(&self) -> StatusCode {
        StatusCode::NOT_FOUND
    }
    fn error_response(&self) -> HttpResponse {
        plain(self.status_code(), self.to_string())
    }
}

/// A registry record that cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum RegistryFailure {
    /// No record has this identifier.
    #[error("no record {0}: /registry lists the records of this site\n")]
    NoRecord(String),
    /// The record was deleted (OAI-PMH keeps its header).
    #[error("{id} was removed on {updated}\n")]
    Removed {
        /// The record's identifier.
        id: String,
        /// When it was removed.
        updated: String,
    },
}

impl ResponseError for RegistryFailure {
    fn status_code(&self) -> StatusCode {
        match self {
            RegistryFailure::NoRecord(_) => StatusCode::NOT_FOUND,
            RegistryFailure::Removed { .. } => StatusCode::GONE,
        }
    }
    fn error_response(&self) -> HttpResponse {
        plain(self.status_code(), self.to_string())
    }
}

/// Why an operator request (`/admin/...`) failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminFailure {
    /// No `[admin] token` is configured: there are no admin endpoints.
    #[error("no admin endpoints: [admin] token is not set")]
    Disabled,
    /// The request has no valid `Authorization: Bearer` token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The request lacks what the endpoint needs.
    #[error("{0}")]
    BadRequest(&'static str),
    /// The import could not be done: the source or the request is at
    /// fault, or the service failed (see [`AdminFailure::status_code`]).
    #[error("{0:#}")]
    Import(anyhow::Error),
    /// The import task itself failed (a panic).
    #[error("{0}")]
    Crashed(String),
}

impl AdminFailure {
    /// Whether the service's own storage failed (its disk), rather than
    /// the source or the request.
    fn ours(&self) -> bool {
        match self {
            AdminFailure::Import(e) => e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some()
                    || matches!(
                        c.downcast_ref::<astrolake_catalog::CatalogError>(),
                        Some(astrolake_catalog::CatalogError::Io(_))
                    )
            }),
            AdminFailure::Crashed(_) => true,
            _ => false,
        }
    }
}

impl ResponseError for AdminFailure {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminFailure::Disabled => StatusCode::NOT_FOUND,
            AdminFailure::Unauthorized => StatusCode::UNAUTHORIZED,
            _ if self.ours() => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }
    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = if status.is_server_error() {
            service_fault(&format!("admin: {self}"))
        } else {
            self.to_string()
        };
        let mut b = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            b.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        b.content_type(ContentType::json())
            .body(serde_json::json!({ "error": message }).to_string())
    }
}

/// Why a catalogue file (`/catalogue/PATH`) cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum FileFailure {
    /// No such file (or a hidden or non-plain path).
    #[error("no catalogue file {0:?}\n")]
    NotFound(String),
    /// The asked range does not fit the file (or is not one we take).
    #[error("{why} (the file has {size} bytes)\n")]
    Unsatisfiable {
        /// The file's size.
        size: u64,
        /// What is wrong with the range.
        why: &'static str,
    },
    /// The store failed: the detail (local paths included) goes to the
    /// log, the client is told which file could not be read.
    #[error("reading {path:?} failed; the operator's log has the reason\n")]
    Store {
        /// The requested path.
        path: String,
        /// The store's error.
        error: object_store::Error,
    },
}

impl FileFailure {
    /// The failure of reading the catalogue file `path` from the store:
    /// a missing object is the client's 404, anything else ours.
    pub fn of(path: &str, error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { .. } => FileFailure::NotFound(path.into()),
            error => FileFailure::Store {
                path: path.into(),
                error,
            },
        }
    }
}

impl ResponseError for FileFailure {
    fn status_code(&self) -> StatusCode {
        match self {
            FileFailure::NotFound(_) => StatusCode::NOT_FOUND,
            FileFailure::Unsatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
            FileFailure::Store { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    fn error_response(&self) -> HttpResponse {
        match self {
            FileFailure::Unsatisfiable { size, .. } => HttpResponse::build(self.status_code())
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .content_type(ContentType::plaintext())
                .body(self.to_string()),
            FileFailure::Store { path, error } => {
                let reference = log_fault(&format!("/catalogue/{path}: {error}"));
                plain(
                    self.status_code(),
                    format!(
                        "reading {path:?} failed; the operator's log has the reason \
                         (logged as {reference})\n"
                    ),
                )
            }
            _ => plain(self.status_code(), self.to_string()),
        }
    }
}
