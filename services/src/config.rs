//! Server configuration: a TOML file, then environment variables, then the
//! command line, each overriding the one before; every value has a working
//! default, so `astrolake serve` needs none of them.
//!
//! Every key `KEY` of section `[SECTION]` can be set with the environment
//! variable `ASTROLAKE_SECTION_KEY` (e.g. `ASTROLAKE_SERVER_BIND`,
//! `ASTROLAKE_LIMITS_HARD_MAXREC`, `ASTROLAKE_UPLOADS_ALLOWED_HOSTS='["127.0.0.1"]'`);
//! its value is read as a TOML value when it parses as one, else as a
//! string. `ASTROLAKE_CONFIG` names the file when `--config` is not given.
//! See `deploy/astrolake.toml` for every key with its default.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where and how to listen.
    pub server: Server,
    /// The catalogue served.
    pub catalog: CatalogConfig,
    /// Result row limits.
    pub limits: LimitsConfig,
    /// Asynchronous (UWS) jobs.
    pub jobs: JobsConfig,
    /// Table uploads.
    pub uploads: UploadsConfig,
    /// The publishing registry (OAI-PMH) and its records' curation.
    pub registry: astrolake_registry::RegistryConfig,
    /// Settings (credentials, endpoint) of remote stores, by URL prefix.
    pub remotes: Vec<RemoteConfig>,
    /// The operator's endpoints.
    pub admin: AdminConfig,
}

/// One `[[remotes]]` entry: how to reach the stores whose URLs start with
/// `url` (exports to them, imports from them, mounted tables).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    /// URL prefix, e.g. `s3://bucket/` or `s3://bucket/prefix`.
    pub url: String,
    /// S3 endpoint (non-AWS stores).
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Read without credentials (public buckets).
    pub anonymous: bool,
    /// Allow a plain-http endpoint.
    pub allow_http: bool,
    /// AWS profile.
    pub profile: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key.
    pub secret_access_key: Option<String>,
}

impl RemoteConfig {
    /// As the store takes them.
    pub fn options(&self) -> astrolake_catalog::remote::RemoteOptions {
        astrolake_catalog::remote::RemoteOptions {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            anonymous: self.anonymous,
            allow_http: self.allow_http,
            profile: self.profile.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
        }
    }
}

/// `[admin]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdminConfig {
    /// Bearer token of the `/admin/...` endpoints; without one they are
    /// off.
    pub token: Option<String>,
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    /// Address to listen on.
    pub bind: String,
    /// Path of the TAP service (VOSI endpoints below it).
    pub base_path: String,
    /// The service's public URL, as clients reach it (e.g. behind a proxy:
    /// `https://example.org/tap`); default: from each request's Host.
    pub public_url: Option<String>,
    /// Data directory (demo catalogue, jobs); default `$ASTROLAKE_DATA`,
    /// else `$XDG_DATA_HOME/astrolake`, else `~/.local/share/astrolake`.
    pub data_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes (queries and uploads).
    pub max_request_bytes: usize,
    /// The most parameters and multipart parts of one request, together.
    pub max_request_parts: usize,
    /// The most bytes of one multipart part's headers.
    pub max_part_header_bytes: usize,
    /// Without `public_url`, name the service in links (job URLs,
    /// capabilities, registry listings) from `Forwarded`/`X-Forwarded-*`
    /// and `Host` headers: only behind a proxy that sets them. Otherwise
    /// links use the address the connection reached.
    pub trust_proxy: bool,
}

impl Server {
    /// How request bodies are read.
    pub fn request_limits(&self) -> astrolake_uws::http::RequestLimits {
        astrolake_uws::http::RequestLimits {
            max_bytes: self.max_request_bytes,
            max_parts: self.max_request_parts,
            max_part_header_bytes: self.max_part_header_bytes,
        }
    }

