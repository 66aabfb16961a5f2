//! The HTTP handlers, by service: each one thin, mapping a request onto
//! the library crates and their answer (or error, through
//! [`crate::error`]) onto a response.

pub mod admin;
pub mod files;
pub mod registry;
pub mod tap;

use actix_web::HttpResponse;

pub(crate) fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml; charset=utf-8")
        .body(body)
}
