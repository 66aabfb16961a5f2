//! TAP request parameters (TAP 1.1 §2.3 and DALI): names are
//! case-insensitive, unknown parameters are ignored, values are checked
//! here so the HTTP layer only forwards them.

use crate::formats::Format;

/// A problem with the parameters (HTTP 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ParamError(pub String);

/// A checked query request.
#[derive(Debug, Clone)]
pub struct TapRequest {
    /// The ADQL text.
    pub query: String,
    /// LANG as given.
    pub lang: String,
    /// MAXREC, if given.
    pub maxrec: Option<u64>,
    /// The output format.
    pub format: Format,
    /// UPLOAD, as given (`name,uri;name2,uri2`).
    pub upload: Option<String>,
    /// RUNID, echoed back.
    pub runid: Option<String>,
}

/// The value of a parameter (case-insensitive name; the last one wins).
pub fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Check the parameters of a query (sync, or an async job's run).
pub fn parse(params: &[(String, String)]) -> Result<TapRequest, ParamError> {
    if let Some(r) = get(params, "REQUEST") {
        if !r.eq_ignore_ascii_case("doQuery") {
            return Err(ParamError(format!(
                "REQUEST={r} is not supported; the only request is doQuery"
            )));
        }
    }
    let lang = get(params, "LANG")
        .ok_or_else(|| ParamError("LANG is missing; use LANG=ADQL".into()))?
        .trim()
        .to_string();
    if !["ADQL", "ADQL-2.0", "ADQL-2.1"]
        .iter()
        .any(|l| l.eq_ignore_ascii_case(&lang))
    {
        return Err(ParamError(format!(
            "LANG={lang} is not supported; use ADQL, ADQL-2.0 or ADQL-2.1"
        )));
    }
    let query = get(params, "QUERY")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| ParamError("QUERY is missing".into()))?
        .to_string();
    let maxrec = match get(params, "MAXREC") {
        None => None,
        Some(m) => Some(
            m.trim()
                .parse::<u64>()
                .map_err(|_| ParamError(format!("MAXREC={m} is not a non-negative integer")))?,
        ),
    };
    let format = match get(params, "RESPONSEFORMAT").or_else(|| get(params, "FORMAT")) {
        None => Format::VoTableBinary2,
        Some(f) if f.trim().is_empty() => Format::VoTableBinary2,
        Some(f) => Format::parse(f).ok_or_else(|| {
            ParamError(format!(
                "RESPONSEFORMAT={f} is not supported; use one of {}",
                Format::all()
                    .iter()
                    .map(|(_, mime, _)| *mime)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
    };
    Ok(TapRequest {
        query,
        lang,
        maxrec,
        format,
        upload: get(params, "UPLOAD").map(str::to_string),
        runid: get(params, "RUNID").map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn parameters() {
        let r = parse(&p(&[
            ("lang", "ADQL"),
            ("query", "SELECT 1"),
            ("maxrec", "5"),
            ("format", "csv"),
        ]))
        .unwrap();
        assert_eq!(r.maxrec, Some(5));
        assert_eq!(r.format, Format::Csv);
        assert!(parse(&p(&[("LANG", "SQL"), ("QUERY", "x")]))
            .unwrap_err()
            .0
            .contains("LANG=SQL"));
        assert!(parse(&p(&[("QUERY", "x")])).is_err());
        assert!(parse(&p(&[("LANG", "ADQL")]))
            .unwrap_err()
            .0
            .contains("QUERY"));
        assert!(parse(&p(&[("LANG", "ADQL"), ("QUERY", "x"), ("MAXREC", "-1")])).is_err());
        assert!(parse(&p(&[
            ("LANG", "ADQL"),
            ("QUERY", "x"),
            ("RESPONSEFORMAT", "foo")
        ]))
        .is_err());
        assert!(parse(&p(&[
            ("REQUEST", "getCapabilities"),
            ("LANG", "ADQL"),
            ("QUERY", "x")
        ]))
        .is_err());
    }
}
