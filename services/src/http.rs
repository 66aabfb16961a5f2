//! The HTTP services: thin actix-web handlers over `astrolake_tap`
//! (parameters, uploads, queries, formats) and `astrolake_vosi` (VOSI
//! documents). Errors become DALI error documents with their status here,
//! in one place ([`error_response`]).

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use astrolake_adql::Tables;
use astrolake_tap::formats::Format;
use astrolake_tap::params::ParamError;
use astrolake_tap::query::{Limits, TapError};
use astrolake_tap::upload::UploadLimits;
use astrolake_vosi::{CapabilitiesConfig, DataLimit, Example, LimitUnit, TableDoc, TimeLimit};
use bytes::Bytes;
use futures::StreamExt;

/// What is served from the catalogue's tables: replaced as a whole when
/// the catalogue changes (an admin import), so a request sees one
/// consistent set.
pub struct Served {
    /// The tables queries can name (catalogue and TAP_SCHEMA).
    pub tables: Tables,
    /// `/tables` entries.
    pub table_docs: Vec<TableDoc>,
    /// `/examples` entries.
    pub examples: Vec<Example>,
    /// The registry records (OAI-PMH, `/registry/...`).
    pub registry: Arc<astrolake_registry::Registry>,
}

/// The current [`Served`], swappable.
pub type SharedServed = Arc<std::sync::RwLock<Arc<Served>>>;

/// Share a [`Served`].
pub fn shared(s: Served) -> SharedServed {
    Arc::new(std::sync::RwLock::new(Arc::new(s)))
}

/// The current [`Served`].
pub fn current(s: &SharedServed) -> Arc<Served> {
    Arc::clone(&s.read().unwrap_or_else(|e| e.into_inner()))
}

/// What every handler shares.
pub struct AppState {
    /// Tables, table documents, examples and registry records.
    pub served: SharedServed,
    /// The configuration (admin imports, rebuilding [`Served`]).
    pub config: Arc<crate::config::Config>,
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
    pub uws: Arc<astrolake_uws::Uws<crate::jobs::TapExecutor>>,
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
    async fn acquire(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
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

/// HTTP 503 with Retry-After: every synchronous slot is taken.
fn busy() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, "10"))
        .content_type("application/x-votable+xml")
        .body(astrolake_tap::formats::error_votable(
            "the service is running as many synchronous queries as it allows \
             (limits.sync_concurrent) and its queue is full; retry in a few seconds, \
             or submit the query as an asynchronous job (/async)",
        ))
}

impl AppState {
    /// The current tables, documents and records.
    pub fn served(&self) -> Arc<Served> {
        current(&self.served)
    }

    /// The TAP base URL as the client sees it.
    fn base_url(&self, req: &HttpRequest) -> String {
        match &self.links.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("{}{}", self.origin(req), self.base_path),
        }
    }

    /// The server's root URL as the client sees it (no trailing `/`).
    fn origin(&self, req: &HttpRequest) -> String {
        match &self.links.public_url {
            Some(_) => crate::publish::site_url(&self.config),
            None => astrolake_uws::http::request_origin(req, self.links.trust_proxy),
        }
    }

    fn capabilities(&self, req: &HttpRequest) -> CapabilitiesConfig {
        self.capabilities_at(self.base_url(req))
    }

    /// The capabilities of the service at `base_url`.
    pub fn capabilities_at(&self, base_url: String) -> CapabilitiesConfig {
        capabilities_config(
            base_url,
            &self.limits,
            &self.uploads,
            self.retention,
            self.execution_duration,
        )
    }
}

/// The capabilities of the TAP service at `base_url` with these limits
/// (`/capabilities`, and the TAP service's registry record).
pub fn capabilities_config(
    base_url: String,
    limits: &Limits,
    uploads: &UploadLimits,
    retention: TimeLimit,
    execution_duration: TimeLimit,
) -> CapabilitiesConfig {
    let formats: Vec<(String, Vec<String>)> = Format::all()
        .into_iter()
        .map(|(_, mime, aliases)| {
            (
                mime.to_string(),
                aliases.into_iter().map(str::to_string).collect(),
            )
        })
        .collect();
    let mut c = CapabilitiesConfig::new(base_url, &formats);
    c.retention_period = Some(retention);
    c.execution_duration = Some(execution_duration);
    c.output_limit = Some(DataLimit {
        default: limits.default_maxrec,
        hard: limits.hard_maxrec,
        unit: LimitUnit::Row,
    });
    c.upload_limit = Some(DataLimit {
        default: uploads.max_bytes,
        hard: uploads.max_bytes,
        unit: LimitUnit::Byte,
    });
    c
}

