//! DataFusion scalar UDFs for the ADQL geometry functions, the HEALPix join
//! helpers, and the DaCHS/RegTAP `ivo_*` functions.
//!
//! Geometry values are arrow `List<Float64>` (DALI double arrays: `point` =
//! `[lon, lat]`, `circle` = `[lon, lat, radius]`, `polygon` = `[lon1, lat1,
//! ...]`, degrees; item field `"item"`, nullable). Geometry arguments may also
//! be strings (STC-S such as ObsCore `s_region`, or DALI strings), parsed per
//! row. Numeric arguments accept any numeric type (coerced to `Float64`, or
//! `Int64` for HEALPix orders and indexes). NULL in any argument gives NULL,
//! except where a function says otherwise (`ivo_epoch_prop*`).
//!
//! Which ADQL function each implements is the function catalogue's
//! ([`crate::functions::FunctionDef::udfs`]); the translator picks among
//! them by the arguments: `CONTAINS(POINT(a, b), CIRCLE(...))` becomes
//! `adql_in_circle(a, b, clon, clat, r)` and `CONTAINS(POINT(a, b), g)`
//! `adql_in_geom(a, b, g)` (fast paths), `DISTANCE` of two points
//! `adql_distance` on their coordinates, one array `adql_polygon_of`;
//! `CAST(x AS POINT)` is `adql_cast_geom('POINT', x)`, and positional
//! joins match `adql_cell(depth, lon, lat)` against any of
//! `adql_cone_cells(depth, lon, lat, r)`.
//!
//! The constructors accept the deprecated leading COOSYS string argument of
//! ADQL 2.0 (ignored), and `CIRCLE`/`BOX`/`POLYGON` also take POINT arguments
//! for centres and vertices, as the spec allows.

mod columns;
mod constructors;
mod epoch;
mod healpix;
mod moc;
mod predicates;
mod registry;
mod strings;
#[cfg(test)]
mod testutil;
mod types;

pub use crate::functions::Func;
pub use registry::{all, register, AdqlUdf};
pub use strings::{has_word, hashlist_has};
pub use types::geom_type;
