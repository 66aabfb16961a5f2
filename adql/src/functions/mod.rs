//! The one function catalogue: the functions ADQL queries may call (the
//! ADQL 2.1 core and optional features, and the user-defined functions of
//! DaCHS and RegTAP), each with the engine functions ([`Func`], the UDFs
//! of [`crate::udf`]) a call becomes. The check stage validates calls
//! against [`FUNCTIONS`], the translate stage maps them onto the
//! [`FunctionDef::udfs`] (or DataFusion's own functions), the UDFs name
//! themselves in messages by the ADQL function they implement
//! ([`Func::adql_name`]), and VOSI declares [`FUNCTIONS`] in TAPRegExt.
//! Every name is written once: the ADQL names here, the engine's SQL names
//! in [`Func::name`].

mod udfs;

pub use udfs::Func;

/// What an argument or result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A number.
    Num,
    /// A character string.
    Str,
    /// A point.
    Point,
    /// A circle.
    Circle,
    /// A polygon.
    Polygon,
    /// Any geometry (point, circle, polygon).
    Geom,
    /// A double array (not a geometry).
    Array,
    /// A MOC (ASCII, as `MOC(…)` gives and `xtype="moc"` columns hold).
    Moc,
    /// Anything.
    Any,
}

impl Kind {
    /// Whether the kind is a geometry.
    pub fn is_geom(self) -> bool {
        matches!(
            self,
            Kind::Point | Kind::Circle | Kind::Polygon | Kind::Geom
        )
    }
    /// Whether a value of kind `self` may be passed where `want` is expected.
    pub fn fits(self, want: Kind) -> bool {
        match (self, want) {
            (Kind::Any, _) | (_, Kind::Any) => true,
            (Kind::Geom, w) => w.is_geom(),
            (s, Kind::Geom) => s.is_geom(),
            (s, w) => s == w,
        }
    }
    /// Its ADQL name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Num => "a number",
            Kind::Str => "a string",
            Kind::Point => "a POINT",
            Kind::Circle => "a CIRCLE",
            Kind::Polygon => "a POLYGON",
            Kind::Geom => "a geometry",
            Kind::Array => "an array",
            Kind::Moc => "a MOC",
            Kind::Any => "a value",
        }
    }
}

/// The TAPRegExt feature a function belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Core ADQL (mathematical, trigonometric, aggregate functions).
    Core,
    /// `ivo://ivoa.net/std/TAPRegExt#features-adqlgeo`.
    Geometry,
    /// `ivo://ivoa.net/std/TAPRegExt#features-adql-string`.
    String,
    /// `ivo://ivoa.net/std/TAPRegExt#features-adql-conditional`.
    Conditional,
    /// `ivo://ivoa.net/std/TAPRegExt#features-adql-unit`.
    Unit,
    /// `ivo://ivoa.net/std/TAPRegExt#features-udf`.
    Udf,
    /// `ivo://org.gavo.dc/std/exts#extra-adql-keywords` (GAVO DaCHS's
    /// extensions, of which pyvo's spatial registry search needs `MOC`).
    Moc,
}

/// One overload of a function.
#[derive(Debug, Clone, Copy)]
pub struct Overload {
    /// Argument kinds; for variadic functions the last one repeats.
    pub args: &'static [Kind],
    /// Whether the last argument kind repeats (at least once).
    pub variadic: bool,
    /// What it returns.
    pub ret: Kind,
}

/// A function ADQL may call.
#[derive(Debug, Clone, Copy)]
pub struct FunctionDef {
    /// Upper-case ADQL name (UDFs lower-case, as they are declared).
    pub name: &'static str,
    /// Its overloads.
    pub overloads: &'static [Overload],
    /// Aggregate function.
    pub aggregate: bool,
    /// Feature it belongs to.
    pub feature: Feature,
    /// TAPRegExt signature (UDFs only) and description.
    pub signature: &'static str,
    /// The engine functions a call becomes (the translator picks one by
    /// the arguments: `CONTAINS(POINT(…), CIRCLE(…))` is
    /// `adql_in_circle`); empty where DataFusion's own function or a
    /// rewrite does the work (`ABS`, `IN_UNIT`, `ivo_string_agg`).
    pub udfs: &'static [Func],
    /// One-line description.
    pub description: &'static str,
}

