//! The job store: one SQLite database (`DIR/jobs.sqlite`, WAL mode) holding
//! every job's record, and one directory per job (`DIR/jobs/ID/`) holding
//! its files.
//!
//! A job's directory has `uploads/` (the files uploaded with it, named by
//! the server), `results/` (what the executor wrote) and, when the executor
//! returned a detailed error document, the file `error`.
//!
//! Times are stored as milliseconds since the Unix epoch (UTC); parameters,
//! uploads and results as JSON text. Indexes on creation time, on (phase,
//! creation time), on (owner, creation time) and on destruction time keep
//! listing, filtering and reaping fast with tens of thousands of jobs.
//!
//! The connection sits behind a mutex; every method is synchronous and
//! short. The manager calls them from `spawn_blocking` (or from the end of
//! a job's task, where the write must not be interrupted).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Row};

use crate::error::{Result, UwsError};
use crate::job::{ErrorSummary, ErrorType, Job, JobRef};
use crate::phase::Phase;

/// The schema version kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id                 TEXT PRIMARY KEY NOT NULL,
    run_id             TEXT,
    owner              TEXT,
    phase              TEXT NOT NULL,
    quote              INTEGER,
    creation_time      INTEGER NOT NULL,
    start_time         INTEGER,
    end_time           INTEGER,
    execution_duration INTEGER NOT NULL,
    destruction        INTEGER NOT NULL,
    parameters         TEXT NOT NULL,
    uploads            TEXT NOT NULL,
    results            TEXT NOT NULL,
    error_message      TEXT,
    error_type         TEXT,
    error_document     TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_creation ON jobs (creation_time);
CREATE INDEX IF NOT EXISTS jobs_by_phase ON jobs (phase, creation_time);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, creation_time);
CREATE INDEX IF NOT EXISTS jobs_by_destruction ON jobs (destruction);
";

const JOB_COLUMNS: &str = "id, run_id, owner, phase, quote, creation_time, start_time, end_time, \
     execution_duration, destruction, parameters, uploads, results, error_message, error_type, \
     error_document";

/// The values of [`JOB_COLUMNS`] for `job`, in that order.
fn job_values(job: &Job) -> Result<Vec<Value>> {
    let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
    let time = |t: Option<&DateTime<Utc>>| t.map_or(Value::Null, |t| Value::Integer(ms(t)));
    let json = |v: serde_json::Result<String>| v.map(Value::Text).map_err(json_err);
    Ok(vec![
        Value::Text(job.job_id.clone()),
        text(job.run_id.as_deref()),
        text(job.owner.as_deref()),
        Value::Text(job.phase.as_str().to_string()),
        time(job.quote.as_ref()),
        Value::Integer(ms(&job.creation_time)),
        time(job.start_time.as_ref()),
        time(job.end_time.as_ref()),
        Value::Integer(i64::from(job.execution_duration)),
        Value::Integer(ms(&job.destruction)),
        json(serde_json::to_string(&job.parameters))?,
        json(serde_json::to_string(&job.uploads))?,
        json(serde_json::to_string(&job.results))?,
        text(job.error.as_ref().map(|e| e.message.as_str())),
        text(job.error.as_ref().map(|e| e.error_type.as_str())),
        text(job.error.as_ref().and_then(|e| e.document_mime.as_deref())),
    ])
}

/// Which jobs a list shows (UWS 1.1 §2.2.1.1 filters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only jobs in one of these phases (PHASE, repeatable). Empty: every
    /// phase but ARCHIVED (archived jobs are listed only when asked for).
    pub phases: Vec<Phase>,
    /// Only jobs created strictly after this instant (AFTER).
    pub after: Option<DateTime<Utc>>,
    /// Only the `n` most recently created jobs (LAST).
    pub last: Option<usize>,
    /// Only jobs of this owner.
    pub owner: Option<String>,
}

/// The job database and the job directories under one directory.
pub struct Store {
    dir: PathBuf,
    conn: Mutex<Connection>,
    /// Held (locked) while the store is open; closing it releases the lock.
    _lock: std::fs::File,
}

