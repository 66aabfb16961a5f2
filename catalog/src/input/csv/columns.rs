//! Columns: the storage kind of each, the values of the batch being
//! built, and the parsing of numbers and booleans.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, BooleanBufferBuilder, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, Int8Array, StringArray, UInt16Array, UInt32Array, UInt64Array,
    UInt8Array,
};
use arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::DataType;

use crate::error::Result;

use super::{INFER_ROWS, MAX_QUOTED};

/// Storage type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Str,
}

impl Kind {
    /// The kind that stores an Arrow type; arrays and anything unusual are
    /// kept as text.
    pub(super) fn from_arrow(dt: &DataType) -> Kind {
        match dt {
            DataType::Boolean => Kind::Bool,
            DataType::Int8 => Kind::I8,
            DataType::Int16 => Kind::I16,
            DataType::Int32 => Kind::I32,
            DataType::Int64 => Kind::I64,
            DataType::UInt8 => Kind::U8,
            DataType::UInt16 => Kind::U16,
            DataType::UInt32 => Kind::U32,
            DataType::UInt64 => Kind::U64,
            DataType::Float16 | DataType::Float32 => Kind::F32,
            DataType::Float64 => Kind::F64,
            _ => Kind::Str,
        }
    }

    pub(super) fn arrow(self) -> DataType {
        match self {
            Kind::Bool => DataType::Boolean,
            Kind::I8 => DataType::Int8,
            Kind::I16 => DataType::Int16,
            Kind::I32 => DataType::Int32,
            Kind::I64 => DataType::Int64,
            Kind::U8 => DataType::UInt8,
            Kind::U16 => DataType::UInt16,
            Kind::U32 => DataType::UInt32,
            Kind::U64 => DataType::UInt64,
            Kind::F32 => DataType::Float32,
            Kind::F64 => DataType::Float64,
            Kind::Str => DataType::Utf8,
        }
    }

    /// The type's name in error messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Bool => "boolean",
            Kind::I8 => "int8",
            Kind::I16 => "short",
            Kind::I32 => "int",
            Kind::I64 => "long",
            Kind::U8 => "unsignedByte",
            Kind::U16 => "uint16",
            Kind::U32 => "uint32",
            Kind::U64 => "uint64",
            Kind::F32 => "float",
            Kind::F64 => "double",
            Kind::Str => "text",
        }
    }

    /// Bytes per value in a batch (strings: their offset).
    pub(super) fn width(self) -> u64 {
        match self {
            Kind::Bool | Kind::I8 | Kind::U8 => 1,
            Kind::I16 | Kind::U16 => 2,
            Kind::I32 | Kind::U32 | Kind::F32 | Kind::Str => 4,
            Kind::I64 | Kind::U64 | Kind::F64 => 8,
        }
    }

    pub(super) fn is_integer(self) -> bool {
        !matches!(self, Kind::Bool | Kind::F32 | Kind::F64 | Kind::Str)
    }
}

/// Where a column's type came from (for error messages).
#[derive(Debug, Clone)]
pub(super) enum Origin {
    Inferred,
    Declared,
    Ecsv(String),
}

pub(super) enum Values {
    Bool(BooleanBufferBuilder),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Str { offsets: Vec<i32>, data: Vec<u8> },
}

/// Why a value was refused.
#[derive(Debug, Clone, Copy)]
pub(super) enum Bad {
    Parse,
    Utf8,
    TooLong,
}

/// One column's values of the batch being built.
pub(super) struct Column {
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) origin: Origin,
    pub(super) values: Values,
    /// Validity, created at the first null.
    pub(super) valid: Option<BooleanBufferBuilder>,
    pub(super) len: usize,
}

pub(super) fn str_offsets(cap: usize) -> Vec<i32> {
    let mut v = Vec::with_capacity(cap + 1);
    v.push(0);
    v
}

impl Column {
    pub(super) fn new(name: String, kind: Kind, origin: Origin, cap: usize) -> Column {
        Column {
            name,
            kind,
            origin,
            values: Values::new(kind, cap),
            valid: None,
            len: 0,
        }
    }

    #[inline]
    pub(super) fn push_null(&mut self) {
        let len = self.len;
        self.valid
            .get_or_insert_with(|| {
                let mut b = BooleanBufferBuilder::new(len.max(1024));
                b.append_n(len, true);
                b
            })
            .append(false);
        match &mut self.values {
            Values::Bool(b) => b.append(false),
            Values::I8(v) => v.push(0),
            Values::I16(v) => v.push(0),
            Values::I32(v) => v.push(0),
            Values::I64(v) => v.push(0),
            Values::U8(v) => v.push(0),
            Values::U16(v) => v.push(0),
            Values::U32(v) => v.push(0),
            Values::U64(v) => v.push(0),
            Values::F32(v) => v.push(0.0),
            Values::F64(v) => v.push(0.0),
            Values::Str { offsets, data } => offsets.push(data.len() as i32),
        }
        self.len += 1;
    }

