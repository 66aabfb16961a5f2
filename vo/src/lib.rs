//! The VO vocabulary astrolake speaks, in one place.
//!
//! Every part that reads or writes IVOA documents agrees through this crate:
//!
//! * [`field`]: what the store knows about a column and a table
//!   ([`FieldMeta`], [`TableMeta`]), how declared metadata overlays it, and
//!   the columns as the service delivers them ([`published_fields`]).
//! * [`datatype`]: the one Arrow ↔ VOTable datatype mapping.
//! * [`votable`]: VOTable metadata documents (the store's
//!   `table-metadata.vot` sidecars, VOParquet metadata) written and read;
//!   the VOTable root and FIELD writer the TAP encoders share.
//! * [`xml`]: the document writer of every service document, the character
//!   sanitiser, the reading helpers.
//! * [`ns`]: every XML namespace, declared once.
//!
//! It knows nothing of the store, the query language or any protocol; the
//! store, TAP, UWS, VOSI and the registry use it.

pub mod datatype;
pub mod error;
pub mod field;
pub mod ns;
pub mod votable;
pub mod xml;

pub use datatype::votable_type;
pub use error::MetadataError;
pub use field::{published_fields, unknown_declared_column, FieldMeta, ForeignKey, TableMeta};
