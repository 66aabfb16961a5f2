//! Argument typing: the geometry arrow type, the argument kinds each
//! function accepts, coercion and return types.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field};
use datafusion::common::{plan_err, Result};

use crate::functions::Func;

/// The arrow type of geometry values: `List<Float64>` with a nullable
/// `"item"` field (a DALI double array).
pub fn geom_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

// ---------------------------------------------------------------------------
// Argument typing.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// Numeric → Float64.
    Num,
    /// Integral (orders, indexes) → Int64.
    Int,
    /// Geometry: list → List<Float64>, string → Utf8.
    Geom,
    /// String → Utf8.
    Str,
}

pub(super) fn is_str(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_num(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Null)
}

pub(super) fn is_list(t: &DataType) -> bool {
    match t {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => {
            f.data_type().is_numeric() || f.data_type() == &DataType::Null
        }
        _ => false,
    }
}

fn is_geom(t: &DataType) -> bool {
    is_list(t) || is_str(t) || t == &DataType::Null
}

fn fits(kind: Kind, t: &DataType) -> bool {
    match kind {
        Kind::Num | Kind::Int => is_num(t),
        Kind::Geom => is_geom(t),
        Kind::Str => is_str(t) || t == &DataType::Null,
    }
}

fn target(kind: Kind, t: &DataType) -> DataType {
    match kind {
        Kind::Num => DataType::Float64,
        Kind::Int => DataType::Int64,
        Kind::Geom if is_str(t) => DataType::Utf8,
        Kind::Geom => geom_type(),
        Kind::Str => DataType::Utf8,
    }
}

use Kind::{Geom as G, Int as I, Num as N, Str as S};

impl Func {
    /// The accepted argument patterns (after any COOSYS string is stripped).
    fn patterns(self, n: usize) -> Vec<Vec<Kind>> {
        match self {
            Func::Point => vec![vec![N, N]],
            Func::Circle => vec![vec![N, N, N], vec![G, N]],
            Func::Box => vec![vec![N, N, N, N], vec![G, N, N]],
            Func::Polygon => {
                let mut p = Vec::new();
                if n >= 6 && n.is_multiple_of(2) {
                    p.push(vec![N; n]);
                }
                if n >= 3 {
                    p.push(vec![G; n]);
                }
                p
            }
            Func::PolygonOf => vec![vec![G]],
            Func::Region => vec![vec![S]],
            Func::Contains | Func::Intersects | Func::DistanceGeom => vec![vec![G, G]],
            Func::Distance | Func::IntervalOverlaps => vec![vec![N; 4]],
            Func::Area | Func::Centroid | Func::Coord1 | Func::Coord2 | Func::Coordsys => {
                vec![vec![G]]
            }
            Func::InCircle => vec![vec![N; 5]],
            Func::InGeom => vec![vec![N, N, G]],
            Func::CastGeom => vec![vec![S, G]],
            Func::Cell => vec![vec![I, N, N]],
            Func::HealpixIndex => vec![vec![I, N, N], vec![I, G]],
            Func::ConeCells => vec![vec![I, N, N, N]],
            Func::HealpixCenter => vec![vec![I, I]],
            Func::EpochProp | Func::EpochPropPos => vec![vec![N; 8]],
            Func::HasWord | Func::NoCaseMatch | Func::HashlistHas => vec![vec![S, S]],
            Func::Moc => vec![vec![S], vec![I, G]],
        }
    }

