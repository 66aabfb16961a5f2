//! MOCs (IVOA MOC 2.0 spatial MOCs in their ASCII form, `3/300-320 6/`)
//! in ADQL: `MOC(text)`, `MOC(order, geometry)`, and CONTAINS and
//! INTERSECTS where one side is a MOC, as RegTAP's `rr.stc_spatial`
//! coverage is searched (pyvo's spatial registry search sends
//! `1 = CONTAINS(MOC(6, CIRCLE(…)), coverage)`).
//!
//! A string argument of CONTAINS or INTERSECTS is a MOC when it starts
//! with an order and a slash, STC-S or DALI text otherwise. A geometry compared with a MOC
//! is turned into a MOC at the MOC's order (at least [`GEOM_DEPTH`]): the
//! cells it touches when it must lie within the MOC or meet it, the cells
//! wholly inside it when the MOC must lie within it, so CONTAINS gives no
//! false positive; a point is tested exactly.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;
use moc::deser::ascii::{from_ascii_ivoa, to_ascii_ivoa};
use moc::moc::range::{CellSelection, RangeMOC};
use moc::moc::{
    CellMOCIterator, CellOrCellRangeMOCIntoIterator, CellOrCellRangeMOCIterator,
    RangeMOCIntoIterator, RangeMOCIterator,
};
use moc::qty::Hpx;

use super::columns::{f64_cols, geom_err, GeomCol, I64Col, StrCol};
use super::types::is_str;
use crate::functions::Func;
use crate::geometry::{self, Geom, Prepared};

/// A spatial MOC.
type Smoc = RangeMOC<u64, Hpx<u64>>;

/// The least order a geometry compared with a MOC is turned into cells at
/// (order 10: cells of 3.4 arcmin).
pub(super) const GEOM_DEPTH: u8 = 10;

/// An ASCII MOC starts with an order and a slash (`3/…`); STC-S starts
/// with a word and DALI's text form (`10 20 0.5`) has no slash.
fn looks_like_moc(s: &str) -> bool {
    let s = s.trim_start();
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && s[digits..].trim_start().starts_with('/')
}

/// Parse an ASCII MOC.
fn parse(f: Func, s: &str) -> Result<Smoc> {
    match from_ascii_ivoa::<u64, Hpx<u64>>(s.trim()) {
        Ok(m) => Ok(m.into_cellcellrange_moc_iter().ranges().into_range_moc()),
        Err(e) => exec_err!("{}: not an ASCII MOC ({e}): {s:?}", f.adql_name()),
    }
}

/// A MOC as ASCII text (its order last, as `… 6/`).
fn ascii(m: &Smoc) -> String {
    let mut out = Vec::new();
    // Writing to memory does not fail.
    let _ = to_ascii_ivoa(
        m.into_range_moc_iter().cells().cellranges(),
        &None,
        false,
        &mut out,
    );
    String::from_utf8_lossy(&out).trim().to_string()
}

/// The cells of `g` at `depth`: those it touches (`All`) or those wholly
/// inside it (`Inside`).
fn cells_of(g: &Geom, depth: u8, selection: CellSelection) -> Smoc {
    match g {
        Geom::Point { lon, lat } => {
            let h = geometry::cell(depth, *lon, *lat);
            match selection {
                CellSelection::All => Smoc::from_fixed_depth_cells(depth, std::iter::once(h), None),
                _ => Smoc::new_empty(depth),
            }
        }
        Geom::Circle { lon, lat, radius } => Smoc::from_cone(
            lon.to_radians(),
            lat.to_radians(),
            radius.to_radians(),
            depth,
            2,
            selection,
        ),
        Geom::Polygon(v) => {
            let v: Vec<(f64, f64)> = v
                .iter()
                .map(|(a, b)| (a.to_radians(), b.to_radians()))
                .collect();
            Smoc::from_polygon(&v, false, depth, selection)
        }
    }
}

/// One side of a comparison.
#[derive(Clone)]
enum Region {
    Moc(Smoc),
    Geom(Prepared),
}