    /// How the service names itself in links.
    pub fn links(&self) -> astrolake_uws::http::Links {
        astrolake_uws::http::Links {
            public_url: self.public_url.clone(),
            trust_proxy: self.trust_proxy,
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            bind: "127.0.0.1:8080".into(),
            base_path: "/tap".into(),
            public_url: None,
            data_dir: None,
            max_request_bytes: 128 * 1024 * 1024,
            max_request_parts: astrolake_uws::http::RequestLimits::new(0).max_parts,
            max_part_header_bytes: astrolake_uws::http::RequestLimits::new(0).max_part_header_bytes,
            trust_proxy: false,
        }
    }
}

/// `[catalog]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogConfig {
    /// Catalogue root (directory, `file://` or `s3://` URL); default: the
    /// demo catalogue, built on first start.
    pub root: Option<String>,
}

/// `[limits]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Rows returned when the request gives no MAXREC.
    pub default_maxrec: u64,
    /// The most rows any request gets.
    pub hard_maxrec: u64,
    /// Longest a synchronous query may run, in seconds.
    pub sync_execution_duration: u64,
    /// Longest ADQL query text, bytes.
    pub max_query_length: usize,
    /// Deepest expression nesting of a query (operators in a chain such as
    /// `a+b+c` count one level each).
    pub max_query_depth: usize,
    /// The most tables one query may combine (JOINs, FROM-list tables,
    /// UNION/INTERSECT/EXCEPT).
    pub max_query_tables: usize,
    /// Synchronous queries running at once; 0: twice the number of cores.
    pub sync_concurrent: usize,
    /// Synchronous queries that may wait for a free slot; more get HTTP 503
    /// with Retry-After.
    pub sync_queue: usize,
    /// Seconds a synchronous query waits for a slot before HTTP 503.
    pub sync_queue_wait: u64,
    /// Memory all running queries may hold together (sorts, joins,
    /// aggregates spill to disk beyond it), bytes; 0: half the machine's
    /// memory (or of the cgroup's limit).
    pub query_memory: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = astrolake_tap::query::Limits::default();
        LimitsConfig {
            default_maxrec: l.default_maxrec,
            hard_maxrec: l.hard_maxrec,
            sync_execution_duration: 600,
            max_query_length: l.query.max_length,
            max_query_depth: l.query.max_depth,
            max_query_tables: l.query.max_tables,
            sync_concurrent: 0,
            sync_queue: 64,
            sync_queue_wait: 60,
            query_memory: 0,
        }
    }
}

/// `[jobs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Where job state and results live; default `DATA_DIR/jobs`.
    pub dir: Option<PathBuf>,
    /// Jobs executing at once (the rest wait in QUEUED).
    pub concurrent: usize,
    /// Seconds a job may run when it does not say.
    pub default_execution_duration: u32,
    /// The most seconds a job may ask for.
    pub max_execution_duration: u32,
    /// Seconds from creation to destruction when the job does not say.
    pub default_destruction: u64,
    /// The most seconds from creation to destruction a job may ask for.
    pub max_destruction: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            dir: None,
            concurrent: 2,
            default_execution_duration: 3600,
            max_execution_duration: 4 * 3600,
            default_destruction: 7 * 86400,
            max_destruction: 30 * 86400,
        }
    }
}

