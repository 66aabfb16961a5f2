//! The resource records: what each says ([`Resource`]) and how it is
//! written, as VOResource 1.1 (`ri:Resource`, the OAI-PMH `ivo_vor`
//! format) and as Dublin Core (`oai_dc`).

use astrolake_vo::ns;
use astrolake_vo::xml::Doc;
use astrolake_vosi::{CapabilitiesConfig, TableDoc};

/// The `standardID` of the S3 Parquet catalogue capability (see
/// `docs/S3-CATALOGUE-RECORD.md`).
pub const S3_PARQUET_STANDARD: &str = "ivo://astrolake.org/std/S3ParquetCatalogue#1.0";
/// The `standardID` of OAI-PMH harvesting (RegistryInterface 1.0).
pub const OAI_HARVEST_STANDARD: &str = "ivo://ivoa.net/std/Registry";

/// Who made a resource and whom to ask about it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Curation {
    /// The publishing organisation, and its registry identifier.
    pub publisher: (String, Option<String>),
    /// Creators.
    pub creators: Vec<String>,
    /// Contact name and e-mail.
    pub contact: (String, String),
}

/// What a resource is about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Content {
    /// Subjects (at least one is written: `astronomy` when empty).
    pub subjects: Vec<String>,
    /// Description.
    pub description: String,
    /// A web page about the resource.
    pub reference_url: String,
    /// Resource types (`Catalog`, `Archive`, `Registry`, `Organisation`).
    pub types: Vec<String>,
    /// Content levels.
    pub content_level: Vec<String>,
}

/// Where and how an S3 Parquet catalogue's files are read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct S3Access {
    /// The catalogue root: `s3://bucket/prefix/` or an `https://` URL.
    pub url: String,
    /// The same root over HTTPS, when `url` is an `s3://` URL.
    pub https_url: Option<String>,
    /// S3 endpoint, for stores other than AWS.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// The tables.
    pub tables: Vec<TableAccess>,
}

/// One table of an S3 Parquet catalogue.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableAccess {
    /// `schema.table`.
    pub name: String,
    /// Its directory below the catalogue root.
    pub path: String,
    /// Lowest and highest partition order.
    pub orders: Option<(u8, u8)>,
    /// Content version (changes when the data does).
    pub version: String,
}

/// What kind of resource a record describes, with what only that kind has.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `vg:Authority`: the naming authority.
    Authority {
        /// The organisation that manages the authority.
        managing_org: String,
    },
    /// `vg:Registry`: this publishing registry.
    Registry {
        /// The OAI-PMH endpoint.
        oai_url: String,
        /// Records per OAI-PMH page.
        max_records: usize,
        /// The authority this registry manages.
        managed_authority: String,
    },
    /// `vs:CatalogService`: the TAP service.
    TapService {
        /// The VOSI capabilities (TAP, VOSI, examples).
        capabilities: Box<CapabilitiesConfig>,
        /// The served tables.
        tables: Vec<TableDoc>,
        /// Spatial coverage, an ASCII MOC.
        coverage: Option<String>,
        /// Wavebands.
        waveband: Vec<String>,
    },
    /// `vs:CatalogResource`: a catalogue (one schema) readable as HATS
    /// Parquet from an object store.
    Catalogue {
        /// Its tables.
        tables: Vec<TableDoc>,
        /// Spatial coverage, an ASCII MOC.
        coverage: Option<String>,
        /// Wavebands.
        waveband: Vec<String>,
        /// Where its files are.
        access: S3Access,
    },
}

/// One resource: the metadata every record has, and its kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// `ivo://AUTHORITY/PATH`.
    pub identifier: String,
    /// Title.
    pub title: String,
    /// Short name (at most 16 characters).
    pub short_name: Option<String>,
    /// Curation.
    pub curation: Curation,
    /// Content.
    pub content: Content,
    /// Rights statement and its URI.
    pub rights: Option<(String, Option<String>)>,
    /// The source a catalogue was imported from (`altIdentifier`-like
    /// provenance, written as a `relationship` `IsDerivedFrom`).
    pub derived_from: Option<String>,
    /// The kind of resource.
    pub kind: Kind,
}