/// A region argument: constant (read once), a string column (each row a
/// MOC, STC-S or DALI text) or a DALI geometry column.
enum RegionCol {
    Const(Option<Region>),
    Text(StrCol),
    Geom(GeomCol),
}

impl RegionCol {
    fn new(f: Func, cv: &ColumnarValue) -> Result<RegionCol> {
        let rows = if is_str(&cv.data_type()) {
            RegionCol::Text(StrCol::new(cv)?)
        } else {
            RegionCol::Geom(GeomCol::new(f, cv)?)
        };
        match cv {
            ColumnarValue::Scalar(_) => Ok(RegionCol::Const(rows.get(f, 0)?.map(Cow::into_owned))),
            ColumnarValue::Array(_) => Ok(rows),
        }
    }

    /// Row `i` (borrowed for constants).
    fn get(&self, f: Func, i: usize) -> Result<Option<Cow<'_, Region>>> {
        match self {
            RegionCol::Const(r) => Ok(r.as_ref().map(Cow::Borrowed)),
            RegionCol::Text(t) => match t.get(i) {
                None => Ok(None),
                Some(s) if looks_like_moc(s) => {
                    parse(f, s).map(|m| Some(Cow::Owned(Region::Moc(m))))
                }
                Some(s) => geometry::parse_geom_text(s)
                    .and_then(|g| Prepared::new(&g))
                    .map(|p| Some(Cow::Owned(Region::Geom(p))))
                    .map_err(|e| geom_err(f, e)),
            },
            RegionCol::Geom(g) => Ok(g
                .get(f, i)?
                .map(|p| Cow::Owned(Region::Geom(p.into_owned())))),
        }
    }
}

/// Whether an argument holds MOCs (then [`relation`] compares it).
pub(super) fn holds_moc(cv: &ColumnarValue) -> bool {
    match cv {
        ColumnarValue::Scalar(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)),
        ) => looks_like_moc(s),
        ColumnarValue::Array(a) if is_str(a.data_type()) => {
            // Any MOC among the rows: [`relation`] reads STC-S rows too.
            cast(a, &DataType::Utf8)
                .ok()
                .is_some_and(|s| s.as_string::<i32>().iter().flatten().any(looks_like_moc))
        }
        _ => false,
    }
}

/// `a` within `b` (`contains`) or `a` meeting `b`, one of them a MOC.
fn compare(contains: bool, a: &Region, b: &Region) -> bool {
    let depth = |m: &Smoc| m.depth_max().max(GEOM_DEPTH);
    let meets = |x: &Smoc, y: &Smoc| !x.and(y).is_empty();
    // Not `x.minus(y).is_empty()`: the moc crate's (0.19) streaming minus
    // loses ranges of `x` that `y` does not meet.
    let within = |x: &Smoc, y: &Smoc| x.and(y).moc_ranges() == x.moc_ranges();
    match (a, b) {
        (Region::Moc(x), Region::Moc(y)) => {
            if contains {
                within(x, y)
            } else {
                meets(x, y)
            }
        }
        (Region::Geom(p), Region::Moc(m)) if is_point(p) => point_in_moc(p, m),
        (Region::Moc(m), Region::Geom(p)) if is_point(p) => {
            if contains {
                m.is_empty()
            } else {
                point_in_moc(p, m)
            }
        }
        (Region::Geom(g), Region::Moc(m)) => {
            let cells = cells_of(g.geom(), depth(m), CellSelection::All);
            if contains {
                within(&cells, m)
            } else {
                meets(&cells, m)
            }
        }
        (Region::Moc(m), Region::Geom(g)) => {
            if contains {
                within(m, &cells_of(g.geom(), depth(m), CellSelection::Inside))
            } else {
                meets(m, &cells_of(g.geom(), depth(m), CellSelection::All))
            }
        }
        (Region::Geom(x), Region::Geom(y)) => {
            if contains {
                x.within(y)
            } else {
                x.intersects(y)
            }
        }
    }
}

