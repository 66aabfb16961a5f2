//! Running a TAP query: ADQL → rows → encoded bytes, streamed through a
//! bounded channel (backpressure: memory does not grow with the result),
//! with MAXREC and OVERFLOW as DALI says.

use std::sync::Arc;

use arrow::array::RecordBatch;
use astrolake_adql::budget::{self, Budget};
use astrolake_adql::{AdqlError, QueryLimits, Tables};
use bytes::Bytes;
use datafusion::dataframe::DataFrame;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::formats::{self, Format, ResultInfo};
use crate::params::{ParamError, TapRequest};

/// Row limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// MAXREC when the request gives none.
    pub default_maxrec: u64,
    /// The most rows any request gets.
    pub hard_maxrec: u64,
    /// How long a query may run (planning and streaming); `None`: no limit.
    pub max_duration: Option<std::time::Duration>,
    /// The longest and most deeply nested ADQL text accepted.
    pub query: QueryLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            default_maxrec: 100_000,
            hard_maxrec: 10_000_000,
            max_duration: None,
            query: QueryLimits::default(),
        }
    }
}

/// Why a query failed before any byte was sent.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    /// Bad parameters (HTTP 400).
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The query is wrong or failed (HTTP 400 when the user can fix it).
    #[error(transparent)]
    Query(#[from] AdqlError),
    /// An upload could not be fetched or read (HTTP 400).
    #[error(transparent)]
    Upload(#[from] crate::upload::UploadError),
    /// The service failed (a panic, a lost task): HTTP 500, the detail is
    /// for the log.
    #[error("internal error: {0}")]
    Internal(String),
}

impl TapError {
    /// The HTTP status of the error document.
    pub fn status(&self) -> u16 {
        match self {
            TapError::Param(_) | TapError::Upload(_) => 400,
            TapError::Query(e) if e.is_user_error() => 400,
            TapError::Query(_) | TapError::Internal(_) => 500,
        }
    }
}

/// A result on its way: the format and the encoded bytes.
pub struct QueryOutput {
    /// The format (for Content-Type).
    pub format: Format,
    /// The bytes, produced as the query runs; an error item means the
    /// connection must be cut (formats that cannot carry an error).
    pub body: BoxStream<'static, Result<Bytes, std::io::Error>>,
    /// Set when the query failed after the first bytes: the body then
    /// ends with the error (QUERY_STATUS=ERROR) instead of the rest of
    /// the rows. Read it once the body is done (an async job then ends in
    /// ERROR, not COMPLETED).
    pub failed: Arc<std::sync::OnceLock<String>>,
}

/// Plan the query (errors come back before any byte) and start streaming
/// its encoded result.
pub async fn run(
    req: &TapRequest,
    tables: &Tables,
    limits: Limits,
) -> Result<QueryOutput, TapError> {
    let maxrec = req
        .maxrec
        .unwrap_or(limits.default_maxrec)
        .min(limits.hard_maxrec);
    let budget = Budget::new(limits.max_duration);
    let start = async {
        let t = astrolake_adql::plan_with(&req.query, tables, &limits.query).await?;
        let df = DataFrame::new(t.ctx.state(), t.plan.clone())
            .limit(0, Some(maxrec as usize + 1))
            .map_err(AdqlError::from)?;
        let physical = df.create_physical_plan().await.map_err(AdqlError::from)?;
        let physical = budget::limit(physical, &budget).map_err(AdqlError::from)?;
        let stream = datafusion::physical_plan::execute_stream(physical, t.ctx.task_ctx())
            .map_err(AdqlError::from)?;
        Ok::<_, AdqlError>((t, stream))
    };
    let (t, stream) = match budget.deadline() {
        Some(at) => tokio::time::timeout_at(at.into(), start)
            .await
            .map_err(|_| {
                AdqlError::Execution(budget::too_long(limits.max_duration.unwrap_or_default()))
            })??,
        None => start.await?,
    };
    let schema = stream.schema();
    let mut infos = Vec::new();
    if let Some(r) = &req.runid {
        infos.push(("RUNID".to_string(), r.clone()));
    }
    let info = ResultInfo {
        columns: t.columns.clone(),
        query: Some(req.query.clone()),
        infos,
        table_name: "result".to_string(),
    };
    let mut enc = formats::encoder(req.format, info, Arc::clone(&schema));
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let producer_budget = budget.clone();
    let failed: Arc<std::sync::OnceLock<String>> = Arc::default();
    let producer_failed = Arc::clone(&failed);
    tokio::spawn(async move {
        let mut stream = stream;
        let send = |b: Vec<u8>| {
            let tx = tx.clone();
            async move {
                if b.is_empty() {
                    return true;
                }
                tx.send(Ok(Bytes::from(b))).await.is_ok()
            }
        };
        let fail = |m: String| std::io::Error::other(m);
        match enc.begin() {
            Ok(b) => {
                if !send(b).await {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(fail(e.to_string()))).await;
                return;
            }
        }
        let mut sent: u64 = 0;
        let mut overflow = false;
        let mut error: Option<String> = None;
        // Stop the query when the client goes away (the channel closes).
        let _cancel_on_drop = CancelOnDrop(producer_budget);
        while let Some(item) = stream.next().await {
            let batch: RecordBatch = match item {
                Ok(b) => b,
                Err(e) => {
                    error = Some(AdqlError::from(e).to_string());
                    break;
                }
            };
            let room = maxrec - sent;
            let batch = if batch.num_rows() as u64 > room {
                overflow = true;
                batch.slice(0, room as usize)
            } else {
                batch
            };
            sent += batch.num_rows() as u64;
            if batch.num_rows() > 0 {
                match enc.batch(&batch) {
                    Ok(b) => {
                        if !send(b).await {
                            return;
                        }
                    }
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            if overflow {
                break;
            }
        }
        let end = match error {
            None => enc.finish(overflow),
            Some(m) => {
                let _ = producer_failed.set(m.clone());
                enc.fail(&m)
            }
        };
        match end {
            Ok(b) => {
                if !send(b).await {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(fail(e.to_string()))).await;
                return;
            }
        }
        loop {
            match enc.next_chunk() {
                Ok(Some(b)) => {
                    if !send(b).await {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = tx.send(Err(fail(e.to_string()))).await;
                    return;
                }
            }
        }
    });
    // Dropping the body (the client went away, the job was aborted) stops
    // the query at its next batch, even one busy in a CPU-bound operator.
    let guard = CancelOnDrop(budget.clone());
    let body = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|x| (x, (rx, guard)))
    })
    .boxed();
    Ok(QueryOutput {
        format: req.format,
        body,
        failed,
    })
}

/// Cancels the query's budget when dropped: the producer task ends (the
/// client went away, or the result is complete) and whatever of the query
/// still runs elsewhere stops at its next batch.
struct CancelOnDrop(Budget);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// The DALI error document for an error.
pub fn error_document(e: &TapError) -> String {
    formats::error_votable(&e.to_string())
}
