//! The error policy of the HTTP services, in one place: which status a
//! failure gets and what its body says.
//!
//! * TAP (`/sync`, and what `/async` jobs record): a DALI error VOTable.
//!   Whose fault it is comes from `astrolake_tap::error` ([`Blame`]): the
//!   client's mistakes are 400 with the message (and the ADQL position);
//!   the service's faults are 500 with a log reference, the detail in the
//!   log. A request body that cannot be read has the status UWS gives it
//!   (413 when too large) on `/sync` as on `/async`; a full queue is 503
//!   with Retry-After.
//! * UWS (`/async/...`): `astrolake_uws::http` maps its `UwsError` kinds
//!   to statuses, as text/plain.
//! * VOSI and the registry: 404 (and 410 for a removed record) as
//!   text/plain naming what is missing.
//! * Admin: JSON `{"error": ...}`; 401 with `WWW-Authenticate: Bearer`
//!   without a valid token, 404 when no admin token is configured.
//! * Files (`/catalogue/...`): 404, 416 for a range that does not fit,
//!   and 500 with the detail in the log.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use astrolake_tap::error::{Blame, TapError};

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
