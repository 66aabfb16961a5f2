//! Argument adapters: primitive, geometry and string arguments read as
//! constants or columns, and the geometry output builder.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    new_null_array, Array, ArrayRef, ArrowPrimitiveType, AsArray, Float64Builder, ListArray,
    ListBuilder, PrimitiveArray, StringArray,
};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::kernels::cast::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{exec_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

use crate::geometry::{self, Geom, GeomError, Prepared};

use super::types::{geom_type, is_list, is_str};
use crate::functions::Func;

// ---------------------------------------------------------------------------
// Column access.

/// A primitive argument: a constant or an array, no per-row allocation.
pub(super) enum Col<T: ArrowPrimitiveType> {
    Const(Option<T::Native>),
    Array(PrimitiveArray<T>),
}

impl<T: ArrowPrimitiveType> Col<T> {
    pub(super) fn new(cv: &ColumnarValue) -> Result<Col<T>> {
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
    pub(super) fn value(&self, i: usize) -> T::Native {
        match self {
            Col::Const(v) => v.unwrap_or_default(),
            Col::Array(a) => a.values()[i],
        }
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<T::Native> {
        match self {
            Col::Const(v) => *v,
            Col::Array(a) => a.is_valid(i).then(|| a.values()[i]),
        }
    }

    pub(super) fn nulls(&self) -> Option<&NullBuffer> {
        match self {
            Col::Const(_) => None,
            Col::Array(a) => a.nulls(),
        }
    }

    pub(super) fn is_null_const(&self) -> bool {
        matches!(self, Col::Const(None))
    }

    pub(super) fn as_const(&self) -> Option<Option<T::Native>> {
        match self {
            Col::Const(v) => Some(*v),
            Col::Array(_) => None,
        }
    }
}

pub(super) type F64Col = Col<Float64Type>;
pub(super) type I64Col = Col<Int64Type>;

pub(super) fn f64_cols<const K: usize>(a: &[ColumnarValue]) -> Result<[F64Col; K]> {
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
pub(super) fn map_prim<const K: usize, T: ArrowPrimitiveType, O: ArrowPrimitiveType>(
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

pub(super) fn geom_err(f: Func, e: GeomError) -> DataFusionError {
    DataFusionError::Execution(format!("{}: {e}", f.adql_name()))
}

/// A geometry argument: a constant (prepared once), a `List<Float64>` column,
/// or a string column (STC-S or DALI text, parsed per row).
pub(super) enum GeomCol {
    Const(Option<Prepared>),
    List {
        list: ListArray,
        values: PrimitiveArray<Float64Type>,
    },
    Text(StringArray),
}

impl GeomCol {
    pub(super) fn new(f: Func, cv: &ColumnarValue) -> Result<GeomCol> {
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

    pub(super) fn is_null(&self, i: usize) -> bool {
        match self {
            GeomCol::Const(p) => p.is_none(),
            GeomCol::List { list, .. } => list.is_null(i),
            GeomCol::Text(t) => t.is_null(i),
        }
    }

    pub(super) fn is_null_const(&self) -> bool {
        matches!(self, GeomCol::Const(None))
    }

    /// The DALI values of row `i` of a list column (no allocation); `None`
    /// when NULL or holding NULL items.
    #[inline]
    pub(super) fn slice<'a>(
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
    pub(super) fn get(&self, f: Func, i: usize) -> Result<Option<Cow<'_, Prepared>>> {
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
    pub(super) fn point(&self, f: Func, i: usize) -> Result<Option<(f64, f64)>> {
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

pub(super) fn geom_cols<const K: usize>(f: Func, a: &[ColumnarValue]) -> Result<[GeomCol; K]> {
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
pub(super) struct GeomOut(pub(super) ListBuilder<Float64Builder>);

impl GeomOut {
    pub(super) fn new(n: usize) -> GeomOut {
        GeomOut(ListBuilder::with_capacity(
            Float64Builder::with_capacity(n * 2),
            n,
        ))
    }

    #[inline]
    pub(super) fn push(&mut self, values: &[f64]) {
        self.0.values().append_slice(values);
        self.0.append(true);
    }

    #[inline]
    pub(super) fn push_geom(&mut self, g: &Geom) {
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
    pub(super) fn null(&mut self) {
        self.0.append(false);
    }

    pub(super) fn finish(mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// Non-finite inputs to a constructor give NULL (missing values stored as
/// NaN); other invalid values (latitude beyond ±90°, negative radius) are
/// errors.
pub(super) fn all_finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// A string argument: a constant or a `Utf8` column.
pub(super) enum StrCol {
    Const(Option<String>),
    Array(StringArray),
}

impl StrCol {
    pub(super) fn new(cv: &ColumnarValue) -> Result<StrCol> {
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
    pub(super) fn get(&self, i: usize) -> Option<&str> {
        match self {
            StrCol::Const(s) => s.as_deref(),
            StrCol::Array(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }
}

pub(super) fn str_cols<const K: usize>(a: &[ColumnarValue]) -> Result<[StrCol; K]> {
    if a.len() != K {
        return exec_err!("expected {K} arguments, got {}", a.len());
    }
    let v: Vec<StrCol> = a.iter().map(StrCol::new).collect::<Result<_>>()?;
    v.try_into()
        .map_err(|_| DataFusionError::Internal("argument count".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udf::testutil::*;

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
}
