//! The manager itself ([`Uws`]) and its in-memory [`State`], with what
//! every job operation builds on: the accessors, the state lock, the
//! blocking pool, reading and saving a job.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, Weak};

use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::config::Config;
use super::executor::Executor;
use crate::error::{Result, UwsError};
use crate::job::{Job, JobResult};
use crate::phase::Phase;
use crate::store::{is_job_id, Store};

/// The bookkeeping that lives in memory only.
#[derive(Default)]
pub(super) struct State {
    /// QUEUED jobs, oldest first.
    pub(super) queue: VecDeque<String>,
    /// EXECUTING jobs and their tasks.
    pub(super) running: HashMap<String, AbortHandle>,
    /// Phase watchers of jobs someone is WAITing on.
    pub(super) watchers: HashMap<String, watch::Sender<Phase>>,
}

/// The UWS job manager. Open it with [`Uws::open`] inside a tokio runtime;
/// jobs run as tasks on that runtime, and a reaper task destroys jobs past
/// their destruction time. Share it as the `Arc` that `open` returns.
pub struct Uws<E> {
    pub(super) me: Weak<Uws<E>>,
    pub(super) store: Store,
    pub(super) executor: E,
    pub(super) config: Config,
    pub(super) handle: Handle,
    pub(super) state: Mutex<State>,
}

pub(super) fn join_error(e: tokio::task::JoinError) -> UwsError {
    UwsError::Internal(format!("a job operation did not finish: {e}"))
}

impl<E: Executor> Uws<E> {
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

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` on the blocking pool (store access and file writes).
    pub(super) async fn blocking<T, F>(&self, f: F) -> Result<T>
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

    pub(super) fn get_sync(&self, id: &str) -> Result<Job> {
        if !is_job_id(id) {
            return Err(UwsError::NoSuchJob(id.to_string()));
        }
        self.store
            .get(id)?
            .ok_or_else(|| UwsError::NoSuchJob(id.to_string()))
    }

    /// Write `job` and tell whoever waits on it about its phase. Called
    /// with the state lock held.
    pub(super) fn save(&self, st: &mut State, job: &Job) -> Result<()> {
        if !self.store.update(job)? {
            return Err(UwsError::NoSuchJob(job.job_id.clone()));
        }
        if let Some(tx) = st.watchers.get(&job.job_id) {
            let phase = job.phase;
            tx.send_if_modified(|p| std::mem::replace(p, phase) != phase);
        }
        Ok(())
    }
}
