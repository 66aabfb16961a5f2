//! # astrolake-vosi
//!
//! VOSI availability, capabilities (TAPRegExt) and tables documents, built
//! from each table's VOTable sidecar (`table-metadata.vot`).
//!
//! Not written yet (issue 5).
