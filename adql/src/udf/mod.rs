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

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, ArrowPrimitiveType, AsArray, Float64Builder, Int32Array,
    Int64Builder, ListArray, ListBuilder, PrimitiveArray, Scalar, StringArray, StringBuilder,
};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::kernels::cast::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type};
use datafusion::common::{exec_err, plan_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::geometry::{self, ConeTest, Geom, GeomError, Prepared};

/// The arrow type of geometry values: `List<Float64>` with a nullable
/// `"item"` field (a DALI double array).
pub fn geom_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

/// Upper bound on the cells `adql_cone_cells` returns for one row.
const MAX_CONE_CELLS: f64 = 1_000_000.0;

/// Every function of this module; [`Func::udf`] builds its [`ScalarUDF`].
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
}

impl Func {
    /// All functions, in registration order.
    pub const ALL: [Func; 28] = [
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
    ];

    /// The SQL name the UDF is registered under.
    pub fn name(self) -> &'static str {
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
        }
    }

    /// The name users know, for error messages (`POLYGON`, `CONTAINS`, ...).
    pub fn adql_name(self) -> &'static str {
        match self {
            Func::Point => "POINT",
            Func::Circle => "CIRCLE",
            Func::Box => "BOX",
            Func::Polygon | Func::PolygonOf => "POLYGON",
            Func::Region => "REGION",
            Func::Contains | Func::InCircle | Func::InGeom => "CONTAINS",
            Func::Intersects => "INTERSECTS",
            Func::Distance | Func::DistanceGeom => "DISTANCE",
            Func::Area => "AREA",
            Func::Centroid => "CENTROID",
            Func::Coord1 => "COORD1",
            Func::Coord2 => "COORD2",
            Func::Coordsys => "COORDSYS",
            Func::CastGeom => "CAST",
            other => other.name(),
        }
    }

    /// Looks a function up by its SQL name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// The DataFusion UDF for this function.
    pub fn udf(self) -> ScalarUDF {
        ScalarUDF::new_from_impl(AdqlUdf::new(self))
    }
}

/// All the UDFs of this module.
pub fn all() -> Vec<ScalarUDF> {
    Func::ALL.into_iter().map(Func::udf).collect()
}

/// Registers every UDF of this module with `ctx`, and the catalogue's
/// HEALPix cover filter the translator writes
/// ([`astrolake_catalog::cover`]).
pub fn register(ctx: &SessionContext) {
    for f in all() {
        ctx.register_udf(f);
    }
    ctx.register_udf(astrolake_catalog::cover::cover_udf());
}

/// The [`ScalarUDFImpl`] behind every function of this module; `func` says
/// which one.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AdqlUdf {
    func: Func,
    signature: Signature,
}

impl AdqlUdf {
    /// The implementation of `func`.
    pub fn new(func: Func) -> AdqlUdf {
        AdqlUdf {
            func,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// Which function this is.
    pub fn func(&self) -> Func {
        self.func
    }
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

fn is_str(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_num(t: &DataType) -> bool {
    t.is_numeric() || matches!(t, DataType::Null)
}

fn is_list(t: &DataType) -> bool {
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
        }
    }

    fn usage(self) -> &'static str {
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
        }
    }

    /// Whether the function takes the deprecated leading COOSYS string.
    fn takes_coosys(self) -> bool {
        matches!(self, Func::Point | Func::Circle | Func::Box | Func::Polygon)
    }

    fn coerce(self, types: &[DataType]) -> Result<Vec<DataType>> {
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

    fn return_type(self) -> DataType {
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
            Func::Coordsys => DataType::Utf8,
            Func::Cell | Func::HealpixIndex => DataType::Int64,
            Func::ConeCells => {
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
            }
        }
    }
}

impl ScalarUDFImpl for AdqlUdf {
    fn name(&self) -> &str {
        self.func.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.func.coerce(arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.func.return_type())
    }