use Kind::*;

const fn o(args: &'static [Kind], ret: Kind) -> Overload {
    Overload {
        args,
        variadic: false,
        ret,
    }
}
const fn v(args: &'static [Kind], ret: Kind) -> Overload {
    Overload {
        args,
        variadic: true,
        ret,
    }
}
const fn f(
    name: &'static str,
    overloads: &'static [Overload],
    feature: Feature,
    description: &'static str,
) -> FunctionDef {
    FunctionDef {
        name,
        overloads,
        aggregate: false,
        feature,
        signature: "",
        udfs: &[],
        description,
    }
}
/// A geometry function, done by the engine functions `udfs`.
const fn g(
    name: &'static str,
    overloads: &'static [Overload],
    udfs: &'static [Func],
    description: &'static str,
) -> FunctionDef {
    FunctionDef {
        udfs,
        ..f(name, overloads, Feature::Geometry, description)
    }
}
/// A user-defined function: one engine function, under its own name.
const fn udf(
    func: &'static [Func; 1],
    overloads: &'static [Overload],
    signature: &'static str,
    description: &'static str,
) -> FunctionDef {
    FunctionDef {
        name: func[0].name(),
        overloads,
        aggregate: false,
        feature: Feature::Udf,
        signature,
        udfs: func,
        description,
    }
}
const fn agg(name: &'static str, description: &'static str) -> FunctionDef {
    FunctionDef {
        name,
        overloads: ANY1,
        aggregate: true,
        feature: Feature::Core,
        signature: "",
        udfs: &[],
        description,
    }
}

const ANY1: &[Overload] = &[o(&[Any], Any)];
const N1: &[Overload] = &[o(&[Num], Num)];
const N2: &[Overload] = &[o(&[Num, Num], Num)];