/// `[uploads]`: what `UPLOAD` tables may be, and what the server may
/// reach for URL uploads and imports.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// The most bytes one uploaded table may have, as sent.
    pub max_bytes: u64,
    /// The most rows one uploaded table may have.
    pub max_rows: u64,
    /// The most tables one request may upload.
    pub max_uploads: usize,
    /// The most bytes one upload may have once decompressed.
    pub max_decompressed_bytes: u64,
    /// The most bytes of an upload's header (VOTable up to DATA, ECSV `#`
    /// lines, Parquet footer).
    pub max_header_bytes: u64,
    /// The most bytes of one value as sent.
    pub max_cell_bytes: u64,
    /// The most bytes of one row as sent.
    pub max_row_bytes: u64,
    /// The most columns of an upload.
    pub max_columns: u64,
    /// The most elements of one array value.
    pub max_array_elements: u64,
    /// The most bytes the uploads of one request may take in memory.
    pub max_memory_bytes: u64,
    /// Hosts (`host` for any port, `host:port`, `*.domain`, `*`) that URL
    /// uploads, imports and the stores records name may be read from.
    /// Empty by default: the server reaches nothing a user names.
    pub allowed_hosts: Vec<String>,
    /// S3 buckets (`bucket` or `bucket/prefix`) imports and records may
    /// mount; empty: any bucket on an allowed host.
    pub allowed_buckets: Vec<String>,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        let u = astrolake_tap::upload::UploadLimits::default();
        UploadsConfig {
            max_bytes: u.max_bytes,
            max_rows: u.max_rows,
            max_uploads: u.max_uploads,
            max_decompressed_bytes: u.max_decompressed_bytes,
            max_header_bytes: u.max_header_bytes,
            max_cell_bytes: u.max_cell_bytes,
            max_row_bytes: u.max_row_bytes,
            max_columns: u.max_columns,
            max_array_elements: u.max_array_elements,
            max_memory_bytes: u.max_memory_bytes,
            allowed_hosts: u.allowed_hosts,
            allowed_buckets: Vec::new(),
        }
    }
}

impl UploadsConfig {
    /// As the TAP layer takes them (no deadline: each request sets its
    /// own).
    pub fn limits(&self) -> astrolake_tap::upload::UploadLimits {
        astrolake_tap::upload::UploadLimits {
            max_bytes: self.max_bytes,
            max_rows: self.max_rows,
            allowed_hosts: self.allowed_hosts.clone(),
            max_uploads: self.max_uploads,
            max_decompressed_bytes: self.max_decompressed_bytes,
            max_header_bytes: self.max_header_bytes,
            max_cell_bytes: self.max_cell_bytes,
            max_row_bytes: self.max_row_bytes,
            max_columns: self.max_columns,
            max_array_elements: self.max_array_elements,
            max_memory_bytes: self.max_memory_bytes,
            deadline: None,
        }
    }
}

impl LimitsConfig {
    /// Synchronous queries running at once.
    pub fn sync_slots(&self) -> usize {
        if self.sync_concurrent > 0 {
            self.sync_concurrent
        } else {
            2 * std::thread::available_parallelism().map_or(2, |n| n.get())
        }
    }

    /// The memory pool of all queries, bytes.
    pub fn query_memory_bytes(&self) -> u64 {
        if self.query_memory > 0 {
            return self.query_memory;
        }
        machine_memory().map_or(2 << 30, |m| m / 2)
    }

    /// As the TAP layer takes them.
    pub fn limits(&self) -> astrolake_tap::query::Limits {
        astrolake_tap::query::Limits {
            default_maxrec: self.default_maxrec,
            hard_maxrec: self.hard_maxrec,
            max_duration: Some(std::time::Duration::from_secs(self.sync_execution_duration)),
            query: astrolake_adql::QueryLimits {
                max_length: self.max_query_length,
                max_depth: self.max_query_depth,
                max_tables: self.max_query_tables,
            },
        }
    }
}

/// The memory this process may use: the cgroup's limit when there is one,
/// else the machine's.
fn machine_memory() -> Option<u64> {
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .filter_map(|s| s.trim().parse::<u64>().ok())
    .find(|&n| n < (1 << 50));
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    match (cgroup, total) {
        (Some(c), Some(t)) => Some(c.min(t)),
        (c, t) => c.or(t),
    }
}

const SECTIONS: [&str; 7] = [
    "server", "catalog", "limits", "jobs", "uploads", "registry", "admin",
];

impl Config {
    /// `[[remotes]]` as the store takes them.
    pub fn remote_settings(&self) -> Vec<(String, astrolake_catalog::remote::RemoteOptions)> {
        self.remotes
            .iter()
            .map(|r| (r.url.clone(), r.options()))
            .collect()
    }

