//! VOTable metadata documents.
//!
//! [`TableMeta::to_votable`] writes a table's metadata as a complete VOTable
//! [`VERSION`] document without data (one RESOURCE, one TABLE, one FIELD per column);
//! [`TableMeta::from_votable`] reads the first TABLE's metadata back from any
//! VOTable 1.1–1.5 document, with or without namespaces, prefixes or DATA.
//!
//! The VOTable root ([`write_start`]) and the FIELD writer ([`write_field`])
//! are the ones the TAP encoders use too, so a sidecar and a query result
//! describe a column the same way. The streaming header parser here is
//! shared with the store's VOTable data reader, which continues from where
//! the header ends.
//!
//! Every document is VOTable 1.4: nothing astrolake writes needs 1.5, and
//! 1.4 is what the validators and clients in use (taplint, votlint,
//! astropy, TOPCAT) all check and read.

use std::io::{BufRead, Write};

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};

use crate::error::{MetadataError, Result};
use crate::field::{FieldMeta, TableMeta};
use crate::ns::{VOTABLE, VOTABLE_SCHEMA, XSI};
use crate::xml::{attribute, local_name, read_text_into, xml_chars, xml_error};

/// The VOTable version of every document astrolake writes.
pub const VERSION: &str = "1.4";

impl TableMeta {
    /// This metadata as a complete VOTable [`VERSION`] document: one RESOURCE holding
    /// one TABLE (named [`TableMeta::name`], with a DESCRIPTION when there is
    /// one) and one FIELD per column, in order, with the attributes `name`,
    /// `datatype`, `arraysize`, `unit`, `ucd`, `utype` and `xtype` (those
    /// that are set), a DESCRIPTION child and `<VALUES null="…"/>` when set.
    /// There is no DATA element.
    pub fn to_votable(&self) -> String {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        write_document(&mut w, self).expect("writing XML to memory cannot fail");
        let mut out = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
        out.push('\n');
        out
    }

    /// The metadata of the first TABLE of a VOTable (1.1 to 1.5) document:
    /// its name (or ID when it has no name), DESCRIPTION and FIELDs (all
    /// attributes [`TableMeta::to_votable`] writes, the FIELD's DESCRIPTION
    /// text and VALUES `null`). Namespaces and prefixes are ignored, as are
    /// DATA, PARAM, GROUP, INFO, LINK, COOSYS and TIMESYS. Leading and
    /// trailing whitespace of DESCRIPTION text is trimmed.
    ///
    /// Errors are [`MetadataError`]: malformed XML (with the byte
    /// offset), a document without TABLE, a FIELD without name or datatype.
    pub fn from_votable(xml: &str) -> Result<TableMeta> {
        let mut reader = Reader::from_reader(xml.as_bytes());
        let mut buf = Vec::new();
        let (meta, _) = read_table_header(&mut reader, &mut buf)?;
        Ok(meta)
    }
}

/// The XML declaration and the opening `<VOTABLE>` tag: [`VERSION`], the
/// VOTable namespace as default namespace and its schema location.
pub fn write_start<W: Write>(w: &mut Writer<W>) -> std::io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let schema_location = format!("{VOTABLE} {VOTABLE_SCHEMA}");
    w.write_event(Event::Start(BytesStart::new("VOTABLE").with_attributes([
        ("version", VERSION),
        ("xmlns", VOTABLE),
        ("xmlns:xsi", XSI),
        ("xsi:schemaLocation", schema_location.as_str()),
    ])))?;
    Ok(())
}

fn write_document<W: Write>(w: &mut Writer<W>, meta: &TableMeta) -> std::io::Result<()> {
    write_start(w)?;
    w.write_event(Event::Start(BytesStart::new("RESOURCE")))?;
    w.write_event(Event::Start(
        BytesStart::new("TABLE").with_attributes([("name", xml_chars(&meta.name).as_ref())]),
    ))?;
    if let Some(d) = &meta.description {
        write_description(w, d)?;
    }
    for f in &meta.fields {
        write_field(w, f, None, f.null.as_deref())?;
    }
    w.write_event(Event::End(BytesEnd::new("TABLE")))?;
    w.write_event(Event::End(BytesEnd::new("RESOURCE")))?;
    w.write_event(Event::End(BytesEnd::new("VOTABLE")))?;
    Ok(())
}

/// `<DESCRIPTION>text</DESCRIPTION>`.
pub fn write_description<W: Write>(w: &mut Writer<W>, text: &str) -> std::io::Result<()> {
    w.create_element("DESCRIPTION")
        .write_text_content(BytesText::new(&xml_chars(text)))?;
    Ok(())
}