    pub(super) fn usage(self) -> &'static str {
        match self {
            Func::Point => "POINT(lon, lat)",
            Func::Circle => "CIRCLE(lon, lat, radius) or CIRCLE(point, radius)",
            Func::Box => "BOX(lon, lat, width, height) or BOX(point, width, height)",
            Func::Polygon => {
                "POLYGON needs at least 3 vertices: POLYGON(lon1, lat1, lon2, lat2, lon3, lat3, ...) \
                 or POLYGON(point1, point2, point3, ...)"
            }
            Func::PolygonOf => "POLYGON(array of lon, lat pairs)",
            Func::Region => "REGION(string)",
            Func::Contains => "CONTAINS(geometry, geometry)",
            Func::Intersects => "INTERSECTS(geometry, geometry)",
            Func::Distance => "DISTANCE(lon1, lat1, lon2, lat2)",
            Func::DistanceGeom => "DISTANCE(point, point)",
            Func::Area => "AREA(geometry)",
            Func::Centroid => "CENTROID(geometry)",
            Func::Coord1 => "COORD1(point)",
            Func::Coord2 => "COORD2(point)",
            Func::Coordsys => "COORDSYS(geometry)",
            Func::InCircle => "adql_in_circle(lon, lat, centre_lon, centre_lat, radius)",
            Func::InGeom => "adql_in_geom(lon, lat, geometry)",
            Func::CastGeom => "adql_cast_geom('POINT' | 'CIRCLE' | 'POLYGON', value)",
            Func::Cell => "adql_cell(depth, lon, lat)",
            Func::ConeCells => "adql_cone_cells(depth, lon, lat, radius)",
            Func::HealpixIndex => {
                "ivo_healpix_index(order, ra, dec) or ivo_healpix_index(order, point)"
            }
            Func::HealpixCenter => "ivo_healpix_center(order, index)",
            Func::EpochProp => {
                "ivo_epoch_prop(ra, dec, parallax, pmra, pmdec, radial_velocity, ref_epoch, out_epoch)"
            }
            Func::EpochPropPos => {
                "ivo_epoch_prop_pos(ra, dec, parallax, pmra, pmdec, radial_velocity, ref_epoch, out_epoch)"
            }
            Func::HasWord => "ivo_hasword(haystack, needle)",
            Func::NoCaseMatch => "ivo_nocasematch(value, pattern)",
            Func::IntervalOverlaps => "ivo_interval_overlaps(low1, high1, low2, high2)",
            Func::HashlistHas => "ivo_hashlist_has(hashlist, item)",
            Func::Moc => "MOC(ascii_moc) or MOC(order, geometry)",
        }
    }

    /// Whether the function takes the deprecated leading COOSYS string.
    pub(super) fn takes_coosys(self) -> bool {
        matches!(self, Func::Point | Func::Circle | Func::Box | Func::Polygon)
    }

    pub(super) fn coerce(self, types: &[DataType]) -> Result<Vec<DataType>> {
        let try_match = |types: &[DataType]| -> Option<Vec<DataType>> {
            self.patterns(types.len()).into_iter().find_map(|p| {
                (p.len() == types.len() && p.iter().zip(types).all(|(k, t)| fits(*k, t)))
                    .then(|| p.iter().zip(types).map(|(k, t)| target(*k, t)).collect())
            })
        };
        if let Some(t) = try_match(types) {
            return Ok(t);
        }
        if self.takes_coosys() && types.first().is_some_and(is_str) {
            if let Some(mut t) = try_match(&types[1..]) {
                t.insert(0, DataType::Utf8);
                return Ok(t);
            }
        }
        let got: Vec<String> = types.iter().map(|t| t.to_string()).collect();
        plan_err!(
            "{}: invalid arguments ({}); expected {}",
            self.adql_name(),
            got.join(", "),
            self.usage()
        )
    }

    pub(super) fn return_type(self) -> DataType {
        match self {
            Func::Point
            | Func::Circle
            | Func::Box
            | Func::Polygon
            | Func::PolygonOf
            | Func::Region
            | Func::Centroid
            | Func::CastGeom
            | Func::HealpixCenter
            | Func::EpochProp
            | Func::EpochPropPos => geom_type(),
            Func::Contains
            | Func::Intersects
            | Func::InCircle
            | Func::InGeom
            | Func::HasWord
            | Func::NoCaseMatch
            | Func::IntervalOverlaps
            | Func::HashlistHas => DataType::Int32,
            Func::Distance | Func::DistanceGeom | Func::Area | Func::Coord1 | Func::Coord2 => {
                DataType::Float64
            }
            Func::Coordsys | Func::Moc => DataType::Utf8,
            Func::Cell | Func::HealpixIndex => DataType::Int64,
            Func::ConeCells => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
            }
        }
    }
}
