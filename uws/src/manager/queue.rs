//! Running jobs: the queue, dispatch to at most `max_running` executing
//! tasks, how a task's end is recorded, abort and removal of a job.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::executor::{Executor, JobContext, JobFailure};
use super::files::{is_plain_file_name, remove_job_dir};
use super::service::{State, Uws};
use crate::error::{Result, UwsError};
use crate::job::{now, ErrorSummary, ErrorType, Job, JobResult};
use crate::phase::Phase;

/// How a job's task ended.
enum Outcome {
    Done(Result<Vec<JobResult>, JobFailure>),
    TimedOut(u32),
    Panicked,
}

impl<E: Executor> Uws<E> {
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
    pub(super) fn dispatch(&self, st: &mut State) -> Result<()> {
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

    pub(super) fn delete_sync(&self, id: &str) -> Result<bool> {
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
