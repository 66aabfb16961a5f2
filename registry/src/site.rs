//! The records of one site: its authority, its registry, its TAP service
//! and one S3 Parquet catalogue record per schema of its catalogue.
//!
//! Identifiers are stable (they depend on the configured authority and the
//! schema names only): `ivo://AUTHORITY` (the authority),
//! `ivo://AUTHORITY/registry`, `ivo://AUTHORITY/tap` and
//! `ivo://AUTHORITY/catalogue/SCHEMA`.

use astrolake_catalog::manifest::Manifest;
use astrolake_vosi::{CapabilitiesConfig, TableDoc};

use crate::config::RegistryConfig;
use crate::coverage;
use crate::error::RegistryError;
use crate::record::{Content, Curation, Kind, Resource, S3Access, TableAccess};

/// One table of the catalogue, as its catalogue record describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CatalogueTable {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Directory below the catalogue root (`SCHEMA/TABLE`).
    pub path: String,
    /// Lowest and highest partition order (HATS tables).
    pub orders: Option<(u8, u8)>,
    /// The table version's content hash (changes when the data does).
    pub version: String,
    /// The table's MOC file (FITS), if it has one.
    pub moc: Option<Vec<u8>>,
    /// For a table mounted from another site: the identifier of the
    /// record it was imported from.
    pub source: Option<String>,
}

/// Everything the records of a site are built from.
#[derive(Debug, Clone)]
pub struct Site<'a> {
    /// `[registry]`.
    pub config: &'a RegistryConfig,
    /// The TAP service's public URL.
    pub tap_url: &'a str,
    /// The OAI-PMH endpoint's public URL.
    pub oai_url: &'a str,
    /// The TAP service's capabilities.
    pub capabilities: CapabilitiesConfig,
    /// `/tables` entries of the served tables (TAP_SCHEMA is left out of
    /// the records).
    pub table_docs: &'a [TableDoc],
    /// The catalogue manifest (catalogue and schema metadata).
    pub manifest: &'a Manifest,
    /// The catalogue's tables.
    pub tables: Vec<CatalogueTable>,
    /// Where other sites read the catalogue's files: `s3://bucket/prefix`
    /// or an `https://` URL.
    pub files_url: String,
    /// The HTTPS form of `files_url`, when that is an `s3://` URL.
    pub files_https_url: Option<String>,
}

/// `ivo://AUTHORITY`.
pub fn authority_id(c: &RegistryConfig) -> String {
    format!("ivo://{}", c.authority)
}

/// `ivo://AUTHORITY/registry`.
pub fn registry_id(c: &RegistryConfig) -> String {
    format!("ivo://{}/registry", c.authority)
}

/// `ivo://AUTHORITY/tap`.
pub fn tap_id(c: &RegistryConfig) -> String {
    format!("ivo://{}/tap", c.authority)
}

