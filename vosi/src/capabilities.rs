//! `/capabilities`: the VOSI capabilities document with the TAPRegExt
//! description of the TAP service.

use astrolake_adql::functions::{Feature, FUNCTIONS};

use astrolake_vo::ns;
use astrolake_vo::xml::Doc;

/// Standard identifier of TAP.
pub const TAP: &str = "ivo://ivoa.net/std/TAP";
/// Standard identifier of TAPRegExt; the language feature, output format
/// and upload method identifiers are fragments of it.
pub const TAPREGEXT: &str = "ivo://ivoa.net/std/TAPRegExt";
/// Prefix of the ADQL 2.1 optional feature types (`…#features-adql-sets`
/// etc.). ADQL 2.1 writes them in lower case (`tapregext`); IVOIDs compare
/// case-insensitively, and we use TAPRegExt's own spelling, which clients
/// such as TOPCAT/taplint and DaCHS compare literally.
pub const ADQL_FEATURE_PREFIX: &str = "ivo://ivoa.net/std/TAPRegExt#features-adql-";
/// Standard identifier of the VOSI capabilities endpoint.
pub const VOSI_CAPABILITIES: &str = "ivo://ivoa.net/std/VOSI#capabilities";
/// Standard identifier of the VOSI availability endpoint.
pub const VOSI_AVAILABILITY: &str = "ivo://ivoa.net/std/VOSI#availability";
/// Standard identifier of a VOSI 1.1 tables endpoint (`detail=min`,
/// `/tables/{name}`).
pub const VOSI_TABLES: &str = "ivo://ivoa.net/std/VOSI#tables-1.1";
/// Standard identifier of a DALI examples endpoint.
pub const DALI_EXAMPLES: &str = "ivo://ivoa.net/std/DALI#examples";

/// A TAPRegExt time limit (`retentionPeriod`, `executionDuration`), in
/// seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    /// What a job gets when it does not ask.
    pub default: u64,
    /// The most a job can get.
    pub hard: u64,
}

/// The unit of a [`DataLimit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitUnit {
    /// Rows.
    Row,
    /// Bytes.
    Byte,
}

impl LimitUnit {
    fn as_str(self) -> &'static str {
        match self {
            LimitUnit::Row => "row",
            LimitUnit::Byte => "byte",
        }
    }
}

/// A TAPRegExt data limit (`outputLimit`, `uploadLimit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLimit {
    /// What a query gets when it does not ask (`MAXREC` default).
    pub default: u64,
    /// The most a query can get.
    pub hard: u64,
    /// Rows or bytes.
    pub unit: LimitUnit,
}

/// A way to pass a table in `UPLOAD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMethod {
    /// `param:NAME`: the table is a part of the multipart request.
    Inline,
    /// An `http://` URL the service fetches.
    Http,
    /// An `https://` URL the service fetches.
    Https,
}

impl UploadMethod {
    /// Every method.
    pub const ALL: [UploadMethod; 3] = [
        UploadMethod::Inline,
        UploadMethod::Http,
        UploadMethod::Https,
    ];

    /// The TAPRegExt identifier, e.g. `ivo://ivoa.net/std/TAPRegExt#upload-inline`.
    pub fn ivo_id(self) -> &'static str {
        match self {
            UploadMethod::Inline => "ivo://ivoa.net/std/TAPRegExt#upload-inline",
            UploadMethod::Http => "ivo://ivoa.net/std/TAPRegExt#upload-http",
            UploadMethod::Https => "ivo://ivoa.net/std/TAPRegExt#upload-https",
        }
    }
}