/// The dates and status a record is published with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates<'a> {
    /// First published, `YYYY-MM-DDThh:mm:ssZ`.
    pub created: &'a str,
    /// Last changed.
    pub updated: &'a str,
}

/// The dates written when computing a record's digest (so that the digest
/// depends on the content only).
pub(crate) const DIGEST_DATES: Dates<'static> = Dates {
    created: "2000-01-01T00:00:00Z",
    updated: "2000-01-01T00:00:00Z",
};

impl Resource {
    /// The record's `xsi:type` (`vg:Authority`, `vg:Registry`,
    /// `vs:CatalogService`, `vs:CatalogResource`).
    pub fn xsi_type(&self) -> &'static str {
        match self.kind {
            Kind::Authority { .. } => "vg:Authority",
            Kind::Registry { .. } => "vg:Registry",
            Kind::TapService { .. } => "vs:CatalogService",
            Kind::Catalogue { .. } => "vs:CatalogResource",
        }
    }

    /// Whether the schema type is a `vr:Service` (has rights and
    /// capabilities).
    fn is_service(&self) -> bool {
        !matches!(self.kind, Kind::Authority { .. })
    }

    /// The `ri:Resource` element of this record (no XML declaration),
    /// declaring every namespace it uses.
    pub fn to_vor(&self, dates: Dates<'_>) -> String {
        let mut d = Doc::fragment();
        self.write_vor(&mut d, dates);
        d.finish()
    }

    /// A standalone VOResource document of this record (with an XML
    /// declaration), as served by `/registry/...` and printed by
    /// `astrolake registry show`.
    pub fn to_document(&self, dates: Dates<'_>) -> String {
        let mut d = Doc::new();
        self.write_vor(&mut d, dates);
        d.finish()
    }

    /// Write the `ri:Resource` element into `d`.
    pub fn write_vor(&self, d: &mut Doc, dates: Dates<'_>) {
        self.write_vor_in(d, dates, false)
    }

    /// Write the `ri:Resource` element into a document whose default
    /// namespace is another's (OAI-PMH): the record's unqualified elements
    /// then undeclare it (`xmlns=""`).
    pub fn write_vor_embedded(&self, d: &mut Doc, dates: Dates<'_>) {
        self.write_vor_in(d, dates, true)
    }

    fn write_vor_in(&self, d: &mut Doc, dates: Dates<'_>, embedded: bool) {
        let mut attrs = vec![
            ("xmlns:ri", ns::RI),
            ("xmlns:vr", ns::VR),
            ("xmlns:vs", ns::VS),
            ("xmlns:vg", ns::VG),
            ("xmlns:tr", ns::TR),
            ("xmlns:xsi", ns::XSI),
            ("xsi:type", self.xsi_type()),
            ("created", dates.created),
            ("updated", dates.updated),
            ("status", "active"),
        ];
        if embedded {
            attrs.insert(0, ("xmlns", ""));
        }
        d.start("ri:Resource", &attrs);
        d.elem("title", &[], &self.title);
        d.opt_elem("shortName", self.short_name.as_deref());
        d.elem("identifier", &[], &self.identifier);
        self.write_curation(d, dates);
        self.write_content(d);
        if self.is_service() {
            if let Some((rights, uri)) = &self.rights {
                match uri {
                    Some(u) => d.elem("rights", &[("rightsURI", u)], rights),
                    None => d.elem("rights", &[], rights),
                }
            }
        }
        match &self.kind {
            Kind::Authority { managing_org } => d.elem("managingOrg", &[], managing_org),
            Kind::Registry {
                oai_url,
                max_records,
                managed_authority,
            } => {
                d.start(
                    "capability",
                    &[
                        ("xsi:type", "vg:Harvest"),
                        ("standardID", OAI_HARVEST_STANDARD),
                    ],
                );
                d.elem(
                    "description",
                    &[],
                    "OAI-PMH 2.0: the records of the resources this registry publishes \
                     (metadata prefixes ivo_vor and oai_dc, set ivo_managed).",
                );
                d.start(
                    "interface",
                    &[
                        ("xsi:type", "vg:OAIHTTP"),
                        ("role", "std"),
                        ("version", "1.0"),
                    ],
                );
                d.elem("accessURL", &[("use", "base")], oai_url);
                d.end("interface");
                d.elem("maxRecords", &[], &max_records.to_string());
                d.end("capability");
                d.elem("full", &[], "false");
                d.elem("managedAuthority", &[], managed_authority);
            }
            Kind::TapService {
                capabilities,
                tables,
                coverage,
                waveband,
            } => {
                astrolake_vosi::write_capabilities(d, capabilities);
                write_coverage(d, coverage.as_deref(), waveband);
                write_tables(d, tables);
            }
            Kind::Catalogue {
                tables,
                coverage,
                waveband,
                access,
            } => {
                write_s3_capability(d, access);
                write_coverage(d, coverage.as_deref(), waveband);
                write_tables(d, tables);
            }
        }
        d.end("ri:Resource");
    }

    fn write_curation(&self, d: &mut Doc, dates: Dates<'_>) {
        let c = &self.curation;
        d.start("curation", &[]);
        match &c.publisher.1 {
            Some(id) => d.elem("publisher", &[("ivo-id", id)], &c.publisher.0),
            None => d.elem("publisher", &[], &c.publisher.0),
        }
        for name in &c.creators {
            d.start("creator", &[]);
            d.elem("name", &[], name);
            d.end("creator");
        }
        d.elem("date", &[("role", "Created")], dates.created);
        d.elem("date", &[("role", "Updated")], dates.updated);
        d.start("contact", &[]);
        d.elem("name", &[], &c.contact.0);
        d.opt_elem("email", Some(&c.contact.1));
        d.end("contact");
        d.end("curation");
    }

    fn write_content(&self, d: &mut Doc) {
        let c = &self.content;
        d.start("content", &[]);
        if c.subjects.is_empty() {
            d.elem("subject", &[], "astronomy");
        }
        for s in &c.subjects {
            d.elem("subject", &[], s);
        }
        d.elem("description", &[], &c.description);
        d.elem("referenceURL", &[], &c.reference_url);
        for t in &c.types {
            d.elem("type", &[], t);
        }
        for l in &c.content_level {
            d.elem("contentLevel", &[], l);
        }
        if let Some(source) = &self.derived_from {
            d.start("relationship", &[]);
            d.elem("relationshipType", &[], "IsDerivedFrom");
            d.elem("relatedResource", &[("ivo-id", source)], source);
            d.end("relationship");
        }
        d.end("content");
    }

    /// The Dublin Core (`oai_dc:dc`) form of this record.
    pub fn write_dc(&self, d: &mut Doc, dates: Dates<'_>) {
        d.start(
            "oai_dc:dc",
            &[
                (
                    "xmlns:oai_dc",
                    "http://www.openarchives.org/OAI/2.0/oai_dc/",
                ),
                ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
                ("xmlns:xsi", ns::XSI),
                (
                    "xsi:schemaLocation",
                    "http://www.openarchives.org/OAI/2.0/oai_dc/ \
                     http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                ),
            ],
        );
        d.elem("dc:title", &[], &self.title);
        d.elem("dc:identifier", &[], &self.identifier);
        for c in &self.curation.creators {
            d.elem("dc:creator", &[], c);
        }
        for s in &self.content.subjects {
            d.elem("dc:subject", &[], s);
        }
        d.elem("dc:description", &[], &self.content.description);
        d.elem("dc:publisher", &[], &self.curation.publisher.0);
        d.elem("dc:date", &[], dates.updated);
        for t in &self.content.types {
            d.elem("dc:type", &[], t);
        }
        d.elem("dc:identifier", &[], &self.content.reference_url);
        if let Some((rights, _)) = &self.rights {
            d.elem("dc:rights", &[], rights);
        }
        d.end("oai_dc:dc");
    }
}

