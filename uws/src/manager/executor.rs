//! What runs jobs: the [`Executor`] trait, what it is given
//! ([`JobContext`]) and how it fails ([`JobFailure`]).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::future::BoxFuture;

use crate::error::Result;
use crate::job::{find_parameter, ErrorType, JobResult};

/// What an executor is given to run a job.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The job's id.
    pub id: String,
    /// The job's owner, if any.
    pub owner: Option<String>,
    /// The job's parameters (names as the client gave them; compare them
    /// ignoring ASCII case, or use [`JobContext::parameter`]).
    pub parameters: Vec<(String, String)>,
    /// The uploaded files: (multipart part name, path of the stored file).
    pub uploads: Vec<(String, PathBuf)>,
    /// The directory to write result files into (empty, created for the
    /// job).
    pub dir: PathBuf,
}

impl JobContext {
    /// The value of the first parameter named `name`, ignoring ASCII case.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        find_parameter(&self.parameters, name)
    }

    /// The stored file of the upload named `name` (the multipart part name,
    /// as DALI's `param:NAME` refers to it), ignoring ASCII case.
    pub fn upload(&self, name: &str) -> Option<&Path> {
        self.uploads
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, p)| p.as_path())
    }
}

/// Why an executor failed a job.
#[derive(Debug, Clone)]
pub struct JobFailure {
    /// The error summary's message.
    pub message: String,
    /// Fatal (the default) or transient.
    pub error_type: ErrorType,
    /// A detailed error document and its MIME type (e.g. a TAP error
    /// VOTable), served at `/error` instead of the message.
    pub document: Option<(Bytes, String)>,
}

impl JobFailure {
    /// A fatal failure with this message and no document.
    pub fn new(message: impl Into<String>) -> JobFailure {
        JobFailure {
            message: message.into(),
            error_type: ErrorType::Fatal,
            document: None,
        }
    }

    /// The same failure, marked transient.
    pub fn transient(mut self) -> JobFailure {
        self.error_type = ErrorType::Transient;
        self
    }

    /// The same failure with a detailed error document.
    pub fn with_document(mut self, body: impl Into<Bytes>, mime: impl Into<String>) -> JobFailure {
        self.document = Some((body.into(), mime.into()));
        self
    }
}

impl From<String> for JobFailure {
    fn from(message: String) -> Self {
        JobFailure::new(message)
    }
}

impl From<&str> for JobFailure {
    fn from(message: &str) -> Self {
        JobFailure::new(message)
    }
}

/// What runs jobs: a TAP query, in astrolake.
///
/// `execute` returns a future that writes the job's result files into
/// [`JobContext::dir`] and resolves to their descriptions ([`JobResult`]:
/// id, MIME type, file name; sizes are read from the files), or to a
/// [`JobFailure`]. Result files must be plain names directly in that
/// directory, result ids distinct and without `/`; otherwise the job ends
/// in ERROR. The manager drops the future when the job is aborted,
/// deleted or runs out of execution duration: dropping must cancel the
/// work.
pub trait Executor: Send + Sync + 'static {
    /// Start running a job.
    fn execute(&self, job: JobContext) -> BoxFuture<'static, Result<Vec<JobResult>, JobFailure>>;
}
