//! Columns: the shape of each FIELD's cells and the typed buffers a
//! batch's values are decoded into, from TABLEDATA text or binary bytes.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, FixedSizeListArray, ListArray, PrimitiveArray, StringArray,
};
use arrow::buffer::{BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    DataType, FieldRef, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, UInt8Type,
};

use crate::error::Result;
use astrolake_vo::FieldMeta;

use super::binary::BinCursor;
use super::CellError;

/// The number of elements of a cell in BINARY/BINARY2, from the arraysize.
#[derive(Debug, Clone, Copy)]
pub(super) enum BinShape {
    /// Always this many elements (1 for scalars).
    Fixed(usize),
    /// A count prefix, times this many elements (the product of the fixed
    /// dimensions, e.g. 3 for `3x*`).
    Var(usize),
}

pub(super) fn parse_arraysize(arraysize: Option<&str>) -> std::result::Result<BinShape, String> {
    let Some(s) = arraysize else {
        return Ok(BinShape::Fixed(1));
    };
    let dims: Vec<&str> = s.split('x').map(str::trim).collect();
    let mut product = 1usize;
    let bad = || format!("invalid arraysize {s:?}");
    for (i, d) in dims.iter().enumerate() {
        if i + 1 == dims.len() {
            if let Some(max) = d.strip_suffix('*') {
                if !max.is_empty() {
                    max.parse::<usize>().map_err(|_| bad())?;
                }
                return Ok(BinShape::Var(product));
            }
        }
        let n: usize = d.parse().map_err(|_| bad())?;
        product = product.checked_mul(n).ok_or_else(bad)?;
    }
    Ok(BinShape::Fixed(product))
}

/// The Arrow layout of a column.
#[derive(Debug, Clone)]
pub(super) enum Shape {
    Scalar,
    /// `FixedSizeList` of this many items.
    Fixed(FieldRef, usize),
    /// `List`.
    List(FieldRef),
}

/// One column: its name, Arrow type and row buffers.
pub(super) struct Column {
    pub(super) name: String,
    pub(super) data_type: DataType,
    pub(super) data: ColData,
}

pub(super) enum ColData {
    Bool(Col<bool>),
    U8(Col<u8>),
    I16(Col<i16>),
    I32(Col<i32>),
    I64(Col<i64>),
    F32(Col<f32>),
    F64(Col<f64>),
    Str(StrCol),
}

macro_rules! dispatch {
    ($data:expr, $c:ident => $e:expr) => {
        match $data {
            ColData::Bool($c) => $e,
            ColData::U8($c) => $e,
            ColData::I16($c) => $e,
            ColData::I32($c) => $e,
            ColData::I64($c) => $e,
            ColData::F32($c) => $e,
            ColData::F64($c) => $e,
            ColData::Str($c) => $e,
        }
    };
}

impl Column {
    pub(super) fn new(f: &FieldMeta, binary: bool) -> std::result::Result<Column, String> {
        let data_type = f.arrow_type().map_err(|e| e.0)?;
        let bin = parse_arraysize(f.arraysize.as_deref())
            .map_err(|m| format!("FIELD {:?}: {m}", f.name))?;
        let shape = match &data_type {
            DataType::FixedSizeList(item, n) => Shape::Fixed(item.clone(), *n as usize),
            DataType::List(item) => Shape::List(item.clone()),
            _ => Shape::Scalar,
        };
        let null = f.null.as_deref().and_then(parse_int);
        let data = match f.datatype.as_str() {
            "boolean" => ColData::Bool(Col::new(shape, bin, None, false)),
            "bit" => ColData::Bool(Col::new(shape, bin, None, true)),
            "unsignedByte" => ColData::U8(Col::new(shape, bin, null, false)),
            "short" => ColData::I16(Col::new(shape, bin, null, false)),
            "int" => ColData::I32(Col::new(shape, bin, null, false)),
            "long" => ColData::I64(Col::new(shape, bin, null, false)),
            "float" => ColData::F32(Col::new(shape, bin, None, false)),
            "double" => ColData::F64(Col::new(shape, bin, None, false)),
            "char" | "unicodeChar" => {
                let multidim = f.arraysize.as_deref().is_some_and(|a| a.contains('x'));
                if binary && multidim {
                    return Err(format!(
                        "FIELD {:?}: multidimensional {} arrays (arraysize {:?}) are not \
                         supported in BINARY/BINARY2",
                        f.name,
                        f.datatype,
                        f.arraysize.as_deref().unwrap_or_default()
                    ));
                }
                ColData::Str(StrCol::new(f.datatype == "unicodeChar", bin))
            }
            other => {
                return Err(format!(
                    "FIELD {:?}: unsupported datatype {other:?}",
                    f.name
                ))
            }
        };
        Ok(Column {
            name: f.name.clone(),
            data_type,
            data,
        })
    }

