//! The column plan: how each Arrow column of a result is written (its
//! delivered metadata and representation, from `astrolake_vo`), and the
//! conversion of each batch to the canonical Arrow types the encoders read.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, FixedSizeListArray, StringArray};
use arrow::compute::{cast_with_options, CastOptions};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow::record_batch::RecordBatch;
use arrow::temporal_conversions::as_datetime;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use astrolake_vo::datatype::is_temporal;
use astrolake_vo::field::delivered;

use super::{cell, Cell, Error, FieldMeta, Kind, Prim, Result, ResultInfo};

/// One output column.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// Final metadata: unique name, datatype and arraysize from the Arrow type.
    pub meta: FieldMeta,
    /// Representation.
    pub kind: Kind,
    /// The Arrow field may hold nulls.
    pub nullable: bool,
    /// Source type, for the conversion.
    source: DataType,
}

/// The columns of a result and how to convert its batches.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub columns: Vec<Column>,
    /// Schema of the converted batches ([`Plan::convert`]).
    pub schema: SchemaRef,
}

impl Plan {
    pub(crate) fn new(info: &ResultInfo, schema: &Schema) -> Plan {
        let columns: Vec<Column> = delivered(&info.columns, schema)
            .into_iter()
            .zip(schema.fields())
            .map(|((meta, kind), f)| Column {
                meta,
                kind,
                nullable: f.is_nullable(),
                source: f.data_type().clone(),
            })
            .collect();
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| Field::new(&c.meta.name, c.arrow_type(), c.nullable))
            .collect();
        Plan {
            columns,
            schema: Arc::new(Schema::new(fields)),
        }
    }

    /// The batch with every column converted to its canonical Arrow type:
    /// Boolean, UInt8, Int16, Int32, Int64, Float32, Float64, Utf8,
    /// List or FixedSizeList of one of those numbers.
    pub(crate) fn convert(&self, b: &RecordBatch) -> Result<Vec<ArrayRef>> {
        if b.num_columns() != self.columns.len() {
            return Err(Error::State(format!(
                "batch has {} columns, the schema {}",
                b.num_columns(),
                self.columns.len()
            )));
        }
        self.columns
            .iter()
            .zip(b.columns())
            .map(|(c, a)| c.convert(a))
            .collect()
    }

    /// The converted batch as text, for the row-per-line encoders (CSV, TSV,
    /// ECSV, JSON): `open` writes what comes before each row, `write` each
    /// cell, `sep` goes between the cells of a row and `close` after each row.
    pub(crate) fn text_rows(
        &self,
        b: &RecordBatch,
        mut open: impl FnMut(&mut String),
        sep: &str,
        close: &str,
        mut write: impl FnMut(Cell<'_>, &mut String),
    ) -> Result<String> {
        let arrays = self.convert(b)?;
        let mut out = String::new();
        for row in 0..b.num_rows() {
            open(&mut out);
            for (i, a) in arrays.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                write(cell(a, row), &mut out);
            }
            out.push_str(close);
        }
        Ok(out)
    }
}

impl Column {
    fn arrow_type(&self) -> DataType {
        match self.kind {
            Kind::Scalar(p) => p.arrow(),
            Kind::Char | Kind::UnicodeChar => DataType::Utf8,
            Kind::Array(p) => DataType::List(Arc::new(Field::new("item", p.arrow(), true))),
            Kind::Fixed(p, n) => {
                DataType::FixedSizeList(Arc::new(Field::new("item", p.arrow(), true)), n as i32)
            }
        }
    }

    fn convert(&self, a: &ArrayRef) -> Result<ArrayRef> {
        let target = self.arrow_type();
        if a.data_type() == &target {
            return Ok(a.clone());
        }
        if is_temporal(a.data_type()) {
            return Ok(Arc::new(timestamps(a.as_ref())));
        }
        // Safe casts: a value that does not fit (UInt64 above i64::MAX)
        // becomes NULL instead of failing the stream.
        let opts = CastOptions {
            safe: true,
            ..Default::default()
        };
        if target == DataType::Utf8
            && !matches!(self.source, DataType::LargeUtf8 | DataType::Utf8View)
        {
            return display_strings(a.as_ref());
        }
        if let (Kind::Fixed(p, n), DataType::List(_) | DataType::LargeList(_)) =
            (self.kind, a.data_type())
        {
            return to_fixed(a.as_ref(), p, n, &opts);
        }
        Ok(cast_with_options(a, &target, &opts)?)
    }
}