/// Every function, in TAPRegExt order.
pub static FUNCTIONS: &[FunctionDef] = &[
    f("ABS", N1, Feature::Core, "absolute value"),
    f("ACOS", N1, Feature::Core, "arc cosine, radians"),
    f("ASIN", N1, Feature::Core, "arc sine, radians"),
    f("ATAN", N1, Feature::Core, "arc tangent, radians"),
    f("ATAN2", N2, Feature::Core, "arc tangent of y/x, radians"),
    f("CEILING", N1, Feature::Core, "smallest integer not less than x"),
    f("COS", N1, Feature::Core, "cosine of radians"),
    f("COT", N1, Feature::Core, "cotangent of radians"),
    f("DEGREES", N1, Feature::Core, "radians to degrees"),
    f("EXP", N1, Feature::Core, "e to the power x"),
    f("FLOOR", N1, Feature::Core, "largest integer not greater than x"),
    f("LOG", N1, Feature::Core, "natural logarithm"),
    f("LOG10", N1, Feature::Core, "base-10 logarithm"),
    f("MOD", N2, Feature::Core, "remainder of x/y"),
    f("PI", &[o(&[], Num)], Feature::Core, "pi"),
    f("POWER", N2, Feature::Core, "x to the power y"),
    f("RADIANS", N1, Feature::Core, "degrees to radians"),
    f(
        "RAND",
        &[o(&[], Num), o(&[Num], Num)],
        Feature::Core,
        "random number in [0, 1)",
    ),
    f(
        "ROUND",
        &[o(&[Num], Num), o(&[Num, Num], Num)],
        Feature::Core,
        "round to n decimal places",
    ),
    f("SIN", N1, Feature::Core, "sine of radians"),
    f("SQRT", N1, Feature::Core, "square root"),
    f("TAN", N1, Feature::Core, "tangent of radians"),
    f(
        "TRUNCATE",
        &[o(&[Num], Num), o(&[Num, Num], Num)],
        Feature::Core,
        "truncate to n decimal places",
    ),
    agg("COUNT", "number of rows or non-NULL values"),
    agg("SUM", "sum"),
    agg("AVG", "mean"),
    agg("MIN", "minimum"),
    agg("MAX", "maximum"),
    f("LOWER", &[o(&[Str], Str)], Feature::String, "lower case"),
    f("UPPER", &[o(&[Str], Str)], Feature::String, "upper case"),
    f(
        "COALESCE",
        &[v(&[Any], Any)],
        Feature::Conditional,
        "first non-NULL argument",
    ),
    f(
        "IN_UNIT",
        &[o(&[Num, Str], Num)],
        Feature::Unit,
        "a value converted to another unit",
    ),
    // Geometry: the optional leading coordinate-system string is removed
    // before these signatures are checked.
    g(
        "POINT",
        &[o(&[Num, Num], Point)],
        &[Func::Point],
        "a point",
    ),
    g(
        "CIRCLE",
        &[o(&[Num, Num, Num], Circle), o(&[Point, Num], Circle)],
        &[Func::Circle],
        "a circle (centre, radius in degrees)",
    ),
    g(
        "BOX",
        &[o(&[Num, Num, Num, Num], Polygon), o(&[Point, Num, Num], Polygon)],
        &[Func::Box],
        "a box (centre, width, height in degrees)",
    ),
    g(
        "POLYGON",
        &[v(&[Num], Polygon), v(&[Point], Polygon)],
        &[Func::Polygon, Func::PolygonOf],
        "a spherical polygon from its vertices",
    ),
    g(
        "REGION",
        &[o(&[Str], Geom)],
        &[Func::Region],
        "a geometry from STC-S",
    ),
    g(
        "CENTROID",
        &[o(&[Geom], Point)],
        &[Func::Centroid],
        "the centre of a geometry",
    ),
    g(
        "CONTAINS",
        &[
            o(&[Geom, Geom], Num),
            o(&[Geom, Moc], Num),
            o(&[Moc, Geom], Num),
            o(&[Moc, Moc], Num),
        ],
        &[Func::Contains, Func::InCircle, Func::InGeom],
        "1 if the first geometry (or MOC) lies within the second",
    ),
    g(
        "INTERSECTS",
        &[
            o(&[Geom, Geom], Num),
            o(&[Geom, Moc], Num),
            o(&[Moc, Geom], Num),
            o(&[Moc, Moc], Num),
        ],
        &[Func::Intersects, Func::InGeom],
        "1 if the geometries overlap",
    ),
    FunctionDef {
        udfs: &[Func::Moc],
        ..f(
            "MOC",
            &[o(&[Str], Moc), o(&[Num, Geom], Moc)],
            Feature::Moc,
            "a MOC from its ASCII form, or the cells of an order a geometry touches",
        )
    },
    g(
        "DISTANCE",
        &[o(&[Point, Point], Num), o(&[Num, Num, Num, Num], Num)],
        &[Func::Distance, Func::DistanceGeom],
        "great-circle distance in degrees",
    ),
    g(
        "AREA",
        &[o(&[Geom], Num)],
        &[Func::Area],
        "area in square degrees",
    ),
    g(
        "COORD1",
        &[o(&[Point], Num)],
        &[Func::Coord1],
        "longitude of a point",
    ),
    g(
        "COORD2",
        &[o(&[Point], Num)],
        &[Func::Coord2],
        "latitude of a point",
    ),
    g(
        "COORDSYS",
        &[o(&[Geom], Str)],
        &[Func::Coordsys],
        "coordinate system of a geometry",
    ),
    udf(
        &[Func::HealpixIndex],
        &[o(&[Num, Num, Num], Num)],
        "ivo_healpix_index(hpxorder INTEGER, ra DOUBLE PRECISION, dec DOUBLE PRECISION) -> BIGINT",
        "The nested HEALPix index of a position (degrees) at the given order.",
    ),
    udf(
        &[Func::HealpixCenter],
        &[o(&[Num, Num], Point)],
        "ivo_healpix_center(hpxorder INTEGER, hpxindex BIGINT) -> POINT",
        "The centre of a nested HEALPix cell.",
    ),
    udf(
        &[Func::EpochProp],
        &[o(&[Num, Num, Num, Num, Num, Num, Num, Num], Array)],
        "ivo_epoch_prop(ra DOUBLE PRECISION, dec DOUBLE PRECISION, parallax DOUBLE PRECISION, pmra DOUBLE PRECISION, pmdec DOUBLE PRECISION, radial_velocity DOUBLE PRECISION, ref_epoch DOUBLE PRECISION, out_epoch DOUBLE PRECISION) -> DOUBLE PRECISION[6]",
        "Rigorous proper-motion propagation of the six astrometric parameters (deg, mas, mas/yr, km/s) from ref_epoch to out_epoch (Julian years); NULL parallax or radial velocity count as 0.",
    ),
    udf(
        &[Func::EpochPropPos],
        &[o(&[Num, Num, Num, Num, Num, Num, Num, Num], Point)],
        "ivo_epoch_prop_pos(ra DOUBLE PRECISION, dec DOUBLE PRECISION, parallax DOUBLE PRECISION, pmra DOUBLE PRECISION, pmdec DOUBLE PRECISION, radial_velocity DOUBLE PRECISION, ref_epoch DOUBLE PRECISION, out_epoch DOUBLE PRECISION) -> POINT",
        "The position at out_epoch, as ivo_epoch_prop computes it.",
    ),
    udf(
        &[Func::HasWord],
        &[o(&[Str, Str], Num)],
        "ivo_hasword(haystack TEXT, needle TEXT) -> INTEGER",
        "1 if needle occurs as a word in haystack, case-insensitively (RegTAP).",
    ),
    udf(
        &[Func::NoCaseMatch],
        &[o(&[Str, Str], Num)],
        "ivo_nocasematch(value TEXT, pattern TEXT) -> INTEGER",
        "1 if value matches the LIKE pattern case-insensitively (RegTAP).",
    ),
    FunctionDef {
        name: "ivo_string_agg",
        overloads: &[o(&[Str, Str], Str)],
        aggregate: true,
        feature: Feature::Udf,
        signature: "ivo_string_agg(expr TEXT, delimiter TEXT) -> TEXT",
        udfs: &[],
        description: "The values of a group joined with a delimiter (RegTAP).",
    },
    udf(
        &[Func::IntervalOverlaps],
        &[o(&[Num, Num, Num, Num], Num)],
        "ivo_interval_overlaps(l1 NUMERIC, h1 NUMERIC, l2 NUMERIC, h2 NUMERIC) -> INTEGER",
        "1 if the intervals [l1, h1] and [l2, h2] overlap (RegTAP).",
    ),
    udf(
        &[Func::HashlistHas],
        &[o(&[Str, Str], Num)],
        "ivo_hashlist_has(hashlist TEXT, item TEXT) -> INTEGER",
        "1 if item is one of the #-separated words of hashlist, case-insensitively (RegTAP).",
    ),
];

