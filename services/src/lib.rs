//! # astrolake-services
//!
//! The `astrolake` binary's library: the command line, and the HTTP
//! services over the library crates. A request travels
//!
//! ```text
//!  HTTP ──server──► handlers::{tap, registry, admin, files} ──► astrolake_tap / _vosi / _registry
//!       (router)     (thin: request → library call → response)    (the work)
//!                         │ errors ──error──► status + body (one policy)
//!                         └ shared state ──state──► served (tables, /tables, examples, records)
//!                                                   jobs (UWS executor: the same query path as /sync)
//! ```
//!
//! Layers, each using only those below it (checked by
//! `conformance/tests/architecture.rs`):
//!
//! 1. [`config`]: the TOML configuration and its environment overrides.
//! 2. [`site`]: the site's public URLs and the TAP capabilities.
//! 3. [`publish`]: the registry records of the catalogue.
//! 4. [`served`]: everything served from the tables, built and swapped as
//!    a whole; the shared query runtime.
//! 5. [`exchange`]: export and import (the admin import swaps in a new
//!    [`served::Served`]).
//! 6. [`jobs`]: the UWS executor for async TAP queries.
//! 7. [`state`]: what every handler shares; [`error`]: the error policy.
//! 8. [`handlers`]: one module per service; [`server`]: the router.
//! 9. [`cli`] (the grammar) and [`commands`] (what each subcommand does).

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod exchange;
pub mod handlers;
pub mod jobs;
pub mod publish;
pub mod served;
pub mod server;
pub mod site;
pub mod state;