fn ms(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(v).unwrap_or_default()
}

fn json_err(e: serde_json::Error) -> UwsError {
    UwsError::Internal(format!("job database: bad JSON in a job record: {e}"))
}

fn phase_of(s: &str) -> Phase {
    s.parse().unwrap_or(Phase::Unknown)
}

/// The raw columns of one row, converted to a [`Job`] outside rusqlite's
/// row callback (so JSON errors are ours).
struct RawJob {
    id: String,
    run_id: Option<String>,
    owner: Option<String>,
    phase: String,
    quote: Option<i64>,
    creation_time: i64,
    start_time: Option<i64>,
    end_time: Option<i64>,
    execution_duration: i64,
    destruction: i64,
    parameters: String,
    uploads: String,
    results: String,
    error_message: Option<String>,
    error_type: Option<String>,
    error_document: Option<String>,
}

impl RawJob {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawJob> {
        Ok(RawJob {
            id: r.get(0)?,
            run_id: r.get(1)?,
            owner: r.get(2)?,
            phase: r.get(3)?,
            quote: r.get(4)?,
            creation_time: r.get(5)?,
            start_time: r.get(6)?,
            end_time: r.get(7)?,
            execution_duration: r.get(8)?,
            destruction: r.get(9)?,
            parameters: r.get(10)?,
            uploads: r.get(11)?,
            results: r.get(12)?,
            error_message: r.get(13)?,
            error_type: r.get(14)?,
            error_document: r.get(15)?,
        })
    }

    fn into_job(self) -> Result<Job> {
        Ok(Job {
            job_id: self.id,
            run_id: self.run_id,
            owner: self.owner,
            phase: phase_of(&self.phase),
            quote: self.quote.map(from_ms),
            creation_time: from_ms(self.creation_time),
            start_time: self.start_time.map(from_ms),
            end_time: self.end_time.map(from_ms),
            execution_duration: u32::try_from(self.execution_duration.max(0)).unwrap_or(u32::MAX),
            destruction: from_ms(self.destruction),
            parameters: serde_json::from_str(&self.parameters).map_err(json_err)?,
            uploads: serde_json::from_str(&self.uploads).map_err(json_err)?,
            results: serde_json::from_str(&self.results).map_err(json_err)?,
            error: self.error_message.map(|message| ErrorSummary {
                message,
                error_type: ErrorType::parse(self.error_type.as_deref().unwrap_or("fatal")),
                document_mime: self.error_document,
            }),
        })
    }
}

