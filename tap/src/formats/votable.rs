//! VOTable 1.4 output (DALI 1.1, TAP 1.1): BINARY2, BINARY and TABLEDATA.
//! The root element and the FIELDs are written by `astrolake_vo::votable`,
//! as the store's metadata sidecars are.
//!
//! The document is
//!
//! ```text
//! <VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" ...>
//!   <RESOURCE type="results">
//!     <INFO name="QUERY_STATUS" value="OK"/>
//!     <INFO name="QUERY" value="ADQL">ADQL</INFO>     (when there is a query)
//!     <INFO name="..." value="..."/>                  (ResultInfo::infos)
//!     <TABLE name="...">
//!       <FIELD ID=... name=... datatype=... .../>      (one per column)
//!       <DATA><BINARY2><STREAM encoding="base64">...</STREAM></BINARY2></DATA>
//!     </TABLE>
//!     <INFO name="QUERY_STATUS" value="OVERFLOW"/>   (finish(true))
//!     <INFO name="QUERY_STATUS" value="ERROR">msg</INFO> (fail)
//!   </RESOURCE>
//! </VOTABLE>
//! ```
//!
//! The QUERY INFO carries the ADQL both as `value` (the schema requires the
//! attribute) and as content. Elements are written with quick-xml, which
//! does all escaping; characters XML 1.0 cannot carry (control characters
//! other than tab, newline and carriage return) are replaced by U+FFFD.
//!
//! Strings are `unicodeChar` with arraysize `*` (UTF-16 big-endian in
//! BINARY/BINARY2, the length prefix counting UTF-16 code units, so
//! characters beyond the BMP are surrogate pairs): VOTable 1.4 `char` is
//! ASCII, and astropy (8.0) refuses non-ASCII bytes in a binary `char`
//! column while the result's strings can hold any text. Strings whose
//! metadata declares `char` (sidecars, uploads) stay `char`, with any
//! non-ASCII character written as `?` in BINARY/BINARY2. Timestamps
//! (always ASCII) are `char` with xtype `timestamp`. Points and circles
//! (`List<Float64>` with xtype `point`/`circle`) are declared arraysize 2
//! and 3 as DALI requires (votlint rejects `point` with arraysize `*`);
//! polygons and other arrays are arraysize `*`.
//!
//! NULLs: BINARY2 sets the row's null flag (and writes a placeholder);
//! TABLEDATA writes `<TD/>`, except for fixed-size float arrays (points,
//! circles), which are all `NaN` (votlint wants n elements there); BINARY writes NaN for floating point, `?` for
//! booleans, an empty array or string, and for nullable integer columns
//! the sentinel declared by `<VALUES null="..."/>` (the FieldMeta `null`
//! when it fits the type, else the type's minimum, 255 for unsignedByte)
//! — a real value equal to the sentinel reads back as NULL in BINARY, a
//! limitation of that serialization (BINARY2 has none).

use std::io::Write;

use arrow::array::{Array, ArrayRef};
use arrow::record_batch::RecordBatch;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use quick_xml::escape::escape;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::{cell, cell_text, element, Cell, Column, Error, Kind, Plan, Prim, Result, ResultInfo};

/// Base64 line length.
const LINE: usize = 76;

/// The DATA serialization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Serialization {
    Binary2,
    Binary,
    TableData,
}

impl Serialization {
    fn element(self) -> &'static str {
        match self {
            Serialization::Binary2 => "BINARY2",
            Serialization::Binary => "BINARY",
            Serialization::TableData => "TABLEDATA",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    New,
    Streaming,
    Done,
}

/// The VOTable encoder.
pub(crate) struct VoTableEncoder {
    ser: Serialization,
    info: ResultInfo,
    plan: Plan,
    /// BINARY null sentinel per column (nullable integer columns only).
    sentinels: Vec<Option<i64>>,
    b64: Base64Stream,
    state: State,
    row: Vec<u8>,
}

impl VoTableEncoder {
    pub(crate) fn new(ser: Serialization, info: ResultInfo, plan: Plan) -> Self {
        let sentinels = plan
            .columns
            .iter()
            .map(|c| match (ser, c.kind) {
                (Serialization::Binary, Kind::Scalar(p)) if c.nullable => sentinel(p, c),
                _ => None,
            })
            .collect();
        VoTableEncoder {
            ser,
            info,
            plan,
            sentinels,
            b64: Base64Stream::default(),
            state: State::New,
            row: Vec::new(),
        }
    }