    pub(super) fn push_text(
        &mut self,
        s: &str,
        max_elements: u64,
    ) -> std::result::Result<(), CellError> {
        match &mut self.data {
            ColData::Str(c) => c.push_text(s),
            ColData::Bool(c) => c.push_text(s, max_elements),
            ColData::U8(c) => c.push_text(s, max_elements),
            ColData::I16(c) => c.push_text(s, max_elements),
            ColData::I32(c) => c.push_text(s, max_elements),
            ColData::I64(c) => c.push_text(s, max_elements),
            ColData::F32(c) => c.push_text(s, max_elements),
            ColData::F64(c) => c.push_text(s, max_elements),
        }
    }

    /// Bytes held in the buffers.
    pub(super) fn mem_bytes(&self) -> u64 {
        dispatch!(&self.data, c => c.mem_bytes())
    }

    pub(super) fn push_binary(
        &mut self,
        cur: &mut BinCursor<'_>,
        null_flag: Option<bool>,
    ) -> std::result::Result<(), CellError> {
        dispatch!(&mut self.data, c => c.push_binary(cur, null_flag))
    }

    pub(super) fn truncate(&mut self, rows: usize) {
        dispatch!(&mut self.data, c => c.truncate(rows))
    }

    pub(super) fn finish(&mut self) -> Result<ArrayRef> {
        dispatch!(&mut self.data, c => c.finish())
    }
}

/// Parse a VOTable integer: decimal with optional sign, or hex `0x…`.
pub(super) fn parse_int(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.starts_with(['+', '-']) {
        return None;
    }
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => body.parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

/// An element type of a non-string column.
pub(super) trait Elem: Copy + Default {
    /// VOTable datatype name, for messages.
    const NAME: &'static str;
    /// Bytes per element in BINARY.
    const SIZE: usize;
    /// Parse a TABLEDATA value (never empty); `Ok(None)` is null.
    fn parse_text(s: &str, null: Option<i128>) -> std::result::Result<Option<Self>, ()>;
    /// Decode a big-endian value of [`Elem::SIZE`] bytes; `Ok(None)` is null.
    fn decode(b: &[u8], null: Option<i128>) -> std::result::Result<Option<Self>, String>;
    /// The Arrow array of these values.
    fn array(values: Vec<Self>, nulls: Option<NullBuffer>) -> ArrayRef;
}

macro_rules! int_elem {
    ($t:ty, $arrow:ty, $name:literal) => {
        impl Elem for $t {
            const NAME: &'static str = $name;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn parse_text(s: &str, null: Option<i128>) -> std::result::Result<Option<Self>, ()> {
                let v = parse_int(s).ok_or(())?;
                let t = <$t>::try_from(v).map_err(|_| ())?;
                Ok(if null == Some(v) { None } else { Some(t) })
            }
            fn decode(b: &[u8], null: Option<i128>) -> std::result::Result<Option<Self>, String> {
                let v = <$t>::from_be_bytes(b.try_into().expect("element size"));
                Ok(if null == Some(v as i128) {
                    None
                } else {
                    Some(v)
                })
            }
            fn array(values: Vec<Self>, nulls: Option<NullBuffer>) -> ArrayRef {
                Arc::new(PrimitiveArray::<$arrow>::new(
                    ScalarBuffer::from(values),
                    nulls,
                ))
            }
        }
    };
}

int_elem!(u8, UInt8Type, "unsignedByte");
int_elem!(i16, Int16Type, "short");
int_elem!(i32, Int32Type, "int");
int_elem!(i64, Int64Type, "long");