fn is_point(p: &Prepared) -> bool {
    matches!(p.geom(), Geom::Point { .. })
}

/// A point (tested exactly) within a MOC.
fn point_in_moc(p: &Prepared, m: &Smoc) -> bool {
    match *p.geom() {
        Geom::Point { lon, lat } => m.is_in(lon.to_radians(), lat.to_radians()),
        _ => false,
    }
}

/// CONTAINS (`f` = `Contains`) or INTERSECTS of two regions, one a MOC.
pub(super) fn relation(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [x, y] = [RegionCol::new(f, &a[0])?, RegionCol::new(f, &a[1])?];
    let mut out = Int32Array::builder(n);
    for i in 0..n {
        match (x.get(f, i)?, y.get(f, i)?) {
            (Some(p), Some(q)) => {
                out.append_value(i32::from(compare(f == Func::Contains, &p, &q)));
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `adql_in_geom(lon, lat, moc)`: the position within the MOC.
pub(super) fn point_in(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let [lon, lat] = f64_cols::<2>(&a[..2])?;
    let m = RegionCol::new(f, &a[2])?;
    let mut out = Int32Array::builder(n);
    for i in 0..n {
        match (lon.get(i), lat.get(i), m.get(f, i)?) {
            (Some(x), Some(y), Some(r)) => {
                let p = Geom::point(x, y)
                    .and_then(|g| Prepared::new(&g))
                    .map_err(|e| geom_err(f, e))?;
                out.append_value(i32::from(compare(true, &Region::Geom(p), &r)));
            }
            _ => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `MOC(text)` (the MOC, normalised) or `MOC(order, geometry)` (the cells
/// of that order the geometry touches), as ASCII MOCs.
pub(super) fn moc_of(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    match a {
        [text] => {
            let r = RegionCol::new(f, text)?;
            for i in 0..n {
                match r.get(f, i)? {
                    None => out.append_null(),
                    Some(r) => match r.as_ref() {
                        Region::Moc(m) => out.append_value(ascii(m)),
                        Region::Geom(_) => return exec_err!("{}: not an ASCII MOC", f.adql_name()),
                    },
                }
            }
        }
        [order, g] => {
            let order = I64Col::new(order)?;
            let g = RegionCol::new(f, g)?;
            for i in 0..n {
                match (order.get(i), g.get(f, i)?) {
                    (Some(d), Some(r)) => {
                        if !(0..=29).contains(&d) {
                            return exec_err!(
                                "{}: the order must be in [0, 29], not {d}",
                                f.adql_name()
                            );
                        }
                        let m = match r.as_ref() {
                            Region::Moc(m) => m.degraded(d as u8),
                            Region::Geom(g) => cells_of(g.geom(), d as u8, CellSelection::All),
                        };
                        out.append_value(ascii(&m));
                    }
                    _ => out.append_null(),
                }
            }
        }
        _ => return exec_err!("{}: expected 1 or 2 arguments", f.adql_name()),
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use crate::udf::testutil::*;
    use datafusion::common::ScalarValue;

    async fn i(sql: &str) -> Option<i32> {
        i32_of(&one(sql).await)
    }

    #[tokio::test]
    async fn mocs_are_parsed_normalised_and_made_from_geometries() {
        let v = one("SELECT adql_moc('0/0-3 1/16-19 0/5-11')").await;
        assert_eq!(v, ScalarValue::Utf8(Some("0/0-11 1/".into())));
        // The cells of order 2 a small circle at the north pole touches:
        // one per base cell of the north, 4 of 192.
        let v = one("SELECT adql_moc(2, adql_circle(0, 90, 1))").await;
        assert_eq!(v, ScalarValue::Utf8(Some("2/15 31 47 63".into())));
        // A MOC degraded to a lower order.
        let v = one("SELECT adql_moc(0, adql_moc('2/15 31 47 63'))").await;
        assert_eq!(v, ScalarValue::Utf8(Some("0/0-3".into())));
        let e = err("SELECT adql_moc('0/x')").await;
        assert!(e.contains("MOC: not an ASCII MOC"), "{e}");
        let e = err("SELECT adql_moc(30, adql_point(1, 2))").await;
        assert!(e.contains("the order must be in [0, 29], not 30"), "{e}");
        assert_eq!(
            one("SELECT adql_moc(CAST(NULL AS VARCHAR))").await,
            ScalarValue::Utf8(None)
        );
    }

    #[tokio::test]
    async fn points_and_geometries_against_mocs() {
        // Order 0: cells 0-3 are the north cap, 4-7 the equator, 8-11 the south.
        assert_eq!(
            i("SELECT adql_contains(adql_point(10, -80), '0/8-11')").await,
            Some(1)
        );
        assert_eq!(
            i("SELECT adql_contains(adql_point(10, 80), '0/8-11')").await,
            Some(0)
        );
        assert_eq!(
            i("SELECT adql_in_geom(10.0, -80.0, '0/8-11')").await,
            Some(1)
        );
        assert_eq!(
            i("SELECT adql_in_geom(10.0, 80.0, '0/8-11')").await,
            Some(0)
        );
        let c = "adql_moc(6, adql_circle(10, 20, 1))";
        assert_eq!(
            i(&format!("SELECT adql_contains({c}, '0/0-11')")).await,
            Some(1)
        );
        assert_eq!(
            i(&format!("SELECT adql_contains({c}, '0/8-11')")).await,
            Some(0)
        );
        assert_eq!(
            i(&format!(
                "SELECT adql_contains({c}, adql_circle(10, 20, 4))"
            ))
            .await,
            Some(1)
        );
        assert_eq!(
            i(&format!(
                "SELECT adql_contains({c}, adql_circle(40, 20, 4))"
            ))
            .await,
            Some(0)
        );
        assert_eq!(
            i("SELECT adql_intersects('0/8-11', adql_circle(10, -60, 5))").await,
            Some(1)
        );
        assert_eq!(
            i("SELECT adql_intersects(adql_circle(10, 60, 5), '0/8-11')").await,
            Some(0)
        );
        // A MOC within a geometry: only cells wholly inside count.
        assert_eq!(
            i("SELECT adql_contains('0/8-11', adql_circle(0, -90, 30))").await,
            Some(0)
        );
        assert_eq!(
            i("SELECT adql_contains('0/8-11', adql_circle(0, -90, 91))").await,
            Some(1)
        );
        // MOC against MOC.
        assert_eq!(i("SELECT adql_contains('1/0', '0/0')").await, Some(1));
        assert_eq!(i("SELECT adql_contains('0/0', '1/0')").await, Some(0));
        assert_eq!(i("SELECT adql_intersects('1/3', '0/0')").await, Some(1));
        assert_eq!(i("SELECT adql_intersects('1/4', '0/0')").await, Some(0));
    }

    #[tokio::test]
    async fn mocs_per_row_and_nulls() {
        let v = column(
            "SELECT adql_contains(adql_point(10, -80), m) FROM \
             (VALUES ('0/8-11'), ('0/0-3'), (NULL)) AS t(m)",
            0,
        )
        .await;
        let v: Vec<_> = v.iter().map(i32_of).collect();
        assert_eq!(v, [Some(1), Some(0), None]);
        let e = err("SELECT adql_contains(adql_point(10, -80), m) FROM (VALUES ('0/8-11'), ('1/x')) AS t(m)").await;
        assert!(e.contains("not an ASCII MOC"), "{e}");
        // STC-S, DALI text and MOCs in one column, in any order.
        let v = column(
            "SELECT adql_contains(adql_point(10, -80), m) FROM \
             (VALUES ('CIRCLE ICRS 10 -80 1'), ('0/0-3'), ('10 -80 0.5'), ('0/8-11'), ('10 80 0.5')) AS t(m)",
            0,
        )
        .await;
        let v: Vec<_> = v.iter().map(i32_of).collect();
        assert_eq!(v, [Some(1), Some(0), Some(1), Some(1), Some(0)]);
    }
}
