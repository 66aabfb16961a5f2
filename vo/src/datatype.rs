//! The one mapping between Arrow types and VOTable datatypes.
//!
//! Every part that says what type a column has uses this module: the store
//! when it writes a table's sidecar ([`crate::FieldMeta::from_arrow`]), the
//! ADQL translator for computed result columns, TAP_SCHEMA and VOSI
//! `/tables` ([`crate::field::published_fields`]), and the TAP encoders,
//! which write what [`Kind::of`] says. So the declared and the delivered types agree.
//!
//! Arrow → VOTable: Boolean→boolean, UInt8→unsignedByte, Int8/Int16→short,
//! UInt16/Int32→int, UInt32/Int64/UInt64→long (a UInt64 above i64::MAX is
//! delivered as NULL), Float16/Float32→float, Float64 and decimals→double;
//! timestamps and dates→`char` arraysize `*` with xtype `timestamp`;
//! strings→`char` `*` where the metadata declares `char`, `unicodeChar` `*`
//! otherwise; lists of numbers→arraysize `*` except points and circles
//! (xtype `point`/`circle`: arraysize 2 and 3); fixed-size lists→arraysize
//! n; anything else→its display text as `unicodeChar` `*`.

use arrow_schema::DataType;

/// A VOTable primitive (numeric or boolean) type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    /// `boolean`.
    Bool,
    /// `unsignedByte`.
    UByte,
    /// `short`.
    Short,
    /// `int`.
    Int,
    /// `long`.
    Long,
    /// `float`.
    Float,
    /// `double`.
    Double,
}

impl Prim {
    /// The VOTable datatype name.
    pub fn datatype(self) -> &'static str {
        match self {
            Prim::Bool => "boolean",
            Prim::UByte => "unsignedByte",
            Prim::Short => "short",
            Prim::Int => "int",
            Prim::Long => "long",
            Prim::Float => "float",
            Prim::Double => "double",
        }
    }

    /// The canonical Arrow type of a value of this type.
    pub fn arrow(self) -> DataType {
        match self {
            Prim::Bool => DataType::Boolean,
            Prim::UByte => DataType::UInt8,
            Prim::Short => DataType::Int16,
            Prim::Int => DataType::Int32,
            Prim::Long => DataType::Int64,
            Prim::Float => DataType::Float32,
            Prim::Double => DataType::Float64,
        }
    }

    /// Size in bytes in VOTable BINARY/BINARY2 and FITS.
    pub fn size(self) -> usize {
        match self {
            Prim::Bool | Prim::UByte => 1,
            Prim::Short => 2,
            Prim::Int | Prim::Float => 4,
            Prim::Long | Prim::Double => 8,
        }
    }

    /// The primitive an Arrow scalar type is delivered as, `None` for
    /// strings, times, lists and the rest.
    pub fn of(dt: &DataType) -> Option<Prim> {
        Some(match dt {
            DataType::Boolean => Prim::Bool,
            DataType::UInt8 => Prim::UByte,
            DataType::Int8 | DataType::Int16 => Prim::Short,
            DataType::UInt16 | DataType::Int32 => Prim::Int,
            DataType::UInt32 | DataType::Int64 | DataType::UInt64 => Prim::Long,
            DataType::Float16 | DataType::Float32 => Prim::Float,
            DataType::Float64
            | DataType::Decimal32(_, _)
            | DataType::Decimal64(_, _)
            | DataType::Decimal128(_, _)
            | DataType::Decimal256(_, _) => Prim::Double,
            _ => return None,
        })
    }
}

/// How a column is represented in VOTable (and every other format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One value per row.
    Scalar(Prim),
    /// A string declared `char` (and timestamps), VOTable `char` arraysize
    /// `*`: in BINARY and BINARY2 each non-ASCII character becomes `?`
    /// (astropy refuses non-ASCII bytes in binary `char` columns).
    Char,
    /// Any other string, VOTable `unicodeChar` arraysize `*` (UTF-16 in
    /// BINARY/BINARY2).
    UnicodeChar,
    /// Variable-length array (arraysize `*`).
    Array(Prim),
    /// Fixed-length array (arraysize `n`).
    Fixed(Prim, usize),
}