/// The DALI error document of an error, with its HTTP status. The
/// service's own faults (5xx) are logged with their detail; the client
/// gets a reference to the log line, not the detail (paths, internals).
pub fn error_response(e: &TapError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let body = if status.is_server_error() {
        let reference = format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        eprintln!("error [{reference}]: {e}");
        astrolake_tap::formats::error_votable(&format!(
            "the service failed to answer this request (an internal error, logged as {reference}); \
             the operator has the details"
        ))
    } else {
        astrolake_tap::query::error_document(e)
    };
    HttpResponse::build(status)
        .content_type("application/x-votable+xml")
        .body(body)
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

/// A task on the query runtime that stops when the request does: a client
/// that disconnects while its uploads are fetched or its query is planned
/// leaves no work behind.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn sync(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let (params, files) =
        match astrolake_uws::http::read_request_with(&req, payload, state.request_limits).await {
            Ok(p) => p,
            Err(e) => return error_response(&TapError::Param(ParamError(e.to_string()))),
        };
    let parts: HashMap<String, Bytes> = files.into_iter().collect();
    let r = match astrolake_tap::params::parse(&params) {
        Ok(r) => r,
        Err(e) => return error_response(&TapError::Param(e)),
    };
    let Some(slot) = state.sync_slots.acquire().await else {
        return busy();
    };
    let st = state.clone().into_inner();
    // Fetching and reading the uploads count against the query's time.
    let uploads = UploadLimits {
        deadline: st
            .limits
            .max_duration
            .map(|d| std::time::Instant::now() + d),
        ..st.uploads.clone()
    };
    let mut run = AbortOnDrop(state.runtime.spawn(async move {
        let served = st.served();
        let tables = astrolake_tap::upload::with_uploads(
            &served.tables,
            r.upload.as_deref(),
            &parts,
            &uploads,
        )
        .await?;
        astrolake_tap::query::run(&r, &tables, st.limits).await
    }));
    match (&mut run.0).await {
        Ok(Ok(out)) => HttpResponse::Ok()
            .content_type(out.format.mime())
            // The slot is freed when the body is done or dropped.
            .streaming(out.body.map(move |chunk| {
                let _held = &slot;
                chunk
            })),
        Ok(Err(e)) => error_response(&e),
        Err(e) => error_response(&TapError::Internal(format!("the query task failed: {e}"))),
    }
}

async fn availability(state: web::Data<AppState>) -> HttpResponse {
    xml(astrolake_vosi::availability(
        true,
        Some(&state.up_since),
        Some("accepting queries"),
    ))
}

async fn capabilities(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    xml(astrolake_vosi::capabilities(&state.capabilities(&req)))
}

async fn tables(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let detail_min = url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| k.eq_ignore_ascii_case("detail") && v.eq_ignore_ascii_case("min"));
    xml(astrolake_vosi::tables(
        &state.served().table_docs,
        detail_min,
    ))
}

async fn table(path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let served = state.served();
    match astrolake_vosi::find_table(&served.table_docs, &path) {
        Ok(t) => xml(astrolake_vosi::table(t)),
        Err(e) => HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body(e.to_string()),
    }
}

async fn examples(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xhtml+xml; charset=utf-8")
        .body(astrolake_vosi::examples(
            &state.base_url(&req),
            &state.served().examples,
        ))
}

/// The service's routes, below the base path.
pub fn routes(cfg: &mut web::ServiceConfig, state: &AppState) {
    astrolake_uws::http::configure_with(
        cfg,
        Arc::clone(&state.uws),
        &state.base_path,
        state.links.clone(),
    );
    cfg.route("/sync", web::get().to(sync))
        .route("/sync", web::post().to(sync))
        .route("/availability", web::get().to(availability))
        .route("/capabilities", web::get().to(capabilities))
        .route("/tables", web::get().to(tables))
        .route("/tables/{name}", web::get().to(table))
        .route("/examples", web::get().to(examples));
}

