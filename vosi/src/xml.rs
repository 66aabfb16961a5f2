//! A thin layer over quick-xml's writer for documents built in memory.
//!
//! quick-xml escapes text and attribute values; this layer only removes the
//! characters XML 1.0 cannot represent at all and turns the writer's
//! `io::Result`s (which cannot fail on a `Vec<u8>`) into plain calls.

use quick_xml::escape::partial_escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

/// Namespace of VOSI availability documents.
pub const NS_VOSI_AVAILABILITY: &str = "http://www.ivoa.net/xml/VOSIAvailability/v1.0";
/// Namespace of VOSI capabilities documents.
pub const NS_VOSI_CAPABILITIES: &str = "http://www.ivoa.net/xml/VOSICapabilities/v1.0";
/// Namespace of VOSI tables documents.
pub const NS_VOSI_TABLES: &str = "http://www.ivoa.net/xml/VOSITables/v1.0";
/// Namespace of VOResource 1.x.
pub const NS_VR: &str = "http://www.ivoa.net/xml/VOResource/v1.0";
/// Namespace of VODataService 1.x (1.2 keeps the 1.1 namespace).
pub const NS_VS: &str = "http://www.ivoa.net/xml/VODataService/v1.1";
/// Namespace of TAPRegExt 1.0.
pub const NS_TR: &str = "http://www.ivoa.net/xml/TAPRegExt/v1.0";
/// Namespace of XML Schema instance attributes (`xsi:type`).
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// An XML document being written.
pub struct Doc {
    w: Writer<Vec<u8>>,
}

/// Writing to a `Vec<u8>` cannot fail; quick-xml still returns `io::Result`.
fn ok<T>(r: std::io::Result<T>) {
    r.expect("writing XML into memory cannot fail");
}

pub use astrolake_catalog::votable::xml::xml_chars;

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
