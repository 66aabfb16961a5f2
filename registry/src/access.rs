//! Reading an S3 Parquet catalogue record (docs/S3-CATALOGUE-RECORD.md):
//! where the catalogue's tables are and how to reach the store, from the
//! record alone.

use astrolake_vo::xml::{attribute, local_name, push_reference};
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::record::{param_value, S3_PARQUET_STANDARD};

/// What a catalogue record says about access.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordAccess {
    /// The record's identifier.
    pub identifier: String,
    /// The record's title.
    pub title: String,
    /// The catalogue root (`s3://...` or `https://...`), ending with `/`.
    pub root: String,
    /// Its HTTPS form, when given.
    pub https_root: Option<String>,
    /// S3 endpoint.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Tables: `schema.table` and directory URL.
    pub tables: Vec<(String, String)>,
}

#[derive(Default)]
struct Interface {
    role: String,
    urls: Vec<(String, String)>,
    params: Vec<(String, String)>,
}

/// Parse a VOResource record (a `ri:Resource` document, or an OAI-PMH
/// response holding one) and return its S3 Parquet catalogue access.
pub fn parse(xml: &str) -> Result<RecordAccess, String> {
    // Text is trimmed per element, not per event: an entity splits a
    // text into several events.
    let mut r = Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out = RecordAccess::default();
    let mut in_cap = false;
    let mut found_cap = false;
    let mut iface: Option<Interface> = None;
    let mut interfaces: Vec<Interface> = Vec::new();
    let mut url_use = String::new();
    let mut param = (String::new(), String::new());
    let mut text = String::new();
    loop {
        match r.read_event() {
            Err(e) => return Err(format!("not a readable XML record: {e}")),
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                let name = local_name(&e);
                let attr = |k: &str| -> Option<String> { attribute(&r, &e, k).ok().flatten() };
                match name.as_str() {
                    "capability" => {
                        in_cap = attr("standardID").as_deref() == Some(S3_PARQUET_STANDARD);
                        found_cap |= in_cap;
                    }
                    "interface" if in_cap => {
                        iface = Some(Interface {
                            role: attr("role").unwrap_or_default(),
                            ..Default::default()
                        })
                    }
                    "accessURL" => url_use = attr("use").unwrap_or_default(),
                    "param" => param = (String::new(), String::new()),
                    _ => {}
                }
                path.push(name);
                text.clear();
            }
            Ok(Event::Text(t)) => text.push_str(&t.xml10_content()),
            Ok(Event::CData(c)) => text.push_str(&c.xml10_content()),
            Ok(Event::GeneralRef(g)) => push_reference(&r, &g, &mut text)?,
            Ok(Event::End(_)) => {
                let name = path.pop().unwrap_or_default();
                let parent = path.last().map(String::as_str).unwrap_or("");
                let value = text.trim().to_string();
                match name.as_str() {
                    "identifier" if parent == "Resource" => out.identifier = value,
                    "title" if parent == "Resource" => out.title = value,
                    "capability" => in_cap = false,
                    "interface" => {
                        if let Some(i) = iface.take() {
                            interfaces.push(i);
                        }
                    }
                    "accessURL" => {
                        if let Some(i) = iface.as_mut() {
                            i.urls.push((url_use.clone(), value));
                        }
                    }
                    "name" if parent == "param" => param.0 = value,
                    "description" if parent == "param" => param.1 = value,
                    "param" => {
                        if let Some(i) = iface.as_mut() {
                            i.params.push(std::mem::take(&mut param));
                        }
                    }
                    _ => {}
                }
                text.clear();
            }
            Ok(_) => {}
        }
    }
    if !found_cap {
        return Err(format!(
            "the record {} has no S3 Parquet catalogue capability ({S3_PARQUET_STANDARD})",
            out.identifier
        ));
    }
    let std_iface = interfaces
        .iter()
        .find(|i| i.role == "std")
        .ok_or("the catalogue capability has no interface role=\"std\"")?;
    let mut urls = std_iface.urls.iter().map(|(_, u)| u.clone());
    out.root = urls
        .next()
        .ok_or("the catalogue interface has no accessURL")?;
    out.https_root = urls.next();
    for (k, v) in &std_iface.params {
        match k.as_str() {
            "endpoint" => out.endpoint = Some(param_value(v).to_string()),
            "region" => out.region = Some(param_value(v).to_string()),
            _ => {}
        }
    }
    for i in interfaces.iter().filter(|i| i.role == "table") {
        let name = i
            .params
            .iter()
            .find(|(k, _)| k == "table")
            .map(|(_, v)| param_value(v).to_string())
            .ok_or("a table interface has no table param")?;
        let dir = i
            .urls
            .iter()
            .find(|(u, _)| u == "dir")
            .map(|(_, v)| v.trim_end_matches('/').to_string())
            .ok_or_else(|| format!("table {name}: no accessURL use=\"dir\""))?;
        out.tables.push((name, dir));
    }
    if out.tables.is_empty() {
        return Err("the record lists no tables".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Content, Curation, Dates, Kind, Resource, S3Access, TableAccess};

    #[test]
    fn a_written_record_reads_back() {
        let r = Resource {
            identifier: "ivo://x.y/catalogue/gaia".into(),
            title: "Gaia & friends".into(),
            short_name: None,
            curation: Curation::default(),
            content: Content::default(),
            rights: None,
            derived_from: None,
            kind: Kind::Catalogue {
                tables: vec![],
                coverage: None,
                waveband: vec![],
                access: S3Access {
                    url: "s3://bucket/cat".into(),
                    https_url: Some("http://127.0.0.1:9000/bucket/cat".into()),
                    endpoint: Some("http://127.0.0.1:9000".into()),
                    region: Some("us-east-1".into()),
                    tables: vec![TableAccess {
                        name: "gaia.gaia_source".into(),
                        path: "gaia/gaia_source".into(),
                        orders: Some((0, 3)),
                        version: "v1".into(),
                    }],
                },
            },
        };
        let dates = Dates {
            created: "2026-01-01T00:00:00Z",
            updated: "2026-01-01T00:00:00Z",
        };
        let a = parse(&r.to_document(dates)).unwrap();
        assert_eq!(a.identifier, "ivo://x.y/catalogue/gaia");
        assert_eq!(a.title, "Gaia & friends");
        assert_eq!(a.root, "s3://bucket/cat/");
        assert_eq!(a.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(a.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            a.tables,
            [(
                "gaia.gaia_source".to_string(),
                "s3://bucket/cat/gaia/gaia_source".to_string()
            )]
        );
        assert!(parse("<ri:Resource/>").is_err());
        assert!(parse("not xml <").is_err());
    }
}
