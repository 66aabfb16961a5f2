//! The RegTAP mapping: one VOResource record (an `ri:Resource` element)
//! into rows of the `rr` tables, as RegTAP 1.2 §4 and §8 say: strings
//! trimmed and empty ones NULL; identifiers, types and vocabulary terms
//! lower-cased (QNames with canonical prefixes); repeated terms joined by
//! `#`; the `*_index` keys counted from 1 over the whole record; dates
//! as DALI timestamps; the less used members as `res_detail` xpath–value
//! pairs.

use std::collections::BTreeMap;

use crate::schema::{table, Ty};
use crate::tree::Element;

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text (all string-like types).
    Text(Option<String>),
    /// A small integer.
    Short(Option<i16>),
    /// A real number.
    Double(Option<f64>),
}

/// The rows of every `rr` table, by table name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rows {
    tables: BTreeMap<&'static str, Vec<Vec<Value>>>,
}

impl Rows {
    /// The rows of table `name`.
    pub fn of(&self, name: &str) -> &[Vec<Value>] {
        self.tables.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    fn push(&mut self, name: &'static str, row: Vec<Value>) {
        let t = table(name).expect("an rr table");
        debug_assert_eq!(t.columns.len(), row.len(), "{name}");
        debug_assert!(t.columns.iter().zip(&row).all(|(c, v)| matches!(
            (c.ty, v),
            (Ty::Short, Value::Short(_))
                | (Ty::Double, Value::Double(_))
                | (
                    Ty::Text | Ty::Unicode | Ty::Timestamp | Ty::Moc,
                    Value::Text(_)
                )
        )));
        self.tables.entry(name).or_default().push(row);
    }
}

/// A string cell: trimmed, NULL when empty.
fn s(v: Option<&str>) -> Value {
    Value::Text(
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string),
    )
}

/// A lower-cased string cell.
fn lc(v: Option<&str>) -> Value {
    s(v.map(str::to_lowercase).as_deref())
}

/// A `#`-joined list of lower-cased terms, NULL when there is none.
fn hash_list<'a>(items: impl Iterator<Item = &'a str>) -> Value {
    let terms: Vec<String> = items
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    s(Some(&terms.join("#")))
}

/// A DALI timestamp (`YYYY-MM-DDThh:mm:ss`, no zone or fraction) from an
/// `xs:date` or UTC `xs:dateTime`; NULL when it is neither.
fn timestamp(v: Option<&str>) -> Value {
    let Some(v) = v.map(str::trim).filter(|v| v.len() >= 10) else {
        return Value::Text(None);
    };
    let date_only = v.len() == 10 || !v[10..].starts_with('T');
    let t = if date_only {
        format!("{}T00:00:00", &v[..10])
    } else if v.len() >= 19 {
        v[..19].to_string()
    } else {
        return Value::Text(None);
    };
    let ok = t.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        _ => b.is_ascii_digit(),
    });
    Value::Text(ok.then_some(t))
}

/// A VOResource boolean (`true`/`1`, `false`/`0`) as 1/0, NULL if absent.
fn flag(v: Option<&str>) -> Value {
    Value::Short(match v.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("true") | Some("1") => Some(1),
        Some("false") | Some("0") => Some(0),
        _ => None,
    })
}

fn short(n: i16) -> Value {
    Value::Short(Some(n))
}

fn text_of<'a>(e: &'a Element, name: &str) -> Option<&'a str> {
    e.child(name).map(|c| c.text.as_str())
}

/// Deprecated vocabulary terms and what replaces them (RegTAP 1.1
/// Appendix C), before lower-casing.
fn current_term(term: &str) -> &str {
    match term {
        "representative" => "Collected",
        "creation" => "Created",
        "update" => "Updated",
        "mirror-of" => "IsIdenticalTo",
        "service-for" => "IsServiceFor",
        "served-by" => "IsServedBy",
        "derived-from" => "IsDerivedFrom",
        other => other,
    }
}

/// Resource-level members kept as `res_detail` rows (RegTAP 1.2
/// Appendix A), by xpath below the resource.
const RESOURCE_DETAILS: &[&str] = &[
    "/accessURL",
    "/coverage/footprint",
    "/coverage/footprint/@ivo-id",
    "/deprecated",
    "/endorsedVersion",
    "/facility",
    "/format",
    "/format/@isMIMEType",
    "/full",
    "/instrument",
    "/instrument/@ivo-id",
    "/managedAuthority",
    "/managingOrg",
    "/rights",
    "/rights/@rightsURI",
    "/schema/@namespace",
];