macro_rules! float_elem {
    ($t:ty, $arrow:ty, $name:literal) => {
        impl Elem for $t {
            const NAME: &'static str = $name;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn parse_text(s: &str, _null: Option<i128>) -> std::result::Result<Option<Self>, ()> {
                let v: $t = s.parse().map_err(|_| ())?;
                Ok(if v.is_nan() { None } else { Some(v) })
            }
            fn decode(b: &[u8], _null: Option<i128>) -> std::result::Result<Option<Self>, String> {
                let v = <$t>::from_be_bytes(b.try_into().expect("element size"));
                Ok(if v.is_nan() { None } else { Some(v) })
            }
            fn array(values: Vec<Self>, nulls: Option<NullBuffer>) -> ArrayRef {
                Arc::new(PrimitiveArray::<$arrow>::new(
                    ScalarBuffer::from(values),
                    nulls,
                ))
            }
        }
    };
}

float_elem!(f32, Float32Type, "float");
float_elem!(f64, Float64Type, "double");

impl Elem for bool {
    const NAME: &'static str = "boolean";
    const SIZE: usize = 1;
    fn parse_text(s: &str, _null: Option<i128>) -> std::result::Result<Option<Self>, ()> {
        match s {
            "T" | "t" | "1" => Ok(Some(true)),
            "F" | "f" | "0" => Ok(Some(false)),
            "?" => Ok(None),
            _ if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            _ if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            _ => Err(()),
        }
    }
    fn decode(b: &[u8], _null: Option<i128>) -> std::result::Result<Option<Self>, String> {
        match b[0] {
            b'T' | b't' | b'1' => Ok(Some(true)),
            b'F' | b'f' | b'0' => Ok(Some(false)),
            b'?' | b' ' | 0 => Ok(None),
            other => Err(format!(
                "invalid boolean byte 0x{other:02x} (expected 'T', 'F', '1', '0', '?', space or NUL)"
            )),
        }
    }
    fn array(values: Vec<Self>, nulls: Option<NullBuffer>) -> ArrayRef {
        Arc::new(BooleanArray::new(BooleanBuffer::from(values), nulls))
    }
}

/// Validity to an Arrow null buffer (`None` when nothing is null).
pub(super) fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

pub(super) fn offset(n: usize) -> std::result::Result<i32, CellError> {
    i32::try_from(n).map_err(|_| {
        CellError::Fatal("more than 2 GiB of values in one batch; use a smaller batch size".into())
    })
}

/// Buffers of a non-string column.
pub(super) struct Col<T: Elem> {
    pub(super) shape: Shape,
    pub(super) bin: BinShape,
    /// VALUES null sentinel (integers).
    pub(super) null: Option<i128>,
    /// `bit` datatype: packed bits in BINARY.
    pub(super) bit: bool,
    /// Per row.
    pub(super) valid: Vec<bool>,
    /// Per row (scalars) or per item (arrays).
    pub(super) values: Vec<T>,
    /// Per item (arrays).
    pub(super) item_valid: Vec<bool>,
    /// `List`: item offsets, one more than rows.
    pub(super) offsets: Vec<i32>,
}

impl<T: Elem> Col<T> {
    pub(super) fn new(shape: Shape, bin: BinShape, null: Option<i128>, bit: bool) -> Self {
        Col {
            shape,
            bin,
            null,
            bit,
            valid: Vec::new(),
            values: Vec::new(),
            item_valid: Vec::new(),
            offsets: vec![0],
        }
    }

    pub(super) fn push_null(&mut self) {
        self.valid.push(false);
        match &self.shape {
            Shape::Scalar => self.values.push(T::default()),
            Shape::Fixed(_, n) => {
                for _ in 0..*n {
                    self.values.push(T::default());
                    self.item_valid.push(false);
                }
            }
            Shape::List(_) => {
                let last = *self.offsets.last().expect("offsets start with 0");
                self.offsets.push(last);
            }
        }
    }

    pub(super) fn push_item(&mut self, v: Option<T>) {
        self.values.push(v.unwrap_or_default());
        self.item_valid.push(v.is_some());
    }

    pub(super) fn parse_item(&self, s: &str) -> std::result::Result<Option<T>, CellError> {
        T::parse_text(s, self.null).map_err(|_| {
            CellError::Value(format!(
                "cannot parse {s:?} as {}",
                if self.bit { "bit" } else { T::NAME }
            ))
        })
    }

    pub(super) fn mem_bytes(&self) -> u64 {
        (self.values.len() * std::mem::size_of::<T>()
            + self.valid.len()
            + self.item_valid.len()
            + self.offsets.len() * 4) as u64
    }

