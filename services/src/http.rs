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

/// What every handler shares.
pub struct AppState {
    /// The tables queries can name (catalogue and TAP_SCHEMA).
    pub tables: Tables,
    /// MAXREC limits.
    pub limits: Limits,
    /// Upload limits and allowed hosts.
    pub uploads: UploadLimits,
    /// The public TAP URL, when configured (else from each request).
    pub public_url: Option<String>,
    /// The path the service is mounted at, e.g. `/tap`.
    pub base_path: String,
    /// `/tables` entries.
    pub table_docs: Vec<TableDoc>,
    /// `/examples` entries.
    pub examples: Vec<Example>,
    /// Job retention and execution duration (for `/capabilities`).
    pub retention: TimeLimit,
    /// Job execution duration (for `/capabilities`).
    pub execution_duration: TimeLimit,
    /// When the service started (`/availability`).
    pub up_since: String,
    /// Largest request body, bytes.
    pub max_request_bytes: usize,
    /// The asynchronous job system.
    pub uws: Arc<astrolake_uws::Uws<crate::jobs::TapExecutor>>,
    /// The multi-threaded runtime queries run on (not the HTTP workers'
    /// single-threaded ones, which must stay free to answer requests).
    pub runtime: tokio::runtime::Handle,
}

impl AppState {
    /// The TAP base URL as the client sees it.
    fn base_url(&self, req: &HttpRequest) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => {
                let info = req.connection_info();
                format!("{}://{}{}", info.scheme(), info.host(), self.base_path)
            }
        }
    }

    fn capabilities(&self, req: &HttpRequest) -> CapabilitiesConfig {
        let formats: Vec<(String, Vec<String>)> = Format::all()
            .into_iter()
            .map(|(_, mime, aliases)| {
                (
                    mime.to_string(),
                    aliases.into_iter().map(str::to_string).collect(),
                )
            })
            .collect();
        let mut c = CapabilitiesConfig::new(self.base_url(req), &formats);
        c.retention_period = Some(self.retention);
        c.execution_duration = Some(self.execution_duration);
        c.output_limit = Some(DataLimit {
            default: self.limits.default_maxrec,
            hard: self.limits.hard_maxrec,
            unit: LimitUnit::Row,
        });
        c.upload_limit = Some(DataLimit {
            default: self.uploads.max_bytes,
            hard: self.uploads.max_bytes,
            unit: LimitUnit::Byte,
        });
        c
    }
}

/// The DALI error document of an error, with its HTTP status.
pub fn error_response(e: &TapError) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/x-votable+xml")
        .body(astrolake_tap::query::error_document(e))
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}

async fn sync(req: HttpRequest, payload: web::Payload, state: web::Data<AppState>) -> HttpResponse {
    let (params, files) =
        match astrolake_uws::http::read_request(&req, payload, state.max_request_bytes).await {
            Ok(p) => p,
            Err(e) => return error_response(&TapError::Param(ParamError(e.to_string()))),
        };
    let parts: HashMap<String, Bytes> = files.into_iter().collect();
    let r = match astrolake_tap::params::parse(&params) {
        Ok(r) => r,
        Err(e) => return error_response(&TapError::Param(e)),
    };
    let st = state.clone().into_inner();
    let run = state.runtime.spawn(async move {
        let tables = astrolake_tap::upload::with_uploads(
            &st.tables,
            r.upload.as_deref(),
            &parts,
            &st.uploads,
        )
        .await?;
        astrolake_tap::query::run(&r, &tables, st.limits).await
    });
    match run.await {
        Ok(Ok(out)) => HttpResponse::Ok()
            .content_type(out.format.mime())
            .streaming(out.body),
        Ok(Err(e)) => error_response(&e),
        Err(e) => error_response(&TapError::Query(astrolake_adql::AdqlError::Execution(
            format!("the query failed: {e}"),
        ))),
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
    xml(astrolake_vosi::tables(&state.table_docs, detail_min))
}

async fn table(path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    match astrolake_vosi::find_table(&state.table_docs, &path) {
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
            &state.examples,
        ))
}

/// The service's routes, below the base path.
pub fn routes(cfg: &mut web::ServiceConfig, state: &AppState) {
    astrolake_uws::http::configure(cfg, Arc::clone(&state.uws), &state.base_path);
    cfg.route("/sync", web::get().to(sync))
        .route("/sync", web::post().to(sync))
        .route("/availability", web::get().to(availability))
        .route("/capabilities", web::get().to(capabilities))
        .route("/tables", web::get().to(tables))
        .route("/tables/{name}", web::get().to(table))
        .route("/examples", web::get().to(examples));
}

/// Serve the TAP service under its base path until stopped.
pub async fn serve(state: AppState, bind: &str) -> std::io::Result<()> {
    let base = state.base_path.trim_end_matches('/').to_string();
    let state = web::Data::from(Arc::new(state));
    HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::DefaultHeaders::new().add((
                header::SERVER,
                concat!("astrolake/", env!("CARGO_PKG_VERSION")),
            )))
            .app_data(state.clone())
            .service(web::scope(&base).configure(|cfg| routes(cfg, &state)))
    })
    .bind(bind)?
    .run()
    .await
}