/// Capability-level members kept as `res_detail` rows (Appendix A).
const CAPABILITY_DETAILS: &[&str] = &[
    "/capability/complianceLevel",
    "/capability/creationType",
    "/capability/dataModel",
    "/capability/dataModel/@ivo-id",
    "/capability/dataSource",
    "/capability/defaultMaxRecords",
    "/capability/executionDuration/default",
    "/capability/executionDuration/hard",
    "/capability/imageServiceType",
    "/capability/interface/securityMethod/@standardID",
    "/capability/interface/testQueryString",
    "/capability/language/name",
    "/capability/language/version/@ivo-id",
    "/capability/maxAperture",
    "/capability/maxFileSize",
    "/capability/maxImageExtent/lat",
    "/capability/maxImageExtent/long",
    "/capability/maxImageSize",
    "/capability/maxImageSize/lat",
    "/capability/maxImageSize/long",
    "/capability/maxQueryRegionSize/lat",
    "/capability/maxQueryRegionSize/long",
    "/capability/maxRecords",
    "/capability/maxSR",
    "/capability/maxSearchRadius",
    "/capability/outputFormat/@ivo-id",
    "/capability/outputFormat/alias",
    "/capability/outputFormat/mime",
    "/capability/outputLimit/default",
    "/capability/outputLimit/default/@unit",
    "/capability/outputLimit/hard",
    "/capability/outputLimit/hard/@unit",
    "/capability/retentionPeriod/default",
    "/capability/retentionPeriod/hard",
    "/capability/supportedFrame",
    "/capability/testQuery/catalog",
    "/capability/testQuery/dec",
    "/capability/testQuery/extras",
    "/capability/testQuery/pos/lat",
    "/capability/testQuery/pos/long",
    "/capability/testQuery/pos/refframe",
    "/capability/testQuery/queryDataCmd",
    "/capability/testQuery/ra",
    "/capability/testQuery/size",
    "/capability/testQuery/size/lat",
    "/capability/testQuery/size/long",
    "/capability/testQuery/sr",
    "/capability/testQuery/verb",
    "/capability/uploadLimit/default",
    "/capability/uploadLimit/default/@unit",
    "/capability/uploadLimit/hard",
    "/capability/uploadLimit/hard/@unit",
    "/capability/uploadMethod/@ivo-id",
    "/capability/verbosity",
];

/// Every (xpath, value) below `e` (whose own xpath is `path`), element
/// texts and attributes, in document order.
fn members(e: &Element, path: &str, out: &mut Vec<(String, String)>) {
    if !e.text.is_empty() {
        out.push((path.to_string(), e.text.clone()));
    }
    for (k, v) in &e.attrs {
        if k != "xsi:type" && !v.is_empty() {
            out.push((format!("{path}/@{k}"), v.clone()));
        }
    }
    for c in &e.children {
        members(c, &format!("{path}/{}", c.name), out);
    }
}

