//! The engine's functions: [`Func`], one variant per UDF, with the SQL
//! name it is registered under; the ADQL function each implements is the
//! catalogue's ([`super::FunctionDef::udfs`]).

/// Every function of this module; [`Func::udf`] builds its [`ScalarUDF`](datafusion::logical_expr::ScalarUDF).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// `adql_point(lon, lat)` → point.
    Point,
    /// `adql_circle(lon, lat, r)` or `adql_circle(point, r)` → circle.
    Circle,
    /// `adql_box(lon, lat, width, height)` or `adql_box(point, w, h)` → polygon.
    Box,
    /// `adql_polygon(lon1, lat1, lon2, lat2, ...)` or `adql_polygon(p1, p2, p3, ...)`.
    Polygon,
    /// `adql_polygon_of(array)`: a polygon from one array of coordinates.
    PolygonOf,
    /// `adql_region(text)`: geometry from an STC-S string (or a DALI array
    /// string such as `'10 20 0.5'`).
    Region,
    /// `adql_contains(g1, g2)` → Int32: 1 when g1 lies within g2.
    Contains,
    /// `adql_intersects(g1, g2)` → Int32.
    Intersects,
    /// `adql_distance(lon1, lat1, lon2, lat2)` → Float64 degrees.
    Distance,
    /// `adql_distance_geom(p1, p2)` → Float64 degrees (points only).
    DistanceGeom,
    /// `adql_area(g)` → Float64 square degrees.
    Area,
    /// `adql_centroid(g)` → point.
    Centroid,
    /// `adql_coord1(p)` → Float64.
    Coord1,
    /// `adql_coord2(p)` → Float64.
    Coord2,
    /// `adql_coordsys(g)` → Utf8, always `'ICRS'`.
    Coordsys,
    /// `adql_in_circle(lon, lat, clon, clat, r)` → Int32 (fast CONTAINS).
    InCircle,
    /// `adql_in_geom(lon, lat, g)` → Int32 (fast CONTAINS of a position).
    InGeom,
    /// `adql_cast_geom(kind, x)`: CAST to POINT/CIRCLE/POLYGON.
    CastGeom,
    /// `adql_cell(depth, lon, lat)` → Int64 NESTED cell.
    Cell,
    /// `adql_cone_cells(depth, lon, lat, r)` → List<Int64>.
    ConeCells,
    /// `ivo_healpix_index(order, ra, dec)` or `ivo_healpix_index(order, point)`
    /// → Int64 NESTED index.
    HealpixIndex,
    /// `ivo_healpix_center(order, index)` → point.
    HealpixCenter,
    /// `ivo_epoch_prop(ra, dec, parallax, pmra, pmdec, rv, ref_epoch, out_epoch)`.
    EpochProp,
    /// `ivo_epoch_prop_pos(...)`: the position of `ivo_epoch_prop` as a point.
    EpochPropPos,
    /// `ivo_hasword(haystack, needle)` → Int32.
    HasWord,
    /// `ivo_nocasematch(value, pattern)` → Int32.
    NoCaseMatch,
    /// `ivo_interval_overlaps(l1, h1, l2, h2)` → Int32.
    IntervalOverlaps,
    /// `ivo_hashlist_has(hashlist, item)` → Int32.
    HashlistHas,
    /// `adql_moc(text)` or `adql_moc(order, geometry)` → Utf8 ASCII MOC.
    Moc,
}

impl Func {
    /// All functions, in registration order.
    pub const ALL: [Func; 29] = [
        Func::Point,
        Func::Circle,
        Func::Box,
        Func::Polygon,
        Func::PolygonOf,
        Func::Region,
        Func::Contains,
        Func::Intersects,
        Func::Distance,
        Func::DistanceGeom,
        Func::Area,
        Func::Centroid,
        Func::Coord1,
        Func::Coord2,
        Func::Coordsys,
        Func::InCircle,
        Func::InGeom,
        Func::CastGeom,
        Func::Cell,
        Func::ConeCells,
        Func::HealpixIndex,
        Func::HealpixCenter,
        Func::EpochProp,
        Func::EpochPropPos,
        Func::HasWord,
        Func::NoCaseMatch,
        Func::IntervalOverlaps,
        Func::HashlistHas,
        Func::Moc,
    ];

    /// The SQL name the UDF is registered under.
    pub const fn name(self) -> &'static str {
        match self {
            Func::Point => "adql_point",
            Func::Circle => "adql_circle",
            Func::Box => "adql_box",
            Func::Polygon => "adql_polygon",
            Func::PolygonOf => "adql_polygon_of",
            Func::Region => "adql_region",
            Func::Contains => "adql_contains",
            Func::Intersects => "adql_intersects",
            Func::Distance => "adql_distance",
            Func::DistanceGeom => "adql_distance_geom",
            Func::Area => "adql_area",
            Func::Centroid => "adql_centroid",
            Func::Coord1 => "adql_coord1",
            Func::Coord2 => "adql_coord2",
            Func::Coordsys => "adql_coordsys",
            Func::InCircle => "adql_in_circle",
            Func::InGeom => "adql_in_geom",
            Func::CastGeom => "adql_cast_geom",
            Func::Cell => "adql_cell",
            Func::ConeCells => "adql_cone_cells",
            Func::HealpixIndex => "ivo_healpix_index",
            Func::HealpixCenter => "ivo_healpix_center",
            Func::EpochProp => "ivo_epoch_prop",
            Func::EpochPropPos => "ivo_epoch_prop_pos",
            Func::HasWord => "ivo_hasword",
            Func::NoCaseMatch => "ivo_nocasematch",
            Func::IntervalOverlaps => "ivo_interval_overlaps",
            Func::HashlistHas => "ivo_hashlist_has",
            Func::Moc => "adql_moc",
        }
    }

    /// The name users know, for error messages (`POLYGON`, `CONTAINS`,
    /// ...): the ADQL function of the catalogue this one implements, its
    /// own name for the join helpers.
    pub fn adql_name(self) -> &'static str {
        if self == Func::CastGeom {
            return "CAST";
        }
        super::FUNCTIONS
            .iter()
            .find(|d| d.udfs.contains(&self))
            .map_or(self.name(), |d| d.name)
    }

    /// Looks a function up by its SQL name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}