/// `ivo://AUTHORITY/catalogue/SCHEMA` (characters a resource key cannot
/// hold become `_`).
pub fn catalogue_id(c: &RegistryConfig, schema: &str) -> String {
    let key: String = schema
        .chars()
        .map(|ch| {
            if ch.is_alphanumeric() || "-_.!~*'()+=".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    format!("ivo://{}/catalogue/{key}", c.authority)
}

fn truncate16(s: &str) -> String {
    s.chars().take(16).collect()
}

/// The records of `site`, in identifier order.
pub fn resources(site: &Site<'_>) -> Result<Vec<Resource>, RegistryError> {
    let c = site.config;
    let m = site.manifest;
    let curation = Curation {
        publisher: (
            m.publisher.clone().unwrap_or_else(|| c.publisher.clone()),
            c.publisher_id.clone(),
        ),
        creators: c.creators.clone(),
        contact: (c.contact_name.clone(), c.contact_email.clone()),
    };
    let reference = c
        .reference_url
        .clone()
        .unwrap_or_else(|| site.tap_url.to_string());
    let content = |description: String, types: &[&str], reference: &str| Content {
        subjects: c.subjects.clone(),
        description,
        reference_url: reference.to_string(),
        types: types.iter().map(|t| t.to_string()).collect(),
        content_level: c.content_level.clone(),
    };
    let rights = c.rights.clone().map(|r| (r, c.rights_uri.clone()));
    let waveband = if m.waveband.is_empty() {
        c.waveband.clone()
    } else {
        m.waveband.clone()
    };
    let data_docs: Vec<TableDoc> = site
        .table_docs
        .iter()
        .filter(|t| !t.schema.eq_ignore_ascii_case("TAP_SCHEMA"))
        .cloned()
        .collect();
    let mocs: Vec<&[u8]> = site
        .tables
        .iter()
        .filter_map(|t| t.moc.as_deref())
        .collect();

    let mut out = vec![
        Resource {
            identifier: authority_id(c),
            title: format!("The {} naming authority", c.authority),
            short_name: None,
            curation: curation.clone(),
            content: content(
                format!(
                    "The authority of the identifiers ivo://{}/... of the resources {} publishes.",
                    c.authority, curation.publisher.0
                ),
                &["Organisation"],
                &reference,
            ),
            rights: None,
            derived_from: None,
            kind: Kind::Authority {
                managing_org: curation.publisher.0.clone(),
            },
        },
        Resource {
            identifier: registry_id(c),
            title: format!("{} publishing registry", c.title),
            short_name: Some(truncate16(&format!("{} reg", c.short_name))),
            curation: curation.clone(),
            content: content(
                "The publishing registry of this site: VOResource records of its authority, \
                 registry, TAP service and catalogues, harvestable over OAI-PMH."
                    .to_string(),
                &["Registry"],
                &reference,
            ),
            rights: None,
            derived_from: None,
            kind: Kind::Registry {
                oai_url: site.oai_url.to_string(),
                max_records: c.page_size,
                managed_authority: c.authority.clone(),
            },
        },
        Resource {
            identifier: tap_id(c),
            title: c.title.clone(),
            short_name: Some(truncate16(&c.short_name)),
            curation: curation.clone(),
            content: content(c.description.clone(), &["Catalog"], &reference),
            rights: rights.clone(),
            derived_from: None,
            kind: Kind::TapService {
                capabilities: Box::new(site.capabilities.clone()),
                tables: data_docs.clone(),
                coverage: coverage::ascii_union(&mocs)?,
                waveband: waveband.clone(),
            },
        },
    ];

    for (schema, entry) in &m.schemas {
        let tables: Vec<&CatalogueTable> =
            site.tables.iter().filter(|t| &t.schema == schema).collect();
        let docs: Vec<TableDoc> = data_docs
            .iter()
            .filter(|t| &t.schema == schema)
            .cloned()
            .collect();
        let mocs: Vec<&[u8]> = tables.iter().filter_map(|t| t.moc.as_deref()).collect();
        let title = entry
            .title
            .clone()
            .unwrap_or_else(|| format!("{} catalogue {schema}", c.title));
        let description = entry
            .description
            .clone()
            .or_else(|| entry.title.clone())
            .unwrap_or_else(|| format!("The tables of schema {schema}."));
        // Tables mounted from another site are read where they are: the
        // record points there (the common directory of their URLs).
        let remote = !tables.is_empty() && tables.iter().all(|t| t.path.contains("://"));
        let (url, https_url, endpoint, region) = if remote {
            let dirs: Vec<&str> = tables
                .iter()
                .map(|t| {
                    t.path
                        .trim_end_matches('/')
                        .rsplit_once('/')
                        .map_or("", |(d, _)| d)
                })
                .collect();
            let mut common = dirs[0].to_string();
            for d in &dirs[1..] {
                while !(d == &common || d.starts_with(&format!("{common}/"))) {
                    common = common
                        .rsplit_once('/')
                        .map_or(String::new(), |(c, _)| c.to_string());
                }
            }
            (common, None, None, None)
        } else {
            (
                site.files_url.clone(),
                site.files_https_url.clone(),
                c.catalogue_endpoint.clone(),
                c.catalogue_region.clone(),
            )
        };
        let root = url.trim_end_matches('/').to_string();
        let access = S3Access {
            url: url.clone(),
            https_url,
            endpoint,
            region,
            tables: tables
                .iter()
                .map(|t| TableAccess {
                    name: format!("{}.{}", t.schema, t.table),
                    path: match t.path.strip_prefix(&format!("{root}/")) {
                        Some(rel) if remote => rel.to_string(),
                        _ => t.path.clone(),
                    },
                    orders: t.orders,
                    version: t.version.clone(),
                })
                .collect(),
        };
        let derived_from = tables.iter().find_map(|t| t.source.clone());
        let reference = m.reference_url.clone().unwrap_or_else(|| reference.clone());
        out.push(Resource {
            identifier: catalogue_id(c, schema),
            title,
            short_name: Some(truncate16(schema)),
            curation: curation.clone(),
            content: content(description, &["Catalog"], &reference),
            rights: rights.clone(),
            derived_from,
            kind: Kind::Catalogue {
                tables: docs,
                coverage: coverage::ascii_union(&mocs)?,
                waveband: waveband.clone(),
                access,
            },
        });
    }
    out.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    Ok(out)
}