/// The rows of one record, added to `rows`; inactive and deleted records
/// add none (RegTAP keeps only active resources).
pub fn add_record(rows: &mut Rows, r: &Element) {
    if matches!(r.attr("status"), Some("inactive") | Some("deleted")) {
        return;
    }
    let Some(id) = text_of(r, "identifier").map(str::to_lowercase) else {
        return;
    };
    if id.is_empty() {
        return;
    }
    let ivoid = || Value::Text(Some(id.clone()));
    let empty = Element::default();
    let content = r.child("content").unwrap_or(&empty);
    let curation = r.child("curation").unwrap_or(&empty);
    let coverage = r.child("coverage").unwrap_or(&empty);
    let creators: Vec<&str> = curation
        .all("creator")
        .filter_map(|c| text_of(c, "name"))
        .filter(|n| !n.is_empty())
        .collect();
    let rights = r.child("rights");
    rows.push(
        "resource",
        vec![
            ivoid(),
            lc(r.attr("xsi:type")),
            timestamp(r.attr("created")),
            s(text_of(r, "shortName")),
            s(text_of(r, "title")),
            timestamp(r.attr("updated")),
            hash_list(content.all("contentLevel").map(|e| current_term(&e.text))),
            s(text_of(content, "description")),
            s(text_of(content, "referenceURL")),
            s(Some(&creators.join("; "))),
            hash_list(content.all("type").map(|e| current_term(&e.text))),
            lc(content.child("source").and_then(|e| e.attr("format"))),
            s(text_of(content, "source")),
            s(text_of(curation, "version")),
            Value::Double(text_of(coverage, "regionOfRegard").and_then(|v| v.trim().parse().ok())),
            hash_list(coverage.all("waveband").map(|e| e.text.as_str())),
            s(rights.map(|e| e.text.as_str())),
            s(rights.and_then(|e| e.attr("rightsURI"))),
        ],
    );

    // Roles.
    let role = |rows: &mut Rows,
                name: Option<&str>,
                role_id: Option<&str>,
                contact: Option<&Element>,
                logo: Option<&str>,
                base: &str| {
        rows.push(
            "res_role",
            vec![
                ivoid(),
                s(name),
                lc(role_id),
                s(contact.and_then(|c| text_of(c, "address"))),
                s(contact.and_then(|c| text_of(c, "email"))),
                s(contact.and_then(|c| text_of(c, "telephone"))),
                s(logo),
                s(Some(base)),
            ],
        );
    };
    for co in curation.all("contact") {
        let name = co.child("name");
        role(
            rows,
            name.map(|n| n.text.as_str()),
            name.and_then(|n| n.attr("ivo-id")),
            Some(co),
            None,
            "contact",
        );
    }
    for cp in curation.all("publisher") {
        role(
            rows,
            Some(&cp.text),
            cp.attr("ivo-id"),
            None,
            None,
            "publisher",
        );
    }
    for cc in curation.all("creator") {
        let name = cc.child("name");
        role(
            rows,
            name.map(|n| n.text.as_str()),
            name.and_then(|n| n.attr("ivo-id")),
            None,
            text_of(cc, "logo"),
            "creator",
        );
    }
    for cb in curation.all("contributor") {
        role(
            rows,
            Some(&cb.text),
            cb.attr("ivo-id"),
            None,
            None,
            "contributor",
        );
    }

    for subject in content.all("subject").filter(|e| !e.text.is_empty()) {
        rows.push("res_subject", vec![ivoid(), s(Some(&subject.text))]);
    }
    for rel in content.all("relationship") {
        let kind = text_of(rel, "relationshipType").map(current_term);
        for related in rel.all("relatedResource") {
            rows.push(
                "relationship",
                vec![
                    ivoid(),
                    lc(kind),
                    lc(related.attr("ivo-id")),
                    s(Some(&related.text)),
                ],
            );
        }
    }
    for d in curation.all("date") {
        let role = current_term(d.attr("role").unwrap_or("representative"));
        rows.push(
            "res_date",
            vec![ivoid(), timestamp(Some(&d.text)), lc(Some(role))],
        );
    }
    for v in r.all("validationLevel") {
        validation(rows, &id, v, None);
    }
    for a in r
        .all("altIdentifier")
        .chain(curation.all("creator").flat_map(|c| c.all("altIdentifier")))
    {
        rows.push("alt_identifier", vec![ivoid(), s(Some(&a.text))]);
    }
    if let Some(moc) = coverage.child("spatial") {
        rows.push(
            "stc_spatial",
            vec![ivoid(), s(Some(&moc.text)), s(moc.attr("frame"))],
        );
    }
    for (element, table) in [("temporal", "stc_temporal"), ("spectral", "stc_spectral")] {
        for e in coverage.all(element) {
            let v: Vec<f64> = e
                .text
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if let [lo, hi] = v[..] {
                rows.push(
                    table,
                    vec![ivoid(), Value::Double(Some(lo)), Value::Double(Some(hi))],
                );
            }
        }
    }

    // Resource-level details.
    let mut details = Vec::new();
    for c in &r.children {
        if !matches!(c.name.as_str(), "capability" | "tableset" | "table") {
            members(c, &format!("/{}", c.name), &mut details);
        }
    }
    for (xpath, value) in details {
        if RESOURCE_DETAILS.contains(&xpath.as_str()) {
            rows.push(
                "res_detail",
                vec![
                    ivoid(),
                    Value::Short(None),
                    s(Some(&xpath)),
                    s(Some(&value)),
                ],
            );
        }
    }

    // Capabilities and their interfaces.
    let mut intf_index = 0;
    for (k, cap) in r.all("capability").enumerate() {
        let cap_index = k as i16 + 1;
        rows.push(
            "capability",
            vec![
                ivoid(),
                short(cap_index),
                lc(cap.attr("xsi:type")),
                s(text_of(cap, "description")),
                lc(cap.attr("standardID")),
            ],
        );
        let mut details = Vec::new();
        for c in &cap.children {
            if c.name != "validationLevel" {
                members(c, &format!("/capability/{}", c.name), &mut details);
            }
        }
        for (xpath, value) in details {
            if CAPABILITY_DETAILS.contains(&xpath.as_str()) {
                rows.push(
                    "res_detail",
                    vec![ivoid(), short(cap_index), s(Some(&xpath)), s(Some(&value))],
                );
            }
        }
        for v in cap.all("validationLevel") {
            validation(rows, &id, v, Some(cap_index));
        }
        for intf in cap.all("interface") {
            intf_index += 1;
            let security: Vec<&Element> = intf.all("securityMethod").collect();
            let authenticated_only =
                !security.is_empty() && security.iter().all(|m| m.attr("standardID").is_some());
            let url = intf.child("accessURL");
            rows.push(
                "interface",
                vec![
                    ivoid(),
                    short(cap_index),
                    short(intf_index),
                    lc(intf.attr("xsi:type")),
                    lc(intf.attr("role")),
                    lc(intf.attr("version")),
                    hash_list(intf.all("queryType").map(|e| e.text.as_str())),
                    lc(text_of(intf, "resultType")),
                    s(text_of(intf, "wsdlURL")),
                    lc(url.and_then(|u| u.attr("use"))),
                    s(url.map(|u| u.text.as_str())),
                    s(Some(
                        &intf
                            .all("mirrorURL")
                            .map(|m| m.text.as_str())
                            .filter(|m| !m.is_empty())
                            .collect::<Vec<_>>()
                            .join("#"),
                    )),
                    short(authenticated_only as i16),
                ],
            );
            for p in intf.all("param") {
                let mut row = typed(ivoid(), intf_index, p);
                row.extend([s(p.attr("use")), s(text_of(p, "description"))]);
                rows.push("intf_param", row);
            }
        }
    }

    // Tables: schemas of the tableset, and VODataService 1.0's bare tables.
    let mut table_index = 0;
    let mut add_table = |rows: &mut Rows, t: &Element, schema_index: Option<i16>| {
        table_index += 1;
        rows.push(
            "res_table",
            vec![
                ivoid(),
                Value::Short(schema_index),
                s(text_of(t, "description")),
                s(text_of(t, "name")),
                short(table_index),
                s(text_of(t, "title")),
                lc(t.attr("type")),
                lc(text_of(t, "utype")),
            ],
        );
        for col in t.all("column") {
            let mut row = typed(ivoid(), table_index, col);
            row.extend([
                lc(col.child("dataType").and_then(|d| d.attr("xsi:type"))),
                hash_list(col.all("flag").map(|f| f.text.as_str())),
                s(text_of(col, "description")),
            ]);
            rows.push("table_column", row);
        }
    };
    let mut schema_index = 0;
    for ts in r.all("tableset") {
        for schema in ts.all("schema") {
            schema_index += 1;
            rows.push(
                "res_schema",
                vec![
                    ivoid(),
                    short(schema_index),
                    s(text_of(schema, "description")),
                    lc(text_of(schema, "name")),
                    s(text_of(schema, "title")),
                    lc(text_of(schema, "utype")),
                ],
            );
            for t in schema.all("table") {
                add_table(rows, t, Some(schema_index));
            }
        }
    }
    for t in r.all("table") {
        add_table(rows, t, None);
    }
}

