//! Metadata: the ECSV header (its YAML checked within the limits), the
//! descriptive attributes it gives, the table name of a file.

use std::io::BufRead;
use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use crate::error::{CatalogError, Result};
use crate::input::limits::{MAX_YAML_DEPTH, MAX_YAML_NODES};
use crate::input::InputLimits;
use astrolake_vo::FieldMeta;

use super::columns::Kind;

/// Copy the descriptive attributes that `src` has onto `fm`.
pub(super) fn overlay(
    fm: &mut FieldMeta,
    unit: &Option<String>,
    ucd: &Option<String>,
    utype: &Option<String>,
    xtype: &Option<String>,
    description: &Option<String>,
) {
    for (dst, src) in [
        (&mut fm.unit, unit),
        (&mut fm.ucd, ucd),
        (&mut fm.utype, utype),
        (&mut fm.xtype, xtype),
        (&mut fm.description, description),
    ] {
        if src.is_some() {
            dst.clone_from(src);
        }
    }
}

/// The table name for a file: its name without `.gz` and one extension.
pub(super) fn table_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if name.to_ascii_lowercase().ends_with(".gz") {
        name[..name.len() - 3].to_string()
    } else {
        name
    };
    match Path::new(&name).file_stem() {
        Some(s) if !s.is_empty() => s.to_string_lossy().into_owned(),
        _ => name,
    }
}

/// One column of an ECSV header.
#[derive(Debug)]
pub(super) struct EcsvColumn {
    pub(super) name: String,
    pub(super) datatype: String,
    pub(super) subtype: Option<String>,
    pub(super) kind: Kind,
    pub(super) unit: Option<String>,
    pub(super) ucd: Option<String>,
    pub(super) utype: Option<String>,
    pub(super) xtype: Option<String>,
    pub(super) description: Option<String>,
}

impl EcsvColumn {
    pub(super) fn type_text(&self) -> String {
        match &self.subtype {
            Some(s) => format!("{} (subtype {s}, kept as text)", self.datatype),
            None => self.datatype.clone(),
        }
    }
}

/// What the ECSV header says.
#[derive(Debug)]
pub(super) struct EcsvHeader {
    pub(super) delimiter: u8,
    pub(super) columns: Vec<EcsvColumn>,
    pub(super) description: Option<String>,
}

/// Read the `#` lines (and blank lines) at the top of an ECSV file, leaving
/// `input` at the column-name line; returns the header and the number of
/// lines read.
pub(super) fn read_ecsv_header(
    input: &mut dyn BufRead,
    file: &str,
    limits: &InputLimits,
) -> Result<(EcsvHeader, u64)> {
    {
        let buf = input.fill_buf()?;
        if buf.starts_with(b"\xef\xbb\xbf") {
            input.consume(3);
        }
    }
    let mut lines: Vec<String> = Vec::new();
    let mut n = 0u64;
    let mut raw = Vec::new();
    while let Some(&first) = input.fill_buf()?.first() {
        if !matches!(first, b'#' | b'\n' | b'\r') {
            break;
        }
        raw.clear();
        input.read_until(b'\n', &mut raw)?;
        n += 1;
        if first != b'#' {
            continue;
        }
        let text = std::str::from_utf8(&raw).map_err(|_| {
            CatalogError::format(
                file,
                format!("line {n}: the ECSV header is not valid UTF-8"),
            )
        })?;
        let text = text.trim_end_matches(['\n', '\r']);
        lines.push(text.to_string());
    }
    let first = lines.first().map(String::as_str).unwrap_or("");
    let version = first
        .strip_prefix('#')
        .map(str::trim)
        .and_then(|s| s.strip_prefix("%ECSV"));
    if version.is_none() {
        return Err(CatalogError::format(
            file,
            format!("not an ECSV file: the first line is {first:?}, not \"# %ECSV 1.0\""),
        ));
    }
    // The YAML: every later `#` line without its "# " prefix; `##` lines are
    // comments.
    let mut yaml = String::new();
    for l in &lines[1..] {
        if l.starts_with("##") {
            continue;
        }
        let body = &l[1..];
        yaml.push_str(body.strip_prefix(' ').unwrap_or(body));
        yaml.push('\n');
    }
    let header = parse_ecsv_yaml(&yaml, file, limits)?;
    Ok((header, n))
}

