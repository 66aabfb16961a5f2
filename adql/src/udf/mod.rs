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
//! The translator maps ADQL onto these names:
//!
//! | ADQL | UDF |
//! |---|---|
//! | `POINT`, `CIRCLE`, `BOX`, `POLYGON`, `REGION` | `adql_point`, `adql_circle`, `adql_box`, `adql_polygon` (`adql_polygon_of` for one array), `adql_region` |
//! | `CONTAINS`, `INTERSECTS` | `adql_contains`, `adql_intersects` (Int32 1/0) |
//! | `DISTANCE` | `adql_distance` (4 numbers), `adql_distance_geom` (2 points) |
//! | `AREA`, `CENTROID`, `COORD1`, `COORD2`, `COORDSYS` | `adql_area`, `adql_centroid`, `adql_coord1`, `adql_coord2`, `adql_coordsys` |
//! | `CAST(x AS POINT)` ... | `adql_cast_geom('POINT', x)` |
//! | `CONTAINS(POINT(a, b), CIRCLE(...))` fast path | `adql_in_circle(a, b, clon, clat, r)` |
//! | `CONTAINS(POINT(a, b), g)` fast path | `adql_in_geom(a, b, g)` |
//! | positional joins | `adql_cell(depth, lon, lat)` = any of `adql_cone_cells(depth, lon, lat, r)` |
//!
//! The constructors accept the deprecated leading COOSYS string argument of
//! ADQL 2.0 (ignored), and `CIRCLE`/`BOX`/`POLYGON` also take POINT arguments
//! for centres and vertices, as the spec allows.

mod columns;
mod constructors;
mod epoch;
mod healpix;
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