fn write_coverage(d: &mut Doc, moc: Option<&str>, waveband: &[String]) {
    if moc.is_none() && waveband.is_empty() {
        return;
    }
    d.start("coverage", &[]);
    if let Some(m) = moc {
        d.elem("spatial", &[], m);
    }
    for w in waveband {
        d.elem("waveband", &[], w);
    }
    d.end("coverage");
}

fn write_tables(d: &mut Doc, tables: &[TableDoc]) {
    if !tables.is_empty() {
        astrolake_vosi::write_tableset(d, "tableset", &[], tables, false);
    }
}

/// The access capability of an S3 Parquet catalogue: one `vs:ParamHTTP`
/// interface whose `accessURL`s are the catalogue root (`s3://` and its
/// HTTPS form) and whose `param`s carry the access settings, and one
/// interface per table whose `accessURL`s are its metadata files. See
/// `docs/S3-CATALOGUE-RECORD.md`.
fn write_s3_capability(d: &mut Doc, a: &S3Access) {
    d.start("capability", &[("standardID", S3_PARQUET_STANDARD)]);
    d.elem(
        "description",
        &[],
        "The catalogue's files in an object store: one HATS 1.0 catalogue per table \
         (HEALPix-partitioned Parquet, partition column _healpix_29, nested scheme) \
         with VOParquet 1.0 metadata, a VOTable metadata sidecar and a MOC, below \
         ROOT/SCHEMA/TABLE/; ROOT/astrolake.json lists the tables. Read with range \
         requests; no credentials are needed unless the store says otherwise.",
    );
    let root = a.url.trim_end_matches('/').to_string() + "/";
    d.start(
        "interface",
        &[
            ("xsi:type", "vs:ParamHTTP"),
            ("role", "std"),
            ("version", "1.0"),
        ],
    );
    d.elem("accessURL", &[("use", "base")], &root);
    if let Some(h) = &a.https_url {
        d.elem(
            "accessURL",
            &[("use", "base")],
            &(h.trim_end_matches('/').to_string() + "/"),
        );
    }
    d.elem("queryType", &[], "GET");
    d.elem("resultType", &[], "application/vnd.apache.parquet");
    let params: [(&str, Option<&str>, &str); 5] = [
        ("layout", Some("HATS 1.0"), "File layout of each table"),
        (
            "format",
            Some("Parquet; VOParquet 1.0 metadata"),
            "File format",
        ),
        (
            "partition_column",
            Some("_healpix_29"),
            "HEALPix order-29 nested index column",
        ),
        ("endpoint", a.endpoint.as_deref(), "S3 endpoint URL"),
        ("region", a.region.as_deref(), "S3 region"),
    ];
    for (name, value, what) in params {
        if let Some(v) = value {
            param(d, name, &format!("{what}: {v}"));
        }
    }
    d.end("interface");
    for t in &a.tables {
        let dir = format!("{root}{}/", t.path.trim_matches('/'));
        d.start(
            "interface",
            &[("xsi:type", "vs:ParamHTTP"), ("role", "table")],
        );
        d.elem("accessURL", &[("use", "dir")], &dir);
        for f in [
            "hats.properties",
            "partition_info.csv",
            "table-metadata.vot",
            "coverage.moc.fits",
            "dataset/_common_metadata",
            "dataset/_metadata",
        ] {
            d.elem("accessURL", &[("use", "full")], &format!("{dir}{f}"));
        }
        d.elem("queryType", &[], "GET");
        d.elem("resultType", &[], "application/vnd.apache.parquet");
        param(d, "table", &format!("Table: {}", t.name));
        if let Some((lo, hi)) = t.orders {
            param(d, "orders", &format!("Partition orders: {lo}-{hi}"));
        }
        if !t.version.is_empty() {
            param(d, "version", &format!("Content version: {}", t.version));
        }
        d.end("interface");
    }
    d.end("capability");
}

/// A `param` whose description is `Label: value` (VODataService params
/// have no value element).
fn param(d: &mut Doc, name: &str, description: &str) {
    d.start("param", &[("std", "false")]);
    d.elem("name", &[], name);
    d.elem("description", &[], description);
    d.end("param");
}

/// Read an access setting written by [`write_s3_capability`]: the value of
/// a `param` description `Label: value`.
pub fn param_value(description: &str) -> &str {
    description
        .split_once(": ")
        .map(|(_, v)| v)
        .unwrap_or(description)
        .trim()
}
