//! # astrolake-registry
//!
//! VOResource records for the service and every catalogue, served over
//! OAI-PMH.
//!
//! Not written yet (issue 6).
