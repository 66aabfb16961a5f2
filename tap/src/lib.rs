//! # astrolake-tap
//!
//! TAP 1.1 without HTTP, so every stage can be tested alone:
//!
//! ```text
//!  request parameters ──params──► TapRequest (LANG, QUERY, MAXREC, format, uploads)
//!  catalogue + uploads ──tap_schema / upload──► astrolake_adql::Tables
//!  ADQL ──astrolake_adql──► record batches ──formats──► bytes, streamed
//! ```
//!
//! The HTTP layer (`services/`) only maps requests onto these functions and
//! errors onto statuses.

pub mod formats;
pub mod params;
pub mod query;
pub mod tap_schema;
pub mod upload;