    /// Append one field (null if empty, or `null` with `null_literal`).
    #[inline]
    pub(super) fn push(&mut self, f: &str, null_literal: bool) -> Result<(), Bad> {
        if f.is_empty() || (null_literal && f == "null") {
            self.push_null();
            return Ok(());
        }
        match self.push_value(f) {
            Err(Bad::Parse) => self.push_trimmed(f, null_literal),
            other => other,
        }
    }

    /// Second try for a value that did not parse: without surrounding
    /// whitespace (whitespace only: null).
    #[cold]
    pub(super) fn push_trimmed(&mut self, f: &str, null_literal: bool) -> Result<(), Bad> {
        let t = f.trim_ascii();
        if t.len() == f.len() {
            return Err(Bad::Parse);
        }
        if t.is_empty() || (null_literal && t == "null") {
            self.push_null();
            return Ok(());
        }
        self.push_value(t)
    }

    /// Parse and append a non-null value; nothing is appended on error.
    #[inline]
    pub(super) fn push_value(&mut self, f: &str) -> Result<(), Bad> {
        fn int<T: TryFrom<i64>>(f: &str) -> Result<T, Bad> {
            parse_i64(f.as_bytes())
                .and_then(|v| T::try_from(v).ok())
                .ok_or(Bad::Parse)
        }
        fn uint<T: TryFrom<u64>>(f: &str) -> Result<T, Bad> {
            parse_u64(f.as_bytes())
                .and_then(|v| T::try_from(v).ok())
                .ok_or(Bad::Parse)
        }
        match &mut self.values {
            Values::F64(v) => v.push(f.parse().map_err(|_| Bad::Parse)?),
            Values::F32(v) => v.push(f.parse().map_err(|_| Bad::Parse)?),
            Values::I64(v) => v.push(parse_i64(f.as_bytes()).ok_or(Bad::Parse)?),
            Values::I32(v) => v.push(int(f)?),
            Values::I16(v) => v.push(int(f)?),
            Values::I8(v) => v.push(int(f)?),
            Values::U64(v) => v.push(parse_u64(f.as_bytes()).ok_or(Bad::Parse)?),
            Values::U32(v) => v.push(uint(f)?),
            Values::U16(v) => v.push(uint(f)?),
            Values::U8(v) => v.push(uint(f)?),
            Values::Bool(b) => b.append(parse_bool(f.as_bytes()).ok_or(Bad::Parse)?),
            Values::Str { offsets, data } => {
                if data.len() + f.len() > i32::MAX as usize {
                    return Err(Bad::TooLong);
                }
                data.extend_from_slice(f.as_bytes());
                offsets.push(data.len() as i32);
            }
        }
        if let Some(v) = &mut self.valid {
            v.append(true);
        }
        self.len += 1;
        Ok(())
    }

    /// The error message for a refused value.
    #[cold]
    pub(super) fn bad_message(&self, f: &[u8], bad: Bad) -> String {
        let text = String::from_utf8_lossy(f);
        let shown: String = if text.chars().count() > MAX_QUOTED {
            let mut s: String = text.chars().take(MAX_QUOTED).collect();
            s.push('…');
            s
        } else {
            text.into_owned()
        };
        let note = match &self.origin {
            Origin::Inferred => format!(
                "type inferred from the first {INFER_ROWS} rows; declare the column's type with \
                 --metadata to override"
            ),
            Origin::Declared => "type declared by --metadata".to_string(),
            Origin::Ecsv(t) => format!("ECSV datatype {t}"),
        };
        match bad {
            Bad::Utf8 => format!("value {shown:?} is not valid UTF-8 ({note})"),
            Bad::TooLong => "value too long (over 2 GiB of text in one batch)".to_string(),
            Bad::Parse => {
                let t = f.trim_ascii();
                let out_of_range =
                    self.kind.is_integer() && (parse_i64(t).is_some() || parse_u64(t).is_some());
                if out_of_range {
                    format!(
                        "value {shown:?} is out of range for {} ({note})",
                        self.kind.name()
                    )
                } else {
                    format!("cannot parse {shown:?} as {} ({note})", self.kind.name())
                }
            }
        }
    }

    pub(super) fn truncate(&mut self, n: usize) {
        if self.len <= n {
            return;
        }
        self.len = n;
        if let Some(v) = &mut self.valid {
            v.truncate(n);
        }
        match &mut self.values {
            Values::Bool(b) => b.truncate(n),
            Values::I8(v) => v.truncate(n),
            Values::I16(v) => v.truncate(n),
            Values::I32(v) => v.truncate(n),
            Values::I64(v) => v.truncate(n),
            Values::U8(v) => v.truncate(n),
            Values::U16(v) => v.truncate(n),
            Values::U32(v) => v.truncate(n),
            Values::U64(v) => v.truncate(n),
            Values::F32(v) => v.truncate(n),
            Values::F64(v) => v.truncate(n),
            Values::Str { offsets, data } => {
                offsets.truncate(n + 1);
                data.truncate(offsets[n] as usize);
            }
        }
    }

    pub(super) fn string_bytes(&self) -> usize {
        match &self.values {
            Values::Str { data, .. } => data.len(),
            _ => 0,
        }
    }