/// A list column as fixed-size lists of `n` (a list of another length is
/// NULL). Written out here because arrow's cast mishandles sliced lists.
fn to_fixed(a: &dyn Array, p: Prim, n: usize, opts: &CastOptions) -> Result<ArrayRef> {
    let (values, offsets): (ArrayRef, Vec<usize>) = match a.data_type() {
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|o| *o as usize).collect(),
            )
        }
        _ => {
            let l = a.as_list::<i32>();
            (
                l.values().clone(),
                l.value_offsets().iter().map(|o| *o as usize).collect(),
            )
        }
    };
    let mut indices: Vec<Option<u64>> = Vec::with_capacity(a.len() * n);
    let mut valid = Vec::with_capacity(a.len());
    for row in 0..a.len() {
        let (start, end) = (offsets[row], offsets[row + 1]);
        let ok = a.is_valid(row) && end - start == n;
        valid.push(ok);
        for k in 0..n {
            indices.push(ok.then_some((start + k) as u64));
        }
    }
    let child = arrow::compute::take(
        values.as_ref(),
        &arrow::array::UInt64Array::from(indices),
        None,
    )?;
    let child = cast_with_options(&child, &p.arrow(), opts)?;
    let field = Arc::new(Field::new("item", p.arrow(), true));
    Ok(Arc::new(FixedSizeListArray::try_new(
        field,
        n as i32,
        child,
        Some(arrow::buffer::NullBuffer::from(valid)),
    )?))
}

/// ISO 8601 text (DALI timestamp, UTC, no zone suffix) of a timestamp or
/// date column: seconds, milliseconds, microseconds or nanoseconds digits
/// after the point as the unit has them; dates (Date32) as `YYYY-MM-DD`.
fn timestamps(a: &dyn Array) -> StringArray {
    fn fmt<T: arrow::datatypes::ArrowPrimitiveType>(v: i64, f: &str) -> Option<String> {
        as_datetime::<T>(v).map(|d| d.format(f).to_string())
    }
    const S: &str = "%Y-%m-%dT%H:%M:%S";
    const MS: &str = "%Y-%m-%dT%H:%M:%S%.3f";
    const US: &str = "%Y-%m-%dT%H:%M:%S%.6f";
    const NS: &str = "%Y-%m-%dT%H:%M:%S%.9f";
    (0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return None;
            }
            match a.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    fmt::<TimestampSecondType>(a.as_primitive::<TimestampSecondType>().value(i), S)
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => fmt::<TimestampMillisecondType>(
                    a.as_primitive::<TimestampMillisecondType>().value(i),
                    MS,
                ),
                DataType::Timestamp(TimeUnit::Microsecond, _) => fmt::<TimestampMicrosecondType>(
                    a.as_primitive::<TimestampMicrosecondType>().value(i),
                    US,
                ),
                DataType::Timestamp(TimeUnit::Nanosecond, _) => fmt::<TimestampNanosecondType>(
                    a.as_primitive::<TimestampNanosecondType>().value(i),
                    NS,
                ),
                DataType::Date32 => {
                    fmt::<Date32Type>(a.as_primitive::<Date32Type>().value(i) as i64, "%Y-%m-%d")
                }
                DataType::Date64 => fmt::<Date64Type>(a.as_primitive::<Date64Type>().value(i), MS),
                _ => None,
            }
        })
        .collect()
}

/// Arrow's display text of each value (NULL stays NULL), for types VOTable
/// has no datatype for.
fn display_strings(a: &dyn Array) -> Result<ArrayRef> {
    let f = ArrayFormatter::try_new(a, &FormatOptions::default())?;
    let out: StringArray = (0..a.len())
        .map(|i| (!a.is_null(i)).then(|| f.value(i).to_string()))
        .collect();
    Ok(Arc::new(out))
}