/// Check, on the parser's events and before anything is loaded, that the
/// YAML has no anchors or aliases (unless `allow_aliases`), expands to at
/// most [`MAX_YAML_NODES`] nodes and nests at most [`MAX_YAML_DEPTH`] levels.
pub(super) fn check_yaml(yaml: &str, allow_aliases: bool) -> std::result::Result<(), String> {
    use yaml_rust2::parser::{Event, Parser};
    let refused = || {
        "YAML anchors and aliases (&name, *name) are not accepted: they can expand a small \
         header into gigabytes; write the header without them"
            .to_string()
    };
    let too_big =
        || format!("the YAML expands to more than {MAX_YAML_NODES} nodes through its aliases");
    let mut parser = Parser::new_from_str(yaml);
    // Expanded node counts of the anchored nodes, by anchor id.
    let mut anchored: std::collections::HashMap<usize, u64> = Default::default();
    // The open collections: anchor id and node count so far.
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut total = 0u64;
    loop {
        let (ev, _) = parser
            .next_token()
            .map_err(|e| format!("invalid YAML: {e}"))?;
        let done = match ev {
            Event::StreamEnd => return Ok(()),
            Event::Alias(id) => {
                if !allow_aliases {
                    return Err(refused());
                }
                Some((0, anchored.get(&id).copied().unwrap_or(1)))
            }
            Event::Scalar(_, _, anchor, _) => Some((anchor, 1)),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() >= MAX_YAML_DEPTH {
                    return Err(format!(
                        "the YAML nests more than {MAX_YAML_DEPTH} levels deep"
                    ));
                }
                open.push((anchor, 1));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop(),
            _ => None,
        };
        let Some((anchor, n)) = done else { continue };
        if anchor != 0 {
            if !allow_aliases {
                return Err(refused());
            }
            anchored.insert(anchor, n);
        }
        let into = match open.last_mut() {
            Some((_, count)) => count,
            None => &mut total,
        };
        *into = into.saturating_add(n);
        if *into > MAX_YAML_NODES {
            return Err(too_big());
        }
    }
}

/// Parse the YAML of an ECSV header.
pub(super) fn parse_ecsv_yaml(yaml: &str, file: &str, limits: &InputLimits) -> Result<EcsvHeader> {
    let bad = |m: String| CatalogError::format(file, format!("ECSV header: {m}"));
    check_yaml(yaml, limits.allow_yaml_aliases).map_err(bad)?;
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| bad(format!("invalid YAML: {e}")))?;
    let doc = docs
        .first()
        .filter(|d| d.as_hash().is_some())
        .ok_or_else(|| bad("no YAML mapping after \"# ---\"".into()))?;
    let delimiter = match get(doc, "delimiter") {
        None => b' ',
        Some(d) => {
            let s = scalar(d).unwrap_or_default();
            match s.as_bytes() {
                [c] if c.is_ascii() => *c,
                _ => return Err(bad(format!("delimiter {s:?} is not a single character"))),
            }
        }
    };
    let list = get(doc, "datatype")
        .and_then(Yaml::as_vec)
        .ok_or_else(|| bad("no `datatype:` list of columns".into()))?;
    if list.is_empty() {
        return Err(bad("the `datatype:` list of columns is empty".into()));
    }
    limits.check_columns(file, list.len(), "the ECSV header's `datatype:` list")?;
    let mut columns = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let name = get(c, "name")
            .and_then(scalar)
            .ok_or_else(|| bad(format!("column {} of the datatype list has no name", i + 1)))?;
        let datatype = get(c, "datatype")
            .and_then(scalar)
            .ok_or_else(|| bad(format!("column {name} has no datatype")))?;
        let subtype = get(c, "subtype").and_then(scalar);
        let kind = if subtype.is_some() {
            Kind::Str
        } else {
            match datatype.as_str() {
                "bool" => Kind::Bool,
                "int8" => Kind::I8,
                "int16" => Kind::I16,
                "int32" => Kind::I32,
                "int64" => Kind::I64,
                "uint8" => Kind::U8,
                "uint16" => Kind::U16,
                "uint32" => Kind::U32,
                "uint64" => Kind::U64,
                "float16" | "float32" => Kind::F32,
                "float64" | "float128" => Kind::F64,
                "string" | "complex64" | "complex128" | "complex256" => Kind::Str,
                other => {
                    return Err(bad(format!(
                        "column {name}: unknown datatype {other:?} (ECSV 1.0 datatypes: bool, \
                         int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, \
                         float32, float64, float128, complex64, complex128, complex256, string)"
                    )))
                }
            }
        };
        let meta = get(c, "meta");
        let from_meta = |key: &str| {
            get(c, key)
                .or_else(|| meta.and_then(|m| get(m, key)))
                .and_then(scalar)
        };
        columns.push(EcsvColumn {
            unit: get(c, "unit").and_then(scalar),
            ucd: from_meta("ucd"),
            utype: from_meta("utype"),
            xtype: from_meta("xtype"),
            description: get(c, "description").and_then(scalar),
            name,
            datatype,
            subtype,
            kind,
        });
    }
    let description = get(doc, "meta")
        .and_then(|m| get(m, "description"))
        .and_then(scalar)
        .or_else(|| get(doc, "description").and_then(scalar));
    Ok(EcsvHeader {
        delimiter,
        columns,
        description,
    })
}

/// `key` of a YAML mapping, or of an ordered map (`!!omap`: a list of
/// one-entry mappings); `None` when absent or null.
pub(super) fn get<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    let found = match y {
        Yaml::Hash(h) => h.get(&Yaml::String(key.to_string())),
        Yaml::Array(items) => items.iter().find_map(|item| match item {
            Yaml::Hash(h) => h.get(&Yaml::String(key.to_string())),
            _ => None,
        }),
        _ => None,
    };
    found.filter(|v| !matches!(v, Yaml::Null | Yaml::BadValue))
}

/// A YAML scalar as text (strings, numbers and booleans), trimmed; `None`
/// for empty text and non-scalars.
pub(super) fn scalar(y: &Yaml) -> Option<String> {
    let s = match y {
        Yaml::String(s) | Yaml::Real(s) => s.trim().to_string(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}
