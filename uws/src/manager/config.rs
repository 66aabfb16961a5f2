//! The limits and defaults of a job service, and the constants of UWS.

use std::path::PathBuf;
use std::time::Duration;

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
