//! Record dates that outlive the server: when each identifier was first
//! published, when its content last changed (a SHA-256 digest of the
//! record tells), and which records were removed (OAI-PMH deleted
//! records). Kept in one JSON file, replaced atomically and durably
//! ([`astrolake_catalog::atomic_write`]: unique temporary name, fsync,
//! rename, directory fsync).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::RegistryError;

/// What is remembered about one identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// First published, `YYYY-MM-DDThh:mm:ssZ`.
    pub created: String,
    /// Last changed (or removed).
    pub updated: String,
    /// SHA-256 of the record's content (hex).
    pub digest: String,
    /// Whether the resource is gone (a deleted record).
    #[serde(default)]
    pub deleted: bool,
}

/// The remembered entries, by identifier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Entries by identifier.
    pub records: BTreeMap<String, Entry>,
}

/// SHA-256 of a record's text, hex.
pub fn digest(text: &str) -> String {
    let d = Sha256::digest(text.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl State {
    /// Read the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<State, RegistryError> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| RegistryError::State {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
            Err(e) => Err(RegistryError::State {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }

    /// Write the state file atomically and durably: after a crash it
    /// holds the old or the new state, and two servers sharing a data
    /// directory never write through the same temporary file.
    pub fn save(&self, path: &Path) -> Result<(), RegistryError> {
        let body = serde_json::to_vec_pretty(self).expect("the state serialises");
        astrolake_catalog::atomic_write(path, &body).map_err(|e| RegistryError::State {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Bring the state up to date with the records published now
    /// (identifier → digest) at time `now`: new identifiers are created
    /// now, changed digests are updated now, identifiers no longer
    /// published become deleted now, and a deleted identifier that comes
    /// back is updated now. Returns whether anything changed.
    pub fn sync<'a>(
        &mut self,
        current: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: &str,
    ) -> bool {
        let mut changed = false;
        let mut seen = std::collections::BTreeSet::new();
        for (id, dig) in current {
            seen.insert(id.to_string());
            match self.records.get_mut(id) {
                Some(e) if e.digest == dig && !e.deleted => {}
                Some(e) => {
                    e.digest = dig.to_string();
                    e.updated = now.to_string();
                    e.deleted = false;
                    changed = true;
                }
                None => {
                    self.records.insert(
                        id.to_string(),
                        Entry {
                            created: now.to_string(),
                            updated: now.to_string(),
                            digest: dig.to_string(),
                            deleted: false,
                        },
                    );
                    changed = true;
                }
            }
        }
        for (id, e) in self.records.iter_mut() {
            if !seen.contains(id) && !e.deleted {
                e.deleted = true;
                e.updated = now.to_string();
                changed = true;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_stays_updated_follows_content_and_removal_is_a_deletion() {
        let mut s = State::default();
        assert!(s.sync([("ivo://a/x", "d1"), ("ivo://a/y", "e1")], "T1"));
        assert!(!s.sync([("ivo://a/x", "d1"), ("ivo://a/y", "e1")], "T2"));
        assert!(s.sync([("ivo://a/x", "d2")], "T3"));
        let x = &s.records["ivo://a/x"];
        assert_eq!((x.created.as_str(), x.updated.as_str()), ("T1", "T3"));
        let y = &s.records["ivo://a/y"];
        assert!(y.deleted);
        assert_eq!(y.updated, "T3");
        // Back again: active, updated, same creation date.
        assert!(s.sync([("ivo://a/x", "d2"), ("ivo://a/y", "e1")], "T4"));
        let y = &s.records["ivo://a/y"];
        assert!(!y.deleted);
        assert_eq!((y.created.as_str(), y.updated.as_str()), ("T1", "T4"));
    }

    #[test]
    fn the_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry/state.json");
        assert_eq!(State::load(&path).unwrap(), State::default());
        let mut s = State::default();
        s.sync([("ivo://a/x", "d1")], "2026-01-01T00:00:00Z");
        s.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), s);
        // Nothing but the state file is left in its directory.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        std::fs::write(&path, "{not json").unwrap();
        assert!(State::load(&path).is_err());
    }

    #[test]
    fn digests_are_sha256() {
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
