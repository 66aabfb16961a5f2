//! The registry: OAI-PMH 2.0 at `[registry] oai_path`, and each record
//! as a VOResource document under `/registry/`.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;

use super::xml;
use crate::error::RegistryFailure;
use crate::state::AppState;

/// OAI-PMH 2.0 (GET with a query string, POST with a urlencoded body).
pub async fn oai(req: HttpRequest, body: Bytes, state: web::Data<AppState>) -> HttpResponse {
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
pub async fn registry_record(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, RegistryFailure> {
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
        return Ok(HttpResponse::Ok()
            .content_type(ContentType::plaintext())
            .body(out));
    }
    let id = if tail == "authority" {
        format!("ivo://{authority}")
    } else {
        format!("ivo://{authority}/{tail}")
    };
    match reg.get(&id) {
        Some(p) => match &p.resource {
            Some(r) if !p.deleted => Ok(xml(r.to_document(p.dates()))),
            _ => Err(RegistryFailure::Removed {
                id,
                updated: p.updated.to_string(),
            }),
        },
        None => Err(RegistryFailure::NoRecord(id)),
    }
}
