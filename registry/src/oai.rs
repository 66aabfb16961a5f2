//! OAI-PMH 2.0: request arguments in, response document out.
//!
//! [`respond`] checks the arguments ([`parse`]: verb, allowed and required
//! arguments, dates, resumption token), selects the records and writes the
//! response. Every protocol error is an OAI-PMH `<error>` in an HTTP 200
//! response, as the protocol says.
//!
//! Resumption tokens carry the whole request (verb, metadata prefix,
//! `from`, `until`, `set`) and the position in the identifier-ordered
//! list, so they need no server-side state and survive a restart; a token
//! that does not decode, or points past the list, is a
//! `badResumptionToken`.

use astrolake_vo::ns;
use astrolake_vo::xml::Doc;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::record::Dates;
use crate::{Published, Registry};

/// The metadata formats: prefix, schema, namespace.
pub const METADATA_FORMATS: [(&str, &str, &str); 2] = [
    (
        "ivo_vor",
        "http://www.ivoa.net/xml/RegistryInterface/RegistryInterface-v1.0.xsd",
        ns::RI,
    ),
    (
        "oai_dc",
        "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        "http://www.openarchives.org/OAI/2.0/oai_dc/",
    ),
];

/// The one set: the resources this registry manages.
pub const SET_MANAGED: &str = "ivo_managed";

/// An OAI-PMH error: its code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiError {
    /// `badVerb`, `badArgument`, `cannotDisseminateFormat`,
    /// `idDoesNotExist`, `noRecordsMatch`, `noMetadataFormats`,
    /// `noSetHierarchy` or `badResumptionToken`.
    pub code: &'static str,
    /// What was wrong.
    pub message: String,
}

fn err(code: &'static str, message: impl Into<String>) -> OaiError {
    OaiError {
        code,
        message: message.into(),
    }
}

/// The six verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `Identify`.
    Identify,
    /// `ListMetadataFormats`.
    ListMetadataFormats,
    /// `ListSets`.
    ListSets,
    /// `GetRecord`.
    GetRecord,
    /// `ListIdentifiers`.
    ListIdentifiers,
    /// `ListRecords`.
    ListRecords,
}

impl Verb {
    fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "Identify" => Verb::Identify,
            "ListMetadataFormats" => Verb::ListMetadataFormats,
            "ListSets" => Verb::ListSets,
            "GetRecord" => Verb::GetRecord,
            "ListIdentifiers" => Verb::ListIdentifiers,
            "ListRecords" => Verb::ListRecords,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Identify => "Identify",
            Verb::ListMetadataFormats => "ListMetadataFormats",
            Verb::ListSets => "ListSets",
            Verb::GetRecord => "GetRecord",
            Verb::ListIdentifiers => "ListIdentifiers",
            Verb::ListRecords => "ListRecords",
        }
    }

    /// (allowed, required) arguments besides `verb`.
    fn arguments(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            Verb::Identify => (&[], &[]),
            Verb::ListMetadataFormats => (&["identifier"], &[]),
            Verb::ListSets => (&["resumptionToken"], &[]),
            Verb::GetRecord => (
                &["identifier", "metadataPrefix"],
                &["identifier", "metadataPrefix"],
            ),
            Verb::ListIdentifiers | Verb::ListRecords => (
                &["metadataPrefix", "from", "until", "set", "resumptionToken"],
                &["metadataPrefix"],
            ),
        }
    }
}

/// A date argument: its granularity and its bounds as
/// `YYYY-MM-DDThh:mm:ssZ` text (which orders like time).
#[derive(Debug, Clone, PartialEq, Eq)]
struct DateArg {
    day: bool,
    /// The value normalised to seconds: the day's first second for
    /// `from`, its last for `until`.
    at: String,
}

