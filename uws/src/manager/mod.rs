//! The job manager: creates, runs, aborts, waits for, lists and destroys
//! jobs, on top of the [`Store`].
//!
//! One mutex (`State`) serialises every change of a job's record with the
//! in-memory bookkeeping (the queue, the running tasks, the phase watchers),
//! always taken before the store's own connection mutex. Whoever removes a
//! job from the running set under that lock (the job's own task when it
//! ends, or an abort or delete) writes its final phase, so a job that is
//! aborted while it finishes ends in exactly one final phase.

use std::collections::{HashMap, VecDeque};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, TimeDelta, Utc};
use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::error::{Result, UwsError};
use crate::job::{
    find_parameter, now, parse_time, ErrorSummary, ErrorType, Job, JobRef, JobResult, Upload,
};
use crate::phase::Phase;
use crate::store::{is_job_id, new_job_id, ListFilter, Store};

/// The message of jobs that were queued or executing when the server
/// stopped (set when the store is opened again).
pub const SERVER_STOPPED: &str = "the server stopped while this job was running; submit it again";

/// The UWS control parameters: interpreted by the service, never kept among
/// the job's own parameters. Names are compared ignoring ASCII case.
pub const CONTROL_PARAMETERS: [&str; 5] = [
    "PHASE",
    "RUNID",
    "EXECUTIONDURATION",
    "DESTRUCTION",
    "ACTION",
];

/// The limits and defaults of a job service.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the job database (`jobs.sqlite`) and the job directories
    /// (`jobs/ID/`) live.
    pub dir: PathBuf,
    /// How long after creation a job is destroyed when the client does not
    /// say (7 days).
    pub default_destruction: Duration,
    /// The latest destruction time a client may ask for, counted from
    /// creation (30 days); later requests are lowered to it.
    pub max_destruction: Duration,
    /// The execution duration of a job whose client does not set one, in
    /// seconds (3600).
    pub default_execution_duration: u32,
    /// The longest execution duration a client may ask for, in seconds
    /// (14,400); larger requests and 0 (unlimited) are lowered to it. 0
    /// here means no maximum.
    pub max_execution_duration: u32,
    /// How many jobs execute at once (2); the others wait in QUEUED.
    pub max_running: usize,
    /// How many jobs may wait in QUEUED (1000); asking to run one more is
    /// refused (503) and the job stays PENDING.
    pub max_queued: usize,
    /// The longest a WAIT request blocks (60 s); `WAIT=-1` means this.
    pub max_wait: Duration,
    /// How often the reaper looks for jobs past their destruction time
    /// (60 s).
    pub reap_interval: Duration,
    /// The largest request body accepted when creating or changing a job,
    /// uploads included, in bytes (64 MiB). Used by the HTTP layer.
    pub max_request_bytes: usize,
    /// The most parameters and multipart parts of one such request (1000).
    pub max_request_parts: usize,
    /// The most bytes of one multipart part's headers (16 KiB).
    pub max_part_header_bytes: usize,
}

impl Config {
    /// The defaults above, with the store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Config {
        Config {
            dir: dir.into(),
            default_destruction: Duration::from_secs(7 * 24 * 3600),
            max_destruction: Duration::from_secs(30 * 24 * 3600),
            default_execution_duration: 3600,
            max_execution_duration: 4 * 3600,
            max_running: 2,
            max_queued: 1000,
            max_wait: Duration::from_secs(60),
            reap_interval: Duration::from_secs(60),
            max_request_bytes: 64 * 1024 * 1024,
            max_request_parts: 1000,
            max_part_header_bytes: 16 * 1024,
        }
    }
}

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

/// The bookkeeping that lives in memory only.
#[derive(Default)]
struct State {
    /// QUEUED jobs, oldest first.
    queue: VecDeque<String>,
    /// EXECUTING jobs and their tasks.
    running: HashMap<String, AbortHandle>,
    /// Phase watchers of jobs someone is WAITing on.
    watchers: HashMap<String, watch::Sender<Phase>>,
}

/// How a job's task ended.
enum Outcome {
    Done(Result<Vec<JobResult>, JobFailure>),
    TimedOut(u32),
    Panicked,
}