    /// The closing part after the data: the DATA, TABLE, an optional
    /// status INFO, RESOURCE and VOTABLE.
    fn close(&mut self, status: Option<(&str, Option<&str>)>) -> Vec<u8> {
        let mut out = Vec::new();
        if self.ser == Serialization::TableData {
            out.extend_from_slice(b"        </TABLEDATA>\n");
        } else {
            out.extend(self.b64.finish());
            out.extend_from_slice(b"          </STREAM>\n");
            writeln!(out, "        </{}>", self.ser.element()).ok();
        }
        out.extend_from_slice(b"      </DATA>\n    </TABLE>\n");
        if let Some((value, text)) = status {
            out.extend_from_slice(b"    ");
            out.extend(status_info(value, text));
            out.push(b'\n');
        }
        out.extend_from_slice(b"  </RESOURCE>\n</VOTABLE>\n");
        self.state = State::Done;
        out
    }
}

/// The BINARY null sentinel of a nullable integer column.
pub(crate) fn sentinel(p: Prim, c: &Column) -> Option<i64> {
    let (min, max, default) = match p {
        Prim::UByte => (0, 255, 255),
        Prim::Short => (i16::MIN as i64, i16::MAX as i64, i16::MIN as i64),
        Prim::Int => (i32::MIN as i64, i32::MAX as i64, i32::MIN as i64),
        Prim::Long => (i64::MIN, i64::MAX, i64::MIN),
        _ => return None,
    };
    let declared = c
        .meta
        .null
        .as_deref()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|v| (min..=max).contains(v));
    Some(declared.unwrap_or(default))
}

/// `<INFO name="QUERY_STATUS" value="..."[>text</INFO>]`.
fn status_info(value: &str, text: Option<&str>) -> Vec<u8> {
    let mut w = Writer::new(Vec::new());
    let el = w
        .create_element("INFO")
        .with_attributes([("name", "QUERY_STATUS"), ("value", value)]);
    let r = match text {
        Some(t) => el
            .write_text_content(BytesText::new(&xml_clean(t)))
            .map(|_| ()),
        None => el.write_empty().map(|_| ()),
    };
    r.expect("writing XML to memory cannot fail");
    w.into_inner()
}

pub(crate) use astrolake_vo::xml::xml_chars as xml_clean;

/// A valid, unique XML ID for a column name.
fn xml_id(name: &str, used: &mut Vec<String>) -> String {
    let mut id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !id.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        id.insert(0, '_');
    }
    let base = id.clone();
    let mut n = 2;
    while used.contains(&id) {
        id = format!("{base}_{n}");
        n += 1;
    }
    used.push(id.clone());
    id
}

fn xml_header<W: Write>(w: &mut Writer<W>) -> std::io::Result<()> {
    astrolake_vo::votable::write_start(w)?;
    w.write_event(Event::Start(
        BytesStart::new("RESOURCE").with_attributes([("type", "results")]),
    ))?;
    Ok(())
}

/// The FIELD elements of a plan; `values`: the BINARY null sentinel per
/// column, written as `<VALUES null="..."/>`.
pub(crate) fn write_fields<W: Write>(
    w: &mut Writer<W>,
    columns: &[Column],
    values: &[Option<i64>],
) -> std::io::Result<()> {
    let mut ids = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let id = xml_id(&c.meta.name, &mut ids);
        let null = values.get(i).copied().flatten().map(|n| n.to_string());
        astrolake_vo::votable::write_field(w, &c.meta, Some(&id), null.as_deref())?;
    }
    Ok(())
}

