//! The HTTP server: the registry (OAI-PMH, records), the catalogue's
//! files and the admin endpoints at the root, the TAP service under its
//! base path.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, App, HttpServer};

use crate::handlers::{admin, files, registry, tap};
use crate::state::AppState;

/// Serve the registry (OAI-PMH, records) and the catalogue's files at the
/// server root, and the TAP service under its base path, until stopped.
pub async fn serve(state: AppState, bind: &str) -> std::io::Result<()> {
    let state = web::Data::from(Arc::new(state));
    HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::DefaultHeaders::new().add((
                header::SERVER,
                concat!("astrolake/", env!("CARGO_PKG_VERSION")),
            )))
            .configure(|cfg| routes(cfg, &state))
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

/// Every route of the server with its state: the registry (OAI-PMH,
/// records), the catalogue's files and the admin endpoints at the root,
/// the TAP service under its base path. Tests mount the same in-process
/// (`actix_web::test::init_service(App::new().configure(...))`).
pub fn routes(cfg: &mut web::ServiceConfig, state: &web::Data<AppState>) {
    let base = state.base_path.trim_end_matches('/').to_string();
    let oai_path = state.oai_path.clone();
    cfg.app_data(state.clone())
        .route(&oai_path, web::get().to(registry::oai))
        .route(&oai_path, web::post().to(registry::oai))
        .route("/registry", web::get().to(registry::registry_record))
        .route(
            "/registry/{tail:.*}",
            web::get().to(registry::registry_record),
        )
        .route(
            astrolake_vosi::ESA_TAP_PLUS_SCHEMA_PATH,
            web::get().to(tap::esa_tap_plus_schema),
        )
        .route("/admin/import", web::post().to(admin::admin_import))
        .route("/catalogue/{tail:.*}", web::get().to(files::get))
        .route("/catalogue/{tail:.*}", web::head().to(files::get))
        .service(web::scope(&base).configure(|cfg| tap::routes(cfg, state)));
}
