//! A VOResource record as a tree of elements: local names, attributes by
//! local name, trimmed text. The one namespace-aware value RegTAP needs,
//! `xsi:type`, is resolved while parsing and kept under the key
//! `xsi:type` as its canonical, lower-cased QName (`vs:catalogservice`).

use astrolake_vo::xml::push_reference;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use quick_xml::XmlVersion;

use crate::error::RegtapError;

/// XML Schema instance, whose `type` attribute names a record's types.
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The canonical prefixes of RegTAP (§4.3, "QNames in the database"), by
/// namespace.
const CANONICAL: &[(&str, &str)] = &[
    ("http://www.ivoa.net/xml/ConeSearch/v1.0", "cs"),
    ("http://purl.org/dc/elements/1.1/", "dc"),
    ("http://www.openarchives.org/OAI/2.0/", "oai"),
    ("http://www.ivoa.net/xml/RegistryInterface/v1.0", "ri"),
    ("http://www.ivoa.net/xml/SIA/v1.0", "sia"),
    ("http://www.ivoa.net/xml/SIA/v1.1", "sia"),
    ("http://www.ivoa.net/xml/SLAP/v1.0", "slap"),
    ("http://www.ivoa.net/xml/SSA/v1.0", "ssap"),
    ("http://www.ivoa.net/xml/SSA/v1.1", "ssap"),
    ("http://www.ivoa.net/xml/TAPRegExt/v1.0", "tr"),
    ("http://www.ivoa.net/xml/VORegistry/v1.0", "vg"),
    ("http://www.ivoa.net/xml/VOResource/v1.0", "vr"),
    ("http://www.ivoa.net/xml/VODataService/v1.0", "vs"),
    ("http://www.ivoa.net/xml/VODataService/v1.1", "vs"),
    ("http://www.ivoa.net/xml/StandardsRegExt/v1.0", "vstd"),
    ("http://www.w3.org/2001/XMLSchema-instance", "xsi"),
];

/// One element.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Attributes by local name (`xsi:type` resolved, see the module).
    pub attrs: Vec<(String, String)>,
    /// Its own text, trimmed.
    pub text: String,
    /// Child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child called `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every element called `name` at any depth, this one included.
    pub fn find_all<'a>(&'a self, name: &str, out: &mut Vec<&'a Element>) {
        if self.name == name {
            out.push(self);
        }
        for c in &self.children {
            c.find_all(name, out);
        }
    }
}

/// Parse an XML document into its root element.
pub fn parse(xml: &str) -> Result<Element, RegtapError> {
    let mut r = Reader::from_str(xml);
    // Open elements, and the namespace bindings each declares.
    let mut open: Vec<(Element, Vec<(String, String)>)> = Vec::new();
    let mut root: Option<Element> = None;
    let bad = |r: &Reader<&[u8]>, e: String| {
        RegtapError::Xml(format!("at byte {}: {e}", r.buffer_position()))
    };
    loop {
        let ev = r.read_event().map_err(|e| bad(&r, e.to_string()))?;
        match ev {
            Event::Eof => break,
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(bad(&r, "content after the root element".into()));
            }
            Event::Start(e) => {
                let el = start(&r, &e, &open)?;
                open.push(el);
            }
            Event::Empty(e) => {
                let (el, _) = start(&r, &e, &open)?;
                close(el, &mut open, &mut root);
            }
            Event::End(_) => {
                let (mut el, _) = open
                    .pop()
                    .ok_or_else(|| bad(&r, "unbalanced end tag".into()))?;
                el.text = el.text.trim().to_string();
                close(el, &mut open, &mut root);
            }
            Event::Text(t) => {
                if let Some((el, _)) = open.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some((el, _)) = open.last_mut() {
                    el.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(g) => {
                if let Some((el, _)) = open.last_mut() {
                    push_reference(&r, &g, &mut el.text).map_err(RegtapError::Xml)?;
                }
            }
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err(RegtapError::Xml(
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or_else(|| RegtapError::Xml("no root element".into()))
}

fn close(el: Element, open: &mut [(Element, Vec<(String, String)>)], root: &mut Option<Element>) {
    match open.last_mut() {
        Some((parent, _)) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// A new element from its start tag, with the namespaces it declares.
fn start(
    r: &Reader<&[u8]>,
    e: &BytesStart<'_>,
    open: &[(Element, Vec<(String, String)>)],
) -> Result<(Element, Vec<(String, String)>), RegtapError> {
    let mut el = Element {
        name: e.local_name().as_ref().to_string(),
        ..Default::default()
    };
    let mut declared = Vec::new();
    let mut raw = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| {
            RegtapError::Xml(format!(
                "at byte {}: bad attribute: {err}",
                r.buffer_position()
            ))
        })?;
        let key = a.key.as_ref().to_string();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| RegtapError::Xml(format!("bad attribute value: {err}")))?
            .trim()
            .to_string();
        if key == "xmlns" {
            declared.push((String::new(), value));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            declared.push((p.to_string(), value));
        } else {
            raw.push((key, value));
        }
    }
    let lookup = |prefix: &str| -> Option<String> {
        declared
            .iter()
            .rev()
            .chain(open.iter().rev().flat_map(|(_, d)| d.iter().rev()))
            .find(|(p, _)| p == prefix)
            .map(|(_, u)| u.clone())
    };
    for (key, value) in raw {
        let (prefix, local) = key.split_once(':').unwrap_or(("", &key));
        if local == "type" && !prefix.is_empty() && lookup(prefix).as_deref() == Some(XSI) {
            el.attrs
                .push(("xsi:type".into(), canonical_qname(&value, &lookup)));
        } else {
            el.attrs.push((local.to_string(), value));
        }
    }
    Ok((el, declared))
}

/// A QName value with its prefix replaced by RegTAP's canonical one for
/// its namespace (kept when the namespace is unknown), lower-cased.
fn canonical_qname(value: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let (prefix, local) = value.split_once(':').unwrap_or(("", value));
    let canonical =
        lookup(prefix).and_then(|ns| CANONICAL.iter().find(|(u, _)| *u == ns).map(|(_, p)| *p));
    let out = match (canonical, prefix.is_empty()) {
        (Some(p), _) => format!("{p}:{local}"),
        (None, true) => local.to_string(),
        (None, false) => value.to_string(),
    };
    out.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_get_canonical_prefixes() {
        let doc = r#"<ri:Resource xmlns:ri="http://www.ivoa.net/xml/RegistryInterface/v1.0"
            xmlns:x="http://www.w3.org/2001/XMLSchema-instance"
            xmlns:foo="http://www.ivoa.net/xml/VODataService/v1.1"
            x:type="foo:CatalogService" created="2020-01-01T00:00:00Z">
            <title> A &amp; B </title>
            <capability xmlns:z="urn:unknown" x:type="z:Thing"/>
        </ri:Resource>"#;
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Resource");
        assert_eq!(root.attr("xsi:type"), Some("vs:catalogservice"));
        assert_eq!(root.attr("created"), Some("2020-01-01T00:00:00Z"));
        assert_eq!(root.child("title").unwrap().text, "A & B");
        assert_eq!(
            root.child("capability").unwrap().attr("xsi:type"),
            Some("z:thing")
        );
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("").is_err());
    }
}