    fn is_strict(&self) -> bool {
        !matches!(self.func, Func::EpochProp | Func::EpochPropPos)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let f = self.func;
        let mut a: &[ColumnarValue] = &args.args;
        if f.takes_coosys()
            && a.len() > 2
            && args
                .arg_fields
                .first()
                .is_some_and(|fl| is_str(fl.data_type()))
        {
            a = &a[1..];
        }
        let out = match f {
            Func::Point => point(f, a, n)?,
            Func::Circle => circle(f, a, n)?,
            Func::Box => make_box(f, a, n)?,
            Func::Polygon => polygon(f, a, n)?,
            Func::PolygonOf => polygon_of(f, a, n)?,
            Func::Region => region(f, a, n)?,
            Func::Contains | Func::Intersects => predicate(f, a, n)?,
            Func::Distance => {
                let c = f64_cols::<4>(a)?;
                map_prim::<4, Float64Type, Float64Type>(&c, n, |[a, b, c, d]| {
                    geometry::distance_deg(a, b, c, d)
                })
            }
            Func::DistanceGeom => distance_geom(f, a, n)?,
            Func::Area => area(f, a, n)?,
            Func::Centroid => centroid(f, a, n)?,
            Func::Coord1 | Func::Coord2 => coord(f, a, n)?,
            Func::Coordsys => coordsys(f, a, n)?,
            Func::InCircle => in_circle(a, n)?,
            Func::InGeom => in_geom(f, a, n)?,
            Func::CastGeom => cast_geom(f, a, n)?,
            Func::Cell | Func::HealpixIndex => cell(f, a, n)?,
            Func::ConeCells => cone_cells(f, a, n)?,
            Func::HealpixCenter => healpix_center(f, a, n)?,
            Func::EpochProp | Func::EpochPropPos => epoch_prop(f, a, n)?,
            Func::HasWord | Func::HashlistHas => word_match(f, a, n)?,
            Func::NoCaseMatch => nocasematch(a, n)?,
            Func::IntervalOverlaps => {
                let c = f64_cols::<4>(a)?;
                map_prim::<4, Float64Type, Int32Type>(&c, n, |[l1, h1, l2, h2]| {
                    i32::from(l1 <= h2 && l2 <= h1)
                })
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

// ---------------------------------------------------------------------------
// Column access.

/// A primitive argument: a constant or an array, no per-row allocation.
enum Col<T: ArrowPrimitiveType> {
    Const(Option<T::Native>),
    Array(PrimitiveArray<T>),
}

impl<T: ArrowPrimitiveType> Col<T> {
    fn new(cv: &ColumnarValue) -> Result<Col<T>> {
        match cv {
            ColumnarValue::Scalar(s) => {
                if s.is_null() {
                    return Ok(Col::Const(None));
                }
                let arr = s.cast_to(&T::DATA_TYPE)?.to_array()?;
                let arr = arr.as_primitive::<T>();
                Ok(Col::Const(arr.is_valid(0).then(|| arr.value(0))))
            }
            ColumnarValue::Array(a) => {
                if a.data_type() == &DataType::Null {
                    return Ok(Col::Const(None));
                }
                let a = if a.data_type() == &T::DATA_TYPE {
                    Arc::clone(a)
                } else {
                    cast(a, &T::DATA_TYPE)?
                };
                Ok(Col::Array(a.as_primitive::<T>().clone()))
            }
        }
    }

    /// The value, whatever the validity (a default for NULL constants).
    #[inline]
    fn value(&self, i: usize) -> T::Native {
        match self {
            Col::Const(v) => v.unwrap_or_default(),
            Col::Array(a) => a.values()[i],
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Option<T::Native> {
        match self {
            Col::Const(v) => *v,
            Col::Array(a) => a.is_valid(i).then(|| a.values()[i]),
        }
    }

    fn nulls(&self) -> Option<&NullBuffer> {
        match self {
            Col::Const(_) => None,
            Col::Array(a) => a.nulls(),
        }
    }

    fn is_null_const(&self) -> bool {
        matches!(self, Col::Const(None))
    }

    fn as_const(&self) -> Option<Option<T::Native>> {
        match self {
            Col::Const(v) => Some(*v),
            Col::Array(_) => None,
        }
    }
}

type F64Col = Col<Float64Type>;
type I64Col = Col<Int64Type>;

fn f64_cols<const K: usize>(a: &[ColumnarValue]) -> Result<[F64Col; K]> {
    if a.len() != K {
        return exec_err!("expected {K} arguments, got {}", a.len());
    }
    let v: Vec<F64Col> = a.iter().map(F64Col::new).collect::<Result<_>>()?;
    v.try_into()
        .map_err(|_| DataFusionError::Internal("argument count".into()))
}

/// Applies `f` row by row over primitive columns: nulls are the union of the
/// inputs' (any NULL constant makes everything NULL), values are computed for
/// every row without branching on validity.
fn map_prim<const K: usize, T: ArrowPrimitiveType, O: ArrowPrimitiveType>(
    cols: &[Col<T>; K],
    n: usize,
    f: impl Fn([T::Native; K]) -> O::Native,
) -> ArrayRef {
    if cols.iter().any(Col::is_null_const) {
        return new_null_array(&O::DATA_TYPE, n);
    }
    let mut nulls: Option<NullBuffer> = None;
    for c in cols {
        nulls = NullBuffer::union(nulls.as_ref(), c.nulls());
    }
    let values: Vec<O::Native> = (0..n)
        .map(|i| f(std::array::from_fn(|k| cols[k].value(i))))
        .collect();
    Arc::new(PrimitiveArray::<O>::new(ScalarBuffer::from(values), nulls))
}

fn geom_err(f: Func, e: GeomError) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {e}", f.adql_name()))
}

/// A geometry argument: a constant (prepared once), a `List<Float64>` column,
/// or a string column (STC-S or DALI text, parsed per row).
enum GeomCol {
    Const(Option<Prepared>),
    List {
        list: ListArray,
        values: PrimitiveArray<Float64Type>,
    },
    Text(StringArray),
}

impl GeomCol {
    fn new(f: Func, cv: &ColumnarValue) -> Result<GeomCol> {
        match cv {
            ColumnarValue::Scalar(s) => {
                if s.is_null() {
                    return Ok(GeomCol::Const(None));
                }
                let col = GeomCol::from_array(f, &s.to_array()?)?;
                let p = col.get(f, 0)?.map(Cow::into_owned);
                Ok(GeomCol::Const(p))
            }
            ColumnarValue::Array(a) => GeomCol::from_array(f, a),
        }
    }

    fn from_array(f: Func, a: &ArrayRef) -> Result<GeomCol> {
        match a.data_type() {
            DataType::Null => Ok(GeomCol::Const(None)),
            DataType::Utf8 => Ok(GeomCol::Text(a.as_string::<i32>().clone())),
            t if is_str(t) => Ok(GeomCol::Text(
                cast(a, &DataType::Utf8)?.as_string::<i32>().clone(),
            )),
            t if is_list(t) => {
                let a = if t == &geom_type() {
                    Arc::clone(a)
                } else {
                    cast(a, &geom_type())?
                };
                let list = a.as_list::<i32>().clone();
                let values = list.values().as_primitive::<Float64Type>().clone();
                Ok(GeomCol::List { list, values })
            }
            t => exec_err!("{}: a geometry argument cannot be {t}", f.adql_name()),
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            GeomCol::Const(p) => p.is_none(),
            GeomCol::List { list, .. } => list.is_null(i),
            GeomCol::Text(t) => t.is_null(i),
        }
    }

    fn is_null_const(&self) -> bool {
        matches!(self, GeomCol::Const(None))
    }

    /// The DALI values of row `i` of a list column (no allocation); `None`
    /// when NULL or holding NULL items.
    #[inline]
    fn slice<'a>(
        list: &ListArray,
        values: &'a PrimitiveArray<Float64Type>,
        i: usize,
    ) -> Option<&'a [f64]> {
        if list.is_null(i) {
            return None;
        }
        let offs = list.value_offsets();
        let (s, e) = (offs[i] as usize, offs[i + 1] as usize);
        if values.null_count() > 0 && (s..e).any(|k| values.is_null(k)) {
            return None;
        }
        Some(&values.values()[s..e])
    }

    /// Row `i`, prepared (borrowed for constants).
    fn get(&self, f: Func, i: usize) -> Result<Option<Cow<'_, Prepared>>> {
        match self {
            GeomCol::Const(p) => Ok(p.as_ref().map(Cow::Borrowed)),
            GeomCol::List { list, values } => match GeomCol::slice(list, values, i) {
                None => Ok(None),
                Some(v) => Prepared::from_dali(v)
                    .map(|p| Some(Cow::Owned(p)))
                    .map_err(|e| geom_err(f, e)),
            },
            GeomCol::Text(t) => {
                if t.is_null(i) {
                    return Ok(None);
                }
                geometry::parse_geom_text(t.value(i))
                    .and_then(|g| Prepared::new(&g))
                    .map(|p| Some(Cow::Owned(p)))
                    .map_err(|e| geom_err(f, e))
            }
        }
    }

    /// Row `i` as a point (lon, lat); an error for other shapes.
    fn point(&self, f: Func, i: usize) -> Result<Option<(f64, f64)>> {
        if let GeomCol::List { list, values } = self {
            match GeomCol::slice(list, values, i) {
                None => return Ok(None),
                Some(&[lon, lat]) => return Ok(Some((lon, lat))),
                Some(_) => {}
            }
        }
        match self.get(f, i)? {
            None => Ok(None),
            Some(p) => match *p.geom() {
                Geom::Point { lon, lat } => Ok(Some((lon, lat))),
                ref g => exec_err!("{} expects a POINT, not a {}", f.adql_name(), g.xtype()),
            },
        }
    }
}

fn geom_cols<const K: usize>(f: Func, a: &[ColumnarValue]) -> Result<[GeomCol; K]> {
    if a.len() != K {
        return exec_err!("{}: expected {K} arguments, got {}", f.adql_name(), a.len());
    }
    let v: Vec<GeomCol> = a
        .iter()
        .map(|c| GeomCol::new(f, c))
        .collect::<Result<_>>()?;
    v.try_into()
        .map_err(|_| DataFusionError::Internal("argument count".into()))
}

/// Builds geometry (`List<Float64>`) output.
struct GeomOut(ListBuilder<Float64Builder>);

impl GeomOut {
    fn new(n: usize) -> GeomOut {
        GeomOut(ListBuilder::with_capacity(
            Float64Builder::with_capacity(n * 2),
            n,
        ))
    }

    #[inline]
    fn push(&mut self, values: &[f64]) {
        self.0.values().append_slice(values);
        self.0.append(true);
    }

    #[inline]
    fn push_geom(&mut self, g: &Geom) {
        match *g {
            Geom::Point { lon, lat } => self.push(&[lon, lat]),
            Geom::Circle { lon, lat, radius } => self.push(&[lon, lat, radius]),
            Geom::Polygon(ref v) => {
                for &(lon, lat) in v {
                    self.0.values().append_slice(&[lon, lat]);
                }
                self.0.append(true);
            }
        }
    }

    #[inline]
    fn null(&mut self) {
        self.0.append(false);
    }

    fn finish(mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// Non-finite inputs to a constructor give NULL (missing values stored as
/// NaN); other invalid values (latitude beyond ±90°, negative radius) are
/// errors.
fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

// ---------------------------------------------------------------------------
// Constructors.

fn point(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [lon, lat] = f64_cols::<2>(a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match (lon.get(i), lat.get(i)) {
            (Some(x), Some(y)) if all_finite(&[x, y]) => {
                out.push_geom(&Geom::point(x, y).map_err(|e| geom_err(f, e))?)
            }
            _ => out.null(),
        }
    }
    Ok(out.finish())
}

/// Reads a centre given either as (lon, lat) numbers or as one point, the
/// remaining `K` numeric arguments following it.
enum Centre {
    Coords(F64Col, F64Col),
    Point(GeomCol),
}

impl Centre {
    fn split<const K: usize>(f: Func, a: &[ColumnarValue]) -> Result<(Centre, [F64Col; K])> {
        if a.len() == K + 1 {
            let c = Centre::Point(GeomCol::new(f, &a[0])?);
            Ok((c, f64_cols::<K>(&a[1..])?))
        } else {
            let [lon, lat] = f64_cols::<2>(&a[..2])?;
            Ok((Centre::Coords(lon, lat), f64_cols::<K>(&a[2..])?))
        }
    }

    fn get(&self, f: Func, i: usize) -> Result<Option<(f64, f64)>> {
        match self {
            Centre::Coords(lon, lat) => Ok(lon.get(i).zip(lat.get(i))),
            Centre::Point(p) => p.point(f, i),
        }
    }
}

fn circle(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let (centre, [r]) = Centre::split::<1>(f, a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match (centre.get(f, i)?, r.get(i)) {
            (Some((x, y)), Some(r)) if all_finite(&[x, y, r]) => {
                out.push_geom(&Geom::circle(x, y, r).map_err(|e| geom_err(f, e))?)
            }
            _ => out.null(),
        }
    }
    Ok(out.finish())
}

fn make_box(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let (centre, [w, h]) = Centre::split::<2>(f, a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match (centre.get(f, i)?, w.get(i), h.get(i)) {
            (Some((x, y)), Some(w), Some(h)) if all_finite(&[x, y, w, h]) => {
                out.push_geom(&Geom::new_box(x, y, w, h).map_err(|e| geom_err(f, e))?)
            }
            _ => out.null(),
        }
    }
    Ok(out.finish())
}

fn polygon(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let numeric = a
        .iter()
        .all(|c| !matches!(c.data_type(), DataType::List(_) | DataType::Utf8));
    let mut out = GeomOut::new(n);
    let mut verts: Vec<(f64, f64)> = Vec::new();
    if numeric {
        if a.len() < 6 || a.len() % 2 == 1 {
            return exec_err!("{}", Func::Polygon.usage());
        }
        let cols: Vec<F64Col> = a.iter().map(F64Col::new).collect::<Result<_>>()?;
        'rows: for i in 0..n {
            verts.clear();
            for pair in cols.chunks_exact(2) {
                match (pair[0].get(i), pair[1].get(i)) {
                    (Some(x), Some(y)) if all_finite(&[x, y]) => verts.push((x, y)),
                    _ => {
                        out.null();
                        continue 'rows;
                    }
                }
            }
            let g = Geom::polygon(verts.clone()).map_err(|e| geom_err(f, e))?;
            out.push_geom(&g);
        }
    } else {
        if a.len() < 3 {
            return exec_err!("{}", Func::Polygon.usage());
        }
        let cols: Vec<GeomCol> = a
            .iter()
            .map(|c| GeomCol::new(f, c))
            .collect::<Result<_>>()?;
        'rows2: for i in 0..n {
            verts.clear();
            for c in &cols {
                match c.point(f, i)? {
                    Some(p) => verts.push(p),
                    None => {
                        out.null();
                        continue 'rows2;
                    }
                }
            }
            let g = Geom::polygon(verts.clone()).map_err(|e| geom_err(f, e))?;
            out.push_geom(&g);
        }
    }
    Ok(out.finish())
}

fn polygon_of(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g] = geom_cols::<1>(f, a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        let values: Option<Vec<f64>> = match &g {
            GeomCol::List { list, values } => GeomCol::slice(list, values, i).map(<[f64]>::to_vec),
            GeomCol::Const(p) => p.as_ref().map(|p| p.geom().to_dali()),
            GeomCol::Text(t) => {
                if t.is_null(i) {
                    None
                } else {
                    Some(geometry::parse_dali_values(t.value(i)).map_err(|e| geom_err(f, e))?)
                }
            }
        };
        match values {
            None => out.null(),
            Some(v) => {
                if v.len() < 6 || v.len() % 2 == 1 {
                    return exec_err!(
                        "POLYGON needs an even number >= 6 of coordinates, not {}",
                        v.len()
                    );
                }
                let g = Geom::polygon(v.chunks_exact(2).map(|c| (c[0], c[1])).collect())
                    .map_err(|e| geom_err(f, e))?;
                out.push_geom(&g);
            }
        }
    }
    Ok(out.finish())
}

fn region(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [s] = str_cols::<1>(a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match s.get(i) {
            None => out.null(),
            Some(text) => {
                let g = geometry::parse_geom_text(text).map_err(|e| geom_err(f, e))?;
                out.push_geom(&g);
            }
        }
    }
    Ok(out.finish())
}

fn cast_geom(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let kind = match &a[0] {
        ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(Some(k)) => k.to_ascii_lowercase(),
            _ => return exec_err!("CAST: the target geometry type must not be NULL"),
        },
        ColumnarValue::Array(_) => {
            return exec_err!("CAST: the target geometry type must be a constant")
        }
    };
    if !matches!(kind.as_str(), "point" | "circle" | "polygon") {
        return exec_err!(
            "CAST: cannot cast to {kind}; geometry targets are POINT, CIRCLE and POLYGON"
        );
    }
    let [g] = geom_cols::<1>(f, &a[1..])?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match g.get(f, i)? {
            None => out.null(),
            Some(p) => {
                if p.geom().xtype() != kind {
                    return exec_err!(
                        "CAST: cannot cast a {} to {}",
                        p.geom().xtype(),
                        kind.to_ascii_uppercase()
                    );
                }
                out.push_geom(p.geom());
            }
        }
    }
    Ok(out.finish())
}

