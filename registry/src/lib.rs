//! # astrolake-registry
//!
//! astrolake as a publishing registry: VOResource 1.1 records for the
//! naming authority, the registry itself, the TAP service and every
//! catalogue (as an S3 Parquet catalogue), served over OAI-PMH 2.0 so that
//! other registries can harvest them.
//!
//! ```text
//!  config [registry] ─┐
//!  catalogue ─────────┼─► site::resources ─► Registry::publish ──► oai::respond  (OAI-PMH)
//!  (tables, MOCs,     │    (Resource values)   (dates from State:     Resource::to_document
//!   manifest)         │                         created, updated,     (one record)
//!  TAP capabilities ──┘                         deleted; SHA-256)
//! ```
//!
//! * [`config`]: the `[registry]` settings (authority, curation, paging,
//!   where the catalogue's files are published).
//! * [`site`]: the records of a site, built from its catalogue and TAP
//!   service; [`coverage`] turns the tables' MOCs into the records'
//!   spatial coverage.
//! * [`record`]: the [`record::Resource`] model and its XML
//!   (`ri:Resource`, `oai_dc:dc`), including the S3 Parquet catalogue
//!   record (`docs/S3-CATALOGUE-RECORD.md`).
//! * [`state`]: dates that survive restarts: a record's `updated` date
//!   changes when its content's digest does, and a resource that
//!   disappears stays listed as a deleted record.
//! * [`access`]: reading a catalogue record back: the store, endpoint and
//!   table directories another site mounts (`astrolake import`).
//! * [`oai`]: OAI-PMH 2.0 (all six verbs, `from`/`until` at both
//!   granularities, the `ivo_managed` set, stateless resumption tokens,
//!   every error code).

pub mod access;
pub mod config;
pub mod coverage;
pub mod error;
pub mod oai;
pub mod record;
pub mod site;
pub mod state;

pub use config::RegistryConfig;
pub use error::RegistryError;
use record::{Dates, Resource, DIGEST_DATES};
use state::State;

/// One published record: a resource with its dates, or what remains of a
/// removed one.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    /// `ivo://...`.
    pub identifier: String,
    /// First published.
    pub created: String,
    /// Last changed (or removed).
    pub updated: String,
    /// Removed: an OAI-PMH deleted record.
    pub deleted: bool,
    /// The resource (`None` when deleted).
    pub resource: Option<Resource>,
}

impl Published {
    /// The dates written into the record.
    pub fn dates(&self) -> Dates<'_> {
        Dates {
            created: &self.created,
            updated: &self.updated,
        }
    }
}

/// The records a site publishes, with their dates.
#[derive(Debug, Clone)]
pub struct Registry {
    /// The configuration.
    pub config: RegistryConfig,
    oai_url: String,
    records: Vec<Published>,
    registry_id: String,
}

impl Registry {
    /// Publish `resources` at time `now` (`YYYY-MM-DDThh:mm:ssZ`): each
    /// record's content digest is compared with `state`, which is updated
    /// (new, changed, removed records); the caller saves it.
    pub fn publish(
        config: RegistryConfig,
        oai_url: &str,
        resources: Vec<Resource>,
        state: &mut State,
        now: &str,
    ) -> Registry {
        let digests: Vec<(String, String)> = resources
            .iter()
            .map(|r| (r.identifier.clone(), state::digest(&r.to_vor(DIGEST_DATES))))
            .collect();
        state.sync(digests.iter().map(|(i, d)| (i.as_str(), d.as_str())), now);
        let mut by_id: std::collections::BTreeMap<String, Resource> = resources
            .into_iter()
            .map(|r| (r.identifier.clone(), r))
            .collect();
        let records = state
            .records
            .iter()
            .map(|(id, e)| Published {
                identifier: id.clone(),
                created: e.created.clone(),
                updated: e.updated.clone(),
                deleted: e.deleted,
                resource: if e.deleted { None } else { by_id.remove(id) },
            })
            .collect();
        Registry {
            registry_id: site::registry_id(&config),
            config,
            oai_url: oai_url.to_string(),
            records,
        }
    }