fn parse_date(name: &str, value: &str, end_of_day: bool) -> Result<DateArg, OaiError> {
    let bad = || {
        err(
            "badArgument",
            format!("{name}={value:?} is not a date YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"),
        )
    };
    if value.len() == 10 {
        chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
        let time = if end_of_day { "23:59:59" } else { "00:00:00" };
        Ok(DateArg {
            day: true,
            at: format!("{value}T{time}Z"),
        })
    } else if value.len() == 20 {
        chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%SZ").map_err(|_| bad())?;
        Ok(DateArg {
            day: false,
            at: value.to_string(),
        })
    } else {
        Err(bad())
    }
}

/// A checked list request (ListIdentifiers, ListRecords), from its
/// arguments or from a resumption token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    verb: Verb,
    prefix: String,
    from: Option<String>,
    until: Option<String>,
    set: Option<String>,
    offset: usize,
}

impl ListRequest {
    fn token(&self, offset: usize) -> String {
        let text = format!(
            "v1\n{}\n{}\n{}\n{}\n{}\n{offset}",
            self.verb.name(),
            self.prefix,
            self.from.as_deref().unwrap_or(""),
            self.until.as_deref().unwrap_or(""),
            self.set.as_deref().unwrap_or(""),
        );
        URL_SAFE_NO_PAD.encode(text)
    }

