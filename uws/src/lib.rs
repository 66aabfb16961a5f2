//! UWS 1.1 (IVOA Universal Worker Service) jobs for astrolake's TAP
//! service: the store, the manager that runs jobs, the XML documents and
//! the HTTP binding.
//!
//! # Design
//!
//! - **Store** ([`Store`]): one SQLite database, `DIR/jobs.sqlite`, in WAL
//!   mode, holds every job record (times as epoch milliseconds; parameters,
//!   uploads and results as JSON), indexed by creation time, (phase,
//!   creation time), (owner, creation time) and destruction time so lists,
//!   filters and the reaper stay fast with tens of thousands of jobs. Each
//!   job has a directory `DIR/jobs/ID/` with `uploads/` (files uploaded
//!   with the job, named by the server), `results/` (written by the
//!   executor) and possibly `error` (a detailed error document). Job ids
//!   are 128 random bits from the OS as 32 hex digits: URL-safe and
//!   unguessable; anything else is treated as no job and never reaches a
//!   path.
//! - **Manager** ([`Uws`]): opened with a [`Config`] and an [`Executor`]
//!   inside a tokio runtime, and shared as an `Arc`. Jobs go PENDING →
//!   QUEUED → EXECUTING → COMPLETED / ERROR, or ABORTED. At most
//!   `max_running` execute at once (the rest wait QUEUED, at most
//!   `max_queued` of them). An executing job is a tokio task running the
//!   executor's future under `tokio::time::timeout` when its execution
//!   duration is not 0; abort, delete and timeout drop that future, which
//!   cancels the work. One mutex orders every change of a job record with
//!   the in-memory queue, task set and phase watchers (`tokio::sync::watch`,
//!   for UWS 1.1 `WAIT` blocking); store access runs on the blocking pool.
//!   A reaper task destroys jobs past their destruction time every
//!   `reap_interval`. On start-up, jobs the previous server left QUEUED or
//!   EXECUTING end in ERROR ([`SERVER_STOPPED`]); finished jobs and their
//!   results survive restarts.
//! - **Documents** ([`xml`]): `uws:job`, `uws:jobs`, `uws:parameters` and
//!   `uws:results` written with quick-xml in the UWS schema's element
//!   order, times as ISO 8601 UTC with milliseconds and `Z`.
//! - **HTTP** ([`http`]): [`http::configure`] mounts the REST binding as
//!   `/async` in an actix-web app or scope; handlers only parse requests
//!   and call the manager. Every error is a [`UwsError`], whose
//!   [`UwsError::status`] is the HTTP status (404 no such job, 400 bad
//!   value or a request the phase does not allow, 413, 503, 500).
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use astrolake_uws::{Config, Executor, JobContext, JobFailure, JobResult, Uws};
//! use futures::future::BoxFuture;
//!
//! struct Echo;
//! impl Executor for Echo {
//!     fn execute(&self, job: JobContext) -> BoxFuture<'static, Result<Vec<JobResult>, JobFailure>> {
//!         Box::pin(async move {
//!             let text = job.parameter("TEXT").unwrap_or("").to_string();
//!             tokio::fs::write(job.dir.join("echo.txt"), text)
//!                 .await
//!                 .map_err(|e| JobFailure::new(e.to_string()))?;
//!             Ok(vec![JobResult::new("result", "echo.txt", "text/plain")])
//!         })
//!     }
//! }
//!
//! # async fn serve() -> std::io::Result<()> {
//! let uws = Uws::open(Config::new("/var/lib/astrolake/uws"), Echo).await.unwrap();
//! actix_web::HttpServer::new(move || {
//!     let uws = Arc::clone(&uws);
//!     actix_web::App::new().service(
//!         actix_web::web::scope("/tap")
//!             .configure(|cfg| astrolake_uws::http::configure(cfg, uws, "/tap")),
//!     )
//! })
//! .bind("127.0.0.1:8080")?
//! .run()
//! .await
//! # }
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
pub mod http;
mod job;
mod manager;
mod phase;
mod store;
pub mod xml;

pub use error::{Result, UwsError};
pub use job::{
    find_parameter, format_time, parse_time, ErrorSummary, ErrorType, Job, JobRef, JobResult,
    Upload,
};
pub use manager::{
    parse_execution_duration, Config, Executor, JobContext, JobFailure, Uws, CONTROL_PARAMETERS,
    SERVER_STOPPED,
};
pub use phase::Phase;
pub use store::{is_job_id, new_job_id, ListFilter, Store};
