//! Value access and text formatting shared by the formats: one converted
//! cell, borrowed, and its text.

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, FixedSizeListArray, GenericListArray, ListArray,
    OffsetSizeTrait,
};
use arrow::datatypes::DataType;

/// One converted cell, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f32),
    Double(f64),
    Str(&'a str),
    /// Array elements: the converted child array and the range.
    Array(&'a dyn Array, usize, usize),
}

/// The cell at `row` of a converted column.
pub(crate) fn cell(a: &ArrayRef, row: usize) -> Cell<'_> {
    if a.is_null(row) {
        return Cell::Null;
    }
    match a.data_type() {
        DataType::Boolean => Cell::Bool(a.as_boolean().value(row)),
        DataType::UInt8 => {
            Cell::Int(a.as_primitive::<arrow::datatypes::UInt8Type>().value(row) as i64)
        }
        DataType::Int16 => {
            Cell::Int(a.as_primitive::<arrow::datatypes::Int16Type>().value(row) as i64)
        }
        DataType::Int32 => {
            Cell::Int(a.as_primitive::<arrow::datatypes::Int32Type>().value(row) as i64)
        }
        DataType::Int64 => Cell::Int(a.as_primitive::<arrow::datatypes::Int64Type>().value(row)),
        DataType::Float32 => {
            Cell::Float(a.as_primitive::<arrow::datatypes::Float32Type>().value(row))
        }
        DataType::Float64 => {
            Cell::Double(a.as_primitive::<arrow::datatypes::Float64Type>().value(row))
        }
        DataType::Utf8 => Cell::Str(a.as_string::<i32>().value(row)),
        DataType::List(_) => {
            let l: &ListArray = a.as_list::<i32>();
            list_cell(l, row)
        }
        DataType::FixedSizeList(_, n) => {
            let l: &FixedSizeListArray = a.as_fixed_size_list();
            let n = *n as usize;
            Cell::Array(l.values().as_ref(), row * n, row * n + n)
        }
        _ => Cell::Null,
    }
}

fn list_cell<O: OffsetSizeTrait>(l: &GenericListArray<O>, row: usize) -> Cell<'_> {
    let off = l.value_offsets();
    Cell::Array(
        l.values().as_ref(),
        off[row].as_usize(),
        off[row + 1].as_usize(),
    )
}

/// Element `i` of an array cell's child array (`Cell::Null` for NULL).
pub(crate) fn element(values: &dyn Array, i: usize) -> Cell<'_> {
    if values.is_null(i) {
        return Cell::Null;
    }
    match values.data_type() {
        DataType::Boolean => {
            let b: &BooleanArray = values.as_boolean();
            Cell::Bool(b.value(i))
        }
        DataType::UInt8 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::UInt8Type>()
                .value(i) as i64,
        ),
        DataType::Int16 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::Int16Type>()
                .value(i) as i64,
        ),
        DataType::Int32 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::Int32Type>()
                .value(i) as i64,
        ),
        DataType::Int64 => Cell::Int(
            values
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(i),
        ),
        DataType::Float32 => Cell::Float(
            values
                .as_primitive::<arrow::datatypes::Float32Type>()
                .value(i),
        ),
        DataType::Float64 => Cell::Double(
            values
                .as_primitive::<arrow::datatypes::Float64Type>()
                .value(i),
        ),
        _ => Cell::Null,
    }
}

/// Text of a number or boolean the way every text format writes it: the
/// shortest text that reads back to the same value (`{:?}`, so `1.0`,
/// `1e300`, `-2.5e-7`), `NaN`, `+Inf`/`-Inf` (VOTable spelling), booleans
/// `true`/`false`. `None` for NULL.
pub(crate) fn scalar_text(c: Cell<'_>) -> Option<String> {
    Some(match c {
        Cell::Null | Cell::Array(..) => return None,
        Cell::Bool(b) => b.to_string(),
        Cell::Int(v) => v.to_string(),
        Cell::Float(v) => float_text(v as f64, v.is_finite().then(|| format!("{v:?}"))),
        Cell::Double(v) => float_text(v, v.is_finite().then(|| format!("{v:?}"))),
        Cell::Str(s) => s.to_string(),
    })
}

fn float_text(v: f64, finite: Option<String>) -> String {
    match finite {
        Some(s) => s,
        None if v.is_nan() => "NaN".into(),
        None if v > 0.0 => "+Inf".into(),
        None => "-Inf".into(),
    }
}

/// Array elements as space-separated text (DALI/VOTable TABLEDATA array
/// syntax, also used by CSV and TSV); NULL elements as `NaN`.
pub(crate) fn array_text(values: &dyn Array, start: usize, end: usize) -> String {
    let mut s = String::new();
    for i in start..end {
        if i > start {
            s.push(' ');
        }
        match scalar_text(element(values, i)) {
            Some(t) => s.push_str(&t),
            None => s.push_str("NaN"),
        }
    }
    s
}

/// Text of any cell (`None` for NULL), arrays space-separated.
pub(crate) fn cell_text(c: Cell<'_>) -> Option<String> {
    match c {
        Cell::Array(v, s, e) => Some(array_text(v, s, e)),
        other => scalar_text(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_texts() {
        assert_eq!(scalar_text(Cell::Double(1.0)).unwrap(), "1.0");
        assert_eq!(scalar_text(Cell::Double(1e300)).unwrap(), "1e300");
        assert_eq!(scalar_text(Cell::Double(f64::NAN)).unwrap(), "NaN");
        assert_eq!(
            scalar_text(Cell::Double(f64::NEG_INFINITY)).unwrap(),
            "-Inf"
        );
        assert_eq!(scalar_text(Cell::Float(0.1)).unwrap(), "0.1");
    }
}
