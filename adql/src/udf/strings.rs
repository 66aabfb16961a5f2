//! RegTAP string kernels: `ivo_hasword`, `ivo_hashlist_has`,
//! `ivo_nocasematch`.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Int32Array, Scalar};
use arrow::compute::kernels::cast::cast;
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

use super::columns::str_cols;
use crate::functions::Func;

// ---------------------------------------------------------------------------
// RegTAP string functions.

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

pub(super) fn word_match(f: Func, a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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
pub(super) fn nocasematch(a: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
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
    use crate::udf::testutil::*;

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