/// The cells a table column and an interface parameter share (both are
/// VODataService `BaseParam`s with a `dataType`): the parent, the index of
/// its table or interface, name, ucd, unit, utype, std and the type.
fn typed(ivoid: Value, index: i16, e: &Element) -> Vec<Value> {
    let dt = e.child("dataType");
    vec![
        ivoid,
        short(index),
        lc(text_of(e, "name")),
        lc(text_of(e, "ucd")),
        s(text_of(e, "unit")),
        lc(text_of(e, "utype")),
        flag(e.attr("std")),
        lc(dt.map(|d| d.text.as_str())),
        s(dt.and_then(|d| d.attr("extendedSchema"))),
        s(dt.and_then(|d| d.attr("extendedType"))),
        s(dt.and_then(|d| d.attr("arraysize"))),
        s(dt.and_then(|d| d.attr("delim"))),
    ]
}

fn validation(rows: &mut Rows, id: &str, v: &Element, cap_index: Option<i16>) {
    if let Ok(level) = v.text.trim().parse::<i16>() {
        rows.push(
            "validation",
            vec![
                Value::Text(Some(id.to_string())),
                lc(v.attr("validatedBy")),
                short(level),
                Value::Short(cap_index),
            ],
        );
    }
}

/// `rr.tap_table` from the other tables (RegTAP 1.2 Appendix C): each
/// table of a TAP service's own tableset, unless a resource served by that
/// service (a `tap#aux` capability and an `isservedby` relationship to
/// it) has the same table, in which case that resource is named.
pub fn add_tap_tables(rows: &mut Rows) {
    let text = |v: &Value| match v {
        Value::Text(Some(t)) => Some(t.clone()),
        _ => None,
    };
    let has_standard = |ivoid: &str, std: &str| {
        rows.of("capability")
            .iter()
            .any(|c| text(&c[0]).as_deref() == Some(ivoid) && text(&c[4]).as_deref() == Some(std))
    };
    let tap = "ivo://ivoa.net/std/tap";
    // (svcid, table_name) -> (resid, title, description, utype)
    let mut from_res: BTreeMap<(String, String), (String, Value, Value, Value)> = BTreeMap::new();
    let mut from_tap: Vec<Vec<Value>> = Vec::new();
    for t in rows.of("res_table") {
        let (Some(ivoid), Some(name)) = (text(&t[0]), text(&t[3])) else {
            continue;
        };
        if text(&t[6]).as_deref() == Some("output") {
            continue;
        }
        if has_standard(&ivoid, tap) {
            from_tap.push(vec![
                Value::Text(Some(ivoid.clone())),
                Value::Text(Some(ivoid.clone())),
                t[3].clone(),
                t[5].clone(),
                t[2].clone(),
                t[7].clone(),
            ]);
        }
        if has_standard(&ivoid, "ivo://ivoa.net/std/tap#aux") {
            for rel in rows.of("relationship") {
                let served_by = text(&rel[0]).as_deref() == Some(ivoid.as_str())
                    && text(&rel[1]).as_deref() == Some("isservedby");
                if let (true, Some(svc)) = (served_by, text(&rel[2])) {
                    if has_standard(&svc, tap) {
                        let e = from_res.entry((svc, name.clone())).or_insert_with(|| {
                            (ivoid.clone(), t[5].clone(), t[2].clone(), t[7].clone())
                        });
                        if ivoid < e.0 {
                            e.0 = ivoid.clone();
                        }
                    }
                }
            }
        }
    }
    for row in from_tap {
        let key = (
            text(&row[1]).unwrap_or_default(),
            text(&row[2]).unwrap_or_default(),
        );
        if !from_res.contains_key(&key) {
            rows.push("tap_table", row);
        }
    }
    for ((svc, name), (resid, title, description, utype)) in from_res {
        rows.push(
            "tap_table",
            vec![
                Value::Text(Some(resid)),
                Value::Text(Some(svc)),
                Value::Text(Some(name)),
                title,
                description,
                utype,
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised() {
        assert_eq!(
            timestamp(Some("2026-12-07T18:08:04Z")),
            Value::Text(Some("2026-12-07T18:08:04".into()))
        );
        assert_eq!(
            timestamp(Some("2026-12-07")),
            Value::Text(Some("2026-12-07T00:00:00".into()))
        );
        assert_eq!(
            timestamp(Some("2026-12-07T18:08:04.5+01:00")),
            Value::Text(Some("2026-12-07T18:08:04".into()))
        );
        assert_eq!(timestamp(Some("yesterday")), Value::Text(None));
        assert_eq!(
            hash_list(["Optical", " ", "Infrared"].into_iter()),
            Value::Text(Some("optical#infrared".into()))
        );
        assert_eq!(hash_list(std::iter::empty()), Value::Text(None));
        assert_eq!(s(Some("  ")), Value::Text(None));
        assert_eq!(flag(Some("true")), Value::Short(Some(1)));
        assert_eq!(flag(None), Value::Short(None));
        assert_eq!(current_term("served-by"), "IsServedBy");
    }
}
