//! Running a TAP query, the one path of sync and async requests alike
//! ([`start`]): checked parameters, uploads, tables and limits → the
//! uploads attached → ADQL planned (errors before any byte) → rows encoded
//! and streamed through a bounded channel (backpressure: memory does not
//! grow with the result), with MAXREC and OVERFLOW as DALI says → the
//! [`Outcome`] as the stream's last piece.

use std::collections::HashMap;

use arrow::array::RecordBatch;
use astrolake_adql::budget::{self, Budget};
use astrolake_adql::{AdqlError, QueryLimits, Tables};
use bytes::Bytes;
use datafusion::execution::SendableRecordBatchStream;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};

pub use crate::error::TapError;
use crate::formats::{self, Format, ResultInfo};
use crate::params::TapRequest;
use crate::upload::UploadLimits;

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

/// A result on its way: the format and the encoded bytes, which end with
/// the outcome.
pub struct Answer {
    /// The format (for Content-Type).
    pub format: Format,
    /// The encoded result, produced as the query runs, then one
    /// [`Piece::End`]. A body that stops without one was cut short (the
    /// task producing it died): treat it as [`Outcome::Broken`].
    pub body: BoxStream<'static, Piece>,
}

/// One piece of an [`Answer`]'s body.
#[derive(Debug)]
pub enum Piece {
    /// Encoded bytes.
    Bytes(Bytes),
    /// The end, and how the result ended.
    End(Outcome),
}

/// How a streamed result ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every row up to MAXREC was sent; `overflow`: there were more.
    Complete {
        /// Rows sent.
        rows: u64,
        /// MAXREC cut the result (QUERY_STATUS=OVERFLOW).
        overflow: bool,
    },
    /// The query failed after the first bytes: the body ends with this
    /// message as its QUERY_STATUS=ERROR (an async job ends in ERROR).
    Failed(String),
    /// The result could not be finished and the format cannot say so: the
    /// bytes sent are incomplete (an HTTP response must be cut off).
    Broken(String),
}

impl Answer {
    /// The body for an HTTP response: the bytes, ending normally when the
    /// result is complete or carries its error, with an error item (the
    /// connection is cut, so the client cannot take a partial result for
    /// a whole one) when it is broken.
    pub fn http_body(self) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
        futures::stream::unfold(Some(self.body), |body| async move {
            let mut body = body?;
            match body.next().await {
                Some(Piece::Bytes(b)) => Some((Ok(b), Some(body))),
                Some(Piece::End(Outcome::Complete { .. } | Outcome::Failed(_))) => None,
                Some(Piece::End(Outcome::Broken(m))) => Some((Err(std::io::Error::other(m)), None)),
                None => Some((
                    Err(std::io::Error::other("the result stopped before its end")),
                    None,
                )),
            }
        })
    }
}

/// Run a TAP query, sync or async alike: fetch and read its uploads (within
/// the query's time), plan it (errors come back before any byte), then
/// stream its encoded result. The work is one task on `runtime`; dropping
/// the future or the body stops it (a client that disconnects leaves no
/// work behind), and a query busy in a CPU-bound operator stops at its
/// next batch.
pub async fn start(
    runtime: &tokio::runtime::Handle,
    req: TapRequest,
    parts: HashMap<String, Bytes>,
    tables: Tables,
    limits: Limits,
    uploads: &UploadLimits,
) -> Result<Answer, TapError> {
    let budget = Budget::new(limits.max_duration);
    // Fetching and reading the uploads count against the query's time.
    let uploads = UploadLimits {
        deadline: budget.deadline().or(uploads.deadline),
        ..uploads.clone()
    };
    let format = req.format;
    let (planned, is_planned) = oneshot::channel::<Result<(), TapError>>();
    let (tx, rx) = mpsc::channel::<Piece>(4);
    let task_budget = budget.clone();
    let task = AbortOnDrop(runtime.spawn(async move {
        let prepared = async {
            let tables =
                crate::upload::attach_uploads(tables, req.upload.as_deref(), &parts, &uploads)
                    .await?;
            plan(&req, &tables, limits, &task_budget).await
        };
        match prepared.await {
            Ok((t, stream)) => {
                if planned.send(Ok(())).is_ok() {
                    produce(&req, t, stream, &limits, task_budget, tx).await;
                }
            }
            Err(e) => {
                let _ = planned.send(Err(e));
            }
        }
    }));
    match is_planned.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            return Err(TapError::Internal(
                "the query task ended before planning finished (it panicked)".into(),
            ))
        }
    }
    // Dropping the body (the client went away, the job was aborted) stops
    // the query: the task is aborted and the budget cancelled.
    let guard = (task, CancelOnDrop(budget));
    let body = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        rx.recv().await.map(|x| (x, (rx, guard)))
    })
    .boxed();
    Ok(Answer { format, body })
}

