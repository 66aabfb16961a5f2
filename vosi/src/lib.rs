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
//!   and the catalogue manifest;
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
pub mod xml;

pub use availability::availability;
pub use capabilities::{
    capabilities, write_capabilities, CapabilitiesConfig, DataLimit, LimitUnit, TimeLimit,
    UploadMethod, ADQL_FEATURE_PREFIX, DALI_EXAMPLES, TAP, TAPREGEXT, VOSI_AVAILABILITY,
    VOSI_CAPABILITIES, VOSI_TABLES,
};
pub use examples::{checked_examples, default_examples, examples, Example};
pub use tables::{find_table, table, table_docs, tables, write_tableset, TableDoc};

/// Namespace of VOSI availability documents.
pub const NS_VOSI_AVAILABILITY: &str = "http://www.ivoa.net/xml/VOSIAvailability/v1.0";
/// Namespace of VOSI capabilities documents.
pub const NS_VOSI_CAPABILITIES: &str = "http://www.ivoa.net/xml/VOSICapabilities/v1.0";
/// Namespace of VOSI tables documents.
pub const NS_VOSI_TABLES: &str = "http://www.ivoa.net/xml/VOSITables/v1.0";
/// Namespace of VOResource 1.x.
pub const NS_VR: &str = "http://www.ivoa.net/xml/VOResource/v1.0";
/// Namespace of VODataService 1.x (1.2 keeps the 1.1 namespace).
pub const NS_VS: &str = "http://www.ivoa.net/xml/VODataService/v1.1";
/// Namespace of TAPRegExt 1.0.
pub const NS_TR: &str = "http://www.ivoa.net/xml/TAPRegExt/v1.0";
/// Namespace of XML Schema instance attributes (`xsi:type`).
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What can go wrong answering a VOSI request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VosiError {
    /// `/tables/{name}` for a table the service does not have.
    #[error("no table {name}: /tables lists the tables of this service")]
    UnknownTable {
        /// The name asked for.
        name: String,
    },
}