    /// Every record, active and deleted, ordered by identifier.
    pub fn records(&self) -> &[Published] {
        &self.records
    }

    /// The record of `identifier` (active or deleted). Identifiers compare
    /// case-insensitively, as IVOA identifiers do.
    pub fn get(&self, identifier: &str) -> Option<&Published> {
        self.records
            .iter()
            .find(|p| p.identifier.eq_ignore_ascii_case(identifier))
    }

    /// The record of the registry itself (`vg:Registry`).
    pub fn registry_record(&self) -> Option<&Published> {
        self.get(&self.registry_id).filter(|p| !p.deleted)
    }

    /// The OAI-PMH base URL.
    pub fn oai_url(&self) -> &str {
        &self.oai_url
    }

    /// The oldest datestamp of any record.
    pub fn earliest_datestamp(&self) -> Option<&str> {
        self.records.iter().map(|p| p.updated.as_str()).min()
    }
}

/// The current time as the records write it (`YYYY-MM-DDThh:mm:ssZ`).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::{Content, Curation, Kind};

    fn authority(id: &str) -> Resource {
        Resource {
            identifier: id.to_string(),
            title: format!("title of {id}"),
            short_name: None,
            curation: Curation::default(),
            content: Content::default(),
            rights: None,
            derived_from: None,
            kind: Kind::Authority {
                managing_org: "org".into(),
            },
        }
    }

    fn oai(reg: &Registry, q: &str) -> String {
        let params: Vec<(String, String)> = q
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        oai::respond(reg, &params, "2026-01-02T00:00:00Z")
    }

    fn token(doc: &str) -> Option<String> {
        let start = doc.find("<resumptionToken")?;
        let body = start + doc[start..].find('>')? + 1;
        let end = body + doc[body..].find("</resumptionToken>")?;
        Some(doc[body..end].to_string())
    }

    #[test]
    fn pages_tokens_and_deleted_records() {
        let config = RegistryConfig {
            page_size: 2,
            ..Default::default()
        };
        let mut state = State::default();
        let all = vec![
            authority("ivo://a/1"),
            authority("ivo://a/2"),
            authority("ivo://a/3"),
        ];
        let reg = Registry::publish(
            config.clone(),
            "http://x/oai",
            all,
            &mut state,
            "2026-01-01T00:00:00Z",
        );
        let first = oai(&reg, "verb=ListIdentifiers&metadataPrefix=ivo_vor");
        assert!(
            first.contains("ivo://a/1")
                && first.contains("ivo://a/2")
                && !first.contains("ivo://a/3")
        );
        assert!(
            first.contains("completeListSize=\"3\" cursor=\"0\""),
            "{first}"
        );
        let t = token(&first).unwrap();
        let second = oai(&reg, &format!("verb=ListIdentifiers&resumptionToken={t}"));
        assert!(
            second.contains("ivo://a/3") && !second.contains("ivo://a/1"),
            "{second}"
        );
        assert!(
            second.contains("<resumptionToken completeListSize=\"3\" cursor=\"2\"/>"),
            "{second}"
        );

        // ivo://a/2 goes away: a deleted record, later in time.
        let reg = Registry::publish(
            config,
            "http://x/oai",
            vec![authority("ivo://a/1"), authority("ivo://a/3")],
            &mut state,
            "2026-01-03T00:00:00Z",
        );
        let got = oai(
            &reg,
            "verb=GetRecord&identifier=ivo://a/2&metadataPrefix=ivo_vor",
        );
        assert!(got.contains("<header status=\"deleted\">"), "{got}");
        assert!(!got.contains("<metadata>"), "{got}");
        let since = oai(
            &reg,
            "verb=ListRecords&metadataPrefix=oai_dc&from=2026-01-02",
        );
        assert!(
            since.contains("ivo://a/2") && !since.contains("ivo://a/1"),
            "{since}"
        );
        let unchanged = reg.get("ivo://a/1").unwrap();
        assert_eq!(unchanged.updated, "2026-01-01T00:00:00Z");
    }
}