// ---------------------------------------------------------------------------
// Predicates and measures.

fn predicate(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g1, g2] = geom_cols::<2>(f, a)?;
    if g1.is_null_const() || g2.is_null_const() {
        return Ok(new_null_array(&DataType::Int32, n));
    }
    let mut out = Int32Array::builder(n);
    for i in 0..n {
        if g1.is_null(i) || g2.is_null(i) {
            out.append_null();
            continue;
        }
        match (g1.get(f, i)?, g2.get(f, i)?) {
            (Some(x), Some(y)) => {
                let r = if f == Func::Contains {
                    x.within(&y)
                } else {
                    x.intersects(&y)
                };
                out.append_value(i32::from(r));
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn distance_geom(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [p1, p2] = geom_cols::<2>(f, a)?;
    let mut out = Float64Builder::with_capacity(n);
    for i in 0..n {
        match (p1.point(f, i)?, p2.point(f, i)?) {
            (Some((a, b)), Some((c, d))) => out.append_value(geometry::distance_deg(a, b, c, d)),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn area(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g] = geom_cols::<1>(f, a)?;
    let mut out = Float64Builder::with_capacity(n);
    for i in 0..n {
        out.append_option(g.get(f, i)?.map(|p| p.area_sq_deg()));
    }
    Ok(Arc::new(out.finish()))
}

fn centroid(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g] = geom_cols::<1>(f, a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match g.get(f, i)? {
            None => out.null(),
            Some(p) => {
                let (lon, lat) = p.centroid();
                out.push(&[lon, lat]);
            }
        }
    }
    Ok(out.finish())
}

fn coord(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g] = geom_cols::<1>(f, a)?;
    let mut out = Float64Builder::with_capacity(n);
    for i in 0..n {
        let v = g
            .point(f, i)?
            .map(|(lon, lat)| if f == Func::Coord1 { lon } else { lat });
        out.append_option(v);
    }
    Ok(Arc::new(out.finish()))
}

fn coordsys(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g] = geom_cols::<1>(f, a)?;
    let mut out = StringBuilder::with_capacity(n, 4 * n);
    for i in 0..n {
        if g.is_null(i) {
            out.append_null();
        } else {
            out.append_value("ICRS");
        }
    }
    Ok(Arc::new(out.finish()))
}

fn in_circle(a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [lon, lat, clon, clat, r] = f64_cols::<5>(a)?;
    if let (Some(Some(x)), Some(Some(y)), Some(Some(r))) =
        (clon.as_const(), clat.as_const(), r.as_const())
    {
        // Constant circle: one unit vector per row, nothing else.
        let cone = ConeTest::new(x, y, r);
        let cols = [lon, lat];
        return Ok(map_prim::<2, Float64Type, Int32Type>(&cols, n, |[a, b]| {
            i32::from(cone.contains(a, b))
        }));
    }
    let cols = [lon, lat, clon, clat, r];
    Ok(map_prim::<5, Float64Type, Int32Type>(
        &cols,
        n,
        |[a, b, c, d, r]| i32::from(geometry::in_circle(a, b, c, d, r)),
    ))
}

fn in_geom(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [lon, lat] = f64_cols::<2>(&a[..2])?;
    let [g] = geom_cols::<1>(f, &a[2..])?;
    if let GeomCol::Const(Some(p)) = &g {
        let cols = [lon, lat];
        return Ok(map_prim::<2, Float64Type, Int32Type>(&cols, n, |[a, b]| {
            i32::from(p.contains_point(a, b))
        }));
    }
    let mut out = Int32Array::builder(n);
    for i in 0..n {
        match (lon.get(i), lat.get(i)) {
            (Some(x), Some(y)) => match g.get(f, i)? {
                Some(p) => out.append_value(i32::from(p.contains_point(x, y))),
                None => out.append_null(),
            },
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

// ---------------------------------------------------------------------------
// HEALPix.

fn check_depth(f: Func, d: i64) -> Result<u8> {
    if (0..=29).contains(&d) {
        Ok(d as u8)
    } else {
        exec_err!("{}: HEALPix order must be in [0, 29], not {d}", f.name())
    }
}

/// The coordinates of a point argument as two Float64 columns.
fn point_cols(f: Func, cv: &ColumnarValue, n: usize) -> Result<[F64Col; 2]> {
    let g = GeomCol::new(f, cv)?;
    if let GeomCol::Const(_) = &g {
        let c = g.point(f, 0)?;
        return Ok([F64Col::Const(c.map(|c| c.0)), F64Col::Const(c.map(|c| c.1))]);
    }
    let mut lon = Float64Builder::with_capacity(n);
    let mut lat = Float64Builder::with_capacity(n);
    for i in 0..n {
        let p = g.point(f, i)?;
        lon.append_option(p.map(|p| p.0));
        lat.append_option(p.map(|p| p.1));
    }
    Ok([F64Col::Array(lon.finish()), F64Col::Array(lat.finish())])
}

fn cell(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let depth = I64Col::new(&a[0])?;
    let [lon, lat] = if a.len() == 2 {
        point_cols(f, &a[1], n)?
    } else {
        f64_cols::<2>(&a[1..])?
    };
    if let Some(Some(d)) = depth.as_const() {
        let d = check_depth(f, d)?;
        if lon.nulls().is_none()
            && lat.nulls().is_none()
            && !lon.is_null_const()
            && !lat.is_null_const()
        {
            // No NULLs: a straight loop; non-finite positions still give NULL.
            let mut valid = true;
            let values: Vec<i64> = (0..n)
                .map(|i| {
                    let (x, y) = (lon.value(i), lat.value(i));
                    valid &= x.is_finite() && y.is_finite();
                    geometry::cell(d, x, y) as i64
                })
                .collect();
            if valid {
                return Ok(Arc::new(PrimitiveArray::<Int64Type>::new(
                    ScalarBuffer::from(values),
                    None,
                )));
            }
        }
    }
    let mut out = Int64Builder::with_capacity(n);
    for i in 0..n {
        match (depth.get(i), lon.get(i), lat.get(i)) {
            (Some(d), Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                out.append_value(geometry::cell(check_depth(f, d)?, x, y) as i64)
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn cone_cells(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let depth = I64Col::new(&a[0])?;
    let [lon, lat, r] = f64_cols::<3>(&a[1..])?;
    let mut out = ListBuilder::with_capacity(Int64Builder::with_capacity(n * 9), n);
    for i in 0..n {
        match (depth.get(i), lon.get(i), lat.get(i), r.get(i)) {
            (Some(d), Some(x), Some(y), Some(r)) if all_finite(&[x, y, r]) => {
                let d = check_depth(f, d)?;
                let frac = (1.0 - r.clamp(0.0, 180.0).to_radians().cos()) / 2.0;
                let estimate = frac * cdshealpix::n_hash(d) as f64;
                if estimate > MAX_CONE_CELLS {
                    return exec_err!(
                        "{}: a {r}° cone at order {d} has about {estimate:.0} cells; use a lower order",
                        f.name()
                    );
                }
                for c in geometry::cone_cells(d, x, y, r) {
                    out.values().append_value(c as i64);
                }
                out.append(true);
            }
            _ => out.append(false),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn healpix_center(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let order = I64Col::new(&a[0])?;
    let index = I64Col::new(&a[1])?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        match (order.get(i), index.get(i)) {
            (Some(o), Some(h)) => {
                let o = check_depth(f, o)?;
                if h < 0 || h as u64 >= cdshealpix::n_hash(o) {
                    return exec_err!("{}: index {h} is out of range for order {o}", f.name());
                }
                let (lon, lat) = geometry::cell_center(o, h as u64);
                out.push(&[lon, lat]);
            }
            _ => out.null(),
        }
    }
    Ok(out.finish())
}

// ---------------------------------------------------------------------------
// Epoch propagation.

/// `ivo_epoch_prop(ra, dec, parallax, pmra, pmdec, radial_velocity,
/// ref_epoch, out_epoch)` (degrees, mas, mas/yr, km/s, Julian years): NULL
/// position or epochs give NULL; NULL proper motions and radial velocity are
/// 0 and a NULL parallax is treated as tiny, as DaCHS does (see
/// [`geometry::epoch_prop`]); the parallax and radial velocity items of the
/// result are then NULL.
fn epoch_prop(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [ra, dec, plx, pmra, pmdec, rv, ep0, ep1] = f64_cols::<8>(a)?;
    let mut out = GeomOut::new(n);
    for i in 0..n {
        let (Some(x), Some(y), Some(t0), Some(t1)) =
            (ra.get(i), dec.get(i), ep0.get(i), ep1.get(i))
        else {
            out.null();
            continue;
        };
        if !all_finite(&[x, y, t0, t1]) {
            out.null();
            continue;
        }
        let r = geometry::epoch_prop(
            x,
            y,
            plx.get(i),
            pmra.get(i),
            pmdec.get(i),
            rv.get(i),
            t1 - t0,
        );
        if f == Func::EpochPropPos {
            out.push(&[r.ra, r.dec]);
        } else {
            let v = out.0.values();
            v.append_value(r.ra);
            v.append_value(r.dec);
            v.append_option(r.parallax);
            v.append_value(r.pmra);
            v.append_value(r.pmdec);
            v.append_option(r.radial_velocity);
            out.0.append(true);
        }
    }
    Ok(out.finish())
}

// ---------------------------------------------------------------------------
// RegTAP string functions.

/// A string argument: a constant or a `Utf8` column.
enum StrCol {
    Const(Option<String>),
    Array(StringArray),
}

impl StrCol {
    fn new(cv: &ColumnarValue) -> Result<StrCol> {
        match cv {
            ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Utf8)? {
                ScalarValue::Utf8(v) => Ok(StrCol::Const(v)),
                _ => Ok(StrCol::Const(None)),
            },
            ColumnarValue::Array(a) => {
                let a = if a.data_type() == &DataType::Utf8 {
                    Arc::clone(a)
                } else {
                    cast(a, &DataType::Utf8)?
                };
                Ok(StrCol::Array(a.as_string::<i32>().clone()))
            }
        }
    }

    #[inline]
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            StrCol::Const(s) => s.as_deref(),
            StrCol::Array(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

fn str_cols<const K: usize>(a: &[ColumnarValue]) -> Result<[StrCol; K]> {
    if a.len() != K {
        return exec_err!("expected {K} arguments, got {}", a.len());
    }
    let v: Vec<StrCol> = a.iter().map(StrCol::new).collect::<Result<_>>()?;
    v.try_into()
        .map_err(|_| DataFusionError::Internal("argument count".into()))
}

/// Case-insensitive (Unicode lower-casing) equality, without allocating.
fn eq_nocase(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// RegTAP `ivo_hasword`: every word of `needle` occurs as a whole word of
/// `haystack`, case-insensitively (words are runs of letters and digits; no
/// stemming, unlike DaCHS's PostgreSQL full-text implementation). A needle
/// without words matches nothing.
pub fn has_word(haystack: &str, needle: &str) -> bool {
    let mut any = false;
    for w in words(needle) {
        any = true;
        if !words(haystack).any(|h| eq_nocase(h, w)) {
            return false;
        }
    }
    any
}

/// RegTAP `ivo_hashlist_has`: whether `item` equals, case-insensitively, one
/// of the `#`-separated entries of `hashlist` (surrounding whitespace
/// ignored).
pub fn hashlist_has(hashlist: &str, item: &str) -> bool {
    let item = item.trim();
    hashlist.split('#').any(|e| eq_nocase(e.trim(), item))
}

fn word_match(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [hay, needle] = str_cols::<2>(a)?;
    let test = if f == Func::HasWord {
        has_word
    } else {
        hashlist_has
    };
    let mut out = Int32Array::builder(n);
    for i in 0..n {
        match (hay.get(i), needle.get(i)) {
            (Some(h), Some(w)) => out.append_value(i32::from(test(h, w))),
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// RegTAP `ivo_nocasematch(value, pattern)`: SQL `LIKE` (`%`, `_`, `\`
/// escapes), case-insensitive, through arrow's `ilike` kernel.
fn nocasematch(a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    fn to_utf8(cv: &ColumnarValue) -> Result<(ArrayRef, bool)> {
        Ok(match cv {
            ColumnarValue::Scalar(s) => (s.cast_to(&DataType::Utf8)?.to_array()?, true),
            ColumnarValue::Array(a) => (cast(a, &DataType::Utf8)?, false),
        })
    }
    let (l, l_scalar) = to_utf8(&a[0])?;
    let (r, r_scalar) = to_utf8(&a[1])?;
    let l_s = l.as_string::<i32>().clone();
    let r_s = r.as_string::<i32>().clone();
    let result = match (l_scalar, r_scalar) {
        (true, true) => {
            let one = arrow::compute::kernels::comparison::ilike(&l_s, &r_s)?;
            let arr = ScalarValue::try_from_array(&one, 0)?.to_array_of_size(n)?;
            arr.as_boolean().clone()
        }
        (false, true) => arrow::compute::kernels::comparison::ilike(&l_s, &Scalar::new(r_s))?,
        (true, false) => arrow::compute::kernels::comparison::ilike(&Scalar::new(l_s), &r_s)?,
        (false, false) => arrow::compute::kernels::comparison::ilike(&l_s, &r_s)?,
    };
    Ok(cast(&result, &DataType::Int32)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array as I32, RecordBatch, StringArray as Strs};
    use arrow::datatypes::Schema;
    use datafusion::datasource::MemTable;
    use datafusion::execution::FunctionRegistry;

    fn ctx() -> SessionContext {
        let ctx = SessionContext::new();
        register(&ctx);
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("ra", DataType::Float64, true),
            Field::new("dec", DataType::Float64, true),
            Field::new("ira", DataType::Int32, true),
            Field::new("idec", DataType::Int32, true),
            Field::new("s_region", DataType::Utf8, true),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(I32::from(vec![1, 2, 3, 4, 5])),
                Arc::new(Float64Array::from(vec![
                    Some(10.0),
                    Some(10.5),
                    None,
                    Some(12.0),
                    Some(f64::NAN),
                ])),
                Arc::new(Float64Array::from(vec![
                    Some(20.0),
                    Some(20.5),
                    Some(20.0),
                    None,
                    Some(20.0),
                ])),
                Arc::new(I32::from(vec![
                    Some(10),
                    Some(11),
                    None,
                    Some(12),
                    Some(10),
                ])),
                Arc::new(I32::from(vec![
                    Some(20),
                    Some(20),
                    Some(20),
                    Some(21),
                    None,
                ])),
                Arc::new(Strs::from(vec![
                    Some("Circle ICRS 10 20 1"),
                    Some("Polygon ICRS 9 19 11 19 11 21 9 21"),
                    None,
                    Some("Box ICRS 12 21 2 2"),
                    Some("10 20 0.5"),
                ])),
            ],
        )
        .unwrap();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        ctx
    }

    async fn query(sql: &str) -> Result<Vec<RecordBatch>> {
        ctx().sql(sql).await?.collect().await
    }

    /// All values of column `col` of the result, as ScalarValues.
    async fn column(sql: &str, col: usize) -> Vec<ScalarValue> {
        let batches = query(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        let mut out = Vec::new();
        for b in batches {
            for i in 0..b.num_rows() {
                out.push(ScalarValue::try_from_array(b.column(col), i).unwrap());
            }
        }
        out
    }

    async fn one(sql: &str) -> ScalarValue {
        let v = column(sql, 0).await;
        assert_eq!(v.len(), 1, "{sql}");
        v.into_iter().next().unwrap()
    }

    async fn err(sql: &str) -> String {
        match query(sql).await {
            Ok(b) => panic!("{sql} should fail, gave {b:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn f64_of(v: &ScalarValue) -> Option<f64> {
        match v {
            ScalarValue::Float64(x) => *x,
            other => panic!("not a Float64: {other:?}"),
        }
    }

    fn i32_of(v: &ScalarValue) -> Option<i32> {
        match v {
            ScalarValue::Int32(x) => *x,
            other => panic!("not an Int32: {other:?}"),
        }
    }

    fn list_of(v: &ScalarValue) -> Option<Vec<Option<f64>>> {
        match v {
            ScalarValue::List(a) => {
                if a.is_null(0) {
                    return None;
                }
                let inner = a.value(0);
                Some(inner.as_primitive::<Float64Type>().iter().collect())
            }
            other => panic!("not a List: {other:?}"),
        }
    }

    fn geom_of(v: &ScalarValue) -> Option<Vec<f64>> {
        list_of(v).map(|l| l.into_iter().map(Option::unwrap).collect())
    }

    fn near(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[tokio::test]
    async fn registration() {
        assert_eq!(all().len(), Func::ALL.len());
        let ctx = SessionContext::new();
        register(&ctx);
        for f in Func::ALL {
            assert!(ctx.udf(f.name()).is_ok(), "{}", f.name());
            assert_eq!(Func::from_name(f.name()), Some(f));
            assert_eq!(f.name(), f.name().to_lowercase());
        }
        assert_eq!(Func::Polygon.udf().name(), "adql_polygon");
    }

    #[tokio::test]
    async fn contains_and_intersects_literals() {
        let v = one("SELECT adql_contains(adql_point(10, 20), adql_circle(10, 20.5, 1))").await;
        assert_eq!(v, ScalarValue::Int32(Some(1)));
        let v = one("SELECT adql_contains(adql_point(10, 20), adql_circle(10, 21.5, 1))").await;
        assert_eq!(v, ScalarValue::Int32(Some(0)));
        let v =
            one("SELECT adql_contains(adql_point(25.0, -19.5), adql_circle(25.4, -20.0, 10.0))")
                .await;
        assert_eq!(i32_of(&v), Some(1));
        let v = one("SELECT adql_intersects(adql_circle(25.4, -20.0, 1), \
             adql_polygon(20.0, -15.0, 20.0, -5.0, 10.0, -5.0, 10.0, -15.0))")
        .await;
        assert_eq!(i32_of(&v), Some(0));
        let v = one("SELECT adql_intersects(adql_circle(15, -16, 1.5), \
             adql_polygon(20.0, -15.0, 20.0, -5.0, 10.0, -5.0, 10.0, -15.0))")
        .await;
        assert_eq!(i32_of(&v), Some(1));
        // Polygon of points, box, circle from a point, COOSYS argument.
        let v = one(
            "SELECT adql_contains(adql_point('ICRS', 15, -10), \
             adql_polygon(adql_point(20, -15), adql_point(20, -5), adql_point(10, -5), adql_point(10, -15)))",
        )
        .await;
        assert_eq!(i32_of(&v), Some(1));
        let v = one("SELECT adql_contains(adql_box('ICRS', 10, 10, 2, 2), adql_circle(adql_point(10, 10), 2))").await;
        assert_eq!(i32_of(&v), Some(1));
        let v = one("SELECT adql_contains(adql_circle('ICRS', 10, 10, 2), adql_box(adql_point(10, 10), 2, 2))").await;
        assert_eq!(i32_of(&v), Some(0));
        // NULL propagates.
        let v = one("SELECT adql_contains(adql_point(10, NULL), adql_circle(10, 20.5, 1))").await;
        assert_eq!(v, ScalarValue::Int32(None));
        let v = one("SELECT adql_intersects(NULL, adql_circle(10, 20.5, 1))").await;
        assert_eq!(v, ScalarValue::Int32(None));
    }

    #[tokio::test]
    async fn constructors_and_accessors() {
        assert_eq!(
            geom_of(&one("SELECT adql_point(10, 20)").await),
            Some(vec![10.0, 20.0])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_circle(10, 20, 0.5)").await),
            Some(vec![10.0, 20.0, 0.5])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_polygon(10.0, -10.5, 20.0, 20.5, 30.0, 30.5)").await),
            Some(vec![10.0, -10.5, 20.0, 20.5, 30.0, 30.5])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_polygon_of(make_array(1, 2, 3, 4, 5, 6))").await),
            Some(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        );
        let b = geom_of(&one("SELECT adql_box(0, 0, 2, 2)").await).unwrap();
        assert_eq!(b.len(), 8);
        assert_eq!(
            geom_of(&one("SELECT adql_region('Circle ICRS 10 20 1')").await),
            Some(vec![10.0, 20.0, 1.0])
        );
        let c = geom_of(&one("SELECT adql_centroid(adql_circle(10, 20, 1))").await);
        assert_eq!(c, Some(vec![10.0, 20.0]));
        let a = f64_of(&one("SELECT adql_area(adql_circle(0, 90, 90))").await).unwrap();
        assert!(near(a, 20626.48, 0.01), "{a}");
        assert_eq!(
            f64_of(&one("SELECT adql_area(adql_point(1, 2))").await),
            Some(0.0)
        );
        assert_eq!(
            f64_of(&one("SELECT adql_coord1(adql_point(25, -19.5))").await),
            Some(25.0)
        );
        assert_eq!(
            f64_of(&one("SELECT adql_coord2(adql_point(25, -19.5))").await),
            Some(-19.5)
        );
        assert_eq!(
            one("SELECT adql_coordsys(adql_point(25, -19.5))").await,
            ScalarValue::Utf8(Some("ICRS".into()))
        );
        let d = f64_of(&one("SELECT adql_distance(25.0, -19.5, 25.4, -20.0)").await).unwrap();
        let d2 = f64_of(
            &one("SELECT adql_distance_geom(adql_point(25.0, -19.5), adql_point(25.4, -20.0))")
                .await,
        )
        .unwrap();
        assert!(near(d, 0.625_882_3, 1e-6) && near(d, d2, 1e-15), "{d} {d2}");
        // Integer and decimal literals coerce.
        let d =
            f64_of(&one("SELECT adql_distance(0, 0, 1, CAST(0 AS DECIMAL(5,2)))").await).unwrap();
        assert!(near(d, 1.0, 1e-12));
        // Non-finite coordinates give NULL.
        assert_eq!(
            geom_of(&one("SELECT adql_point(CAST('NaN' AS DOUBLE), 1)").await),
            None
        );
    }

    #[tokio::test]
    async fn errors_name_the_function() {
        let e = err("SELECT adql_polygon(1, 2, 3, 4)").await;
        assert!(e.contains("POLYGON"), "{e}");
        let e = err("SELECT adql_polygon(adql_point(1, 2), adql_point(3, 4))").await;
        assert!(e.contains("POLYGON"), "{e}");
        let e = err("SELECT adql_polygon(1, 1, 1, 1, 2, 2)").await;
        assert!(e.contains("POLYGON") && e.contains("distinct"), "{e}");
        let e = err("SELECT adql_point(10, 95)").await;
        assert!(e.contains("POINT") && e.contains("latitude"), "{e}");
        let e = err("SELECT adql_circle(10, 20, -1)").await;
        assert!(e.contains("CIRCLE"), "{e}");
        let e = err("SELECT adql_region('Union ICRS (Circle 1 2 3 Circle 4 5 6)')").await;
        assert!(e.contains("REGION") && e.contains("Union"), "{e}");
        let e = err("SELECT adql_region('Circle ICRS 10 20')").await;
        assert!(e.contains("token 5"), "{e}");
        let e = err("SELECT adql_distance_geom(adql_circle(1, 2, 3), adql_point(1, 2))").await;
        assert!(e.contains("DISTANCE") && e.contains("POINT"), "{e}");
        let e = err("SELECT adql_coord1(adql_circle(1, 2, 3))").await;
        assert!(e.contains("COORD1"), "{e}");
        let e = err("SELECT adql_point('a', 'b')").await;
        assert!(e.contains("POINT"), "{e}");
        let e = err("SELECT adql_cell(30, 1, 2)").await;
        assert!(e.contains("[0, 29]"), "{e}");
        let e = err("SELECT adql_cone_cells(12, 1, 2, 90)").await;
        assert!(e.contains("lower order"), "{e}");
    }

    #[tokio::test]
    async fn casts() {
        assert_eq!(
            geom_of(&one("SELECT adql_cast_geom('POINT', '12.3 45.6')").await),
            Some(vec![12.3, 45.6])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_cast_geom('circle', '12.3 45.6 1.0')").await),
            Some(vec![12.3, 45.6, 1.0])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_cast_geom('POLYGON', '1.0 0.1 2.0 0.2 3.0 0.3')").await),
            Some(vec![1.0, 0.1, 2.0, 0.2, 3.0, 0.3])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_cast_geom('POINT', make_array(1.5, 2))").await),
            Some(vec![1.5, 2.0])
        );
        assert_eq!(
            geom_of(&one("SELECT adql_cast_geom('CIRCLE', 'Circle ICRS 1 2 3')").await),
            Some(vec![1.0, 2.0, 3.0])
        );
        let e = err("SELECT adql_cast_geom('POINT', '12.3 45.6 1.0')").await;
        assert!(e.contains("circle") && e.contains("POINT"), "{e}");
        let e = err("SELECT adql_cast_geom('POINT', '12.3 x')").await;
        assert!(e.contains("CAST"), "{e}");
        let e = err("SELECT adql_cast_geom('BOX', '1 2')").await;
        assert!(e.contains("BOX") || e.contains("box"), "{e}");
        assert_eq!(
            geom_of(&one("SELECT adql_cast_geom('POINT', CAST(NULL AS VARCHAR))").await),
            None
        );
        // Other list types are cast.
        let sql =
            "SELECT adql_coord2(arrow_cast(make_array(1.5, 2.5), 'FixedSizeList(2, Float64)'))";
        assert_eq!(f64_of(&one(sql).await), Some(2.5));
        let sql = "SELECT adql_coord1(arrow_cast(make_array(1, 2), 'LargeList(Int32)'))";
        assert_eq!(f64_of(&one(sql).await), Some(1.0));
    }

    #[tokio::test]
    async fn table_with_nulls() {
        let sql = "SELECT id, \
            adql_in_circle(ra, dec, 10, 20, 1), \
            adql_contains(adql_point(ra, dec), adql_circle(10, 20, 1)), \
            adql_distance(ra, dec, 10, 20), \
            adql_in_geom(ra, dec, adql_polygon(9, 19, 11, 19, 11, 21, 9, 21)), \
            adql_contains(adql_point(ra, dec), s_region), \
            adql_in_circle(ira, idec, 10, 20, 1), \
            adql_in_circle(10, 20, ra, dec, 1), \
            adql_intersects(s_region, adql_circle(10, 20, 0.1)), \
            adql_area(s_region) \
            FROM t ORDER BY id";
        let in_circle: Vec<_> = column(sql, 1).await.iter().map(i32_of).collect();
        assert_eq!(in_circle, vec![Some(1), Some(1), None, None, Some(0)]);
        let contains: Vec<_> = column(sql, 2).await.iter().map(i32_of).collect();
        // NaN gives a NULL point, hence NULL.
        assert_eq!(contains, vec![Some(1), Some(1), None, None, None]);
        let dist: Vec<_> = column(sql, 3).await.iter().map(f64_of).collect();
        assert_eq!(dist[0], Some(0.0));
        assert!(near(
            dist[1].unwrap(),
            geometry::distance_deg(10.5, 20.5, 10.0, 20.0),
            1e-15
        ));
        assert_eq!((dist[2], dist[3]), (None, None));
        assert!(dist[4].unwrap().is_nan());
        let in_geom: Vec<_> = column(sql, 4).await.iter().map(i32_of).collect();
        assert_eq!(in_geom, vec![Some(1), Some(1), None, None, Some(0)]);
        let in_region: Vec<_> = column(sql, 5).await.iter().map(i32_of).collect();
        assert_eq!(in_region, vec![Some(1), Some(1), None, None, None]);
        let ints: Vec<_> = column(sql, 6).await.iter().map(i32_of).collect();
        assert_eq!(ints, vec![Some(1), Some(1), None, Some(0), None]);
        let swapped: Vec<_> = column(sql, 7).await.iter().map(i32_of).collect();
        assert_eq!(swapped, vec![Some(1), Some(1), None, None, Some(0)]);
        let inter: Vec<_> = column(sql, 8).await.iter().map(i32_of).collect();
        assert_eq!(inter, vec![Some(1), Some(1), None, Some(0), Some(1)]);
        let areas: Vec<_> = column(sql, 9).await.iter().map(f64_of).collect();
        assert!(near(areas[0].unwrap(), PI_SQ_DEG_1, 1e-3), "{areas:?}");
        assert_eq!(areas[2], None);
        // Geometry columns built in a subquery and filtered on.
        let ids: Vec<_> = column(
            "SELECT id FROM (SELECT id, adql_point(ra, dec) AS pos FROM t) \
             WHERE adql_contains(pos, adql_circle(10, 20, 1)) = 1 ORDER BY id",
            0,
        )
        .await
        .iter()
        .map(i32_of)
        .collect();
        assert_eq!(ids, vec![Some(1), Some(2)]);
        let c: Vec<_> = column(
            "SELECT adql_coord1(adql_point(ra, dec)) FROM t ORDER BY id",
            0,
        )
        .await
        .iter()
        .map(f64_of)
        .collect();
        assert_eq!(c, vec![Some(10.0), Some(10.5), None, None, None]);
    }

    /// Area of a 1° circle in square degrees (≈ π).
    const PI_SQ_DEG_1: f64 = 3.141_433;

    #[tokio::test]
    async fn healpix_functions() {
        let c = one("SELECT adql_cell(5, 10, 20)").await;
        assert_eq!(
            c,
            ScalarValue::Int64(Some(geometry::cell(5, 10.0, 20.0) as i64))
        );
        let c = one("SELECT ivo_healpix_index(29, 10.5, -20.25)").await;
        assert_eq!(
            c,
            ScalarValue::Int64(Some(geometry::cell(29, 10.5, -20.25) as i64))
        );
        let cells = column("SELECT adql_cone_cells(8, 10, 20, 0.1)", 0).await;
        let ScalarValue::List(l) = &cells[0] else {
            panic!()
        };
        let cells: Vec<i64> = l.value(0).as_primitive::<Int64Type>().values().to_vec();
        assert!(
            cells.contains(&(geometry::cell(8, 10.05, 20.05) as i64)),
            "{cells:?}"
        );
        let c = one("SELECT ivo_healpix_index(29, adql_point(10.5, -20.25))").await;
        assert_eq!(
            c,
            ScalarValue::Int64(Some(geometry::cell(29, 10.5, -20.25) as i64))
        );
        let v = column(
            "SELECT ivo_healpix_index(3, adql_point(ra, dec)) FROM t ORDER BY id",
            0,
        )
        .await;
        assert_eq!(
            v[0],
            ScalarValue::Int64(Some(geometry::cell(3, 10.0, 20.0) as i64))
        );
        assert_eq!(v[2], ScalarValue::Int64(None));
        let e = err("SELECT ivo_healpix_index(3, adql_circle(1, 2, 3))").await;
        assert!(e.contains("POINT"), "{e}");
        let p = geom_of(&one("SELECT ivo_healpix_center(0, 4)").await).unwrap();
        assert!(near(p[0], 0.0, 1e-9) && near(p[1], 0.0, 1e-9), "{p:?}");
        let e = err("SELECT ivo_healpix_center(0, 12)").await;
        assert!(e.contains("out of range"), "{e}");
        let v: Vec<_> = column("SELECT adql_cell(3, ra, dec) FROM t ORDER BY id", 0).await;
        assert_eq!(v[2], ScalarValue::Int64(None));
        assert_eq!(v[4], ScalarValue::Int64(None)); // NaN
        assert_eq!(
            v[0],
            ScalarValue::Int64(Some(geometry::cell(3, 10.0, 20.0) as i64))
        );
        // A positional self-join as an equi-join on cells.
        let n = column(
            "SELECT count(*) FROM t AS a \
             JOIN (SELECT id, ra, dec, unnest(adql_cone_cells(5, ra, dec, 1)) AS cell FROM t) AS b \
             ON adql_cell(5, a.ra, a.dec) = b.cell \
             WHERE adql_distance(a.ra, a.dec, b.ra, b.dec) <= 1",
            0,
        )
        .await;
        // Rows 1 and 2 are within 1° of each other and themselves.
        assert_eq!(n[0], ScalarValue::Int64(Some(4)));
    }

    #[tokio::test]
    async fn epoch_propagation() {
        let v = list_of(
            &one("SELECT ivo_epoch_prop(7.606083572, 11.79044105, 125, 300, -428.8, 52.51, 2016, 1992.25)")
                .await,
        )
        .unwrap();
        let want = [
            7.6040614046279735,
            11.793270382827929,
            125.01993165584682,
            300.09877325973605,
            -428.934593565712,
            52.50880381775256,
        ];
        for (a, b) in v.iter().zip(want) {
            assert!(near(a.unwrap(), b, 1e-6), "{v:?}");
        }
        let v = list_of(
            &one("SELECT ivo_epoch_prop(7.606083572, 11.79044105, NULL, 300, -428.8, 52.51, 2016, 1992.25)")
                .await,
        )
        .unwrap();
        assert!(near(v[0].unwrap(), 7.604061727024453, 1e-9), "{v:?}");
        assert_eq!((v[2], v[5]), (None, None));
        let p = geom_of(
            &one("SELECT ivo_epoch_prop_pos(7.606083572, 11.79044105, 125, 300, -428.8, NULL, 2016, 1992.25)")
                .await,
        )
        .unwrap();
        assert!(near(p[0], 7.604061727024712, 1e-9) && near(p[1], 11.793269931749549, 1e-9));
        let v =
            one("SELECT ivo_epoch_prop(NULL, 11.79044105, 125, 300, -428.8, 52.51, 2016, 1992.25)")
                .await;
        assert_eq!(list_of(&v), None);
    }

    #[tokio::test]
    async fn regtap_functions() {
        let q = |s: &'static str| async move { i32_of(&one(s).await) };
        assert_eq!(
            q("SELECT ivo_hasword('Gaia DR3 source catalogue', 'dr3')").await,
            Some(1)
        );
        assert_eq!(
            q("SELECT ivo_hasword('Gaia DR3 source catalogue', 'DR')").await,
            Some(0)
        );
        assert_eq!(
            q("SELECT ivo_hasword('Radio (VLA) survey', 'vla survey')").await,
            Some(1)
        );
        assert_eq!(q("SELECT ivo_hasword('x', NULL)").await, None);
        assert_eq!(
            q("SELECT ivo_nocasematch('Gaia DR3', 'gaia%')").await,
            Some(1)
        );
        assert_eq!(
            q("SELECT ivo_nocasematch('Gaia DR3', 'g_ia dr_')").await,
            Some(1)
        );
        assert_eq!(
            q("SELECT ivo_nocasematch('Gaia DR3', 'dr3')").await,
            Some(0)
        );
        assert_eq!(q("SELECT ivo_interval_overlaps(1, 2, 2, 3)").await, Some(1));
        assert_eq!(
            q("SELECT ivo_interval_overlaps(1, 2, 2.5, 3)").await,
            Some(0)
        );
        assert_eq!(q("SELECT ivo_interval_overlaps(1, 5, 2, 3)").await, Some(1));
        assert_eq!(q("SELECT ivo_interval_overlaps(1, NULL, 2, 3)").await, None);
        assert_eq!(
            q("SELECT ivo_hashlist_has('ivo://a#ivo://B#c', 'ivo://b')").await,
            Some(1)
        );
        assert_eq!(
            q("SELECT ivo_hashlist_has('ivo://a#ivo://B#c', 'ivo://')").await,
            Some(0)
        );
        let v: Vec<_> = column(
            "SELECT ivo_nocasematch(s_region, '%icrs 1%') FROM t ORDER BY id",
            0,
        )
        .await
        .iter()
        .map(i32_of)
        .collect();
        assert_eq!(v, vec![Some(1), Some(0), None, Some(1), Some(0)]);
        assert!(has_word("Ünïcode Wörds", "wörds"));
        assert!(!has_word("abc", "  "));
        assert!(hashlist_has("a # b", "B"));
    }
}
