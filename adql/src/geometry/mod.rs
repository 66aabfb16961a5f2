//! Exact spherical geometry on the unit sphere for the ADQL geometry functions.
//!
//! Everything here is pure Rust (no DataFusion): the shapes ADQL knows
//! ([`Geom`]: POINT, CIRCLE, POLYGON; BOX becomes a POLYGON), their DALI
//! serialisation (`point` = `[lon, lat]`, `circle` = `[lon, lat, radius]`,
//! `polygon` = `[lon1, lat1, lon2, lat2, ...]`, all in degrees), STC-S
//! parsing for `REGION`, the predicates `CONTAINS` and `INTERSECTS`,
//! `DISTANCE`, `AREA`, `CENTROID`, and HEALPix covers that turn spatial
//! predicates into range scans on the `_healpix_29` column or into equi-joins.
//!
//! # Conventions
//!
//! * All angles at the API are degrees; internally, unit vectors.
//! * Polygon edges are great-circle arcs (shorter than 180°). A polygon is the
//!   *smaller* of the two regions its boundary bounds, whatever the vertex
//!   order (as DaCHS/pgsphere do), so it never covers more than a hemisphere.
//! * Boundaries are inclusive: a point on the boundary of a shape (within
//!   [`EPS_DEG`], about 36 nano-arcseconds) is inside it.
//! * Coordinates are ICRS; STC-S in other frames is converted (see
//!   [`parse_stcs`]).

mod astrometry;
mod cover;
mod error;
mod join;
mod polygon;
mod prepared;
mod shapes;
mod sphere;
mod stcs;
#[cfg(test)]
mod testutil;

pub use astrometry::{epoch_prop, Astrometry};
pub use cover::{cover, cover_depth, HEALPIX_ORDER, MAX_COVER_DEPTH};
pub use error::GeomError;
pub use join::{cell, cell_center, cone_cells, join_depth};
pub use prepared::{area_sq_deg, centroid, contains, intersects, Prepared};
pub use shapes::Geom;
pub use sphere::{distance_deg, in_circle, ConeTest, EPS_DEG};
pub use stcs::{parse_dali_values, parse_geom_text, parse_stcs};
