//! Constructor kernels: `POINT`, `CIRCLE`, `BOX`, `POLYGON`, `REGION` and
//! `CAST` to a geometry.

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

use crate::geometry::{self, Geom};

use super::columns::{
    all_finite, f64_cols, geom_cols, geom_err, str_cols, F64Col, GeomCol, GeomOut,
};
use crate::functions::Func;

// ---------------------------------------------------------------------------
// Constructors.

pub(super) fn point(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn circle(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn make_box(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn polygon(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn polygon_of(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn region(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn cast_geom(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::testutil::*;

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
}
