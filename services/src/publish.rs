//! The site's registry records: built from the catalogue, the TAP
//! service's capabilities and `[registry]`, dated from the registry state
//! file under the data directory.

use std::path::PathBuf;

use anyhow::Result;
use astrolake_catalog::store::Catalog;
use astrolake_registry::site::{CatalogueTable, Site};
use astrolake_registry::state::State;
use astrolake_registry::Registry;
use astrolake_vosi::{CapabilitiesConfig, TableDoc};

use crate::config::Config;

/// Where the registry remembers record dates.
pub fn state_path(cfg: &Config) -> PathBuf {
    cfg.data_dir().join("registry").join("state.json")
}

/// Where other sites read the catalogue's files, and its HTTPS form.
fn files_urls(cfg: &Config, cat: &Catalog) -> (String, Option<String>) {
    let r = &cfg.registry;
    let root = cat.root().url();
    let s3 = r.catalogue_url.clone().or_else(|| {
        (root.scheme() == "s3").then(|| root.as_str().trim_end_matches('/').to_string())
    });
    let Some(url) = s3 else {
        return (format!("{}/catalogue/", crate::site::site_url(cfg)), None);
    };
    let https = url.strip_prefix("s3://").map(|rest| {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        let tail = if prefix.is_empty() {
            String::new()
        } else {
            format!("/{prefix}")
        };
        match (&r.catalogue_endpoint, &r.catalogue_region) {
            (Some(e), _) => format!("{}/{bucket}{tail}", e.trim_end_matches('/')),
            (None, Some(region)) => format!("https://{bucket}.s3.{region}.amazonaws.com{tail}"),
            (None, None) => format!("https://{bucket}.s3.amazonaws.com{tail}"),
        }
    });
    (url, https)
}

/// The records of this site, dated from the state file; with `save`, the
/// state file is updated (new, changed and removed records).
pub async fn registry(
    cfg: &Config,
    cat: &Catalog,
    table_docs: &[TableDoc],
    capabilities: CapabilitiesConfig,
    save: bool,
) -> Result<Registry> {
    let (reg, state) = registry_unsaved(cfg, cat, table_docs, capabilities)?;
    if save {
        save_state(cfg, &state)?;
    }
    Ok(reg)
}

/// Save the registry state [`registry_unsaved`] or [`served`] computed.
pub fn save_state(cfg: &Config, state: &State) -> Result<()> {
    state.save(&state_path(cfg))?;
    Ok(())
}

/// The records of this site and the state file as it is to be saved
/// once they are served.
pub fn registry_unsaved(
    cfg: &Config,
    cat: &Catalog,
    table_docs: &[TableDoc],
    capabilities: CapabilitiesConfig,
) -> Result<(Registry, State)> {
    let mut tables = Vec::new();
    for (schema, table, scanner) in cat.tables() {
        let info = scanner.info();
        let orders = info
            .files
            .iter()
            .filter_map(|f| f.pixel.map(|p| p.order))
            .fold(None, |acc: Option<(u8, u8)>, o| {
                Some(acc.map_or((o, o), |(lo, hi)| (lo.min(o), hi.max(o))))
            });
        let entry = cat.manifest().table(schema, table).map(|(_, _, e)| e);
        let remote = entry.and_then(|e| e.remote.clone());
        tables.push(CatalogueTable {
            schema: schema.clone(),
            table: table.clone(),
            // Where other sites read it: the remote's URL for a mounted
            // table, the table's path in this catalogue (not the version
            // directory the server pins) for a local one.
            path: match (&remote, entry) {
                (Some(r), _) => r.url.clone(),
                (None, Some(e)) => e.path.clone(),
                (None, None) => scanner.dir().to_string(),
            },
            orders,
            version: info.version.clone(),
            // Read and checked when the table was opened (a mounted
            // table's MOC is in its own store).
            moc: scanner.moc().map(<[u8]>::to_vec),
            source: remote.and_then(|r| r.source),
        });
    }
    let (files_url, files_https_url) = files_urls(cfg, cat);
    let tap = crate::site::tap_url(cfg);
    let oai = crate::site::oai_url(cfg);
    let site = Site {
        config: &cfg.registry,
        tap_url: &tap,
        oai_url: &oai,
        capabilities,
        table_docs,
        manifest: cat.manifest(),
        tables,
        files_url,
        files_https_url,
    };
    let resources = astrolake_registry::site::resources(&site)?;
    let path = state_path(cfg);
    let mut state = State::load(&path)?;
    let reg = Registry::publish(
        cfg.registry.clone(),
        &oai,
        resources,
        &mut state,
        &astrolake_registry::now(),
    );
    Ok((reg, state))
}