/// One FIELD: the `ID` when given, then `name`, `datatype` and those of
/// `arraysize`, `unit`, `ucd`, `utype` and `xtype` that are set; a
/// DESCRIPTION child when there is one and `<VALUES null="…"/>` when `null`
/// is given (the sidecar's declared sentinel, or the BINARY sentinel a TAP
/// encoder chose).
pub fn write_field<W: Write>(
    w: &mut Writer<W>,
    f: &FieldMeta,
    id: Option<&str>,
    null: Option<&str>,
) -> std::io::Result<()> {
    let mut attrs: Vec<(&str, &str)> = Vec::new();
    if let Some(id) = id {
        attrs.push(("ID", id));
    }
    attrs.push(("name", &f.name));
    attrs.push(("datatype", &f.datatype));
    for (key, value) in [
        ("arraysize", &f.arraysize),
        ("unit", &f.unit),
        ("ucd", &f.ucd),
        ("utype", &f.utype),
        ("xtype", &f.xtype),
    ] {
        if let Some(v) = value {
            attrs.push((key, v));
        }
    }
    let cleaned: Vec<(&str, std::borrow::Cow<'_, str>)> =
        attrs.into_iter().map(|(k, v)| (k, xml_chars(v))).collect();
    let el = w
        .create_element("FIELD")
        .with_attributes(cleaned.iter().map(|(k, v)| (*k, v.as_ref())));
    if f.description.is_none() && null.is_none() {
        el.write_empty()?;
        return Ok(());
    }
    el.write_inner_content(|w| {
        if let Some(d) = &f.description {
            write_description(w, d)?;
        }
        if let Some(n) = null {
            w.create_element("VALUES")
                .with_attribute(("null", n))
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Where [`read_table_header`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderEnd {
    /// Just after the start tag `<DATA>` of the first TABLE: the reader is
    /// positioned at the DATA element's content.
    Data,
    /// The first TABLE ended (or was an empty element, or its DATA was an
    /// empty element): there are no rows.
    NoData,
}

fn trimmed_text(s: String) -> Option<String> {
    let t = s.trim();
    if t.len() == s.len() {
        Some(s)
    } else {
        Some(t.to_string())
    }
}

fn field_from_attributes<R>(
    reader: &Reader<R>,
    e: &BytesStart<'_>,
    index: usize,
) -> Result<FieldMeta> {
    let get = |k: &str| attribute(reader, e, k).map_err(MetadataError);
    let name = get("name")?.filter(|n| !n.trim().is_empty());
    let name = match name {
        Some(n) => n,
        None => {
            return Err(MetadataError(format!(
                "FIELD #{index} has no name attribute (every FIELD needs a name)"
            )))
        }
    };
    let datatype = match get("datatype")?.filter(|d| !d.trim().is_empty()) {
        Some(d) => d.trim().to_string(),
        None => {
            return Err(MetadataError(format!(
                "FIELD #{index} ({name:?}) has no datatype attribute (every FIELD needs one)"
            )))
        }
    };
    let arraysize = get("arraysize")?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Ok(FieldMeta {
        name,
        datatype,
        arraysize,
        unit: get("unit")?,
        ucd: get("ucd")?,
        utype: get("utype")?,
        xtype: get("xtype")?,
        description: None,
        null: None,
    })
}

/// Read a VOTable document up to the data of its first TABLE.
///
/// Returns the TABLE's metadata and where the reader stopped: just inside
/// `<DATA>` ([`HeaderEnd::Data`]), or after a TABLE without rows. Errors are
/// [`MetadataError`].
pub fn read_table_header<R: BufRead>(
    reader: &mut Reader<R>,
    buf: &mut Vec<u8>,
) -> Result<(TableMeta, HeaderEnd)> {
    let meta_err = MetadataError;
    // Local names of the open elements.
    let mut stack: Vec<String> = Vec::new();
    // Depth of the first TABLE in `stack` (its index + 1) once inside it.
    let mut table_depth: Option<usize> = None;
    let mut meta = TableMeta::default();
    let mut field: Option<FieldMeta> = None;
    let mut seen_root = false;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(|e| meta_err(xml_error(reader, &e)))?;
        let (start, empty) = match &ev {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            let name = local_name(e);
            if !seen_root {
                seen_root = true;
                if name != "VOTABLE" {
                    return Err(meta_err(format!(
                        "not a VOTable document: the root element is <{}>, not <VOTABLE>",
                        e.name().as_ref()
                    )));
                }
            }
            // Position of this element relative to the TABLE (1 = child).
            let rel = table_depth.map(|d| stack.len() + 1 - d);
            match (rel, name.as_str()) {
                (None, "TABLE") => {
                    meta.name = match attribute(reader, e, "name").map_err(meta_err)? {
                        Some(n) => n,
                        None => attribute(reader, e, "ID")
                            .map_err(meta_err)?
                            .unwrap_or_default(),
                    };
                    if empty {
                        return Ok((meta, HeaderEnd::NoData));
                    }
                    table_depth = Some(stack.len() + 1);
                }
                (Some(1), "DESCRIPTION") => {
                    if !empty {
                        let mut s = String::new();
                        read_text_into(reader, buf, &mut s).map_err(meta_err)?;
                        meta.description = trimmed_text(s);
                    }
                    continue;
                }
                (Some(1), "FIELD") => {
                    let f = field_from_attributes(reader, e, meta.fields.len() + 1)?;
                    if empty {
                        meta.fields.push(f);
                    } else {
                        field = Some(f);
                    }
                }
                (Some(1), "DATA") => {
                    return Ok((
                        meta,
                        if empty {
                            HeaderEnd::NoData
                        } else {
                            HeaderEnd::Data
                        },
                    ));
                }
                (Some(2), "DESCRIPTION") if field.is_some() => {
                    if !empty {
                        let mut s = String::new();
                        read_text_into(reader, buf, &mut s).map_err(meta_err)?;
                        if let Some(f) = field.as_mut() {
                            f.description = trimmed_text(s);
                        }
                    }
                    continue;
                }
                (Some(2), "VALUES") if field.is_some() => {
                    let null = attribute(reader, e, "null").map_err(meta_err)?;
                    if let (Some(f), Some(n)) = (field.as_mut(), null) {
                        f.null = Some(n.trim().to_string());
                    }
                }
                _ => {}
            }
            if !empty {
                stack.push(name);
            }
            continue;
        }
        match ev {
            Event::End(_) => {
                let closed = stack.pop();
                if let Some(d) = table_depth {
                    if stack.len() + 1 == d {
                        // The TABLE itself closed: no DATA.
                        return Ok((meta, HeaderEnd::NoData));
                    }
                    if stack.len() == d && closed.as_deref() == Some("FIELD") {
                        if let Some(f) = field.take() {
                            meta.fields.push(f);
                        }
                    }
                }
            }
            Event::Eof => {
                return Err(meta_err(if !seen_root {
                    "not a VOTable document: no XML element found".to_string()
                } else if table_depth.is_some() {
                    "the document ends inside TABLE".to_string()
                } else {
                    "the VOTable document has no TABLE element".to_string()
                }))
            }
            Event::Text(t)
                if !seen_root
                    && !t
                        .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
                        .is_empty() =>
            {
                return Err(meta_err(
                    "not a VOTable document: text before the root element".to_string(),
                ))
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TableMeta {
        TableMeta {
            name: "gaia_<dr3> & \"friends\"".into(),
            description: Some(
                "Stars & galaxies: <b>bold</b> 'quoted' \"double\" — Ångström, 星".into(),
            ),
            fields: vec![
                FieldMeta {
                    name: "source_id".into(),
                    datatype: "long".into(),
                    ucd: Some("meta.id;meta.main".into()),
                    description: Some(
                        "Unique source identifier (unique within a particular Data Release)".into(),
                    ),
                    null: Some("-9223372036854775808".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "ra".into(),
                    datatype: "double".into(),
                    unit: Some("deg".into()),
                    ucd: Some("pos.eq.ra;meta.main".into()),
                    utype: Some("stc:AstroCoords.Position2D.Value2.C1".into()),
                    description: Some("Right ascension, ICRS, epoch J2016.0 (α < 360°)".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "flux\"q'<&>".into(),
                    datatype: "float".into(),
                    arraysize: Some("3".into()),
                    unit: Some("mJy/beam & \"stuff\"".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "name".into(),
                    datatype: "unicodeChar".into(),
                    arraysize: Some("*".into()),
                    xtype: Some("x<y>".into()),
                    description: Some("line one\nline two\ttab\r\nwindows".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "t".into(),
                    datatype: "char".into(),
                    arraysize: Some("23*".into()),
                    xtype: Some("timestamp".into()),
                    ..Default::default()
                },
                FieldMeta {
                    name: "flag".into(),
                    datatype: "short".into(),
                    null: Some("-32768".into()),
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn round_trip_with_special_characters() {
        let meta = sample();
        let xml = meta.to_votable();
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
            "{xml}"
        );
        assert!(
            xml.contains("<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\"")
        );
        assert!(xml.contains("xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""));
        assert!(!xml.contains("<DATA"));
        assert!(xml.contains("&lt;b&gt;") || xml.contains("&lt;b>"), "{xml}");
        let back = TableMeta::from_votable(&xml).unwrap();
        // Windows line endings in text are preserved through the &#13; escape.
        assert_eq!(back, meta, "{xml}");
    }

    #[test]
    fn round_trip_minimal() {
        let meta = TableMeta {
            name: "t".into(),
            description: None,
            fields: vec![FieldMeta {
                name: "x".into(),
                datatype: "int".into(),
                ..Default::default()
            }],
        };
        let xml = meta.to_votable();
        assert!(!xml.contains("DESCRIPTION"));
        assert!(!xml.contains("VALUES"));
        assert!(!xml.contains("unit="));
        assert_eq!(TableMeta::from_votable(&xml).unwrap(), meta);
        let empty = TableMeta::default();
        assert_eq!(TableMeta::from_votable(&empty.to_votable()).unwrap(), empty);
    }

    /// A VOTable as astropy/TOPCAT write them: namespaces, COOSYS, INFO,
    /// PARAM with its own DESCRIPTION and VALUES, GROUP, LINK and DATA.
    const ASTROPY_STYLE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<!-- Produced with astropy.io.votable version 6.0
     http://www.astropy.org/ -->
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.ivoa.net/xml/VOTable/v1.3 http://www.ivoa.net/xml/VOTable/VOTable-1.4.xsd">
 <DESCRIPTION>Resource-level description, not the table's</DESCRIPTION>
 <COOSYS ID="GAIADR3" epoch="J2016.0" system="ICRS"/>
 <TIMESYS ID="time_1" refposition="BARYCENTER" timeorigin="2455197.5" timescale="TCB"/>
 <RESOURCE type="results">
  <INFO name="QUERY_STATUS" value="OK"/>
  <INFO name="QUERY" value="SELECT TOP 2 * FROM gaiadr3.gaia_source">
   <![CDATA[SELECT TOP 2 * FROM gaiadr3.gaia_source WHERE x < 3]]>
  </INFO>
  <TABLE ID="gaia_source_tab" name="gaia_source">
   <DESCRIPTION>
     This table has an entry for every Gaia observed source &amp; more
   </DESCRIPTION>
   <INFO name="note" value="ignored"><DESCRIPTION>not this one</DESCRIPTION></INFO>
   <PARAM ID="epoch" name="ref_epoch" datatype="double" value="2016.0" unit="yr">
    <DESCRIPTION>Reference epoch (param)</DESCRIPTION>
    <VALUES null="-1"/>
   </PARAM>
   <GROUP name="astrometry">
    <DESCRIPTION>Group description</DESCRIPTION>
    <FIELDref ref="ra"/>
   </GROUP>
   <FIELD ID="source_id" datatype="long" name="source_id" ucd="meta.id;meta.main">
    <DESCRIPTION>Unique source identifier</DESCRIPTION>
    <VALUES null="-9223372036854775808"/>
   </FIELD>
   <FIELD ID="ra" datatype="double" name="ra" ref="GAIADR3" ucd="pos.eq.ra;meta.main" unit="deg" utype="stc:AstroCoords.Position2D.Value2.C1">
    <DESCRIPTION>Right ascension (&#945;)</DESCRIPTION>
    <LINK href="http://example.org/ra"/>
   </FIELD>
   <FIELD datatype="char" name="designation" arraysize="*" ucd="meta.id"/>
   <FIELD datatype="float" name="phot_g_mean_mag" unit="mag" ucd="phot.mag;em.opt">
    <VALUES null="NaN">
     <MIN value="0"/>
    </VALUES>
   </FIELD>
   <FIELD datatype="short" name="flags" arraysize="3" xtype="flags"/>
   <LINK href="http://example.org/table"/>
   <DATA>
    <TABLEDATA>
     <TR><TD>1</TD><TD>1.5</TD><TD>Gaia DR3 1</TD><TD>12.5</TD><TD>1 2 3</TD></TR>
    </TABLEDATA>
   </DATA>
   <INFO name="after" value="data"/>
  </TABLE>
  <TABLE name="second"><FIELD name="zzz" datatype="int"/></TABLE>
 </RESOURCE>
</VOTABLE>
"#;

    #[test]
    fn parses_astropy_style_document() {
        let m = TableMeta::from_votable(ASTROPY_STYLE).unwrap();
        assert_eq!(m.name, "gaia_source");
        assert_eq!(
            m.description.as_deref(),
            Some("This table has an entry for every Gaia observed source & more")
        );
        let names: Vec<_> = m.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["source_id", "ra", "designation", "phot_g_mean_mag", "flags"]
        );
        let sid = &m.fields[0];
        assert_eq!(sid.datatype, "long");
        assert_eq!(sid.ucd.as_deref(), Some("meta.id;meta.main"));
        assert_eq!(sid.description.as_deref(), Some("Unique source identifier"));
        assert_eq!(sid.null.as_deref(), Some("-9223372036854775808"));
        let ra = &m.fields[1];
        assert_eq!(ra.unit.as_deref(), Some("deg"));
        assert_eq!(
            ra.utype.as_deref(),
            Some("stc:AstroCoords.Position2D.Value2.C1")
        );
        assert_eq!(ra.description.as_deref(), Some("Right ascension (α)"));
        assert_eq!(ra.null, None);
        assert_eq!(m.fields[2].arraysize.as_deref(), Some("*"));
        assert_eq!(m.fields[3].null.as_deref(), Some("NaN"));
        assert_eq!(m.fields[3].description, None);
        assert_eq!(m.fields[4].arraysize.as_deref(), Some("3"));
        assert_eq!(m.fields[4].xtype.as_deref(), Some("flags"));
    }

    #[test]
    fn parses_prefixed_votable_1_1() {
        let xml = r#"<?xml version="1.0"?>
<vot:VOTABLE xmlns:vot="http://www.ivoa.net/xml/VOTable/v1.1" version="1.1">
  <vot:RESOURCE>
    <vot:TABLE ID="T1">
      <vot:FIELD name="x" datatype="int" unit="m"><vot:VALUES null="-1"/></vot:FIELD>
      <vot:FIELD name="y" datatype="unicodeChar" arraysize="8"/>
    </vot:TABLE>
  </vot:RESOURCE>
</vot:VOTABLE>"#;
        let m = TableMeta::from_votable(xml).unwrap();
        assert_eq!(m.name, "T1");
        assert_eq!(m.fields.len(), 2);
        assert_eq!(m.fields[0].null.as_deref(), Some("-1"));
        assert_eq!(m.fields[0].unit.as_deref(), Some("m"));
        assert_eq!(m.fields[1].datatype, "unicodeChar");
    }

    #[test]
    fn parses_bom_doctype_and_stylesheet() {
        let xml = "\u{FEFF}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
            <?xml-stylesheet type=\"text/xsl\" href=\"votable.xsl\"?>\n\
            <!DOCTYPE VOTABLE SYSTEM \"http://us-vo.org/xml/VOTable.dtd\">\n\
            <VOTABLE version=\"1.0\"><RESOURCE><TABLE name=\"old\">\
            <FIELD name=\"a\" datatype=\"float\" unit=\"s\"/></TABLE></RESOURCE></VOTABLE>";
        let m = TableMeta::from_votable(xml).unwrap();
        assert_eq!(m.name, "old");
        assert_eq!(m.fields[0].unit.as_deref(), Some("s"));
    }

    #[test]
    fn errors() {
        let e = TableMeta::from_votable("<VOTABLE><RESOURCE/></VOTABLE>").unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("no TABLE")),
            "{e}"
        );

        let e = TableMeta::from_votable(
            r#"<VOTABLE><RESOURCE><TABLE><FIELD datatype="int"/></TABLE></RESOURCE></VOTABLE>"#,
        )
        .unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("FIELD #1 has no name")),
            "{e}"
        );

        let e = TableMeta::from_votable(
            r#"<VOTABLE><RESOURCE><TABLE><FIELD name="a" datatype="int"/><FIELD name="b"/></TABLE></RESOURCE></VOTABLE>"#,
        )
        .unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("FIELD #2 (\"b\") has no datatype")),
            "{e}"
        );

        let e = TableMeta::from_votable(
            "<VOTABLE><RESOURCE><TABLE name=\"t\"><FIELD name=\"a\" datatype=\"int\"></TABLE></RESOURCE></VOTABLE>",
        )
        .unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("malformed XML at byte")),
            "{e}"
        );

        let e = TableMeta::from_votable("<html><body/></html>").unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("not a VOTable")),
            "{e}"
        );

        let e = TableMeta::from_votable("").unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("not a VOTable")),
            "{e}"
        );

        let e = TableMeta::from_votable(
            "<VOTABLE><RESOURCE><TABLE name=\"a &foo; b\"/></RESOURCE></VOTABLE>",
        )
        .unwrap_err();
        assert!(
            matches!(&e, MetadataError(m) if m.contains("malformed XML")),
            "{e}"
        );
    }
}
