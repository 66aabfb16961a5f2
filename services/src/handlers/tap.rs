//! TAP and VOSI: `/sync` (the one query path, `astrolake_tap::query`),
//! `/availability`, `/capabilities`, `/tables`, `/examples`, and the UWS
//! job routes of `/async`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use astrolake_tap::error::TapError;
use bytes::Bytes;
use futures::StreamExt;

use super::xml;
use crate::error::{body_error, busy, TapFailure, VosiFailure};
use crate::state::AppState;

/// `/sync`: read the request (as `/async` does), check the parameters,
/// take a slot, and stream the answer of `astrolake_tap::query::start`.
pub async fn sync(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (params, files) =
        match astrolake_uws::http::read_request_with(&req, payload, state.request_limits).await {
            Ok(p) => p,
            Err(e) => return body_error(&e),
        };
    let r = match astrolake_tap::params::parse(&params) {
        Ok(r) => r,
        Err(e) => return TapFailure(TapError::Param(e)).error_response(),
    };
    let Some(slot) = state.sync_slots.acquire().await else {
        return busy();
    };
    let parts: HashMap<String, Bytes> = files.into_iter().collect();
    let tables = state.served().tables.clone();
    match astrolake_tap::query::start(
        &state.runtime,
        r,
        parts,
        tables,
        state.limits,
        &state.uploads,
    )
    .await
    {
        Ok(answer) => HttpResponse::Ok()
            .content_type(answer.format.mime())
            // The slot is freed when the body is done or dropped.
            .streaming(answer.http_body().map(move |chunk| {
                let _held = &slot;
                chunk
            })),
        Err(e) => TapFailure(e).error_response(),
    }
}

/// `/availability` (VOSI).
pub async fn availability(state: web::Data<AppState>) -> HttpResponse {
    xml(astrolake_vosi::availability(
        true,
        Some(&state.up_since),
        Some("accepting queries"),
    ))
}

/// `/capabilities` (VOSI, TAPRegExt).
pub async fn capabilities(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    xml(astrolake_vosi::capabilities(&state.capabilities(&req)))
}

/// `/tables` (VOSI; `detail=min` leaves out the columns; `tables=a,b`,
/// TAP+'s request for some tables, lists only those, 404 for an unknown one).
pub async fn tables(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, VosiFailure> {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let detail_min = param("detail").is_some_and(|v| v.eq_ignore_ascii_case("min"));
    let tap_plus = tap_plus_client(&req);
    let served = state.served();
    let body = match param("tables") {
        Some(list) => {
            let names: Vec<&str> = list
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            let docs = astrolake_vosi::select_tables(&served.table_docs, &names)?;
            astrolake_vosi::tables(&docs, detail_min, tap_plus)
        }
        None => astrolake_vosi::tables(&served.table_docs, detail_min, tap_plus),
    };
    Ok(xml(body))
}

/// The XML schema of the `esatapplus` attributes `/tables` writes
/// (at [`astrolake_vosi::ESA_TAP_PLUS_SCHEMA_PATH`], below the site root).
pub async fn esa_tap_plus_schema() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(astrolake_vosi::ESA_TAP_PLUS_SCHEMA)
}

/// `/tables/{schema.table}` (VOSI), 404 for an unknown table.
pub async fn table(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, VosiFailure> {
    let served = state.served();
    let t = astrolake_vosi::find_table(&served.table_docs, &path)?;
    Ok(xml(astrolake_vosi::table(t, tap_plus_client(&req))))
}

/// Whether the request comes from a TAP+ client (its `User-Agent`).
fn tap_plus_client(req: &HttpRequest) -> bool {
    let ua = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .map(|v| v.to_str().unwrap_or("?"));
    astrolake_vosi::tap_plus_client(ua)
}

/// `/examples` (DALI).
pub async fn examples(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
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