    fn from_token(verb: Verb, token: &str) -> Result<ListRequest, OaiError> {
        let bad = || {
            err(
                "badResumptionToken",
                format!(
                    "resumptionToken {token:?} is not one this repository issued for {}",
                    verb.name()
                ),
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let f: Vec<&str> = text.split('\n').collect();
        let [v, tv, prefix, from, until, set, offset] = f[..] else {
            return Err(bad());
        };
        if v != "v1" || tv != verb.name() {
            return Err(bad());
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Ok(ListRequest {
            verb,
            prefix: prefix.to_string(),
            from: opt(from),
            until: opt(until),
            set: opt(set),
            offset: offset.parse().map_err(|_| bad())?,
        })
    }
}

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `Identify`.
    Identify,
    /// `ListMetadataFormats`, maybe for one identifier.
    ListMetadataFormats(Option<String>),
    /// `ListSets`.
    ListSets,
    /// `GetRecord`: identifier, metadata prefix.
    GetRecord(String, String),
    /// `ListIdentifiers` or `ListRecords`.
    List(ListRequest),
}

/// Check the arguments of a request (`params` as sent, in order): the
/// verb, the arguments it allows and requires, each at most once, dates
/// of one granularity with `from <= until`, an exclusive resumption token.
/// Returns the verb too when it is known (the response echoes it).
pub fn parse(params: &[(String, String)]) -> (Option<Verb>, Result<Request, OaiError>) {
    let verbs: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "verb")
        .map(|(_, v)| v.as_str())
        .collect();
    let verb = match verbs[..] {
        [] => return (None, Err(err("badVerb", "the verb argument is missing"))),
        [v] => match Verb::parse(v) {
            Some(v) => v,
            None => {
                return (
                    None,
                    Err(err(
                        "badVerb",
                        format!(
                            "{v:?} is not an OAI-PMH verb (Identify, ListMetadataFormats, \
                             ListSets, GetRecord, ListIdentifiers, ListRecords)"
                        ),
                    )),
                )
            }
        },
        _ => return (None, Err(err("badVerb", "the verb argument is repeated"))),
    };
    (Some(verb), check(verb, params))
}

fn check(verb: Verb, params: &[(String, String)]) -> Result<Request, OaiError> {
    let (allowed, required) = verb.arguments();
    let mut args: std::collections::BTreeMap<&str, &str> = Default::default();
    for (k, v) in params.iter().filter(|(k, _)| k != "verb") {
        if !allowed.contains(&k.as_str()) {
            return Err(err(
                "badArgument",
                format!("{k} is not an argument of {}", verb.name()),
            ));
        }
        if args.insert(k, v).is_some() {
            return Err(err("badArgument", format!("{k} is repeated")));
        }
    }
    if let Some(token) = args.get("resumptionToken") {
        if args.len() > 1 {
            return Err(err(
                "badArgument",
                "resumptionToken is an exclusive argument: send it alone with the verb",
            ));
        }
        return match verb {
            Verb::ListSets => Err(err(
                "badResumptionToken",
                "ListSets is answered in one response; this token was not issued",
            )),
            _ => ListRequest::from_token(verb, token).map(Request::List),
        };
    }
    for r in required {
        if !args.contains_key(r) {
            return Err(err(
                "badArgument",
                format!("{} needs the argument {r}", verb.name()),
            ));
        }
    }
    let get = |k: &str| args.get(k).map(|v| v.to_string());
    Ok(match verb {
        Verb::Identify => Request::Identify,
        Verb::ListMetadataFormats => Request::ListMetadataFormats(get("identifier")),
        Verb::ListSets => Request::ListSets,
        Verb::GetRecord => {
            Request::GetRecord(get("identifier").unwrap(), get("metadataPrefix").unwrap())
        }
        Verb::ListIdentifiers | Verb::ListRecords => {
            let from = args
                .get("from")
                .map(|v| parse_date("from", v, false))
                .transpose()?;
            let until = args
                .get("until")
                .map(|v| parse_date("until", v, true))
                .transpose()?;
            if let (Some(f), Some(u)) = (&from, &until) {
                if f.day != u.day {
                    return Err(err(
                        "badArgument",
                        "from and until have different granularities",
                    ));
                }
                if f.at > u.at {
                    return Err(err("badArgument", "from is later than until"));
                }
            }
            Request::List(ListRequest {
                verb,
                prefix: get("metadataPrefix").unwrap(),
                from: from.map(|d| d.at),
                until: until.map(|d| d.at),
                set: get("set"),
                offset: 0,
            })
        }
    })
}

fn check_prefix(prefix: &str) -> Result<(), OaiError> {
    if METADATA_FORMATS.iter().any(|(p, _, _)| *p == prefix) {
        Ok(())
    } else {
        Err(err(
            "cannotDisseminateFormat",
            format!("metadataPrefix {prefix:?} is not offered: use ivo_vor or oai_dc"),
        ))
    }
}

/// The OAI-PMH response to `params` (the request's arguments, from the
/// query string or the urlencoded body) at time `now`
/// (`YYYY-MM-DDThh:mm:ssZ`).
pub fn respond(reg: &Registry, params: &[(String, String)], now: &str) -> String {
    let (verb, request) = parse(params);
    let mut d = Doc::new();
    d.start(
        "OAI-PMH",
        &[
            ("xmlns", ns::OAI),
            ("xmlns:xsi", ns::XSI),
            (
                "xsi:schemaLocation",
                "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
            ),
        ],
    );
    d.elem("responseDate", &[], now);
    let base = reg.oai_url();
    let request = match request {
        Ok(r) => r,
        Err(e) => {
            // badVerb and badArgument: the request element has no
            // attributes (OAI-PMH 2.0 §3.2).
            d.elem("request", &[], base);
            error(&mut d, &e);
            d.end("OAI-PMH");
            return d.finish();
        }
    };
    let attrs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    d.elem("request", &attrs, base);
    let verb = verb.expect("a checked request has a verb");
    if let Err(e) = answer(&mut d, reg, verb, &request, now) {
        error(&mut d, &e);
    }
    d.end("OAI-PMH");
    d.finish()
}

fn error(d: &mut Doc, e: &OaiError) {
    d.elem("error", &[("code", e.code)], &e.message);
}

/// Write the verb's element, or return the error instead (checked before
/// anything is written).
fn answer(
    d: &mut Doc,
    reg: &Registry,
    verb: Verb,
    request: &Request,
    now: &str,
) -> Result<(), OaiError> {
    match request {
        Request::Identify => {
            d.start("Identify", &[]);
            d.elem("repositoryName", &[], &reg.config.title);
            d.elem("baseURL", &[], reg.oai_url());
            d.elem("protocolVersion", &[], "2.0");
            d.elem("adminEmail", &[], &reg.config.contact_email);
            d.elem(
                "earliestDatestamp",
                &[],
                reg.earliest_datestamp().unwrap_or(now),
            );
            d.elem("deletedRecord", &[], "persistent");
            d.elem("granularity", &[], "YYYY-MM-DDThh:mm:ssZ");
            if let Some(p) = reg.registry_record() {
                d.start("description", &[]);
                if let Some(r) = &p.resource {
                    r.write_vor_embedded(d, p.dates());
                }
                d.end("description");
            }
            d.end("Identify");
        }
        Request::ListMetadataFormats(id) => {
            if let Some(id) = id {
                reg.get(id).ok_or_else(|| no_such_id(id))?;
            }
            d.start("ListMetadataFormats", &[]);
            for (prefix, schema, ns) in METADATA_FORMATS {
                d.start("metadataFormat", &[]);
                d.elem("metadataPrefix", &[], prefix);
                d.elem("schema", &[], schema);
                d.elem("metadataNamespace", &[], ns);
                d.end("metadataFormat");
            }
            d.end("ListMetadataFormats");
        }
        Request::ListSets => {
            d.start("ListSets", &[]);
            d.start("set", &[]);
            d.elem("setSpec", &[], SET_MANAGED);
            d.elem(
                "setName",
                &[],
                "The resources whose authority this registry manages",
            );
            d.end("set");
            d.end("ListSets");
        }
        Request::GetRecord(id, prefix) => {
            check_prefix(prefix)?;
            let p = reg.get(id).ok_or_else(|| no_such_id(id))?;
            d.start("GetRecord", &[]);
            record(d, p, prefix);
            d.end("GetRecord");
        }
        Request::List(l) => {
            check_prefix(&l.prefix)?;
            let matching: Vec<&Published> = match l.set.as_deref() {
                Some(s) if s != SET_MANAGED => Vec::new(),
                _ => reg
                    .records()
                    .iter()
                    .filter(|p| l.from.as_deref().is_none_or(|f| p.updated.as_str() >= f))
                    .filter(|p| l.until.as_deref().is_none_or(|u| p.updated.as_str() <= u))
                    .collect(),
            };
            if l.offset > 0 && l.offset >= matching.len() {
                return Err(err(
                    "badResumptionToken",
                    "the list this resumptionToken continues has changed; harvest again",
                ));
            }
            if matching.is_empty() {
                return Err(err(
                    "noRecordsMatch",
                    "no record matches these from, until and set arguments",
                ));
            }
            let page = reg.config.page_size.max(1);
            let end = (l.offset + page).min(matching.len());
            d.start(verb.name(), &[]);
            for p in &matching[l.offset..end] {
                if verb == Verb::ListIdentifiers {
                    header(d, p);
                } else {
                    record(d, p, &l.prefix);
                }
            }
            let size = matching.len().to_string();
            let cursor = l.offset.to_string();
            let attrs = [
                ("completeListSize", size.as_str()),
                ("cursor", cursor.as_str()),
            ];
            if end < matching.len() {
                d.elem("resumptionToken", &attrs, &l.token(end));
            } else if l.offset > 0 {
                d.empty("resumptionToken", &attrs);
            }
            d.end(verb.name());
        }
    }
    Ok(())
}

fn no_such_id(id: &str) -> OaiError {
    err(
        "idDoesNotExist",
        format!("{id:?} is not the identifier of a record in this repository"),
    )
}

fn header(d: &mut Doc, p: &Published) {
    if p.deleted {
        d.start("header", &[("status", "deleted")]);
    } else {
        d.start("header", &[]);
    }
    d.elem("identifier", &[], &p.identifier);
    d.elem("datestamp", &[], &p.updated);
    d.elem("setSpec", &[], SET_MANAGED);
    d.end("header");
}

fn record(d: &mut Doc, p: &Published, prefix: &str) {
    d.start("record", &[]);
    header(d, p);
    if let Some(r) = p.resource.as_ref().filter(|_| !p.deleted) {
        let dates: Dates<'_> = p.dates();
        d.start("metadata", &[]);
        if prefix == "oai_dc" {
            r.write_dc(d, dates);
        } else {
            r.write_vor_embedded(d, dates);
        }
        d.end("metadata");
    }
    d.end("record");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[(&str, &str)]) -> Vec<(String, String)> {
        args.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn code(args: &[(&str, &str)]) -> &'static str {
        parse(&p(args)).1.unwrap_err().code
    }

