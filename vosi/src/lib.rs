//! # astrolake-vosi
//!
//! The VOSI 1.1 documents of the TAP 1.1 service, as pure functions from
//! metadata to XML text:
//!
//! - [`availability()`]: `/availability` (VOSIAvailability 1.0 schema);
//! - [`capabilities()`]: `/capabilities`, with the TAPRegExt description of
//!   the TAP capability (ADQL 2.0 and 2.1, every optional language feature
//!   and UDF the ADQL engine implements, output formats, upload methods,
//!   limits) and the VOSI and DALI examples capabilities;
//! - [`tables()`] and [`table()`]: `/tables` (with `detail=min`) and
//!   `/tables/{schema.table}` (VODataService 1.2 `TableSet` and `Table`),
//!   from [`TableDoc`]s that [`table_docs`] builds from the query tables
//!   and the catalogue manifest ([`select_tables`] for the TAP+
//!   `tables=a,b` parameter), for TAP+ clients ([`tap_plus_client`]) with
//!   the `esatapplus:flags` astroquery's TapPlus reads (declared by
//!   [`ESA_TAP_PLUS_SCHEMA`]);
//! - [`examples()`]: `/examples`, the DALI 1.1 examples document (XHTML with
//!   RDFa), with [`default_examples`] for the catalogue's tables.
//!
//! Every document is written with quick-xml's [`quick_xml::Writer`], which
//! escapes text and attribute values; characters XML 1.0 cannot carry at
//! all (control characters other than tab, newline and carriage return)
//! are replaced by U+FFFD.

mod availability;
mod capabilities;
mod examples;
mod tables;

pub use availability::availability;
pub use capabilities::{
    capabilities, write_capabilities, CapabilitiesConfig, DataLimit, LimitUnit, TimeLimit,
    UploadMethod, ADQL_FEATURE_PREFIX, DALI_EXAMPLES, TAP, TAPREGEXT, VOSI_AVAILABILITY,
    VOSI_CAPABILITIES, VOSI_TABLES,
};
pub use examples::{checked_examples, default_examples, examples, Example};
pub use tables::{
    find_table, select_tables, table, table_docs, tables, tap_plus_client, tap_plus_flags,
    write_tableset, TableDoc, VosiError, ESA_TAP_PLUS_SCHEMA, ESA_TAP_PLUS_SCHEMA_PATH,
};