/// A VOTable describing `columns` without DATA (VOParquet content).
pub(crate) fn metadata_votable(info: &ResultInfo, columns: &[Column], overflow: bool) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let r: std::io::Result<()> = (|| {
        xml_header(&mut w)?;
        w.create_element("INFO")
            .with_attributes([("name", "QUERY_STATUS"), ("value", "OK")])
            .write_empty()?;
        w.write_event(Event::Start(
            BytesStart::new("TABLE")
                .with_attributes([("name", xml_clean(&info.table_name).as_ref())]),
        ))?;
        write_fields(&mut w, columns, &[])?;
        w.write_event(Event::End(BytesEnd::new("TABLE")))?;
        if overflow {
            w.create_element("INFO")
                .with_attributes([("name", "QUERY_STATUS"), ("value", "OVERFLOW")])
                .write_empty()?;
        }
        w.write_event(Event::End(BytesEnd::new("RESOURCE")))?;
        w.write_event(Event::End(BytesEnd::new("VOTABLE")))?;
        Ok(())
    })();
    r.expect("writing XML to memory cannot fail");
    let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    s.push('\n');
    s
}

/// The DALI error document: a VOTable whose results RESOURCE holds only
/// `<INFO name="QUERY_STATUS" value="ERROR">message</INFO>`.
pub fn error_votable(message: &str) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let r: std::io::Result<()> = (|| {
        xml_header(&mut w)?;
        w.create_element("INFO")
            .with_attributes([("name", "QUERY_STATUS"), ("value", "ERROR")])
            .write_text_content(BytesText::new(&xml_clean(message)))?;
        w.write_event(Event::End(BytesEnd::new("RESOURCE")))?;
        w.write_event(Event::End(BytesEnd::new("VOTABLE")))?;
        Ok(())
    })();
    r.expect("writing XML to memory cannot fail");
    let mut s = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    s.push('\n');
    s
}

impl super::Encoder for VoTableEncoder {
    fn begin(&mut self) -> Result<Vec<u8>> {
        if self.state != State::New {
            return Err(Error::State("begin called twice".into()));
        }
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        let info = &self.info;
        let r: std::io::Result<()> = (|| {
            xml_header(&mut w)?;
            w.create_element("INFO")
                .with_attributes([("name", "QUERY_STATUS"), ("value", "OK")])
                .write_empty()?;
            if let Some(q) = &info.query {
                let q = xml_clean(q);
                w.create_element("INFO")
                    .with_attributes([("name", "QUERY"), ("value", q.as_ref())])
                    .write_text_content(BytesText::new(&q))?;
            }
            for (name, value) in &info.infos {
                w.create_element("INFO")
                    .with_attributes([
                        ("name", xml_clean(name).as_ref()),
                        ("value", xml_clean(value).as_ref()),
                    ])
                    .write_empty()?;
            }
            let mut table = BytesStart::new("TABLE");
            if !info.table_name.is_empty() {
                table.push_attribute(("name", xml_clean(&info.table_name).as_ref()));
            }
            w.write_event(Event::Start(table))?;
            write_fields(&mut w, &self.plan.columns, &self.sentinels)?;
            w.write_event(Event::Start(BytesStart::new("DATA")))?;
            w.write_event(Event::Start(BytesStart::new(self.ser.element())))?;
            if self.ser != Serialization::TableData {
                w.write_event(Event::Start(
                    BytesStart::new("STREAM").with_attributes([("encoding", "base64")]),
                ))?;
            }
            Ok(())
        })();
        r?;
        let mut out = w.into_inner();
        out.push(b'\n');
        self.state = State::Streaming;
        Ok(out)
    }

    fn batch(&mut self, b: &RecordBatch) -> Result<Vec<u8>> {
        if self.state != State::Streaming {
            return Err(Error::State("batch outside begin..finish".into()));
        }
        let arrays = self.plan.convert(b)?;
        let mut out = Vec::new();
        for row in 0..b.num_rows() {
            match self.ser {
                Serialization::TableData => {
                    tabledata_row(&self.plan.columns, &arrays, row, &mut out)
                }
                ser => {
                    self.row.clear();
                    binary_row(
                        ser,
                        &self.plan.columns,
                        &self.sentinels,
                        &arrays,
                        row,
                        &mut self.row,
                    );
                    self.b64.push(&self.row, &mut out);
                }
            }
        }
        Ok(out)
    }

