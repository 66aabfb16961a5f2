//! The job manager: creates, runs, aborts, waits for, lists and destroys
//! jobs, on top of the [`Store`].
//!
//! One mutex (`State`) serialises every change of a job's record with the
//! in-memory bookkeeping (the queue, the running tasks, the phase watchers),
//! always taken before the store's own connection mutex. Whoever removes a
//! job from the running set under that lock (the job's own task when it
//! ends, or an abort or delete) writes its final phase, so a job that is
//! aborted while it finishes ends in exactly one final phase.
//!
//! The submodules, each using only those before it: `config` and
//! `executor` (the public types), `files` (job directories),
//! `service` (the [`Uws`] struct, its state and basic helpers), `queue`
//! (running, dispatch, abort, removal), `lifetime` (execution duration,
//! destruction, the reaper's pass), `jobs` (the client operations) and
//! `startup` (recovery when opened). This file only opens the manager.

mod config;
mod executor;
mod files;
mod jobs;
mod lifetime;
mod queue;
mod service;
mod startup;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Handle;

pub use config::{Config, CONTROL_PARAMETERS, SERVER_STOPPED};
pub use executor::{Executor, JobContext, JobFailure};
pub use lifetime::parse_execution_duration;
pub use service::Uws;

use crate::error::Result;
use crate::store::Store;
use service::{join_error, State};
use startup::{recover, sweep};

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
}