/// What the capabilities document declares about the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilitiesConfig {
    /// The TAP base URL, e.g. `https://example.org/tap` (a trailing `/`
    /// is ignored); the VOSI and examples endpoints are below it.
    pub base_url: String,
    /// Output formats: canonical MIME type and aliases (what
    /// TAP's `Format::all()` lists). VOTable MIME types
    /// with `serialization=BINARY2`, `BINARY` or `TABLEDATA` get the
    /// TAPRegExt `ivo-id` of that serialization.
    pub output_formats: Vec<(String, Vec<String>)>,
    /// Upload methods; empty if the service takes no uploads.
    pub upload_methods: Vec<UploadMethod>,
    /// Data models (`ivo-id`, name) the service's tables implement, e.g.
    /// `("ivo://ivoa.net/std/ObsCore#core-1.1", "ObsCore-1.1")`.
    pub data_models: Vec<(String, String)>,
    /// Time between job creation and destruction, seconds.
    pub retention_period: Option<TimeLimit>,
    /// Job execution duration, seconds.
    pub execution_duration: Option<TimeLimit>,
    /// Output rows (`MAXREC`).
    pub output_limit: Option<DataLimit>,
    /// Uploaded table size.
    pub upload_limit: Option<DataLimit>,
    /// Whether `/examples` exists (declares the DALI examples capability).
    pub examples: bool,
    /// Whether to declare COALESCE under
    /// `ivo://ivoa.net/std/TAPRegExt#features-adql-conditional`. The ADQL
    /// 2.1 REC defines that feature type, but validators built on the 2.1
    /// PR (STILTS taplint 3.4.x, as Debian ships it) report it as an
    /// unknown standard key, an error; so it is off by default and COALESCE
    /// stays available without being declared.
    pub adql_conditional: bool,
}

impl CapabilitiesConfig {
    /// A configuration for `base_url` with the given output formats, every
    /// upload method, the examples endpoint, and no limits declared.
    pub fn new(base_url: impl Into<String>, output_formats: &[(String, Vec<String>)]) -> Self {
        CapabilitiesConfig {
            base_url: base_url.into(),
            output_formats: output_formats.to_vec(),
            upload_methods: UploadMethod::ALL.to_vec(),
            data_models: Vec::new(),
            retention_period: None,
            execution_duration: None,
            output_limit: None,
            upload_limit: None,
            examples: true,
            adql_conditional: false,
        }
    }