/// Plan the query and start it, within the query's time limit.
async fn plan(
    req: &TapRequest,
    tables: &Tables,
    limits: Limits,
    budget: &Budget,
) -> Result<(astrolake_adql::Translated, SendableRecordBatchStream), TapError> {
    let maxrec = maxrec(req, &limits);
    let start = async {
        let t = astrolake_adql::plan_with(&req.query, tables, &limits.query).await?;
        let df = t.dataframe().limit(0, Some(maxrec as usize + 1))?;
        let physical = df.create_physical_plan().await?;
        let physical = budget::limit(physical, budget)?;
        let stream = datafusion::physical_plan::execute_stream(physical, t.ctx.task_ctx())?;
        Ok::<_, AdqlError>((t, stream))
    };
    Ok(match budget.deadline() {
        Some(at) => tokio::time::timeout_at(at.into(), start)
            .await
            .map_err(|_| {
                AdqlError::Execution(budget::too_long(limits.max_duration.unwrap_or_default()))
            })??,
        None => start.await?,
    })
}

fn maxrec(req: &TapRequest, limits: &Limits) -> u64 {
    req.maxrec
        .unwrap_or(limits.default_maxrec)
        .min(limits.hard_maxrec)
}

/// Encode the rows into `tx` as they come, up to MAXREC, and end with the
/// outcome. Stops when the receiver goes away.
async fn produce(
    req: &TapRequest,
    t: astrolake_adql::Translated,
    mut stream: SendableRecordBatchStream,
    limits: &Limits,
    budget: Budget,
    tx: mpsc::Sender<Piece>,
) {
    let maxrec = maxrec(req, limits);
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
    let mut enc = formats::encoder(req.format, info, stream.schema());
    // Stop whatever of the query still runs elsewhere when this ends.
    let _cancel_on_drop = CancelOnDrop(budget);
    // Send encoded bytes; `false` when the result must stop here (the
    // receiver is gone, or the encoder failed and the result is broken).
    let emit = |r: formats::Result<Vec<u8>>| {
        let tx = tx.clone();
        async move {
            match r {
                Ok(b) if b.is_empty() => true,
                Ok(b) => tx.send(Piece::Bytes(Bytes::from(b))).await.is_ok(),
                Err(e) => {
                    let _ = tx.send(Piece::End(Outcome::Broken(e.to_string()))).await;
                    false
                }
            }
        }
    };
    if !emit(enc.begin()).await {
        return;
    }
    let mut sent: u64 = 0;
    let mut overflow = false;
    let mut error: Option<String> = None;
    while let Some(item) = stream.next().await {
        let batch: RecordBatch = match item {
            Ok(b) => b,
            Err(e) => {
                error = Some(crate::error::streamed_failure(AdqlError::from(e)));
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
        if batch.num_rows() > 0 && !emit(enc.batch(&batch)).await {
            return;
        }
        if overflow {
            break;
        }
    }
    let (end, outcome) = match error {
        None => (
            enc.finish(overflow),
            Outcome::Complete {
                rows: sent,
                overflow,
            },
        ),
        Some(m) => (enc.fail(&m), Outcome::Failed(m)),
    };
    if !emit(end).await {
        return;
    }
    loop {
        match enc.next_chunk() {
            Ok(Some(b)) => {
                if !emit(Ok(b)).await {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                emit(Err(e)).await;
                return;
            }
        }
    }
    let _ = tx.send(Piece::End(outcome)).await;
}

/// A task that is aborted when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
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