    #[test]
    fn verbs_and_arguments_are_checked() {
        assert_eq!(code(&[]), "badVerb");
        assert_eq!(code(&[("verb", "Frobnicate")]), "badVerb");
        assert_eq!(
            code(&[("verb", "Identify"), ("verb", "Identify")]),
            "badVerb"
        );
        assert_eq!(code(&[("verb", "Identify"), ("x", "1")]), "badArgument");
        assert_eq!(
            code(&[("verb", "GetRecord"), ("identifier", "ivo://a/b")]),
            "badArgument"
        );
        assert_eq!(code(&[("verb", "ListRecords")]), "badArgument");
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "ivo_vor"),
                ("metadataPrefix", "oai_dc")
            ]),
            "badArgument"
        );
        assert_eq!(
            code(&[
                ("verb", "ListRecords"),
                ("metadataPrefix", "ivo_vor"),
                ("resumptionToken", "x")
            ]),
            "badArgument"
        );
        assert_eq!(
            code(&[("verb", "ListRecords"), ("resumptionToken", "x!")]),
            "badResumptionToken"
        );
        assert_eq!(
            code(&[("verb", "ListSets"), ("resumptionToken", "x")]),
            "badResumptionToken"
        );
    }

    #[test]
    fn dates_have_one_granularity_and_an_order() {
        let list = |from: &str, until: &str| {
            let mut a = vec![("verb", "ListIdentifiers"), ("metadataPrefix", "ivo_vor")];
            if !from.is_empty() {
                a.push(("from", from));
            }
            if !until.is_empty() {
                a.push(("until", until));
            }
            parse(&p(&a)).1
        };
        assert_eq!(list("2026-13-01", "").unwrap_err().code, "badArgument");
        assert_eq!(
            list("2026-01-01T00:00:00", "").unwrap_err().code,
            "badArgument"
        );
        assert_eq!(
            list("2026-01-02", "2026-01-01").unwrap_err().code,
            "badArgument"
        );
        assert_eq!(
            list("2026-01-01", "2026-01-01T10:00:00Z").unwrap_err().code,
            "badArgument"
        );
        let Ok(Request::List(l)) = list("2026-01-01", "2026-01-01") else {
            panic!("a day is a valid range")
        };
        assert_eq!(l.from.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(l.until.as_deref(), Some("2026-01-01T23:59:59Z"));
    }

    #[test]
    fn tokens_round_trip_and_name_their_verb() {
        let l = ListRequest {
            verb: Verb::ListRecords,
            prefix: "ivo_vor".into(),
            from: Some("2026-01-01T00:00:00Z".into()),
            until: None,
            set: Some("ivo_managed".into()),
            offset: 0,
        };
        let t = l.token(2);
        let back = ListRequest::from_token(Verb::ListRecords, &t).unwrap();
        assert_eq!(back, ListRequest { offset: 2, ..l });
        assert_eq!(
            ListRequest::from_token(Verb::ListIdentifiers, &t)
                .unwrap_err()
                .code,
            "badResumptionToken"
        );
    }
}