/// The UWS job manager. Open it with [`Uws::open`] inside a tokio runtime;
/// jobs run as tasks on that runtime, and a reaper task destroys jobs past
/// their destruction time. Share it as the `Arc` that `open` returns.
pub struct Uws<E> {
    me: Weak<Uws<E>>,
    store: Store,
    executor: E,
    config: Config,
    handle: Handle,
    state: Mutex<State>,
}

fn join_error(e: tokio::task::JoinError) -> UwsError {
    UwsError::Internal(format!("a job operation did not finish: {e}"))
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(delta(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A file name that stays inside its directory: not empty, no separators,
/// not `.` or `..`, no NUL.
fn is_plain_file_name(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// EXECUTIONDURATION: a whole number of seconds, 0 meaning unlimited.
/// Values beyond `xs:int` are lowered to its maximum.
pub fn parse_execution_duration(s: &str) -> Result<u32> {
    let bad = || {
        UwsError::BadRequest(format!(
            "EXECUTIONDURATION must be a whole number of seconds, 0 or more (0: unlimited), \
             not '{s}'"
        ))
    };
    let t = s.trim();
    if t.starts_with('-') {
        return Err(bad());
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only too large to parse, so the xs:int maximum.
        let v: u64 = t.parse().unwrap_or(u64::MAX);
        return Ok(u32::try_from(v.min(i32::MAX as u64)).unwrap_or(i32::MAX as u32));
    }
    Err(bad())
}

/// Remove a job directory, retrying briefly while an aborted task may
/// still be writing into it. What cannot be removed is left for the next
/// start-up's sweep.
fn remove_job_dir(dir: &Path) {
    for _ in 0..5 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

impl<E: Executor> Uws<E> {
    /// Open the job service in `config.dir` (created when missing), with
    /// `executor` running the jobs.
    ///
    /// Jobs that were QUEUED or EXECUTING when the server last stopped end
    /// in ERROR ([`SERVER_STOPPED`], transient) with their end time set;
    /// job directories without a job record (left by a crash) are removed.
    /// Then the reaper starts. Must be called inside a tokio runtime, which
    /// runs the jobs from then on.
    pub async fn open(config: Config, executor: E) -> Result<Arc<Uws<E>>> {
        let handle = Handle::current();
        let dir = config.dir.clone();
        let store = handle
            .spawn_blocking(move || -> Result<Store> {
                let store = Store::open(&dir)?;
                recover(&store)?;
                sweep(&store)?;
                Ok(store)
            })
            .await
            .map_err(join_error)??;
        let reap_interval = config.reap_interval.max(Duration::from_millis(10));
        let uws = Arc::new_cyclic(|me| Uws {
            me: me.clone(),
            store,
            executor,
            config,
            handle: handle.clone(),
            state: Mutex::new(State::default()),
        });
        let weak = Arc::downgrade(&uws);
        handle.spawn(async move {
            let mut tick = tokio::time::interval(reap_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                let Some(uws) = weak.upgrade() else { break };
                // A failed pass (a busy disk, say) is retried at the next
                // tick.
                let _ = uws.reap().await;
            }
        });
        Ok(uws)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store (for inspection; change jobs through the manager).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The executor.
    pub fn executor(&self) -> &E {
        &self.executor
    }

    /// The directory of job `id`.
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.store.job_dir(id)
    }

    /// The directory the executor writes job `id`'s results into.
    pub fn results_dir(&self, id: &str) -> PathBuf {
        self.job_dir(id).join("results")
    }

    /// The stored file of `job`'s upload named `name` (ignoring ASCII case).
    pub fn upload_path(&self, job: &Job, name: &str) -> Option<PathBuf> {
        job.upload(name)
            .map(|u| self.job_dir(&job.job_id).join("uploads").join(&u.file))
    }

    /// The file and description of `job`'s result `result_id`.
    pub fn result_path(&self, job: &Job, result_id: &str) -> Result<(PathBuf, JobResult)> {
        let r = job.result(result_id).ok_or_else(|| {
            UwsError::NotFound(format!("job {} has no result '{result_id}'", job.job_id))
        })?;
        Ok((self.results_dir(&job.job_id).join(&r.file), r.clone()))
    }

    /// The detailed error document of `job` and its MIME type, if the
    /// executor wrote one.
    pub fn error_document(&self, job: &Job) -> Option<(PathBuf, String)> {
        let mime = job.error.as_ref()?.document_mime.clone()?;
        Some((self.job_dir(&job.job_id).join("error"), mime))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` on the blocking pool (store access and file writes).
    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Uws<E>) -> Result<T> + Send + 'static,
    {
        let me = self
            .me
            .upgrade()
            .ok_or_else(|| UwsError::Internal("the job service is shutting down".into()))?;
        self.handle
            .spawn_blocking(move || f(&me))
            .await
            .map_err(join_error)?
    }

    fn get_sync(&self, id: &str) -> Result<Job> {
        if !is_job_id(id) {
            return Err(UwsError::NoSuchJob(id.to_string()));
        }
        self.store
            .get(id)?
            .ok_or_else(|| UwsError::NoSuchJob(id.to_string()))
    }

    /// Write `job` and tell whoever waits on it about its phase. Called
    /// with the state lock held.
    fn save(&self, st: &mut State, job: &Job) -> Result<()> {
        if !self.store.update(job)? {
            return Err(UwsError::NoSuchJob(job.job_id.clone()));
        }
        if let Some(tx) = st.watchers.get(&job.job_id) {
            let phase = job.phase;
            tx.send_if_modified(|p| std::mem::replace(p, phase) != phase);
        }
        Ok(())
    }

    fn clamp_duration(&self, secs: u32) -> u32 {
        let max = self.config.max_execution_duration;
        if max > 0 && (secs == 0 || secs > max) {
            max
        } else {
            secs
        }
    }

    fn clamp_destruction(&self, creation: DateTime<Utc>, t: DateTime<Utc>) -> DateTime<Utc> {
        t.min(add(creation, self.config.max_destruction))
    }

    /// Create a job in PENDING from a request's parameters, owned by
    /// `owner`, with `uploads` (multipart part name, content) stored in its
    /// directory.
    ///
    /// The control parameters are interpreted: RUNID sets the run id,
    /// EXECUTIONDURATION and DESTRUCTION are set (lowered to the maxima),
    /// PHASE=RUN runs the job at once (any other PHASE is refused), ACTION
    /// is ignored; every other parameter is kept as given.
    pub async fn create(
        &self,
        parameters: Vec<(String, String)>,
        owner: Option<String>,
        uploads: Vec<(String, Bytes)>,
    ) -> Result<Job> {
        let mut run = false;
        let mut run_id = None;
        let mut duration = None;
        let mut destruction = None;
        let mut kept = Vec::new();
        for (name, value) in parameters {
            match name.to_ascii_uppercase().as_str() {
                "PHASE" => {
                    if value.trim().eq_ignore_ascii_case("RUN") {
                        run = true;
                    } else {
                        return Err(UwsError::BadRequest(format!(
                            "PHASE={value} cannot be given when creating a job (only PHASE=RUN)"
                        )));
                    }
                }
                "RUNID" => run_id = Some(value),
                "EXECUTIONDURATION" => duration = Some(parse_execution_duration(&value)?),
                "DESTRUCTION" => destruction = Some(parse_time(&value)?),
                "ACTION" => {}
                _ => kept.push((name, value)),
            }
        }
        if let Some((name, _)) = uploads.iter().find(|(n, _)| n.trim().is_empty()) {
            return Err(UwsError::BadRequest(format!(
                "an uploaded file needs a name (got '{name}')"
            )));
        }
        let id = new_job_id()?;
        let creation = now();
        let job = Job {
            job_id: id.clone(),
            run_id,
            owner,
            phase: Phase::Pending,
            quote: None,
            creation_time: creation,
            start_time: None,
            end_time: None,
            execution_duration: self
                .clamp_duration(duration.unwrap_or(self.config.default_execution_duration)),
            destruction: self.clamp_destruction(
                creation,
                destruction.unwrap_or_else(|| add(creation, self.config.default_destruction)),
            ),
            parameters: kept,
            uploads: Vec::new(),
            results: Vec::new(),
            error: None,
        };
        let job = self
            .blocking(move |u| {
                let dir = u.job_dir(&job.job_id);
                let written = (|| -> Result<Job> {
                    let mut job = job;
                    std::fs::create_dir_all(dir.join("uploads"))?;
                    std::fs::create_dir_all(dir.join("results"))?;
                    for (i, (name, content)) in uploads.into_iter().enumerate() {
                        let file = format!("upload-{i}");
                        std::fs::write(dir.join("uploads").join(&file), &content)?;
                        job.uploads.push(Upload {
                            name,
                            file,
                            size: content.len() as u64,
                        });
                    }
                    u.store.insert(&job)?;
                    Ok(job)
                })();
                if written.is_err() {
                    remove_job_dir(&dir);
                }
                written
            })
            .await?;
        if run {
            match self.run(&id).await {
                Ok(job) => Ok(job),
                Err(e) => {
                    // Not runnable now (the queue is full): leave no
                    // half-created job behind.
                    let _ = self.delete(&id).await;
                    Err(e)
                }
            }
        } else {
            Ok(job)
        }
    }

    /// The job `id`.
    pub async fn get(&self, id: &str) -> Result<Job> {
        let id = id.to_string();
        self.blocking(move |u| u.get_sync(&id)).await
    }

    /// Ask job `id` to run: PENDING or HELD → QUEUED, then EXECUTING as soon
    /// as fewer than `max_running` jobs execute. A job already QUEUED or
    /// EXECUTING is left as it is; a job in a final phase cannot run again
    /// ([`UwsError::Phase`]); a full queue refuses ([`UwsError::Busy`]).
    pub async fn run(&self, id: &str) -> Result<Job> {
        let id = id.to_string();
        self.blocking(move |u| {
            let mut st = u.state();
            let mut job = u.get_sync(&id)?;
            match job.phase {
                Phase::Pending | Phase::Held => {
                    if st.running.len() >= u.config.max_running.max(1)
                        && st.queue.len() >= u.config.max_queued
                    {
                        return Err(UwsError::Busy(format!(
                            "{} jobs are already waiting to run; try again later",
                            st.queue.len()
                        )));
                    }
                    job.phase = Phase::Queued;
                    u.save(&mut st, &job)?;
                    st.queue.push_back(id.clone());
                    u.dispatch(&mut st)?;
                    u.get_sync(&id)
                }
                Phase::Queued | Phase::Executing => Ok(job),
                p => Err(UwsError::Phase(format!(
                    "job {id} is {p}: it cannot run again (create a new job)"
                ))),
            }
        })
        .await
    }

    /// Start QUEUED jobs while there are free execution slots. Called with
    /// the state lock held.
    fn dispatch(&self, st: &mut State) -> Result<()> {
        let Some(me) = self.me.upgrade() else {
            return Ok(());
        };
        while st.running.len() < self.config.max_running.max(1) {
            let Some(id) = st.queue.pop_front() else {
                break;
            };
            let Some(mut job) = self.store.get(&id)? else {
                continue;
            };
            if job.phase != Phase::Queued {
                continue;
            }
            job.phase = Phase::Executing;
            job.start_time = Some(now());
            self.save(st, &job)?;
            let ctx = JobContext {
                id: id.clone(),
                owner: job.owner.clone(),
                uploads: job
                    .uploads
                    .iter()
                    .map(|u| {
                        let path = self.job_dir(&id).join("uploads").join(&u.file);
                        (u.name.clone(), path)
                    })
                    .collect(),
                parameters: job.parameters,
                dir: self.results_dir(&id),
            };
            let task =
                self.handle
                    .spawn(run_job(me.clone(), id.clone(), ctx, job.execution_duration));
            st.running.insert(id, task.abort_handle());
        }
        Ok(())
    }

    /// Record how job `id`'s task ended, unless the job was aborted or
    /// deleted meanwhile; then start the next queued job.
    fn finish(&self, id: &str, outcome: Outcome) {
        let mut st = self.state();
        if st.running.remove(id).is_none() {
            return;
        }
        if self.finish_locked(&mut st, id, outcome).is_err() {
            // The record could not be written (a failing disk): mark the
            // job as failed if at all possible, so it does not stay
            // EXECUTING.
            if let Ok(Some(mut job)) = self.store.get(id) {
                job.phase = Phase::Error;
                job.end_time = Some(now());
                job.results.clear();
                job.error = Some(ErrorSummary {
                    message: "the job's results could not be recorded".into(),
                    error_type: ErrorType::Transient,
                    document_mime: None,
                });
                let _ = self.save(&mut st, &job);
            }
        }
        let _ = self.dispatch(&mut st);
    }

    fn finish_locked(&self, st: &mut State, id: &str, outcome: Outcome) -> Result<()> {
        let Some(mut job) = self.store.get(id)? else {
            return Ok(());
        };
        job.end_time = Some(now());
        let failure = match outcome {
            Outcome::Done(Ok(results)) => match self.check_results(id, results) {
                Ok(results) => {
                    job.phase = Phase::Completed;
                    job.results = results;
                    None
                }
                Err(message) => Some(JobFailure::new(message)),
            },
            Outcome::Done(Err(f)) => Some(f),
            Outcome::TimedOut(secs) => Some(JobFailure::new(format!(
                "the job ran longer than its execution duration of {secs} s and was cancelled"
            ))),
            Outcome::Panicked => Some(JobFailure::new(
                "the job failed because of an internal error of the server",
            )),
        };
        if let Some(f) = failure {
            let document_mime = match f.document {
                Some((body, mime)) => std::fs::write(self.job_dir(id).join("error"), &body)
                    .ok()
                    .map(|()| mime),
                None => None,
            };
            job.phase = Phase::Error;
            job.error = Some(ErrorSummary {
                message: f.message,
                error_type: f.error_type,
                document_mime,
            });
        }
        self.save(st, &job)
    }

    /// Check the executor's results: plain file names that exist in the
    /// results directory, distinct ids; fill in the sizes.
    fn check_results(&self, id: &str, results: Vec<JobResult>) -> Result<Vec<JobResult>, String> {
        let dir = self.results_dir(id);
        let mut out: Vec<JobResult> = Vec::with_capacity(results.len());
        for mut r in results {
            if r.id.is_empty() || r.id.contains('/') {
                return Err(format!("the service returned a bad result id '{}'", r.id));
            }
            if out.iter().any(|o| o.id == r.id) {
                return Err(format!("the service returned result '{}' twice", r.id));
            }
            if !is_plain_file_name(&r.file) {
                return Err(format!(
                    "the service returned result '{}' with a bad file name '{}'",
                    r.id, r.file
                ));
            }
            match std::fs::metadata(dir.join(&r.file)) {
                Ok(m) if m.is_file() => r.size = m.len(),
                _ => {
                    return Err(format!(
                        "the service returned result '{}' but wrote no file '{}'",
                        r.id, r.file
                    ))
                }
            }
            out.push(r);
        }
        Ok(out)
    }

    /// Abort job `id`: a PENDING, HELD, QUEUED or EXECUTING job becomes
    /// ABORTED (end time set); an executing job's future is dropped. An
    /// ABORTED job is left as it is; COMPLETED or ERROR jobs refuse
    /// ([`UwsError::Phase`]).
    pub async fn abort(&self, id: &str) -> Result<Job> {
        let id = id.to_string();
        self.blocking(move |u| {
            let mut st = u.state();
            let mut job = u.get_sync(&id)?;
            match job.phase {
                Phase::Aborted => Ok(job),
                p if p.is_final() => Err(UwsError::Phase(format!(
                    "job {id} is {p}: it can no longer be aborted"
                ))),
                _ => {
                    st.queue.retain(|q| *q != id);
                    let freed = st.running.remove(&id).map(|task| task.abort()).is_some();
                    job.phase = Phase::Aborted;
                    job.end_time = Some(now());
                    u.save(&mut st, &job)?;
                    if freed {
                        u.dispatch(&mut st)?;
                    }
                    Ok(job)
                }
            }
        })
        .await
    }

    /// Set job `id`'s phase as a client's PHASE value asks: `RUN`
    /// ([`Uws::run`]) or `ABORT` ([`Uws::abort`]), ignoring ASCII case.
    pub async fn set_phase(&self, id: &str, value: &str) -> Result<Job> {
        match value.trim().to_ascii_uppercase().as_str() {
            "RUN" => self.run(id).await,
            "ABORT" => self.abort(id).await,
            _ => Err(UwsError::BadRequest(format!(
                "PHASE must be RUN or ABORT, not '{value}'"
            ))),
        }
    }

    /// Change job `id`'s parameters: each name given replaces every
    /// parameter of that name (ignoring ASCII case), in place of the first
    /// one, or is appended; RUNID sets the run id. Only while the job is
    /// PENDING (or HELD). The other control parameters (PHASE, DESTRUCTION,
    /// EXECUTIONDURATION, ACTION) are refused here: see [`Uws::post`].
    pub async fn update_parameters(
        &self,
        id: &str,
        parameters: Vec<(String, String)>,
    ) -> Result<Job> {
        if let Some((name, _)) = parameters.iter().find(|(n, _)| {
            !n.eq_ignore_ascii_case("RUNID")
                && CONTROL_PARAMETERS.iter().any(|c| c.eq_ignore_ascii_case(n))
        }) {
            return Err(UwsError::BadRequest(format!(
                "{name} is not a job parameter but a UWS control parameter"
            )));
        }
        self.post_to_job(id, parameters).await
    }

    /// [`Uws::post`] for requests that cannot delete the job.
    async fn post_to_job(&self, id: &str, parameters: Vec<(String, String)>) -> Result<Job> {
        self.post(id, parameters)
            .await?
            .ok_or_else(|| UwsError::NoSuchJob(id.to_string()))
    }

    /// Apply a POST to a job (UWS 1.1 §2.2.3): ACTION=DELETE deletes it
    /// (returns `None`); otherwise parameters are changed (only while
    /// PENDING or HELD), then DESTRUCTION and EXECUTIONDURATION are set,
    /// then PHASE=RUN/ABORT is applied. Every value is checked before
    /// anything changes.
    pub async fn post(&self, id: &str, parameters: Vec<(String, String)>) -> Result<Option<Job>> {
        let mut phase = None;
        let mut destruction = None;
        let mut duration = None;
        let mut delete = false;
        let mut changes = Vec::new();
        for (name, value) in parameters {
            match name.to_ascii_uppercase().as_str() {
                "ACTION" => {
                    if value.trim().eq_ignore_ascii_case("DELETE") {
                        delete = true;
                    } else {
                        return Err(UwsError::BadRequest(format!(
                            "ACTION must be DELETE, not '{value}'"
                        )));
                    }
                }
                "PHASE" => {
                    let v = value.trim().to_ascii_uppercase();
                    if v != "RUN" && v != "ABORT" {
                        return Err(UwsError::BadRequest(format!(
                            "PHASE must be RUN or ABORT, not '{value}'"
                        )));
                    }
                    phase = Some(v);
                }
                "DESTRUCTION" => destruction = Some(parse_time(&value)?),
                "EXECUTIONDURATION" => duration = Some(parse_execution_duration(&value)?),
                _ => changes.push((name, value)),
            }
        }
        if delete {
            self.delete(id).await?;
            return Ok(None);
        }
        let idc = id.to_string();
        let mut job = self
            .blocking(move |u| {
                let mut st = u.state();
                let mut job = u.get_sync(&idc)?;
                if !changes.is_empty() {
                    if !matches!(job.phase, Phase::Pending | Phase::Held) {
                        return Err(UwsError::Phase(format!(
                            "job {idc} is {}: parameters can only be changed while it is PENDING",
                            job.phase
                        )));
                    }
                    apply_parameters(&mut job, changes);
                }
                if let Some(secs) = duration {
                    if !matches!(job.phase, Phase::Pending | Phase::Held | Phase::Queued) {
                        return Err(UwsError::Phase(format!(
                            "job {idc} is {}: its execution duration can only be changed \
                             before it executes",
                            job.phase
                        )));
                    }
                    job.execution_duration = u.clamp_duration(secs);
                }
                if let Some(t) = destruction {
                    job.destruction = u.clamp_destruction(job.creation_time, t);
                }
                u.save(&mut st, &job)?;
                Ok(job)
            })
            .await?;
        if let Some(p) = phase {
            job = self.set_phase(id, &p).await?;
        }
        Ok(Some(job))
    }

    /// Set job `id`'s destruction time, lowered to the creation time plus
    /// `max_destruction`. Any phase.
    pub async fn set_destruction(&self, id: &str, t: DateTime<Utc>) -> Result<Job> {
        let v = crate::job::format_time(&t);
        self.post_to_job(id, vec![("DESTRUCTION".into(), v)]).await
    }

    /// Set job `id`'s execution duration in seconds (0: unlimited), lowered
    /// to `max_execution_duration`. Only before the job executes.
    pub async fn set_execution_duration(&self, id: &str, secs: u32) -> Result<Job> {
        self.post_to_job(id, vec![("EXECUTIONDURATION".into(), secs.to_string())])
            .await
    }

    /// Delete job `id`: abort it if it is queued or executing, remove its
    /// record and its directory. Whoever waits on it is woken.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.blocking(move |u| {
            if !is_job_id(&id) || !u.delete_sync(&id)? {
                return Err(UwsError::NoSuchJob(id));
            }
            Ok(())
        })
        .await
    }

    fn delete_sync(&self, id: &str) -> Result<bool> {
        let existed = {
            let mut st = self.state();
            st.queue.retain(|q| q != id);
            let freed = st.running.remove(id).map(|task| task.abort()).is_some();
            st.watchers.remove(id);
            let existed = self.store.delete(id)?;
            if freed {
                self.dispatch(&mut st)?;
            }
            existed
        };
        remove_job_dir(&self.job_dir(id));
        Ok(existed)
    }

    /// UWS 1.1 blocking: job `id` as soon as its phase differs from `phase`
    /// (or, without `phase`, from its current phase), or after `timeout`
    /// (at most `max_wait`). Returns at once when the job is in none of
    /// PENDING, QUEUED, EXECUTING, or not in `phase`.
    pub async fn wait(&self, id: &str, phase: Option<Phase>, timeout: Duration) -> Result<Job> {
        let timeout = timeout.min(self.config.max_wait);
        let idc = id.to_string();
        let (job, rx) = self
            .blocking(move |u| {
                let mut st = u.state();
                let job = u.get_sync(&idc)?;
                if timeout.is_zero()
                    || !job.phase.is_active()
                    || phase.is_some_and(|p| p != job.phase)
                {
                    return Ok((job, None));
                }
                let tx = st
                    .watchers
                    .entry(idc)
                    .or_insert_with(|| watch::channel(job.phase).0);
                Ok((job, Some(tx.subscribe())))
            })
            .await?;
        let Some(rx) = rx else {
            return Ok(job);
        };
        // Declared before the receiver, so dropped after it: removes the
        // watcher once nobody waits, also when this future is dropped (the
        // client went away).
        let _cleanup = WatchCleanup { uws: self, id };
        let mut rx = rx;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if *rx.borrow_and_update() != job.phase {
                break;
            }
            match tokio::time::timeout_at(deadline, rx.changed()).await {
                Ok(Ok(())) => {}
                // Timed out, or the job was deleted (its watcher dropped).
                _ => break,
            }
        }
        drop(rx);
        self.get(id).await
    }

    /// The jobs `filter` selects, most recently created first.
    pub async fn list(&self, filter: ListFilter) -> Result<Vec<JobRef>> {
        self.blocking(move |u| u.store.list(&filter)).await
    }

    /// Destroy every job past its destruction time (what the reaper does
    /// every `reap_interval`). Returns how many were destroyed.
    pub async fn reap(&self) -> Result<usize> {
        self.blocking(|u| {
            let mut n = 0;
            for id in u.store.expired(&now())? {
                if u.delete_sync(&id)? {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }
}

/// Removes a job's phase watcher when nobody waits on it any more.
struct WatchCleanup<'a, E> {
    uws: &'a Uws<E>,
    id: &'a str,
}

impl<E> Drop for WatchCleanup<'_, E> {
    fn drop(&mut self) {
        let mut st = self.uws.state.lock().unwrap_or_else(|e| e.into_inner());
        if st
            .watchers
            .get(self.id)
            .is_some_and(|tx| tx.receiver_count() == 0)
        {
            st.watchers.remove(self.id);
        }
    }
}

/// Replace or append each named parameter (names compared ignoring ASCII
/// case); RUNID sets the run id.
fn apply_parameters(job: &mut Job, changes: Vec<(String, String)>) {
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in changes {
        if name.eq_ignore_ascii_case("RUNID") {
            job.run_id = Some(value);
            continue;
        }
        let key = name.to_ascii_lowercase();
        if seen.contains(&key) {
            // A name repeated in one request: keep every value.
            job.parameters.push((name, value));
            continue;
        }
        seen.push(key);
        match job
            .parameters
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(i) => {
                job.parameters[i] = (name.clone(), value);
                let mut j = i + 1;
                while j < job.parameters.len() {
                    if job.parameters[j].0.eq_ignore_ascii_case(&name) {
                        job.parameters.remove(j);
                    } else {
                        j += 1;
                    }
                }
            }
            None => job.parameters.push((name, value)),
        }
    }
}

/// The task of one executing job.
async fn run_job<E: Executor>(uws: Arc<Uws<E>>, id: String, ctx: JobContext, secs: u32) {
    let future = match std::panic::catch_unwind(AssertUnwindSafe(|| uws.executor.execute(ctx))) {
        Ok(f) => AssertUnwindSafe(f).catch_unwind(),
        Err(_) => return uws.finish(&id, Outcome::Panicked),
    };
    let outcome = if secs == 0 {
        future.await.map_or(Outcome::Panicked, Outcome::Done)
    } else {
        match tokio::time::timeout(Duration::from_secs(u64::from(secs)), future).await {
            Ok(r) => r.map_or(Outcome::Panicked, Outcome::Done),
            // The executor's future is dropped here: that cancels it.
            Err(_) => Outcome::TimedOut(secs),
        }
    };
    uws.finish(&id, outcome);
}

/// End the jobs the previous run of the server left QUEUED or EXECUTING.
fn recover(store: &Store) -> Result<()> {
    for id in store.ids_in(&[Phase::Queued, Phase::Executing, Phase::Suspended])? {
        if let Some(mut job) = store.get(&id)? {
            job.phase = Phase::Error;
            job.end_time = Some(now());
            job.results.clear();
            job.error = Some(ErrorSummary {
                message: SERVER_STOPPED.into(),
                error_type: ErrorType::Transient,
                document_mime: None,
            });
            store.update(&job)?;
        }
    }
    Ok(())
}

/// Remove job directories that have no job record (a crash between
/// creating the directory and the record, or a directory that could not be
/// removed at deletion).
fn sweep(store: &Store) -> Result<()> {
    let ids = store.all_ids()?;
    for entry in std::fs::read_dir(store.dir().join("jobs"))? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(name) = name.to_str() {
            if is_job_id(name) && !ids.contains(name) {
                remove_job_dir(&entry.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_execution_duration(" 60 ").unwrap(), 60);
        assert_eq!(parse_execution_duration("0").unwrap(), 0);
        assert_eq!(
            parse_execution_duration("99999999999999999999999").unwrap(),
            i32::MAX as u32
        );
        assert!(parse_execution_duration("-1").is_err());
        assert!(parse_execution_duration("1.5").is_err());
        assert!(parse_execution_duration("").is_err());
    }

    fn job(params: &[(&str, &str)]) -> Job {
        Job {
            job_id: "0".repeat(32),
            run_id: None,
            owner: None,
            phase: Phase::Pending,
            quote: None,
            creation_time: now(),
            start_time: None,
            end_time: None,
            execution_duration: 0,
            destruction: now(),
            parameters: params
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            uploads: vec![],
            results: vec![],
            error: None,
        }
    }

    #[test]
    fn parameter_updates() {
        let mut j = job(&[("QUERY", "a"), ("LANG", "ADQL"), ("query", "b"), ("X", "1")]);
        apply_parameters(
            &mut j,
            vec![
                ("Query".into(), "c".into()),
                ("new".into(), "n".into()),
                ("UPLOAD".into(), "t1,param:t1".into()),
                ("upload".into(), "t2,param:t2".into()),
                ("runid".into(), "r".into()),
            ],
        );
        let p: Vec<(&str, &str)> = j
            .parameters
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            p,
            [
                ("Query", "c"),
                ("LANG", "ADQL"),
                ("X", "1"),
                ("new", "n"),
                ("UPLOAD", "t1,param:t1"),
                ("upload", "t2,param:t2")
            ]
        );
        assert_eq!(j.run_id.as_deref(), Some("r"));
        assert_eq!(j.parameter("query"), Some("c"));
    }

    #[test]
    fn file_names() {
        assert!(is_plain_file_name("result.vot"));
        for bad in ["", ".", "..", "a/b", "a\\b", "/etc/passwd"] {
            assert!(!is_plain_file_name(bad), "{bad}");
        }
    }
}