    fn finish(&mut self, overflow: bool) -> Result<Vec<u8>> {
        if self.state != State::Streaming {
            return Err(Error::State("finish without begin, or twice".into()));
        }
        Ok(self.close(overflow.then_some(("OVERFLOW", None))))
    }

    fn fail(&mut self, message: &str) -> Result<Vec<u8>> {
        match self.state {
            State::New => {
                self.state = State::Done;
                Ok(error_votable(message).into_bytes())
            }
            State::Streaming => Ok(self.close(Some(("ERROR", Some(message))))),
            State::Done => Err(Error::State("fail after the document ended".into())),
        }
    }
}

fn tabledata_row(columns: &[Column], arrays: &[ArrayRef], row: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(b"          <TR>");
    for (c, a) in columns.iter().zip(arrays) {
        let text = match (cell(a, row), c.kind) {
            (Cell::Bool(v), _) => Some(if v { "T" } else { "F" }.to_string()),
            // A NULL fixed-size float array (point, circle) is all NaN:
            // votlint rejects an empty TD for a fixed-size array.
            (Cell::Null, Kind::Fixed(Prim::Float | Prim::Double, n)) => {
                Some(vec!["NaN"; n].join(" "))
            }
            (other, _) => cell_text(other),
        };
        match text {
            None => out.extend_from_slice(b"<TD/>"),
            Some(t) => {
                out.extend_from_slice(b"<TD>");
                match c.kind {
                    Kind::Char | Kind::UnicodeChar => {
                        out.extend_from_slice(escape(xml_clean(&t).as_ref()).as_bytes())
                    }
                    _ => out.extend_from_slice(t.as_bytes()),
                }
                out.extend_from_slice(b"</TD>");
            }
        }
    }
    out.extend_from_slice(b"</TR>\n");
}

/// One row of BINARY or BINARY2, unencoded.
fn binary_row(
    ser: Serialization,
    columns: &[Column],
    sentinels: &[Option<i64>],
    arrays: &[ArrayRef],
    row: usize,
    out: &mut Vec<u8>,
) {
    if ser == Serialization::Binary2 {
        let start = out.len();
        out.resize(start + columns.len().div_ceil(8), 0);
        for (i, a) in arrays.iter().enumerate() {
            if a.is_null(row) {
                out[start + i / 8] |= 0x80 >> (i % 8);
            }
        }
    }
    for ((c, a), s) in columns.iter().zip(arrays).zip(sentinels) {
        let v = cell(a, row);
        match c.kind {
            Kind::Scalar(p) => put_prim(p, v, *s, out),
            Kind::Char => {
                let s = match v {
                    Cell::Str(s) => s,
                    _ => "",
                };
                // Non-ASCII characters (rare in declared-char columns)
                // become `?`, one per character.
                let ascii: Vec<u8> = s
                    .chars()
                    .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
                    .collect();
                out.extend_from_slice(&(ascii.len() as i32).to_be_bytes());
                out.extend_from_slice(&ascii);
            }
            Kind::UnicodeChar => {
                let s = match v {
                    Cell::Str(s) => s,
                    _ => "",
                };
                let units: Vec<u16> = s.encode_utf16().collect();
                out.extend_from_slice(&(units.len() as i32).to_be_bytes());
                for u in units {
                    out.extend_from_slice(&u.to_be_bytes());
                }
            }
            Kind::Array(p) => match v {
                Cell::Array(values, start, end) => {
                    out.extend_from_slice(&((end - start) as i32).to_be_bytes());
                    for i in start..end {
                        put_prim(p, element(values, i), None, out);
                    }
                }
                _ => out.extend_from_slice(&0i32.to_be_bytes()),
            },
            Kind::Fixed(p, n) => match v {
                Cell::Array(values, start, _) => {
                    for i in start..start + n {
                        put_prim(p, element(values, i), None, out);
                    }
                }
                _ => {
                    for _ in 0..n {
                        put_prim(p, Cell::Null, None, out);
                    }
                }
            },
        }
    }
}

