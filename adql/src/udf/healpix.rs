//! HEALPix kernels: `adql_cell`, `adql_cone_cells`, `ivo_healpix_index` and
//! `ivo_healpix_center`.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Builder, Int64Builder, ListBuilder, PrimitiveArray};
use arrow::buffer::ScalarBuffer;
use arrow::datatypes::Int64Type;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::ColumnarValue;

use crate::geometry;

use super::columns::{all_finite, f64_cols, F64Col, GeomCol, GeomOut, I64Col};
use crate::functions::Func;

/// Upper bound on the cells `adql_cone_cells` returns for one row.
const MAX_CONE_CELLS: f64 = 1_000_000.0;

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

pub(super) fn cell(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn cone_cells(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

pub(super) fn healpix_center(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::testutil::*;
    use arrow::array::AsArray;
    use datafusion::common::ScalarValue;

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
}