    pub(super) fn push_text(
        &mut self,
        s: &str,
        max_elements: u64,
    ) -> std::result::Result<(), CellError> {
        if s.is_empty() {
            self.push_null();
            return Ok(());
        }
        match &self.shape {
            Shape::Scalar => {
                let v = self.parse_item(s)?;
                self.values.push(v.unwrap_or_default());
                self.valid.push(v.is_some());
            }
            Shape::Fixed(_, n) => {
                let n = *n;
                let mut count = 0;
                for tok in self.tokens(s) {
                    let v = self.parse_item(tok)?;
                    count += 1;
                    if count <= n {
                        self.push_item(v);
                    }
                }
                if count != n {
                    return Err(CellError::Value(format!(
                        "expected {n} values (arraysize {n}), found {count}"
                    )));
                }
                self.valid.push(true);
            }
            Shape::List(_) => {
                let start = self.values.len();
                for tok in self.tokens(s) {
                    let v = self.parse_item(tok)?;
                    if (self.values.len() - start) as u64 >= max_elements {
                        return Err(CellError::Limit(
                            format!("an array of more than {max_elements} elements"),
                            "max_array_elements",
                        ));
                    }
                    self.push_item(v);
                }
                self.offsets.push(offset(self.values.len())?);
                self.valid.push(true);
            }
        }
        Ok(())
    }

    /// The elements of a TABLEDATA array; bit arrays may also be written
    /// without separators (`0110`).
    pub(super) fn tokens<'s>(&self, s: &'s str) -> Box<dyn Iterator<Item = &'s str> + 's> {
        if self.bit && !s.contains(char::is_whitespace) && s.len() > 1 {
            Box::new((0..s.len()).filter_map(move |i| s.get(i..i + 1)))
        } else {
            Box::new(s.split_whitespace())
        }
    }

    pub(super) fn push_binary(
        &mut self,
        cur: &mut BinCursor<'_>,
        null_flag: Option<bool>,
    ) -> std::result::Result<(), CellError> {
        let count = match self.bin {
            BinShape::Fixed(n) => n,
            BinShape::Var(per) => cur.count(per)?,
        };
        let nbytes = if self.bit {
            if matches!(self.shape, Shape::Scalar) {
                1
            } else {
                count.div_ceil(8)
            }
        } else {
            count.saturating_mul(T::SIZE)
        };
        let bytes = cur.take(nbytes)?;
        if null_flag == Some(true) {
            self.push_null();
            return Ok(());
        }
        let (bit, scalar, null) = (self.bit, matches!(self.shape, Shape::Scalar), self.null);
        let value = move |i: usize| -> std::result::Result<Option<T>, CellError> {
            if bit {
                // Scalar bits: any set bit (astropy writes 0x08, the spec
                // suggests the most significant bit).
                let on = if scalar {
                    bytes[0] != 0
                } else {
                    bytes[i / 8] & (0x80 >> (i % 8)) != 0
                };
                T::parse_text(if on { "1" } else { "0" }, None)
                    .map_err(|_| CellError::Value("bad bit".into()))
            } else {
                T::decode(&bytes[i * T::SIZE..(i + 1) * T::SIZE], null).map_err(CellError::Value)
            }
        };
        match &self.shape {
            Shape::Scalar => {
                let v = value(0)?;
                self.values.push(v.unwrap_or_default());
                self.valid.push(v.is_some());
            }
            Shape::Fixed(..) => {
                // `count` is the FixedSizeList size by construction (the
                // arraysize is that single number).
                for i in 0..count {
                    let v = value(i)?;
                    self.push_item(v);
                }
                self.valid.push(true);
            }
            Shape::List(_) => {
                for i in 0..count {
                    let v = value(i)?;
                    self.push_item(v);
                }
                self.offsets.push(offset(self.values.len())?);
                self.valid.push(true);
            }
        }
        Ok(())
    }

    pub(super) fn truncate(&mut self, rows: usize) {
        self.valid.truncate(rows);
        match &self.shape {
            Shape::Scalar => self.values.truncate(rows),
            Shape::Fixed(_, n) => {
                self.values.truncate(rows * n);
                self.item_valid.truncate(rows * n);
            }
            Shape::List(_) => {
                self.offsets.truncate(rows + 1);
                let end = self.offsets[rows] as usize;
                self.values.truncate(end);
                self.item_valid.truncate(end);
            }
        }
    }

    pub(super) fn finish(&mut self) -> Result<ArrayRef> {
        let rows = self.valid.len();
        let row_nulls = nulls(std::mem::take(&mut self.valid));
        let values = std::mem::take(&mut self.values);
        Ok(match &self.shape {
            Shape::Scalar => T::array(values, row_nulls),
            Shape::Fixed(item, n) => {
                let child = T::array(values, nulls(std::mem::take(&mut self.item_valid)));
                Arc::new(FixedSizeListArray::try_new_with_length(
                    item.clone(),
                    *n as i32,
                    child,
                    row_nulls,
                    rows,
                )?)
            }
            Shape::List(item) => {
                let child = T::array(values, nulls(std::mem::take(&mut self.item_valid)));
                let offsets = std::mem::replace(&mut self.offsets, vec![0]);
                Arc::new(ListArray::try_new(
                    item.clone(),
                    OffsetBuffer::new(ScalarBuffer::from(offsets)),
                    child,
                    row_nulls,
                )?)
            }
        })
    }
}

