//! # astrolake-adql
//!
//! ADQL 2.1 → DataFusion, as separate stages that can each be tested alone:
//!
//! ```text
//!  ADQL text ──parse──► AST (sqlparser, ADQL dialect) ──check──► annotated query
//!            ──translate──► DataFusion LogicalPlan (spatial predicates → HEALPix
//!                           covers pushed into astrolake_catalog::provider::TableScanner)
//! ```
//!
//! Implemented so far: the **parse** stage ([`parse()`]), measured against the
//! IVOA lyonetia corpus (`conformance/tests/adql_corpus.rs`). The check and
//! translate stages are issue 4's remaining work; until then
//! `astrolake query` runs plain DataFusion SQL.

pub mod parse;

pub use parse::{parse, AdqlDialect, ParseError};
