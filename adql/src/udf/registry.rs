//! The registry: building and registering the UDFs, and the
//! [`ScalarUDFImpl`] that dispatches each call to its kernel.

use arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;

use crate::geometry;

use super::columns::{f64_cols, map_prim};
use super::constructors::{cast_geom, circle, make_box, point, polygon, polygon_of, region};
use super::epoch::epoch_prop;
use super::healpix::{cell, cone_cells, healpix_center};
use super::predicates::{
    area, centroid, coord, coordsys, distance_geom, in_circle, in_geom, predicate,
};
use super::strings::{nocasematch, word_match};
use super::types::is_str;
use crate::functions::Func;

impl Func {
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
            Func::Moc => super::moc::moc_of(f, a, n)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::testutil::*;
    use datafusion::execution::FunctionRegistry;

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
}
