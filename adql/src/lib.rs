//! # astrolake-adql
//!
//! ADQL 2.1 → DataFusion, as separate stages that can each be tested alone:
//!
//! ```text
//!  ADQL text ──parse──► AST (sqlparser, ADQL dialect)           parse::parse
//!            ──check──► the same AST, validated against tables   check::check
//!            ──translate──► DataFusion LogicalPlan               translate::translate
//!            ──execute──► Arrow record batches (streamed)        execute
//! ```
//!
//! * [`parse()`] knows only the language: syntax errors give line and
//!   column.
//! * [`check::check`] knows the tables ([`Tables`]): unknown tables and
//!   columns (all at once, with suggestions), unknown functions, arity,
//!   argument kinds, geometry misuse, reserved words.
//! * [`translate::translate`] rewrites the AST into DataFusion SQL: ADQL
//!   functions become DataFusion functions and the geometry UDFs of
//!   [`udf`] (exact spherical math in [`geometry`]); spatial conditions
//!   become HEALPix covers pushed into the catalogue's table provider;
//!   positional joins become HEALPix-bucketed equi-joins; result columns
//!   carry units, UCDs and descriptions from the table sidecars.
//! * [`plan`] and [`execute`] run the stages in order.

pub mod budget;
pub mod check;
pub mod error;
pub mod functions;
pub mod geometry;
pub mod limits;
mod natural;
pub mod parse;
mod sql_ast;
pub mod tables;
pub mod translate;
pub mod udf;
pub mod units;

pub use check::{check, check_language, Checked};
pub use error::{AdqlError, Pos, Problem, Result};
pub use limits::QueryLimits;
pub use parse::{parse, parse_with, AdqlDialect, ParseError};
pub use tables::{TableEntry, Tables};
pub use translate::{translate, Translated};

use datafusion::execution::SendableRecordBatchStream;

/// Parse, check and translate an ADQL query within the default
/// [`QueryLimits`].
pub async fn plan(adql: &str, tables: &Tables) -> Result<Translated> {
    plan_with(adql, tables, &QueryLimits::default()).await
}

/// Parse (within `limits`), check and translate an ADQL query.
pub async fn plan_with(adql: &str, tables: &Tables, limits: &QueryLimits) -> Result<Translated> {
    let query = parse_with(adql, limits)?;
    let checked = check(query, tables)?;
    translate(checked, tables).await
}

/// Plan and start an ADQL query; the stream yields its rows.
pub async fn execute(
    adql: &str,
    tables: &Tables,
) -> Result<(Translated, SendableRecordBatchStream)> {
    let t = plan(adql, tables).await?;
    let df = t.dataframe();
    let stream = df.execute_stream().await?;
    Ok((t, stream))
}
