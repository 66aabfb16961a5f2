//! Asynchronous TAP queries: the UWS job system (`astrolake_uws`) with an
//! executor that runs a job's TAP parameters exactly as `/sync` would and
//! writes the encoded result to the job's results directory.

use std::collections::HashMap;
use std::sync::Arc;

use astrolake_tap::query::{Limits, TapError};
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
    pub served: crate::http::SharedServed,
    /// MAXREC limits (the job's execution duration is UWS's to enforce).
    pub limits: Limits,
    /// Upload limits.
    pub uploads: UploadLimits,
}

/// A job failure carrying the DALI error document.
fn failure(e: &TapError) -> JobFailure {
    JobFailure::new(astrolake_tap::query::redact_paths(&e.to_string())).with_document(
        astrolake_tap::query::error_document(e),
        "application/x-votable+xml",
    )
}

async fn run(ex: Arc<TapContext>, job: JobContext) -> Result<Vec<JobResult>, JobFailure> {
    let req =
        astrolake_tap::params::parse(&job.parameters).map_err(|e| failure(&TapError::Param(e)))?;
    let mut parts: HashMap<String, Bytes> = HashMap::new();
    for (name, path) in &job.uploads {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| JobFailure::new(format!("reading the upload {name}: {e}")))?;
        parts.insert(name.clone(), Bytes::from(bytes));
    }
    let served = crate::http::current(&ex.served);
    let tables = astrolake_tap::upload::with_uploads(
        &served.tables,
        req.upload.as_deref(),
        &parts,
        &ex.uploads,
    )
    .await
    .map_err(|e| failure(&TapError::Upload(e)))?;
    let limits = Limits {
        max_duration: None,
        ..ex.limits
    };
    let out = astrolake_tap::query::run(&req, &tables, limits)
        .await
        .map_err(|e| failure(&e))?;
    let file = format!("result.{}", out.format.extension());
    let path = job.dir.join(&file);
    let io = |e: std::io::Error| JobFailure::new(format!("writing the result: {e}"));
    let mut f = tokio::fs::File::create(&path).await.map_err(io)?;
    let mut body = out.body;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| JobFailure::new(format!("the query failed: {e}")))?;
        f.write_all(&chunk).await.map_err(io)?;
    }
    f.flush().await.map_err(io)?;
    f.sync_all().await.map_err(io)?;
    if let Some(m) = out.failed.get() {
        // The result document ends with the error; the job is an ERROR.
        return Err(failure(&TapError::Query(
            astrolake_adql::AdqlError::Execution(m.clone()),
        )));
    }
    Ok(vec![JobResult::new("result", file, out.format.mime())])
}

impl Executor for TapExecutor {
    fn execute(&self, job: JobContext) -> BoxFuture<'static, Result<Vec<JobResult>, JobFailure>> {
        Box::pin(run(Arc::clone(&self.0), job))
    }
}
