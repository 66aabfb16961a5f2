//! The catalogue manifest, `astrolake.json` at the root: catalogue and schema
//! metadata (title, description, publisher, waveband, reference URL) and the
//! location of every table.
//!
//! The manifest is replaced atomically (locally: written to a unique
//! temporary name, fsynced, renamed over the old one, the directory fsynced
//! ([`crate::atomic_write`]); a single PUT on object stores), so readers
//! always see a consistent catalogue, also after a crash.
//! Table facts that change with the data (row count, files, dates) live in
//! each table's own `astrolake-table.json`, not here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, Result};
use crate::root::CatalogRoot;

/// File name of the manifest at the catalogue root.
pub const MANIFEST_FILE: &str = "astrolake.json";

/// The catalogue manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format tag.
    #[serde(default = "format_tag")]
    pub format: String,
    /// Catalogue title.
    #[serde(default)]
    pub title: Option<String>,
    /// Catalogue description.
    #[serde(default)]
    pub description: Option<String>,
    /// Publisher.
    #[serde(default)]
    pub publisher: Option<String>,
    /// Wavebands (VOResource vocabulary: Optical, Infrared, ...).
    #[serde(default)]
    pub waveband: Vec<String>,
    /// Reference URL.
    #[serde(default)]
    pub reference_url: Option<String>,
    /// Schemas by name.
    #[serde(default)]
    pub schemas: BTreeMap<String, SchemaEntry>,
}

fn format_tag() -> String {
    "astrolake-catalog/1".into()
}

/// A schema: metadata and tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaEntry {
    /// Schema title.
    #[serde(default)]
    pub title: Option<String>,
    /// Schema description.
    #[serde(default)]
    pub description: Option<String>,
    /// Tables by name.
    #[serde(default)]
    pub tables: BTreeMap<String, TableEntry>,
}

/// Where a table lives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// Table directory relative to the root (empty for a mounted remote
    /// table).
    pub path: String,
    /// Table description.
    #[serde(default)]
    pub description: Option<String>,
    /// A table read in place from another store (`astrolake import`):
    /// where, and how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteTable>,
}

/// A table mounted from another site's store, read in place.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoteTable {
    /// The table directory: `s3://bucket/prefix/SCHEMA/TABLE` or an
    /// `https://` URL.
    pub url: String,
    /// How to reach the store (no secrets: those come from configuration,
    /// a profile or the environment).
    #[serde(default)]
    pub options: crate::remote::RemoteOptions,
    /// `astrolake` (descriptor and sidecar present) or `hats` (a plain
    /// HATS catalogue, described from its own files).
    pub layout: String,
    /// The registry identifier of the catalogue it was imported from.
    #[serde(default)]
    pub source: Option<String>,
}

impl Manifest {
    /// Load the manifest of a root; an empty manifest if there is none yet.
    pub async fn load(root: &CatalogRoot) -> Result<Manifest> {
        match root.get_opt(MANIFEST_FILE).await? {
            Some(b) => serde_json::from_slice(&b)
                .map_err(|e| CatalogError::Metadata(format!("{}{MANIFEST_FILE}: {e}", root.url()))),
            None => Ok(Manifest {
                format: format_tag(),
                ..Default::default()
            }),
        }
    }

    /// Write the manifest atomically (and durably, on local roots).
    pub async fn save(&self, root: &CatalogRoot) -> Result<()> {
        let text = serde_json::to_vec_pretty(self)?;
        match root.local_dir() {
            Some(dir) => {
                let path = dir.join(MANIFEST_FILE);
                tokio::task::spawn_blocking(move || crate::root::atomic_write(&path, &text))
                    .await
                    .map_err(|e| {
                        CatalogError::Invalid(format!("writing {MANIFEST_FILE}: {e}"))
                    })??;
                Ok(())
            }
            None => root.put(MANIFEST_FILE, text).await,
        }
    }

    /// Find a table by `schema.table` (case-insensitive), returning the
    /// canonical names and the entry.
    pub fn table(&self, schema: &str, table: &str) -> Option<(&str, &str, &TableEntry)> {
        let (sname, s) = self
            .schemas
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(schema))?;
        let (tname, t) = s
            .tables
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(table))?;
        Some((sname, tname, t))
    }

    /// Every table as `(schema, table, entry)`.
    pub fn tables(&self) -> impl Iterator<Item = (&str, &str, &TableEntry)> {
        self.schemas.iter().flat_map(|(s, e)| {
            e.tables
                .iter()
                .map(move |(t, te)| (s.as_str(), t.as_str(), te))
        })
    }
}

/// Check that `name` (a schema or table name) is a plain identifier:
/// ASCII letters, digits and `_`, starting with a letter, at most 64
/// characters. Names become directory names (`SCHEMA/TABLE/`), so this is
/// also what keeps a name from reaching a sibling's files (`/`, `..`).
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CatalogError::Invalid(format!(
            "{name:?} is not a valid name: use letters, digits and _, starting with a letter \
             (at most 128 characters)"
        )))
    }
}

/// Split `SCHEMA.TABLE`, checking both are plain identifiers.
pub fn split_table_name(qualified: &str) -> Result<(String, String)> {
    let (s, t) = qualified.split_once('.').ok_or_else(|| {
        CatalogError::Invalid(format!("table name {qualified:?} must be SCHEMA.TABLE"))
    })?;
    for part in [s, t] {
        check_name(part).map_err(|e| CatalogError::Invalid(format!("{e} (in {qualified:?})")))?;
    }
    Ok((s.to_string(), t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_identifiers() {
        for ok in ["gaia", "gaia_source", "T2", "a"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "..", ".", "a/b", "../gaia", "a.b", "_x", "1a", "a b", "a\\b", "é", "a-b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"a".repeat(129)).is_err());
        assert!(split_table_name("gaia.source").is_ok());
        let e = split_table_name("gaia.../x").unwrap_err().to_string();
        assert!(e.contains("not a valid name"), "{e}");
    }

    #[tokio::test]
    async fn saving_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = CatalogRoot::open(&dir.path().to_string_lossy()).unwrap();
        let mut m = Manifest::load(&root).await.unwrap();
        m.title = Some("one".into());
        m.save(&root).await.unwrap();
        m.title = Some("two".into());
        m.save(&root).await.unwrap();
        assert_eq!(
            Manifest::load(&root).await.unwrap().title.as_deref(),
            Some("two")
        );
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![MANIFEST_FILE.to_string()]);
    }
}
