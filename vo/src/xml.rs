//! Writing and reading XML: the in-memory document writer every service
//! document is written with ([`Doc`]), the character sanitiser that keeps
//! data and metadata text from breaking a document ([`xml_chars`]), and the
//! small reading helpers the VOTable and registry readers share.
//!
//! All XML is read and written with quick-xml, which does the escaping.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::escape::{partial_escape, resolve_predefined_entity};
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesDecl, BytesEnd, BytesRef, BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer, XmlVersion};

/// An XML document being written.
pub struct Doc {
    w: Writer<Vec<u8>>,
}

/// Writing to a `Vec<u8>` cannot fail; quick-xml still returns `io::Result`.
fn ok<T>(r: std::io::Result<T>) {
    r.expect("writing XML into memory cannot fail");
}

impl Default for Doc {
    fn default() -> Self {
        Doc::new()
    }
}

impl Doc {
    /// A new document with an XML declaration (UTF-8), indented by two
    /// spaces.
    pub fn new() -> Self {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        ok(w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))));
        Doc { w }
    }

    /// A fragment: no XML declaration, indented by two spaces (for
    /// elements embedded in another document).
    pub fn fragment() -> Self {
        Doc {
            w: Writer::new_with_indent(Vec::new(), b' ', 2),
        }
    }

    /// A new document without indentation (for XHTML, where whitespace
    /// inside mixed content is visible).
    pub fn new_flat() -> Self {
        let mut w = Writer::new(Vec::new());
        ok(w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))));
        Doc { w }
    }

    /// Write a `<!DOCTYPE ...>` declaration.
    pub fn doctype(&mut self, content: &str) {
        ok(self
            .w
            .write_event(Event::DocType(BytesText::from_escaped(content))));
    }

    fn start_tag<'a>(name: &'a str, attrs: &[(&'a str, &'a str)]) -> BytesStart<'a> {
        let mut tag = BytesStart::new(name);
        for (k, v) in attrs {
            let v = xml_chars(v);
            tag.push_attribute((*k, v.as_ref()));
        }
        tag
    }

    /// Open an element.
    pub fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        ok(self
            .w
            .write_event(Event::Start(Self::start_tag(name, attrs))));
    }

    /// Close an element.
    pub fn end(&mut self, name: &str) {
        ok(self.w.write_event(Event::End(BytesEnd::new(name))));
    }

    /// An element without content.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        ok(self
            .w
            .write_event(Event::Empty(Self::start_tag(name, attrs))));
    }

    /// Text content at the current position.
    pub fn text(&mut self, text: &str) {
        // quick-xml escapes `<`, `>` and `&` (quotes need no escaping in
        // text, and stay readable in queries).
        let text = xml_chars(text);
        ok(self
            .w
            .write_event(Event::Text(BytesText::from_escaped(partial_escape(
                text.as_ref(),
            )))));
    }

    /// An element holding only text.
    pub fn elem(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.start(name, attrs);
        self.text(text);
        self.end(name);
    }

    /// An element holding only text, if there is (non-blank) text.
    pub fn opt_elem(&mut self, name: &str, text: Option<&str>) {
        if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
            self.elem(name, &[], t);
        }
    }

    /// An element with text, or `xsi:nil="true"` without (the document
    /// must declare the `xsi` prefix).
    pub fn nillable(&mut self, name: &str, text: Option<&str>) {
        match text {
            Some(t) => self.elem(name, &[], t),
            None => self.empty(name, &[("xsi:nil", "true")]),
        }
    }

    /// Already-serialised XML (a fragment another writer produced, e.g. a
    /// record without its XML declaration), written as is.
    pub fn raw(&mut self, xml: &str) {
        ok(self
            .w
            .write_event(Event::Text(BytesText::from_escaped(xml))));
    }

    /// The finished document.
    pub fn finish(self) -> String {
        let mut bytes = self.w.into_inner();
        bytes.push(b'\n');
        String::from_utf8(bytes).expect("quick-xml writes the UTF-8 it is given")
    }
}

/// `s` without the characters XML 1.0 forbids (C0 controls other than tab,
/// newline and carriage return; U+FFFE and U+FFFF), each replaced by U+FFFD,
/// so text from data or metadata never breaks a document.
pub fn xml_chars(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
    };
    if s.chars().any(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{FFFD}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// A malformed-XML message with the byte offset of the problem.
pub fn xml_error<R>(reader: &Reader<R>, e: &quick_xml::Error) -> String {
    format!("malformed XML at byte {}: {e}", reader.error_position())
}

/// The local name (without namespace prefix) of an element.
pub fn local_name(e: &BytesStart<'_>) -> String {
    e.local_name().as_ref().to_string()
}

/// The value of the attribute with the local name `key` (any prefix),
/// unescaped and normalized.
pub fn attribute<R>(
    reader: &Reader<R>,
    e: &BytesStart<'_>,
    key: &str,
) -> std::result::Result<Option<String>, String> {
    for a in e.attributes() {
        let a: Attribute<'_> = a.map_err(|err| {
            format!(
                "malformed XML at byte {}: bad attribute: {err}",
                reader.buffer_position()
            )
        })?;
        if a.key.local_name().as_ref() == key {
            let v = a.normalized_value(XmlVersion::Implicit1_0).map_err(|err| {
                format!(
                    "malformed XML at byte {}: bad value of attribute {key}: {err}",
                    reader.buffer_position()
                )
            })?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

/// Append the replacement text of an entity or character reference.
pub fn push_reference<R>(
    reader: &Reader<R>,
    r: &BytesRef<'_>,
    out: &mut String,
) -> std::result::Result<(), String> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => {
            out.push(c);
            return Ok(());
        }
        Ok(None) => {}
        Err(e) => {
            return Err(format!(
                "malformed XML at byte {}: bad character reference &{};: {e}",
                reader.buffer_position(),
                r.as_ref()
            ))
        }
    }
    match resolve_predefined_entity(r.as_ref()) {
        Some(s) => {
            out.push_str(s);
            Ok(())
        }
        None => Err(format!(
            "malformed XML at byte {}: unknown entity &{};",
            reader.buffer_position(),
            r.as_ref()
        )),
    }
}

/// Read the text content of the element whose start tag was just read, up
/// to and including its end tag, appending it (unescaped, with CDATA) to
/// `out`. Text inside nested elements is included; comments and processing
/// instructions are skipped.
pub fn read_text_into<R: BufRead>(
    reader: &mut Reader<R>,
    buf: &mut Vec<u8>,
    out: &mut String,
) -> std::result::Result<(), String> {
    let mut depth = 0usize;
    loop {
        buf.clear();
        let ev = reader
            .read_event_into(buf)
            .map_err(|e| xml_error(reader, &e))?;
        match ev {
            Event::Text(t) => out.push_str(&t.xml10_content()),
            Event::CData(c) => out.push_str(&c.xml10_content()),
            Event::GeneralRef(r) => push_reference(reader, &r, out)?,
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            Event::Eof => {
                return Err(format!(
                    "malformed XML at byte {}: the document ends inside an element",
                    reader.buffer_position()
                ))
            }
            _ => {}
        }
    }
}