impl Kind {
    /// The representation of an Arrow type, given the column's declared
    /// xtype (points and circles are fixed arrays) and declared VOTable
    /// datatype (a string declared `char` stays `char`, so uploads and
    /// stored tables round-trip; any other string is `unicodeChar`).
    pub fn of(dt: &DataType, xtype: Option<&str>, declared: Option<&str>) -> Kind {
        if let Some(p) = Prim::of(dt) {
            return Kind::Scalar(p);
        }
        if is_temporal(dt) {
            return Kind::Char;
        }
        if is_string(dt) && declared == Some("char") {
            return Kind::Char;
        }
        match dt {
            DataType::List(f) | DataType::LargeList(f) | DataType::ListView(f) => {
                match (Prim::of(f.data_type()), xtype) {
                    // DALI: a point is double[2], a circle double[3].
                    (Some(p), Some("point")) => Kind::Fixed(p, 2),
                    (Some(p), Some("circle")) => Kind::Fixed(p, 3),
                    (Some(p), _) => Kind::Array(p),
                    (None, _) => Kind::UnicodeChar,
                }
            }
            DataType::FixedSizeList(f, n) => match Prim::of(f.data_type()) {
                Some(p) => Kind::Fixed(p, *n as usize),
                None => Kind::UnicodeChar,
            },
            _ => Kind::UnicodeChar,
        }
    }

    /// The VOTable datatype and arraysize of this representation.
    pub fn votable(self) -> (&'static str, Option<String>) {
        match self {
            Kind::Scalar(p) => (p.datatype(), None),
            Kind::Char => ("char", Some("*".to_string())),
            Kind::UnicodeChar => ("unicodeChar", Some("*".to_string())),
            Kind::Array(p) => (p.datatype(), Some("*".to_string())),
            Kind::Fixed(p, n) => (p.datatype(), Some(n.to_string())),
        }
    }
}

/// Whether an Arrow type is a timestamp or a date (delivered as ISO 8601
/// text with xtype `timestamp`).
pub fn is_temporal(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Timestamp(_, _) | DataType::Date32 | DataType::Date64
    )
}

/// Whether an Arrow type is a string type.
pub fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// VOTable datatype and arraysize of a stored Arrow type: what a table's
/// sidecar declares (stored strings are `char`).
pub fn votable_type(dt: &DataType) -> (&'static str, Option<String>) {
    Kind::of(dt, None, Some("char")).votable()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_schema::{Field, TimeUnit};

    use super::*;

    #[test]
    fn kinds() {
        let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        for (dt, xtype, declared, want) in [
            (DataType::Int8, None, None, Kind::Scalar(Prim::Short)),
            (DataType::UInt64, None, None, Kind::Scalar(Prim::Long)),
            (
                DataType::Decimal128(10, 2),
                None,
                None,
                Kind::Scalar(Prim::Double),
            ),
            (DataType::Utf8, None, None, Kind::UnicodeChar),
            (DataType::Utf8, None, Some("char"), Kind::Char),
            (
                DataType::Utf8View,
                None,
                Some("unicodeChar"),
                Kind::UnicodeChar,
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, None),
                None,
                None,
                Kind::Char,
            ),
            (
                list(DataType::Float64),
                Some("point"),
                None,
                Kind::Fixed(Prim::Double, 2),
            ),
            (
                list(DataType::Float64),
                Some("circle"),
                None,
                Kind::Fixed(Prim::Double, 3),
            ),
            (
                list(DataType::Float32),
                Some("polygon"),
                None,
                Kind::Array(Prim::Float),
            ),
            (list(DataType::Utf8), None, None, Kind::UnicodeChar),
            (
                DataType::FixedSizeList(Arc::new(Field::new("item", DataType::Int32, true)), 4),
                None,
                None,
                Kind::Fixed(Prim::Int, 4),
            ),
            (DataType::Binary, None, None, Kind::UnicodeChar),
        ] {
            assert_eq!(Kind::of(&dt, xtype, declared), want, "{dt:?}");
        }
        assert_eq!(votable_type(&DataType::Utf8), ("char", Some("*".into())));
        assert_eq!(
            votable_type(&list(DataType::Int16)),
            ("short", Some("*".into()))
        );
    }
}
