//! # astrolake-tap
//!
//! TAP 1.1 without HTTP, so every stage can be tested alone:
//!
//! ```text
//!  request parameters ──params──► TapRequest (LANG, QUERY, MAXREC, format, uploads)
//!  catalogue + uploads ──tap_schema / upload──► astrolake_adql::Tables
//!  ADQL ──astrolake_adql──► record batches ──formats──► bytes, streamed
//!                                                     ──► the Outcome, last
//! ```
//!
//! [`query::start`] is the one path of a query, sync or async: the HTTP
//! layer (`services/`) checks the parameters ([`params::parse`]), calls it,
//! and sends or stores the bytes; [`error`] says what a client is told of
//! a failure and whose fault it is, and the HTTP layer only turns that
//! into a status.

pub mod error;
pub mod formats;
pub mod params;
pub mod query;
pub mod tap_schema;
pub mod upload;
