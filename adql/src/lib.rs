//! # astrolake-adql
//!
//! ADQL 2.1 → DataFusion: parse → check against table metadata → translate
//! to a logical plan, with spatial predicates turned into HEALPix covers
//! pushed into `astrolake_catalog::provider::TableScanner::with_cover`.
//!
//! Not written yet (issue 4). Until then `astrolake query` runs plain
//! DataFusion SQL.
