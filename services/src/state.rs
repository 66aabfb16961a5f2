//! What every handler shares ([`AppState`]): the served tables, the
//! configuration, the limits, the job system, and the slots of
//! synchronous queries.

use std::sync::Arc;

use actix_web::HttpRequest;
use astrolake_tap::query::Limits;
use astrolake_tap::upload::UploadLimits;
use astrolake_vosi::{CapabilitiesConfig, TimeLimit};

use crate::config::Config;
use crate::jobs::TapExecutor;
use crate::served::{current, Served, SharedServed};

/// What every handler shares.
pub struct AppState {
    /// Tables, table documents, examples and registry records.
    pub served: SharedServed,
    /// The configuration (admin imports, rebuilding [`Served`]).
    pub config: Arc<Config>,
    /// MAXREC limits.
    pub limits: Limits,
    /// Upload limits and allowed hosts.
    pub uploads: UploadLimits,
    /// How the service names itself in links: the public TAP URL when
    /// configured, else the connection's address (or a trusted proxy's
    /// headers).
    pub links: astrolake_uws::http::Links,
    /// The path the service is mounted at, e.g. `/tap`.
    pub base_path: String,
    /// Job retention and execution duration (for `/capabilities`).
    pub retention: TimeLimit,
    /// Job execution duration (for `/capabilities`).
    pub execution_duration: TimeLimit,
    /// When the service started (`/availability`).
    pub up_since: String,
    /// What a request body may be.
    pub request_limits: astrolake_uws::http::RequestLimits,
    /// The asynchronous job system.
    pub uws: Arc<astrolake_uws::Uws<TapExecutor>>,
    /// The OAI-PMH path, e.g. `/oai`.
    pub oai_path: String,
    /// The catalogue root (its files are served read-only under
    /// `/catalogue/`).
    pub catalog_root: astrolake_catalog::CatalogRoot,
    /// The multi-threaded runtime queries run on (not the HTTP workers'
    /// single-threaded ones, which must stay free to answer requests).
    pub runtime: tokio::runtime::Handle,
    /// Synchronous queries running at once, and waiting for a slot.
    pub sync_slots: SyncSlots,
}

/// Slots for synchronous queries: a fixed number run at once, a bounded
/// number wait (each at most `wait`), the rest are told to come back
/// (HTTP 503, Retry-After).
pub struct SyncSlots {
    running: Arc<tokio::sync::Semaphore>,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
    wait: std::time::Duration,
}

impl SyncSlots {
    /// `running` at once, `max_waiting` in the queue, each waiting at most
    /// `wait`.
    pub fn new(running: usize, max_waiting: usize, wait: std::time::Duration) -> Self {
        SyncSlots {
            running: Arc::new(tokio::sync::Semaphore::new(running.max(1))),
            waiting: Default::default(),
            max_waiting,
            wait,
        }
    }

    /// A slot, held until the permit is dropped (when the result has been
    /// streamed), or `None` when the service is too busy.
    pub async fn acquire(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        use std::sync::atomic::Ordering;
        if let Ok(p) = Arc::clone(&self.running).try_acquire_owned() {
            return Some(p);
        }
        // Counted out again when this future ends or is dropped (the
        // client went away while waiting).
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _waiting = Waiting(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            return None;
        }
        let got = tokio::time::timeout(self.wait, Arc::clone(&self.running).acquire_owned()).await;
        got.ok().and_then(Result::ok)
    }
}

impl AppState {
    /// The state of a server of the catalogue at `root` as `cfg` says:
    /// its tables served, the job store opened (jobs of an earlier run
    /// recovered). The query runtime is the caller's
    /// ([`crate::served::QUERY_RUNTIME`]).
    pub async fn open(
        cfg: &Config,
        root: &astrolake_catalog::CatalogRoot,
    ) -> anyhow::Result<AppState> {
        use anyhow::Context;
        let served = crate::served::shared(crate::served::open(cfg, root).await?);
        let base = cfg.server.base_path.trim_end_matches('/').to_string();
        let mut uws_cfg = astrolake_uws::Config::new(cfg.jobs_dir());
        uws_cfg.default_destruction = std::time::Duration::from_secs(cfg.jobs.default_destruction);
        uws_cfg.max_destruction = std::time::Duration::from_secs(cfg.jobs.max_destruction);
        uws_cfg.default_execution_duration = cfg.jobs.default_execution_duration;
        uws_cfg.max_execution_duration = cfg.jobs.max_execution_duration;
        uws_cfg.max_running = cfg.jobs.concurrent;
        uws_cfg.max_request_bytes = cfg.server.max_request_bytes;
        uws_cfg.max_request_parts = cfg.server.max_request_parts;
        uws_cfg.max_part_header_bytes = cfg.server.max_part_header_bytes;
        let executor = crate::jobs::TapExecutor(std::sync::Arc::new(crate::jobs::TapContext {
            served: served.clone(),
            limits: cfg.limits.limits(),
            uploads: cfg.uploads.limits(),
        }));
        let uws = astrolake_uws::Uws::open(uws_cfg, executor)
            .await
            .with_context(|| format!("opening the job store in {}", cfg.jobs_dir().display()))?;
        Ok(AppState {
            uws,
            served,
            config: std::sync::Arc::new(cfg.clone()),
            limits: cfg.limits.limits(),
            uploads: cfg.uploads.limits(),
            links: cfg.server.links(),
            base_path: base,
            retention: crate::site::retention(cfg),
            execution_duration: crate::site::execution_duration(cfg),
            oai_path: cfg.registry.oai_path.clone(),
            catalog_root: root.clone(),
            up_since: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            request_limits: cfg.server.request_limits(),
            runtime: tokio::runtime::Handle::current(),
            sync_slots: SyncSlots::new(
                cfg.limits.sync_slots(),
                cfg.limits.sync_queue,
                std::time::Duration::from_secs(cfg.limits.sync_queue_wait),
            ),
        })
    }

    /// The current tables, documents and records.
    pub fn served(&self) -> Arc<Served> {
        current(&self.served)
    }

    /// The TAP base URL as the client sees it.
    pub fn base_url(&self, req: &HttpRequest) -> String {
        match &self.links.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("{}{}", self.origin(req), self.base_path),
        }
    }

    /// The server's root URL as the client sees it (no trailing `/`).
    pub fn origin(&self, req: &HttpRequest) -> String {
        match &self.links.public_url {
            Some(_) => crate::site::site_url(&self.config),
            None => astrolake_uws::http::request_origin(req, self.links.trust_proxy),
        }
    }

    /// The capabilities of the service as the client of `req` names it.
    pub fn capabilities(&self, req: &HttpRequest) -> CapabilitiesConfig {
        self.capabilities_at(self.base_url(req))
    }

    /// The capabilities of the service at `base_url`.
    pub fn capabilities_at(&self, base_url: String) -> CapabilitiesConfig {
        crate::site::capabilities_config(
            base_url,
            &self.limits,
            &self.uploads,
            self.retention,
            self.execution_duration,
        )
    }
}