    /// The base URL without a trailing `/`.
    fn base(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// The TAPRegExt `ivo-id` of an output format, for the standard VOTable
/// serializations.
fn output_ivo_id(mime: &str) -> Option<&'static str> {
    let m = mime.to_ascii_lowercase().replace(' ', "");
    if !m.contains("votable") {
        return None;
    }
    if m.contains("serialization=binary2") {
        Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary2")
    } else if m.contains("serialization=binary") {
        Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary")
    } else if m.contains("serialization=tabledata") {
        Some("ivo://ivoa.net/std/TAPRegExt#output-votable-td")
    } else {
        None
    }
}

/// A group of language features: type and (form, description) pairs.
type FeatureList = (String, Vec<(String, Option<String>)>);

/// Names of the functions of a feature, in `FUNCTIONS` order.
fn function_names(feature: Feature) -> Vec<(String, Option<String>)> {
    FUNCTIONS
        .iter()
        .filter(|f| f.feature == feature)
        .map(|f| (f.name.to_string(), None))
        .collect()
}

fn plain(names: &[&str]) -> Vec<(String, Option<String>)> {
    names.iter().map(|n| (n.to_string(), None)).collect()
}

/// Every language feature list the ADQL engine supports, in ADQL 2.1
/// order: UDFs (signatures with descriptions), geometry functions, then
/// the optional ADQL 2.1 features.
fn language_features(adql_conditional: bool) -> Vec<FeatureList> {
    let udfs = FUNCTIONS
        .iter()
        .filter(|f| f.feature == Feature::Udf && !f.signature.is_empty())
        .map(|f| (f.signature.to_string(), Some(f.description.to_string())))
        .collect();
    let mut string = function_names(Feature::String);
    string.push(("ILIKE".to_string(), None));
    let adql = |suffix: &str| format!("{ADQL_FEATURE_PREFIX}{suffix}");
    let mut out = vec![
        (format!("{TAPREGEXT}#features-udf"), udfs),
        (
            format!("{TAPREGEXT}#features-adqlgeo"),
            function_names(Feature::Geometry),
        ),
        (adql("string"), string),
        (adql("common-table"), plain(&["WITH"])),
        (adql("sets"), plain(&["UNION", "EXCEPT", "INTERSECT"])),
        (adql("type"), plain(&["CAST"])),
        (adql("conditional"), function_names(Feature::Conditional)),
        (adql("unit"), function_names(Feature::Unit)),
        (adql("offset"), plain(&["OFFSET"])),
        (
            "ivo://org.gavo.dc/std/exts#extra-adql-keywords".to_string(),
            function_names(Feature::Moc),
        ),
    ];
    if !adql_conditional {
        out.retain(|(t, _)| !t.ends_with("-conditional"));
    }
    out
}

/// A capability with one `vs:ParamHTTP` interface at `url`.
fn vosi_capability(d: &mut Doc, standard_id: &str, url: &str) {
    d.start("capability", &[("standardID", standard_id)]);
    d.start(
        "interface",
        &[("xsi:type", "vs:ParamHTTP"), ("role", "std")],
    );
    d.elem("accessURL", &[("use", "full")], url);
    d.end("interface");
    d.end("capability");
}

fn time_limit(d: &mut Doc, name: &str, limit: Option<TimeLimit>) {
    if let Some(l) = limit {
        d.start(name, &[]);
        d.elem("default", &[], &l.default.to_string());
        d.elem("hard", &[], &l.hard.to_string());
        d.end(name);
    }
}

fn data_limit(d: &mut Doc, name: &str, limit: Option<DataLimit>) {
    if let Some(l) = limit {
        let unit = [("unit", l.unit.as_str())];
        d.start(name, &[]);
        d.elem("default", &unit, &l.default.to_string());
        d.elem("hard", &unit, &l.hard.to_string());
        d.end(name);
    }
}

/// The VOSI 1.1 capabilities document (`<vosi:capabilities>`): the TAP 1.1
/// capability (TAPRegExt `tr:TableAccess`), the VOSI capabilities,
/// availability and tables capabilities, and (if `cfg.examples`) the DALI
/// examples capability.
pub fn capabilities(cfg: &CapabilitiesConfig) -> String {
    let mut d = Doc::new();
    d.start(
        "vosi:capabilities",
        &[
            ("xmlns:vosi", ns::VOSI_CAPABILITIES),
            ("xmlns:vr", ns::VR),
            ("xmlns:vs", ns::VS),
            ("xmlns:tr", ns::TR),
            ("xmlns:xsi", ns::XSI),
        ],
    );
    write_capabilities(&mut d, cfg);
    d.end("vosi:capabilities");
    d.finish()
}

/// The `<capability>` elements of [`capabilities()`], written into `d`
/// (also used by the TAP service's registry record). The prefixes `vr`,
/// `vs`, `tr` and `xsi` must be declared by an enclosing element.
pub fn write_capabilities(d: &mut Doc, cfg: &CapabilitiesConfig) {
    let base = cfg.base();
    // TAP.
    d.start(
        "capability",
        &[("standardID", TAP), ("xsi:type", "tr:TableAccess")],
    );
    d.start(
        "interface",
        &[
            ("xsi:type", "vs:ParamHTTP"),
            ("role", "std"),
            ("version", "1.1"),
        ],
    );
    d.elem("accessURL", &[("use", "base")], base);
    d.end("interface");
    for (ivo_id, name) in &cfg.data_models {
        d.elem("dataModel", &[("ivo-id", ivo_id)], name);
    }
    d.start("language", &[]);
    d.elem("name", &[], "ADQL");
    d.elem(
        "version",
        &[("ivo-id", "ivo://ivoa.net/std/ADQL#v2.0")],
        "2.0",
    );
    d.elem(
        "version",
        &[("ivo-id", "ivo://ivoa.net/std/ADQL#v2.1")],
        "2.1",
    );
    d.elem(
        "description",
        &[],
        "The Astronomical Data Query Language, versions 2.0 and 2.1, with the \
         geometry functions, the optional ADQL 2.1 features and the user-defined \
         functions declared here.",
    );
    for (kind, features) in language_features(cfg.adql_conditional) {
        if features.is_empty() {
            continue;
        }
        d.start("languageFeatures", &[("type", &kind)]);
        for (form, description) in &features {
            d.start("feature", &[]);
            d.elem("form", &[], form);
            d.opt_elem("description", description.as_deref());
            d.end("feature");
        }
        d.end("languageFeatures");
    }
    d.end("language");
    for (mime, aliases) in &cfg.output_formats {
        match output_ivo_id(mime) {
            Some(id) => d.start("outputFormat", &[("ivo-id", id)]),
            None => d.start("outputFormat", &[]),
        }
        d.elem("mime", &[], mime);
        for alias in aliases {
            d.elem("alias", &[], alias);
        }
        d.end("outputFormat");
    }
    for m in &cfg.upload_methods {
        d.empty("uploadMethod", &[("ivo-id", m.ivo_id())]);
    }
    time_limit(d, "retentionPeriod", cfg.retention_period);
    time_limit(d, "executionDuration", cfg.execution_duration);
    data_limit(d, "outputLimit", cfg.output_limit);
    if !cfg.upload_methods.is_empty() {
        data_limit(d, "uploadLimit", cfg.upload_limit);
    }
    d.end("capability");

    // VOSI.
    vosi_capability(d, VOSI_CAPABILITIES, &format!("{base}/capabilities"));
    vosi_capability(d, VOSI_AVAILABILITY, &format!("{base}/availability"));
    vosi_capability(d, VOSI_TABLES, &format!("{base}/tables"));

    // DALI examples.
    if cfg.examples {
        d.start("capability", &[("standardID", DALI_EXAMPLES)]);
        d.start("interface", &[("xsi:type", "vr:WebBrowser")]);
        d.elem("accessURL", &[("use", "full")], &format!("{base}/examples"));
        d.end("interface");
        d.end("capability");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn votable_serializations_get_their_ivo_id() {
        assert_eq!(
            output_ivo_id("application/x-votable+xml;serialization=BINARY2"),
            Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary2")
        );
        assert_eq!(
            output_ivo_id("application/x-votable+xml; serialization=binary"),
            Some("ivo://ivoa.net/std/TAPRegExt#output-votable-binary")
        );
        assert_eq!(
            output_ivo_id("application/x-votable+xml;serialization=TABLEDATA"),
            Some("ivo://ivoa.net/std/TAPRegExt#output-votable-td")
        );
        assert_eq!(output_ivo_id("application/x-votable+xml"), None);
        assert_eq!(output_ivo_id("text/csv;header=present"), None);
    }

    #[test]
    fn every_feature_group_is_declared() {
        let f = language_features(true);
        assert!(!language_features(false)
            .iter()
            .any(|(k, _)| k.ends_with("-conditional")));
        let forms = |suffix: &str| -> Vec<String> {
            f.iter()
                .find(|(k, _)| k.ends_with(suffix))
                .map(|(_, v)| v.iter().map(|(form, _)| form.clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            forms("#features-adqlgeo"),
            [
                "POINT",
                "CIRCLE",
                "BOX",
                "POLYGON",
                "REGION",
                "CENTROID",
                "CONTAINS",
                "INTERSECTS",
                "DISTANCE",
                "AREA",
                "COORD1",
                "COORD2",
                "COORDSYS"
            ]
        );
        assert_eq!(forms("-string"), ["LOWER", "UPPER", "ILIKE"]);
        assert_eq!(forms("-conditional"), ["COALESCE"]);
        assert_eq!(forms("-unit"), ["IN_UNIT"]);
        assert_eq!(forms("-sets"), ["UNION", "EXCEPT", "INTERSECT"]);
        assert!(forms("#features-udf")
            .iter()
            .any(|s| s.starts_with("ivo_healpix_index(")));
    }
}
