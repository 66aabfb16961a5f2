//! Operator endpoints (`Authorization: Bearer` the `[admin] token`):
//! `POST /admin/import`.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header::{self, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::Bytes;

use crate::error::AdminFailure;
use crate::state::AppState;

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

/// `POST /admin/import` (operator only, `Authorization: Bearer` the
/// `[admin] token`): `schema`, `url` and optionally `copy=true`, as for
/// `astrolake import`; the imported tables are served at once.
pub async fn admin_import(
    req: HttpRequest,
    body: Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminFailure> {
    let Some(token) = state
        .config
        .admin
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Err(AdminFailure::Disabled);
    };
    if !authorized(&req, token) {
        return Err(AdminFailure::Unauthorized);
    }
    let mut params: HashMap<String, String> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .collect();
    params.extend(url::form_urlencoded::parse(&body).into_owned());
    let (Some(schema), Some(url)) = (params.get("schema"), params.get("url")) else {
        return Err(AdminFailure::BadRequest(
            "give schema and url (and copy=true to copy the data)",
        ));
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
        Ok(Ok(names)) => Ok(HttpResponse::Ok()
            .content_type(ContentType::json())
            .body(serde_json::json!({ "imported": names }).to_string())),
        Ok(Err(e)) => Err(AdminFailure::Import(e)),
        Err(e) => Err(AdminFailure::Crashed(e.to_string())),
    }
}