/// Buffers of a `char` or `unicodeChar` column.
pub(super) struct StrCol {
    pub(super) unicode: bool,
    pub(super) bin: BinShape,
    pub(super) valid: Vec<bool>,
    pub(super) data: String,
    pub(super) offsets: Vec<i32>,
}

impl StrCol {
    pub(super) fn new(unicode: bool, bin: BinShape) -> Self {
        StrCol {
            unicode,
            bin,
            valid: Vec::new(),
            data: String::new(),
            offsets: vec![0],
        }
    }

    pub(super) fn mem_bytes(&self) -> u64 {
        (self.data.len() + self.valid.len() + self.offsets.len() * 4) as u64
    }

    pub(super) fn end_value(&mut self, valid: bool) -> std::result::Result<(), CellError> {
        if !valid {
            let start = *self.offsets.last().expect("offsets start with 0") as usize;
            self.data.truncate(start);
        }
        self.offsets.push(offset(self.data.len())?);
        self.valid.push(valid);
        Ok(())
    }

    pub(super) fn push_text(&mut self, s: &str) -> std::result::Result<(), CellError> {
        self.data.push_str(s);
        self.end_value(!s.is_empty())
    }

    pub(super) fn push_binary(
        &mut self,
        cur: &mut BinCursor<'_>,
        null_flag: Option<bool>,
    ) -> std::result::Result<(), CellError> {
        let (chars, fixed) = match self.bin {
            BinShape::Fixed(n) => (n, true),
            BinShape::Var(per) => (cur.count(per)?, false),
        };
        let width = if self.unicode { 2 } else { 1 };
        let bytes = cur.take(chars.saturating_mul(width))?;
        if null_flag == Some(true) {
            return self.end_value(false);
        }
        let start = self.data.len();
        if self.unicode {
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            for c in char::decode_utf16(units) {
                match c {
                    Ok(c) => self.data.push(c),
                    Err(e) => {
                        self.data.truncate(start);
                        return Err(CellError::Value(format!(
                            "invalid unicodeChar text: unpaired UTF-16 surrogate 0x{:04x}",
                            e.unpaired_surrogate()
                        )));
                    }
                }
            }
        } else {
            match std::str::from_utf8(bytes) {
                Ok(s) => self.data.push_str(s),
                // Not UTF-8 (the spec says ASCII): read it as Latin-1.
                Err(_) => self.data.extend(bytes.iter().map(|&b| b as char)),
            }
        }
        if fixed {
            let kept = self.data[start..].trim_end_matches(['\0', ' ']).len();
            self.data.truncate(start + kept);
        }
        // BINARY has no null flag: the empty string is null, as in TABLEDATA.
        let valid = null_flag.is_some() || self.data.len() > start;
        self.end_value(valid)
    }

    pub(super) fn truncate(&mut self, rows: usize) {
        self.valid.truncate(rows);
        self.offsets.truncate(rows + 1);
        self.data.truncate(self.offsets[rows] as usize);
    }

    pub(super) fn finish(&mut self) -> Result<ArrayRef> {
        let row_nulls = nulls(std::mem::take(&mut self.valid));
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let data = std::mem::take(&mut self.data);
        Ok(Arc::new(StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(data.into_bytes()),
            row_nulls,
        )?))
    }
}
