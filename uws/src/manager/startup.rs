//! What opening the job service does to what the previous server left:
//! jobs it was running end in ERROR, orphaned job directories go.

use super::config::SERVER_STOPPED;
use super::files::remove_job_dir;
use crate::error::Result;
use crate::job::{now, ErrorSummary, ErrorType};
use crate::phase::Phase;
use crate::store::{is_job_id, Store};

/// End the jobs the previous run of the server left QUEUED or EXECUTING.
pub(super) fn recover(store: &Store) -> Result<()> {
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
pub(super) fn sweep(store: &Store) -> Result<()> {
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