impl Store {
    /// Open (creating when missing) the store in `dir`: the directory, the
    /// database `dir/jobs.sqlite` with its schema and indexes, and
    /// `dir/jobs/`.
    ///
    /// One store per directory: the store holds an exclusive lock on
    /// `dir/jobs.lock` while it is open, and opening a directory another
    /// store (in this process or another) holds fails.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir.join("jobs"))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("jobs.lock"))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(UwsError::Internal(format!(
                    "another job service is using {} (its jobs.lock is held)",
                    dir.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(UwsError::Io(e)),
        }
        let conn = Connection::open(dir.join("jobs.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL: readers never block the writer; NORMAL: commits are durable
        // at the next checkpoint, which is what a job queue needs.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(UwsError::Internal(format!(
                "job database: cannot use WAL mode (got {mode})"
            )));
        }
        conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(UwsError::Internal(format!(
                "job database: schema version {version} is newer than this server's \
                 ({SCHEMA_VERSION})"
            )));
        }
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))?;
        Ok(Store {
            dir: dir.to_path_buf(),
            conn: Mutex::new(conn),
            _lock: lock,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half-done SQLite
        // statement behind (each is atomic), so the connection is usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of job `id` (`DIR/jobs/ID`). `id` must be a job id
    /// (checked with [`is_job_id`]) before it is used in a path.
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.dir.join("jobs").join(id)
    }

    /// Insert a new job.
    pub fn insert(&self, job: &Job) -> Result<()> {
        let values = job_values(job)?;
        self.conn().execute(
            &format!(
                "INSERT INTO jobs ({JOB_COLUMNS}) VALUES \
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ),
            params_from_iter(values),
        )?;
        Ok(())
    }

    /// Write every field of `job` (id, owner and creation time never
    /// change, so they are written as they are). Returns false when there
    /// is no such job.
    pub fn update(&self, job: &Job) -> Result<bool> {
        let values = job_values(job)?;
        let n = self.conn().execute(
            "UPDATE jobs SET run_id = ?2, owner = ?3, phase = ?4, quote = ?5, \
             creation_time = ?6, start_time = ?7, end_time = ?8, execution_duration = ?9, \
             destruction = ?10, parameters = ?11, uploads = ?12, results = ?13, \
             error_message = ?14, error_type = ?15, error_document = ?16 WHERE id = ?1",
            params_from_iter(values),
        )?;
        Ok(n > 0)
    }

    /// The job `id`, if there is one.
    pub fn get(&self, id: &str) -> Result<Option<Job>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1"))?;
        let raw = stmt.query_row([id], RawJob::from_row).optional()?;
        raw.map(RawJob::into_job).transpose()
    }

    /// Delete job `id`'s record (not its directory). Returns false when
    /// there was no such job.
    pub fn delete(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM jobs WHERE id = ?1", [id])?
            > 0)
    }

    /// The jobs `filter` selects, most recently created first.
    pub fn list(&self, filter: &ListFilter) -> Result<Vec<JobRef>> {
        let mut sql =
            String::from("SELECT id, phase, run_id, owner, creation_time FROM jobs WHERE 1 = 1");
        let mut args: Vec<Value> = Vec::new();
        if filter.phases.is_empty() {
            sql.push_str(" AND phase <> 'ARCHIVED'");
        } else {
            sql.push_str(" AND phase IN (");
            for (i, p) in filter.phases.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('?');
                args.push(Value::Text(p.as_str().to_string()));
            }
            sql.push(')');
        }
        if let Some(after) = &filter.after {
            sql.push_str(" AND creation_time > ?");
            args.push(Value::Integer(ms(after)));
        }
        if let Some(owner) = &filter.owner {
            sql.push_str(" AND owner = ?");
            args.push(Value::Text(owner.clone()));
        }
        // rowid breaks ties between jobs created in the same millisecond:
        // the later insert is the more recent job.
        sql.push_str(" ORDER BY creation_time DESC, rowid DESC");
        if let Some(n) = filter.last {
            sql.push_str(" LIMIT ?");
            args.push(Value::Integer(i64::try_from(n).unwrap_or(i64::MAX)));
        }
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok(JobRef {
                job_id: r.get(0)?,
                phase: phase_of(&r.get::<_, String>(1)?),
                run_id: r.get(2)?,
                owner: r.get(3)?,
                creation_time: from_ms(r.get(4)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The ids of the jobs whose destruction time is at or before `now`.
    pub fn expired(&self, now: &DateTime<Utc>) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT id FROM jobs WHERE destruction <= ?1")?;
        let rows = stmt.query_map([ms(now)], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// The ids of the jobs in any of `phases`.
    pub fn ids_in(&self, phases: &[Phase]) -> Result<Vec<String>> {
        let conn = self.conn();
        let marks = vec!["?"; phases.len()].join(", ");
        let mut stmt = conn.prepare(&format!("SELECT id FROM jobs WHERE phase IN ({marks})"))?;
        let rows = stmt.query_map(params_from_iter(phases.iter().map(|p| p.as_str())), |r| {
            r.get(0)
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// The ids of all jobs.
    pub fn all_ids(&self) -> Result<HashSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id FROM jobs")?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<HashSet<String>>>()?)
    }

    /// How many jobs there are.
    pub fn count(&self) -> Result<u64> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Whether `s` has the form of a job id this crate makes (32 lower-case hex
/// digits): anything else is no job, and is never used in a path.
pub fn is_job_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A new job id: 128 bits from the operating system's random source, as 32
/// lower-case hex digits (URL-safe and unguessable).
pub fn new_job_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| UwsError::Internal(format!("no random numbers for a job id: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
