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
                    error = Some(redact_paths(&AdqlError::from(e).to_string()));
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
    formats::error_votable(&redact_paths(&e.to_string()))
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
}