    /// The column's values as an array; the buffers start again empty.
    pub(super) fn finish(&mut self, cap: usize) -> Result<ArrayRef> {
        let nulls = self
            .valid
            .take()
            .map(|mut b| NullBuffer::new(b.finish()))
            .filter(|n| n.null_count() > 0);
        self.len = 0;
        macro_rules! prim {
            ($arr:ident, $v:expr) => {
                Arc::new($arr::new(
                    ScalarBuffer::from(std::mem::replace($v, Vec::with_capacity(cap))),
                    nulls,
                )) as ArrayRef
            };
        }
        Ok(match &mut self.values {
            Values::Bool(b) => Arc::new(BooleanArray::new(b.finish(), nulls)),
            Values::I8(v) => prim!(Int8Array, v),
            Values::I16(v) => prim!(Int16Array, v),
            Values::I32(v) => prim!(Int32Array, v),
            Values::I64(v) => prim!(Int64Array, v),
            Values::U8(v) => prim!(UInt8Array, v),
            Values::U16(v) => prim!(UInt16Array, v),
            Values::U32(v) => prim!(UInt32Array, v),
            Values::U64(v) => prim!(UInt64Array, v),
            Values::F32(v) => prim!(Float32Array, v),
            Values::F64(v) => prim!(Float64Array, v),
            Values::Str { offsets, data } => {
                let o = std::mem::replace(offsets, str_offsets(cap));
                let d = std::mem::take(data);
                Arc::new(StringArray::try_new(
                    OffsetBuffer::new(ScalarBuffer::from(o)),
                    Buffer::from_vec(d),
                    nulls,
                )?)
            }
        })
    }
}

impl Values {
    pub(super) fn new(kind: Kind, cap: usize) -> Values {
        match kind {
            Kind::Bool => Values::Bool(BooleanBufferBuilder::new(cap)),
            Kind::I8 => Values::I8(Vec::with_capacity(cap)),
            Kind::I16 => Values::I16(Vec::with_capacity(cap)),
            Kind::I32 => Values::I32(Vec::with_capacity(cap)),
            Kind::I64 => Values::I64(Vec::with_capacity(cap)),
            Kind::U8 => Values::U8(Vec::with_capacity(cap)),
            Kind::U16 => Values::U16(Vec::with_capacity(cap)),
            Kind::U32 => Values::U32(Vec::with_capacity(cap)),
            Kind::U64 => Values::U64(Vec::with_capacity(cap)),
            Kind::F32 => Values::F32(Vec::with_capacity(cap)),
            Kind::F64 => Values::F64(Vec::with_capacity(cap)),
            Kind::Str => Values::Str {
                offsets: str_offsets(cap),
                data: Vec::new(),
            },
        }
    }
}

// ---------------------------------------------------------------------------
// Value parsers (bytes, no allocation).

/// Decimal digits as a u64 (`None` if empty, not all digits, or too big).
#[inline]
pub(super) fn parse_digits(d: &[u8]) -> Option<u64> {
    if d.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    if d.len() <= 19 {
        // At most 19 digits: cannot overflow.
        for &c in d {
            let x = c.wrapping_sub(b'0');
            if x > 9 {
                return None;
            }
            v = v * 10 + u64::from(x);
        }
    } else {
        for &c in d {
            let x = c.wrapping_sub(b'0');
            if x > 9 {
                return None;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(x))?;
        }
    }
    Some(v)
}

/// A decimal integer with an optional sign.
#[inline]
pub(super) fn parse_i64(b: &[u8]) -> Option<i64> {
    match b.split_first()? {
        (b'-', rest) => {
            let v = parse_digits(rest)?;
            if v <= i64::MAX as u64 {
                Some(-(v as i64))
            } else if v == i64::MAX as u64 + 1 {
                Some(i64::MIN)
            } else {
                None
            }
        }
        (b'+', rest) => i64::try_from(parse_digits(rest)?).ok(),
        _ => i64::try_from(parse_digits(b)?).ok(),
    }
}

/// A decimal unsigned integer with an optional `+`.
#[inline]
pub(super) fn parse_u64(b: &[u8]) -> Option<u64> {
    match b.split_first()? {
        (b'+', rest) => parse_digits(rest),
        _ => parse_digits(b),
    }
}

/// A float: decimal or exponent notation, `NaN`, `inf`, `Infinity` (any case,
/// optional sign).
#[inline]
pub(super) fn parse_f64(b: &[u8]) -> Option<f64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// `true`/`false`/`t`/`f`/`1`/`0`, any case.
#[inline]
pub(super) fn parse_bool(b: &[u8]) -> Option<bool> {
    match b.len() {
        1 => match b[0] {
            b't' | b'T' | b'1' => Some(true),
            b'f' | b'F' | b'0' => Some(false),
            _ => None,
        },
        4 if b.eq_ignore_ascii_case(b"true") => Some(true),
        5 if b.eq_ignore_ascii_case(b"false") => Some(false),
        _ => None,
    }
}
