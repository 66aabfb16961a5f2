//! Predicate and measure kernels: `CONTAINS`, `INTERSECTS`, `DISTANCE`,
//! `AREA`, `CENTROID`, `COORD1`/`COORD2`, `COORDSYS` and the fast
//! position-in-shape paths.

use std::sync::Arc;

use arrow::array::{new_null_array, ArrayRef, Float64Builder, Int32Array, StringBuilder};
use arrow::datatypes::{DataType, Float64Type, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::ColumnarValue;

use crate::geometry::{self, ConeTest, Geom};

use super::columns::{all_finite, f64_cols, geom_cols, geom_err, map_prim, GeomCol, GeomOut};
use crate::functions::Func;

// ---------------------------------------------------------------------------
// Predicates and measures.

pub(super) fn predicate(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    if a.iter().any(super::moc::holds_moc) {
        return super::moc::relation(f, a, n);
    }
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

pub(super) fn distance_geom(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn area(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [g] = geom_cols::<1>(f, a)?;
    let mut out = Float64Builder::with_capacity(n);
    for i in 0..n {
        out.append_option(g.get(f, i)?.map(|p| p.area_sq_deg()));
    }
    Ok(Arc::new(out.finish()))
}

pub(super) fn centroid(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn coord(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn coordsys(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn in_circle(a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [lon, lat, clon, clat, r] = f64_cols::<5>(a)?;
    // The translator compares coordinates instead of building the CIRCLE,
    // so its centre and radius are checked here as the constructor would.
    let valid = |x: f64, y: f64, r: f64| -> Result<()> {
        if all_finite(&[x, y, r]) {
            Geom::circle(x, y, r).map_err(|e| geom_err(Func::Circle, e))?;
        }
        Ok(())
    };
    if let (Some(Some(x)), Some(Some(y)), Some(Some(r))) =
        (clon.as_const(), clat.as_const(), r.as_const())
    {
        valid(x, y, r)?;
        // Constant circle: one unit vector per row, nothing else.
        let cone = ConeTest::new(x, y, r);
        let cols = [lon, lat];
        return Ok(map_prim::<2, Float64Type, Int32Type>(&cols, n, |[a, b]| {
            i32::from(cone.contains(a, b))
        }));
    }
    for i in 0..n {
        if let (Some(x), Some(y), Some(r)) = (clon.get(i), clat.get(i), r.get(i)) {
            valid(x, y, r)?;
        }
    }
    let cols = [lon, lat, clon, clat, r];
    Ok(map_prim::<5, Float64Type, Int32Type>(
        &cols,
        n,
        |[a, b, c, d, r]| i32::from(geometry::in_circle(a, b, c, d, r)),
    ))
}

pub(super) fn in_geom(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    if a.len() == 3 && super::moc::holds_moc(&a[2]) {
        return super::moc::point_in(f, a, n);
    }
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

#[cfg(test)]
mod tests {
    use crate::udf::testutil::*;
    use datafusion::common::ScalarValue;

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
    async fn the_fast_cone_checks_its_circle() {
        // Constant (folded) and per-row circles alike: never rows from a
        // circle that is none.
        let e = err("SELECT adql_in_circle(10, 20, 10, 20, 0 - 1)").await;
        assert!(
            e.contains("CIRCLE: circle radius -1 is outside [0, 180]"),
            "{e}"
        );
        let e =
            err("SELECT adql_in_circle(10, 20, 10, 90 + v, 1) FROM (VALUES (1.0), (2.0)) AS t(v)")
                .await;
        assert!(
            e.contains("CIRCLE: latitude 91 is outside [-90, 90]"),
            "{e}"
        );
        let v = one("SELECT adql_in_circle(10, 20, 10, 20.5, 1)").await;
        assert_eq!(i32_of(&v), Some(1));
    }
}