/// The function of a name (case-insensitive).
pub fn lookup(name: &str) -> Option<&'static FunctionDef> {
    FUNCTIONS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Whether `name` is a geometry constructor that accepts an optional
/// leading coordinate-system string.
pub fn takes_coordsys(name: &str) -> bool {
    ["POINT", "CIRCLE", "BOX", "POLYGON"]
        .iter()
        .any(|g| g.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engine_function_implements_a_catalogue_function() {
        for func in Func::ALL {
            // The positional-join helpers and CAST are not functions a
            // query calls.
            let helper = matches!(func, Func::Cell | Func::ConeCells | Func::CastGeom);
            let implements = FUNCTIONS.iter().any(|d| d.udfs.contains(&func));
            assert!(helper != implements, "{func:?}");
            assert_eq!(Func::from_name(func.name()), Some(func));
        }
        for d in FUNCTIONS.iter().filter(|d| d.feature == Feature::Udf) {
            assert!(
                d.udfs.iter().all(|u| u.name() == d.name),
                "{} is done by {:?}",
                d.name,
                d.udfs
            );
        }
        assert_eq!(Func::InGeom.adql_name(), "CONTAINS");
        assert_eq!(Func::PolygonOf.adql_name(), "POLYGON");
        assert_eq!(Func::HasWord.adql_name(), "ivo_hasword");
        assert_eq!(Func::Cell.adql_name(), "adql_cell");
        assert_eq!(Func::CastGeom.adql_name(), "CAST");
    }
}
