//! The HTTP services: thin actix-web handlers over `astrolake_tap`
//! (parameters, queries, formats) and, later, VOSI and the registry. Errors
//! become DALI error documents with their status here, in one place.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use astrolake_adql::Tables;
use astrolake_tap::query::{Limits, TapError};

/// What every handler shares.
pub struct AppState {
    /// The tables queries can name (catalogue and TAP_SCHEMA).
    pub tables: Tables,
    /// MAXREC limits.
    pub limits: Limits,
}

/// The parameters of a request: the query string, then an
/// `application/x-www-form-urlencoded` body.
fn params(req: &HttpRequest, body: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let form = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        out.extend(url::form_urlencoded::parse(body).into_owned());
    }
    out
}

fn error_response(e: &TapError) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/x-votable+xml")
        .body(astrolake_tap::query::error_document(e))
}

async fn sync(req: HttpRequest, body: web::Bytes, state: web::Data<AppState>) -> HttpResponse {
    let p = params(&req, &body);
    let r = match astrolake_tap::params::parse(&p) {
        Ok(r) => r,
        Err(e) => return error_response(&TapError::Param(e)),
    };
    match astrolake_tap::query::run(&r, &state.tables, state.limits).await {
        Ok(out) => HttpResponse::Ok()
            .content_type(out.format.mime())
            .streaming(out.body),
        Err(e) => error_response(&e),
    }
}

/// Serve the TAP service under `base` (e.g. `/tap`) until stopped.
pub async fn serve(state: AppState, bind: &str, base: &str) -> std::io::Result<()> {
    let state = web::Data::from(Arc::new(state));
    let base = base.trim_end_matches('/').to_string();
    HttpServer::new(move || {
        App::new().app_data(state.clone()).service(
            web::scope(&base)
                .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
                .route("/sync", web::get().to(sync))
                .route("/sync", web::post().to(sync)),
        )
    })
    .bind(bind)?
    .run()
    .await
}