/// OAI-PMH 2.0 (GET with a query string, POST with a urlencoded body).
async fn oai(req: HttpRequest, body: Bytes, state: web::Data<AppState>) -> HttpResponse {
    let reg = &state.served().registry;
    let mut params: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    if req.method() == actix_web::http::Method::POST {
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    xml(astrolake_registry::oai::respond(
        reg,
        &params,
        &astrolake_registry::now(),
    ))
}

/// `/registry`: the identifiers of the records, one per line, with the URL
/// of each; `/registry/PATH`: the record `ivo://AUTHORITY/PATH` as a
/// VOResource document (404 when unknown, 410 when deleted).
async fn registry_record(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let served = state.served();
    let reg = &served.registry;
    let tail = req.match_info().get("tail").unwrap_or("").trim_matches('/');
    let authority = &reg.config.authority;
    if tail.is_empty() {
        let base = format!("{}/registry", state.origin(&req));
        let mut out = String::new();
        for p in reg.records() {
            let path = match p.identifier.strip_prefix(&format!("ivo://{authority}")) {
                Some("") => "/authority",
                Some(path) => path,
                None => "",
            };
            let status = if p.deleted { "deleted" } else { "active" };
            out.push_str(&format!(
                "{}\t{status}\t{}\t{base}{path}\n",
                p.identifier, p.updated
            ));
        }
        return HttpResponse::Ok()
            .content_type(ContentType::plaintext())
            .body(out);
    }
    let id = if tail == "authority" {
        format!("ivo://{authority}")
    } else {
        format!("ivo://{authority}/{tail}")
    };
    match reg.get(&id) {
        Some(p) => match &p.resource {
            Some(r) if !p.deleted => xml(r.to_document(p.dates())),
            _ => HttpResponse::Gone()
                .content_type(ContentType::plaintext())
                .body(format!("{id} was removed on {}\n", p.updated)),
        },
        None => HttpResponse::NotFound()
            .content_type(ContentType::plaintext())
            .body(format!(
                "no record {id}: /registry lists the records of this site\n"
            )),
    }
}

/// Whether the request carries `Authorization: Bearer TOKEN` (compared
/// in constant time).
fn authorized(req: &HttpRequest, token: &str) -> bool {
    let Some(given) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn json(status: StatusCode, value: serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::json())
        .body(value.to_string())
}

/// `POST /admin/import` (operator only, `Authorization: Bearer` the
/// `[admin] token`): `schema`, `url` and optionally `copy=true`, as for
/// `astrolake import`; the imported tables are served at once.
async fn admin_import(req: HttpRequest, body: Bytes, state: web::Data<AppState>) -> HttpResponse {
    let Some(token) = state
        .config
        .admin
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return json(
            StatusCode::NOT_FOUND,
            serde_json::json!({"error": "no admin endpoints: [admin] token is not set"}),
        );
    };
    if !authorized(&req, token) {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer"))
            .content_type(ContentType::json())
            .body(serde_json::json!({"error": "a valid bearer token is required"}).to_string());
    }
    let mut params: HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    params.extend(url::form_urlencoded::parse(&body).into_owned());
    let (Some(schema), Some(url)) = (params.get("schema"), params.get("url")) else {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "give schema and url (and copy=true to copy the data)"}),
        );
    };
    let request = crate::exchange::ImportRequest {
        schema: schema.clone(),
        url: url.clone(),
        copy: params.get("copy").is_some_and(|v| v == "true" || v == "1"),
        options: Default::default(),
    };
    let st = state.clone().into_inner();
    // Not cancelled with the request: an import finishes or undoes itself.
    let run = state.runtime.spawn(async move {
        crate::exchange::import_then(&st.config, &st.catalog_root, &request, |served| {
            *st.served.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(served);
        })
        .await
    });
    match run.await {
        Ok(Ok(names)) => json(StatusCode::OK, serde_json::json!({"imported": names})),
        Ok(Err(e)) => json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": format!("{e:#}")}),
        ),
        Err(e) => json(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({"error": e.to_string()}),
        ),
    }
}

/// Serve the registry (OAI-PMH, records) and the catalogue's files at the
/// server root, and the TAP service under its base path, until stopped.
pub async fn serve(state: AppState, bind: &str) -> std::io::Result<()> {
    let base = state.base_path.trim_end_matches('/').to_string();
    let oai_path = state.oai_path.clone();
    let state = web::Data::from(Arc::new(state));
    HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::DefaultHeaders::new().add((
                header::SERVER,
                concat!("astrolake/", env!("CARGO_PKG_VERSION")),
            )))
            .app_data(state.clone())
            .route(&oai_path, web::get().to(oai))
            .route(&oai_path, web::post().to(oai))
            .route("/registry", web::get().to(registry_record))
            .route("/registry/{tail:.*}", web::get().to(registry_record))
            .route("/admin/import", web::post().to(admin_import))
            .route("/catalogue/{tail:.*}", web::get().to(crate::files::get))
            .route("/catalogue/{tail:.*}", web::head().to(crate::files::get))
            .service(web::scope(&base).configure(|cfg| routes(cfg, &state)))
    })
    // Responses are written in several pieces (headers, streamed chunks):
    // without TCP_NODELAY, Nagle's algorithm holds the last small piece
    // until the client's delayed ACK (40 ms on Linux) for every small
    // result.
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            let _ = tcp.set_nodelay(true);
        }
    })
    .bind(bind)?
    .run()
    .await
}
