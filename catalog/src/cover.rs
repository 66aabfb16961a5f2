//! The HEALPix cover filter: `healpix_cover(_healpix_29, [s0, e0, s1, e1, …])`.
//!
//! A cover is a set of half-open `_healpix_29` ranges that holds every row a
//! spatial condition can keep (a superset: the exact predicate stays in the
//! plan beside it). It travels in the logical plan as an ordinary filter,
//! a call of this module's scalar function with a constant list, so a plan
//! that uses one is a plain DataFusion plan (it serialises with the
//! function's name like any other UDF). The table provider recognises the
//! call among its pushed-down filters ([`ranges_of`]) and prunes files, row
//! groups and pages with it; above the scan DataFusion evaluates it per row
//! (a binary search), which keeps the scan's answer exact whatever it read.

use std::ops::Range;
use std::sync::Arc;

use arrow::array::{Array, AsArray, BooleanArray, Int64Array, ListArray};
use arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{exec_err, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::healpix::{normalize_ranges, HEALPIX_COLUMN};

/// The function's name.
pub const COVER_FUNCTION: &str = "healpix_cover";

/// The scalar function `healpix_cover(h BIGINT, ranges BIGINT[]) → BOOLEAN`:
/// true when `h` lies in one of the half-open ranges `[ranges[2i],
/// ranges[2i+1])`. `ranges` must be constant (it is read from the first
/// row); a null `h` gives null.
pub fn cover_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(CoverUdf {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

/// The filter `healpix_cover(_healpix_29, ranges)` for a table's rows
/// (DataFrame API users; the ADQL translator writes the same call).
pub fn cover_filter(ranges: &[Range<u64>]) -> Expr {
    let flat: Vec<ScalarValue> = ranges
        .iter()
        .flat_map(|r| [r.start as i64, r.end as i64])
        .map(|v| ScalarValue::Int64(Some(v)))
        .collect();
    let list = ScalarValue::List(ScalarValue::new_list_nullable(&flat, &DataType::Int64));
    cover_udf().call(vec![
        datafusion::prelude::col(HEALPIX_COLUMN),
        Expr::Literal(list, None),
    ])
}

/// The ranges of a `healpix_cover(_healpix_29, constant list)` call, or
/// `None` when `e` is not one (another column, a list that is not
/// constant, an odd number of bounds).
pub fn ranges_of(e: &Expr) -> Option<Vec<Range<u64>>> {
    let Expr::ScalarFunction(f) = e else {
        return None;
    };
    if f.name() != COVER_FUNCTION || f.args.len() != 2 {
        return None;
    }
    if !matches!(&f.args[0], Expr::Column(c) if c.name == HEALPIX_COLUMN) {
        return None;
    }
    let bounds: Vec<i64> = match &f.args[1] {
        Expr::Literal(ScalarValue::List(l), _) if l.len() == 1 && !l.is_null(0) => {
            list_values(l, 0)?
        }
        // Before constant folding: make_array(literals…).
        Expr::ScalarFunction(m) if m.name() == "make_array" => m
            .args
            .iter()
            .map(|a| match a {
                Expr::Literal(v, _) => int_of(v),
                _ => None,
            })
            .collect::<Option<Vec<i64>>>()?,
        _ => return None,
    };
    parse_bounds(&bounds)
}

fn int_of(v: &ScalarValue) -> Option<i64> {
    match v {
        ScalarValue::Int64(Some(x)) => Some(*x),
        ScalarValue::Int32(Some(x)) => Some(*x as i64),
        ScalarValue::UInt64(Some(x)) => i64::try_from(*x).ok(),
        _ => None,
    }
}

fn list_values(l: &ListArray, row: usize) -> Option<Vec<i64>> {
    let values = l.value(row);
    let values = arrow::compute::cast(&values, &DataType::Int64).ok()?;
    let values = values.as_primitive::<Int64Type>();
    if values.null_count() > 0 {
        return None;
    }
    Some(values.values().to_vec())
}

fn parse_bounds(bounds: &[i64]) -> Option<Vec<Range<u64>>> {
    if !bounds.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(bounds.len() / 2);
    for pair in bounds.chunks(2) {
        let (a, b) = (u64::try_from(pair[0]).ok()?, u64::try_from(pair[1]).ok()?);
        if a < b {
            out.push(a..b);
        }
    }
    Some(normalize_ranges(out))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CoverUdf {
    signature: Signature,
}

impl ScalarUDFImpl for CoverUdf {
    fn name(&self) -> &str {
        COVER_FUNCTION
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let n = args.number_rows;
        let [h, ranges] = args.args.as_slice() else {
            return exec_err!("{COVER_FUNCTION} takes two arguments");
        };
        let bounds = match ranges {
            ColumnarValue::Scalar(ScalarValue::List(l)) if l.len() == 1 && !l.is_null(0) => {
                list_values(l, 0)
            }
            ColumnarValue::Array(_) if n == 0 => Some(Vec::new()),
            ColumnarValue::Array(a) => a
                .as_list_opt::<i32>()
                .filter(|l| !l.is_null(0))
                .and_then(|l| list_values(l, 0)),
            _ => None,
        };
        let Some(ranges) = bounds.as_deref().and_then(parse_bounds) else {
            return exec_err!("{COVER_FUNCTION}: the ranges must be a constant list of pairs");
        };
        let inside = |v: i64| {
            let v = v as u64;
            // The first range ending after v starts at or before it?
            let i = ranges.partition_point(|r| r.end <= v);
            i < ranges.len() && ranges[i].start <= v
        };
        match h {
            ColumnarValue::Scalar(s) => {
                let v = match s.cast_to(&DataType::Int64)? {
                    ScalarValue::Int64(v) => v,
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(v.map(inside))))
            }
            ColumnarValue::Array(a) => {
                let a = arrow::compute::cast(a, &DataType::Int64)?;
                let a: &Int64Array = a.as_primitive::<Int64Type>();
                let out: BooleanArray = a.iter().map(|v| v.map(inside)).collect();
                Ok(ColumnarValue::Array(Arc::new(out)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit, SessionContext};

    #[test]
    fn recognises_its_own_calls() {
        let f = cover_filter(&[10..20, 30..31]);
        assert_eq!(ranges_of(&f), Some(vec![10..20, 30..31]));
        assert_eq!(ranges_of(&col(HEALPIX_COLUMN).lt(lit(3i64))), None);
        let other = cover_udf().call(vec![col("ra"), lit(ScalarValue::Null)]);
        assert_eq!(ranges_of(&other), None);
    }

    #[tokio::test]
    async fn keeps_exactly_the_rows_in_the_ranges() {
        let ctx = SessionContext::new();
        ctx.register_udf(cover_udf());
        let df = ctx
            .sql(
                "SELECT v, healpix_cover(v, [10, 20, 30, 31]) AS c \
                 FROM (VALUES (9), (10), (19), (20), (30), (31), (NULL)) AS t(v) ORDER BY v",
            )
            .await
            .unwrap();
        let batches = df.collect().await.unwrap();
        let c = batches[0].column(1).as_boolean();
        let got: Vec<Option<bool>> = c.iter().collect();
        assert_eq!(
            got,
            vec![
                Some(false),
                Some(true),
                Some(true),
                Some(false),
                Some(true),
                Some(false),
                None
            ]
        );
    }
}
