//! Asynchronous TAP queries: the UWS job system (`astrolake_uws`) with an
//! executor that runs a job's TAP parameters exactly as `/sync` would and
//! writes the encoded result to the job's results directory.

use std::collections::HashMap;
use std::sync::Arc;

use astrolake_tap::error::TapError;
use astrolake_tap::query::{Limits, Outcome, Piece};
use astrolake_tap::upload::UploadLimits;
use astrolake_uws::{Executor, JobContext, JobFailure, JobResult};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

/// Runs TAP jobs.
#[derive(Clone)]
pub struct TapExecutor(pub Arc<TapContext>);

/// What TAP jobs run against.
pub struct TapContext {
    /// The tables queries can name (replaced when the catalogue changes).
    pub served: crate::served::SharedServed,
    /// MAXREC limits (the job's execution duration is UWS's to enforce).
    pub limits: Limits,
    /// Upload limits.
    pub uploads: UploadLimits,
}

/// A job failure carrying the DALI error document (what the client may
/// see, as for `/sync`).
fn failure(e: &TapError) -> JobFailure {
    failed(e.public_message())
}

/// A job failure with `message` (already fit for the client) and its DALI
/// error document.
fn failed(message: String) -> JobFailure {
    let document = astrolake_tap::formats::error_votable(&message);
    JobFailure::new(message).with_document(document, "application/x-votable+xml")
}

async fn run(ex: Arc<TapContext>, job: JobContext) -> Result<Vec<JobResult>, JobFailure> {
    let req =
        astrolake_tap::params::parse(&job.parameters).map_err(|e| failure(&TapError::Param(e)))?;
    let mut parts: HashMap<String, Bytes> = HashMap::new();
    for (name, path) in &job.uploads {
        let bytes = tokio::fs::read(path).await.map_err(|e| {
            failure(&TapError::Internal(format!(
                "reading the stored upload {name} ({}): {e}",
                path.display()
            )))
        })?;
        parts.insert(name.clone(), Bytes::from(bytes));
    }
    let tables = crate::served::current(&ex.served).tables.clone();
    // The job's execution duration is UWS's to enforce.
    let limits = Limits {
        max_duration: None,
        ..ex.limits
    };
    let answer = astrolake_tap::query::start(
        &tokio::runtime::Handle::current(),
        req,
        parts,
        tables,
        limits,
        &ex.uploads,
    )
    .await
    .map_err(|e| failure(&e))?;
    let file = format!("result.{}", answer.format.extension());
    let path = job.dir.join(&file);
    let io = |e: std::io::Error| {
        failure(&TapError::Internal(format!(
            "writing the result {}: {e}",
            path.display()
        )))
    };
    let mut f = tokio::fs::File::create(&path).await.map_err(io)?;
    let mut body = answer.body;
    let outcome = loop {
        match body.next().await {
            Some(Piece::Bytes(chunk)) => f.write_all(&chunk).await.map_err(io)?,
            Some(Piece::End(o)) => break o,
            None => break Outcome::Broken("the result stopped before its end".into()),
        }
    };
    f.flush().await.map_err(io)?;
    f.sync_all().await.map_err(io)?;
    match outcome {
        Outcome::Complete { .. } => Ok(vec![JobResult::new("result", file, answer.format.mime())]),
        // The result document ends with the error; the job is an ERROR.
        Outcome::Failed(m) => Err(failed(m)),
        Outcome::Broken(m) => Err(failure(&TapError::Internal(format!(
            "the result could not be finished: {m}"
        )))),
    }
}

impl Executor for TapExecutor {
    fn execute(&self, job: JobContext) -> BoxFuture<'static, Result<Vec<JobResult>, JobFailure>> {
        Box::pin(run(Arc::clone(&self.0), job))
    }
}
