//! The job record and its parts, and the ISO 8601 times UWS uses.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Result, UwsError};
use crate::phase::Phase;

/// One UWS job: everything the job document shows, plus where its uploaded
/// files are.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's id: 32 lower-case hex digits (128 random bits).
    pub job_id: String,
    /// The client's own label for the job (the RUNID parameter).
    pub run_id: Option<String>,
    /// Who created the job; `None` for anonymous jobs.
    pub owner: Option<String>,
    /// The current phase.
    pub phase: Phase,
    /// When the job is predicted to finish; `None` when unknown (always,
    /// for now).
    pub quote: Option<DateTime<Utc>>,
    /// When the job was created (millisecond precision).
    pub creation_time: DateTime<Utc>,
    /// When the job started executing.
    pub start_time: Option<DateTime<Utc>>,
    /// When the job reached a final phase.
    pub end_time: Option<DateTime<Utc>>,
    /// How long the job may execute, in seconds; 0 means unlimited.
    pub execution_duration: u32,
    /// When the job, its files and its results are destroyed.
    pub destruction: DateTime<Utc>,
    /// The job's parameters, names as the client gave them, in order. UWS
    /// names are case-insensitive: use [`Job::parameter`] to look one up.
    /// The UWS control parameters (PHASE, RUNID, EXECUTIONDURATION,
    /// DESTRUCTION, ACTION) are not kept here.
    pub parameters: Vec<(String, String)>,
    /// Files uploaded with the job (multipart file parts), in order.
    pub uploads: Vec<Upload>,
    /// The results, once COMPLETED.
    pub results: Vec<JobResult>,
    /// Why the job failed, once in ERROR.
    pub error: Option<ErrorSummary>,
}

impl Job {
    /// The value of the first parameter named `name`, ignoring ASCII case.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        find_parameter(&self.parameters, name)
    }

    /// The upload named `name` (the multipart part name), ignoring ASCII
    /// case.
    pub fn upload(&self, name: &str) -> Option<&Upload> {
        self.uploads
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// The result with id `id` (exact match).
    pub fn result(&self, id: &str) -> Option<&JobResult> {
        self.results.iter().find(|r| r.id == id)
    }
}

/// The value of the first `(name, value)` pair whose name is `name`,
/// ignoring ASCII case.
pub fn find_parameter<'a>(parameters: &'a [(String, String)], name: &str) -> Option<&'a str> {
    parameters
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// One result of a job: a file in the job's results directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    /// The result's id, as in `/results/{id}` (TAP's main result is
    /// `result`).
    pub id: String,
    /// The MIME type the file is served with.
    pub mime: String,
    /// The file's size in bytes (set by the manager from the file itself
    /// when the job completes).
    pub size: u64,
    /// The file's name inside the results directory (no path separators).
    pub file: String,
}

impl JobResult {
    /// A result `id` stored in the results directory as `file`, served as
    /// `mime`. The size is filled in when the job completes.
    pub fn new(id: impl Into<String>, file: impl Into<String>, mime: impl Into<String>) -> Self {
        JobResult {
            id: id.into(),
            mime: mime.into(),
            size: 0,
            file: file.into(),
        }
    }
}

/// A file uploaded with a job (a multipart/form-data file part).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// The part's name, as the client gave it (what DALI's `param:NAME`
    /// refers to).
    pub name: String,
    /// The file's name inside the job's uploads directory (chosen by the
    /// server, never by the client).
    pub file: String,
    /// The file's size in bytes.
    pub size: u64,
}

/// Whether retrying a failed job may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// The job will fail again if submitted again unchanged.
    Fatal,
    /// The failure was circumstantial; the same job may succeed later.
    Transient,
}

impl ErrorType {
    /// `fatal` or `transient`, as the UWS schema writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Fatal => "fatal",
            ErrorType::Transient => "transient",
        }
    }

    pub(crate) fn parse(s: &str) -> ErrorType {
        if s == "transient" {
            ErrorType::Transient
        } else {
            ErrorType::Fatal
        }
    }
}

/// Why a job ended in ERROR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSummary {
    /// A short human-readable message.
    pub message: String,
    /// Fatal or transient.
    pub error_type: ErrorType,
    /// The MIME type of the detailed error document (the job's `error`
    /// file) when the executor wrote one, e.g. a TAP error VOTable.
    pub document_mime: Option<String>,
}

impl ErrorSummary {
    /// Whether `/error` serves a detailed document (UWS `hasDetail`).
    pub fn has_detail(&self) -> bool {
        self.document_mime.is_some()
    }
}

/// A job as the job list shows it (`uws:jobref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    /// The job's id.
    pub job_id: String,
    /// The current phase.
    pub phase: Phase,
    /// The client's label, if any.
    pub run_id: Option<String>,
    /// The owner, if any.
    pub owner: Option<String>,
    /// When the job was created.
    pub creation_time: DateTime<Utc>,
}

/// `t` as UWS writes times: ISO 8601 in UTC with milliseconds and `Z`
/// (`2024-05-01T12:00:00.000Z`).
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// An ISO 8601 date-time as clients send DESTRUCTION and AFTER: with an
/// offset or `Z` (`2024-05-01T12:00:00.5+02:00`), without one (taken as
/// UTC), or a bare date (midnight UTC). Fractions of a second beyond
/// milliseconds are dropped.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    let t = s.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M"))
                .ok()
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|n| n.and_utc())
        });
    parsed.map(truncate_ms).ok_or_else(|| {
        UwsError::BadRequest(format!(
            "'{s}' is not an ISO 8601 date-time (e.g. 2030-01-31T12:00:00Z)"
        ))
    })
}

/// `t` without its sub-millisecond part (the precision the store keeps).
pub(crate) fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// The current time at millisecond precision.
pub(crate) fn now() -> DateTime<Utc> {
    truncate_ms(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = parse_time("2030-01-31T12:00:00.123456Z").unwrap();
        assert_eq!(format_time(&t), "2030-01-31T12:00:00.123Z");
        let t = parse_time("2030-01-31T14:00:00+02:00").unwrap();
        assert_eq!(format_time(&t), "2030-01-31T12:00:00.000Z");
        assert_eq!(
            format_time(&parse_time("2030-01-31T12:00:00").unwrap()),
            "2030-01-31T12:00:00.000Z"
        );
        assert_eq!(
            format_time(&parse_time(" 2030-01-31 ").unwrap()),
            "2030-01-31T00:00:00.000Z"
        );
        assert!(parse_time("tomorrow").is_err());
        assert!(parse_time("2030-02-30").is_err());
    }
}
