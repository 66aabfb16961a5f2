//! Why a TAP request failed, and what the client is told.
//!
//! The policy, in this one place:
//! * **The client's mistakes** (parameters, ADQL, uploads, the query's own
//!   limits) are answered with what was wrong: the message, with the ADQL
//!   position where there is one, and a 4xx status ([`Blame::Client`]).
//! * **The service's own faults** (an unreadable file, a failed object
//!   store, an engine invariant, a panicked task) are answered with a
//!   generic message that names a log reference; the detail goes to the
//!   log ([`log_fault`]), never to the client ([`Blame::Service`]).
//! * No message a client sees names a local path ([`redact_paths`]).
//!
//! The HTTP layer turns a [`Blame`] into a status code; this crate knows
//! no HTTP.

use astrolake_adql::AdqlError;

use crate::params::ParamError;
use crate::upload::UploadError;

/// Why a query failed before any byte of its result was sent.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    /// Bad parameters.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The query is wrong, or failed (the client's or the service's, as
    /// [`AdqlError::is_user_error`] says).
    #[error(transparent)]
    Query(#[from] AdqlError),
    /// An upload could not be fetched or read.
    #[error(transparent)]
    Upload(#[from] UploadError),
    /// The service failed (a panic, a lost task).
    #[error("internal error: {0}")]
    Internal(String),
}

/// Whose fault a failure is, which decides its status and what the client
/// is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The request is wrong (HTTP 400): the client is told why.
    Client,
    /// The service failed (HTTP 500): the client gets a log reference.
    Service,
}

impl TapError {
    /// Whose fault the error is.
    pub fn blame(&self) -> Blame {
        match self {
            TapError::Upload(e) if e.is_service_fault() => Blame::Service,
            TapError::Param(_) | TapError::Upload(_) => Blame::Client,
            TapError::Query(e) if e.is_user_error() => Blame::Client,
            TapError::Query(_) | TapError::Internal(_) => Blame::Service,
        }
    }

    /// What the client is told: the message for its own mistakes (with no
    /// local paths), a generic message with a log reference for the
    /// service's faults (the detail is logged here).
    pub fn public_message(&self) -> String {
        match self.blame() {
            Blame::Client => redact_paths(&self.to_string()),
            Blame::Service => service_fault(&self.to_string()),
        }
    }

    /// The DALI error document the client gets.
    pub fn document(&self) -> String {
        crate::formats::error_votable(&self.public_message())
    }
}

/// What the client is told of a query that failed while its result was
/// streaming (the result then ends with this message as its
/// QUERY_STATUS=ERROR): as [`TapError::public_message`].
pub fn streamed_failure(e: AdqlError) -> String {
    TapError::Query(e).public_message()
}

/// Log the detail of one of the service's own faults under a fresh
/// reference, and return the reference.
pub fn log_fault(detail: &str) -> String {
    let reference = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    eprintln!("error [{reference}]: {detail}");
    reference
}

/// Log `detail` and return the generic message the client gets instead.
pub fn service_fault(detail: &str) -> String {
    let reference = log_fault(detail);
    format!(
        "the service failed to answer this request (an internal error, logged as {reference}); \
         the operator has the details"
    )
}

/// `msg` without the absolute local paths that storage errors carry: each
/// `/a/b/.../f` (or `file:///a/.../f`) keeps its last five parts behind
/// `.../` (a catalogue file is still recognisable: `.../gaia_source/
/// dataset/Norder=1/Dir=0/Npix=3.parquet`), so that no response tells a
/// client where the service keeps its files. URLs (`s3://b/k`) and
/// single-part paths (`/async`) are left as they are.
pub fn redact_paths(msg: &str) -> String {
    const OPEN: &[char] = &[
        ' ', '\t', '\n', '"', '\'', '(', '=', '[', '<', ',', '`', '{',
    ];
    const CLOSE: &[char] = &[
        ' ', '\t', '\n', '"', '\'', ')', ']', '>', ',', '`', '}', ';',
    ];
    let msg = msg.replace("file:///", "/");
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg.as_str();
    let mut prev: Option<char> = None;
    while let Some(i) = rest.find('/') {
        let before = &rest[..i];
        let last = before.chars().next_back().or(prev);
        let starts = last.is_none_or(|c| OPEN.contains(&c));
        let tail = &rest[i..];
        let end = tail[1..].find(CLOSE).map_or(tail.len(), |e| e + 1);
        let token = &tail[..end];
        let parts: Vec<&str> = token[1..].split('/').collect();
        let next_ok = tail[1..]
            .chars()
            .next()
            .is_some_and(|c| c != '/' && !CLOSE.contains(&c));
        if starts && next_ok && parts.len() > 1 {
            out.push_str(before);
            out.push_str(".../");
            out.push_str(&parts[parts.len().saturating_sub(5).max(1)..].join("/"));
            prev = token.chars().next_back();
            rest = &tail[end..];
        } else {
            out.push_str(before);
            out.push('/');
            prev = Some('/');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_name_no_absolute_paths() {
        let m = "Parquet error: External: Generic LocalFileSystem error: Unable to open file \
                 /tmp/.tmpAb12/cat/gaia/gaia_source/dataset/Norder=1/Dir=0/Npix=3.parquet: \
                 No such file (os error 2)";
        let r = redact_paths(m);
        assert!(!r.contains("/tmp/"), "{r}");
        assert!(
            r.contains("file .../gaia_source/dataset/Norder=1/Dir=0/Npix=3.parquet:"),
            "{r}"
        );
        assert_eq!(
            redact_paths("Object at location 'file:///srv/data/x/y.parquet' not found"),
            "Object at location '.../data/x/y.parquet' not found"
        );
        for keep in [
            "s3://site-a/cat/gaia/gaia_source/dataset/x.parquet is unreadable",
            "retry, or submit it as an asynchronous job (/async)",
            "SELECT ra/3600 FROM t WHERE x = 1 / 2",
            "http://127.0.0.1:9000/a/b/c",
        ] {
            assert_eq!(redact_paths(keep), keep);
        }
    }

    #[test]
    fn the_client_is_told_its_mistakes_and_not_the_services_faults() {
        use datafusion::error::DataFusionError as D;
        let mine = TapError::Query(AdqlError::from(D::Execution("Divide by zero".into())));
        assert_eq!(mine.blame(), Blame::Client);
        assert!(mine.public_message().contains("Divide by zero"));
        let io = std::io::Error::other("disk gone at /srv/astrolake/cat/gaia/x.parquet");
        for ours in [
            TapError::Query(AdqlError::from(D::IoError(io))),
            TapError::Query(AdqlError::from(D::Internal("invariant".into()))),
            TapError::Query(AdqlError::from(D::Context(
                "reading".into(),
                Box::new(D::ParquetError(Box::new(
                    parquet::errors::ParquetError::General("corrupt footer".into()),
                ))),
            ))),
            TapError::Internal("the query task panicked".into()),
        ] {
            assert_eq!(ours.blame(), Blame::Service, "{ours}");
            let m = ours.public_message();
            assert!(m.contains("logged as"), "{m}");
            assert!(!m.contains("disk gone") && !m.contains("invariant"), "{m}");
        }
        let plan = TapError::Query(AdqlError::from(D::Plan("no such column".into())));
        assert_eq!(plan.blame(), Blame::Client);
        let cast = TapError::Query(AdqlError::from(D::ArrowError(
            Box::new(arrow::error::ArrowError::CastError(
                "'x' is not a number".into(),
            )),
            None,
        )));
        assert_eq!(cast.blame(), Blame::Client);
    }
}