/// One big-endian primitive value; NULL as NaN, `?`, the sentinel or 0.
pub(crate) fn put_prim(p: Prim, v: Cell<'_>, sentinel: Option<i64>, out: &mut Vec<u8>) {
    let int = match v {
        Cell::Int(i) => Some(i),
        _ => None,
    };
    let null_int = sentinel.unwrap_or(match p {
        Prim::UByte => 255,
        Prim::Short => i16::MIN as i64,
        Prim::Int => i32::MIN as i64,
        _ => i64::MIN,
    });
    match p {
        Prim::Bool => out.push(match v {
            Cell::Bool(true) => b'T',
            Cell::Bool(false) => b'F',
            _ => b'?',
        }),
        Prim::UByte => out.push(int.unwrap_or(null_int) as u8),
        Prim::Short => out.extend_from_slice(&(int.unwrap_or(null_int) as i16).to_be_bytes()),
        Prim::Int => out.extend_from_slice(&(int.unwrap_or(null_int) as i32).to_be_bytes()),
        Prim::Long => out.extend_from_slice(&int.unwrap_or(null_int).to_be_bytes()),
        Prim::Float => {
            let f = match v {
                Cell::Float(f) => f,
                _ => f32::NAN,
            };
            out.extend_from_slice(&f.to_be_bytes())
        }
        Prim::Double => {
            let f = match v {
                Cell::Double(f) => f,
                _ => f64::NAN,
            };
            out.extend_from_slice(&f.to_be_bytes())
        }
    }
}

/// Base64 across chunk boundaries: the 0–2 bytes that do not make a full
/// 3-byte group wait for the next chunk, and lines are wrapped at 76
/// characters counting across chunks, so the text does not depend on how
/// the bytes were split.
#[derive(Debug, Default)]
pub(crate) struct Base64Stream {
    carry: Vec<u8>,
    column: usize,
}

impl Base64Stream {
    /// Encode `data` (after the carried bytes) into `out`.
    pub(crate) fn push(&mut self, data: &[u8], out: &mut Vec<u8>) {
        self.carry.extend_from_slice(data);
        let whole = self.carry.len() / 3 * 3;
        if whole == 0 {
            return;
        }
        let text = STANDARD.encode(&self.carry[..whole]);
        self.carry.drain(..whole);
        self.wrap(text.as_bytes(), out);
    }

    fn wrap(&mut self, mut text: &[u8], out: &mut Vec<u8>) {
        while !text.is_empty() {
            let n = (LINE - self.column).min(text.len());
            out.extend_from_slice(&text[..n]);
            text = &text[n..];
            self.column += n;
            if self.column == LINE {
                out.push(b'\n');
                self.column = 0;
            }
        }
    }

    /// The carried bytes with padding, and a final newline.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.carry.is_empty() {
            let text = STANDARD.encode(&self.carry);
            self.carry.clear();
            self.wrap(text.as_bytes(), &mut out);
        }
        if self.column > 0 {
            out.push(b'\n');
            self.column = 0;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_split_anywhere() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut whole = Vec::new();
        let mut s = Base64Stream::default();
        s.push(&data, &mut whole);
        whole.extend(s.finish());
        for step in [1, 2, 5, 7, 76, 100] {
            let mut parts = Vec::new();
            let mut s = Base64Stream::default();
            for c in data.chunks(step) {
                s.push(c, &mut parts);
            }
            parts.extend(s.finish());
            assert_eq!(parts, whole, "step {step}");
        }
        let text: String = String::from_utf8(whole).unwrap().split('\n').collect();
        assert_eq!(STANDARD.decode(text).unwrap(), data);
    }

    #[test]
    fn ids() {
        let mut used = Vec::new();
        assert_eq!(xml_id("ra", &mut used), "ra");
        assert_eq!(xml_id("1x", &mut used), "_1x");
        assert_eq!(xml_id("a b", &mut used), "a_b");
        assert_eq!(xml_id("a_b", &mut used), "a_b_2");
    }
}
