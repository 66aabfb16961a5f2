//! The job operations clients ask for: create, get, change (POST and its
//! parts), delete, wait for and list jobs.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::config::CONTROL_PARAMETERS;
use super::executor::Executor;
use super::files::remove_job_dir;
use super::lifetime::{add, parse_execution_duration};
use super::service::Uws;
use crate::error::{Result, UwsError};
use crate::job::{now, parse_time, Job, JobRef, Upload};
use crate::phase::Phase;
use crate::store::{is_job_id, new_job_id, ListFilter};

impl<E: Executor> Uws<E> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