    /// Load the file (if any), then apply `ASTROLAKE_SECTION_KEY`
    /// variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config> {
        let mut doc: toml::Table = match file {
            Some(f) => {
                let text = std::fs::read_to_string(f)
                    .with_context(|| format!("reading the configuration {}", f.display()))?;
                text.parse()
                    .with_context(|| format!("configuration {}", f.display()))?
            }
            None => toml::Table::new(),
        };
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("ASTROLAKE_") else {
                continue;
            };
            let rest = rest.to_ascii_lowercase();
            let Some((section, key)) = SECTIONS.iter().find_map(|s| {
                rest.strip_prefix(s)
                    .and_then(|r| r.strip_prefix('_'))
                    .map(|key| (*s, key.to_string()))
            }) else {
                continue;
            };
            let value = format!("v = {v}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(v.clone()));
            let table = doc
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(table) = table.as_table_mut() else {
                bail!("configuration: [{section}] is not a table");
            };
            table.insert(key, value);
        }
        let what = file
            .map(|f| f.display().to_string())
            .unwrap_or_else(|| "environment".into());
        let cfg: Config = toml::Value::Table(doc)
            .try_into()
            .with_context(|| format!("configuration ({what})"))?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<()> {
        if self.limits.default_maxrec > self.limits.hard_maxrec {
            bail!(
                "configuration: limits.default_maxrec ({}) is above limits.hard_maxrec ({})",
                self.limits.default_maxrec,
                self.limits.hard_maxrec
            );
        }
        if self.jobs.concurrent == 0 {
            bail!("configuration: jobs.concurrent must be at least 1");
        }
        self.registry
            .validate()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        if !self.server.base_path.starts_with('/') {
            bail!(
                "configuration: server.base_path {:?} must start with /",
                self.server.base_path
            );
        }
        Ok(())
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        if let Some(d) = &self.server.data_dir {
            return d.clone();
        }
        if let Some(d) = std::env::var_os("ASTROLAKE_DATA") {
            return d.into();
        }
        if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
            return PathBuf::from(d).join("astrolake");
        }
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        home.join(".local/share/astrolake")
    }

    /// The job directory.
    pub fn jobs_dir(&self) -> PathBuf {
        self.jobs
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir().join("jobs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_file_shows_the_defaults() {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/astrolake.toml");
        let c = Config::load(Some(&f), []).unwrap();
        assert_eq!(format!("{c:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn defaults_file_and_environment() {
        let c = Config::load(None, []).unwrap();
        assert_eq!(c.server.bind, "127.0.0.1:8080");
        assert_eq!(c.server.base_path, "/tap");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.toml");
        std::fs::write(
            &f,
            "[server]\nbind = \"127.0.0.1:9999\"\n[limits]\nhard_maxrec = 500\ndefault_maxrec = 50\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&f),
            [
                (
                    "ASTROLAKE_LIMITS_DEFAULT_MAXREC".to_string(),
                    "20".to_string(),
                ),
                (
                    "ASTROLAKE_UPLOADS_ALLOWED_HOSTS".to_string(),
                    "[\"a.example\"]".to_string(),
                ),
                ("ASTROLAKE_CATALOG_ROOT".to_string(), "/x/y".to_string()),
                ("ASTROLAKE_DATA".to_string(), "/ignored".to_string()),
                ("PATH".to_string(), "/bin".to_string()),
            ],
        )
        .unwrap();
        assert_eq!(c.server.bind, "127.0.0.1:9999");
        assert_eq!(c.limits.hard_maxrec, 500);
        assert_eq!(c.limits.default_maxrec, 20);
        assert_eq!(c.uploads.allowed_hosts, vec!["a.example"]);
        assert_eq!(c.catalog.root.as_deref(), Some("/x/y"));
        std::fs::write(&f, "[server]\nbnd = 1\n").unwrap();
        let e = format!("{:#}", Config::load(Some(&f), []).unwrap_err());
        assert!(e.contains("bnd"), "{e}");
        let e = format!(
            "{:#}",
            Config::load(
                None,
                [(
                    "ASTROLAKE_LIMITS_DEFAULT_MAXREC".into(),
                    "99999999999".into()
                )]
            )
            .unwrap_err()
        );
        assert!(e.contains("hard_maxrec"), "{e}");
    }
}
