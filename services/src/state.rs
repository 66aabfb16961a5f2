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
