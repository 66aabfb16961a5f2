//! What is served from the catalogue's tables (the tables queries name,
//! `/tables`, `/examples`, the registry records and their RegTAP tables),
//! built from the
//! catalogue as a whole and swapped as a whole ([`SharedServed`]) when it
//! changes; and the one DataFusion runtime all served queries share.

use std::sync::Arc;

use anyhow::{Context, Result};
use astrolake_adql::Tables;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::CatalogRoot;
use astrolake_registry::state::State;
use astrolake_vosi::{Example, TableDoc};
use datafusion::datasource::MemTable;
use datafusion::execution::runtime_env::RuntimeEnv;

use crate::config::Config;

/// What is served from the catalogue's tables: replaced as a whole when
/// the catalogue changes (an admin import), so a request sees one
/// consistent set.
pub struct Served {
    /// The tables queries can name (catalogue and TAP_SCHEMA).
    pub tables: Tables,
    /// `/tables` entries.
    pub table_docs: Vec<TableDoc>,
    /// `/examples` entries.
    pub examples: Vec<Example>,
    /// The registry records (OAI-PMH, `/registry/...`).
    pub registry: Arc<astrolake_registry::Registry>,
}

/// The current [`Served`], swappable.
pub type SharedServed = Arc<std::sync::RwLock<Arc<Served>>>;

/// Share a [`Served`].
pub fn shared(s: Served) -> SharedServed {
    Arc::new(std::sync::RwLock::new(Arc::new(s)))
}

/// The current [`Served`].
pub fn current(s: &SharedServed) -> Arc<Served> {
    Arc::clone(&s.read().unwrap_or_else(|e| e.into_inner()))
}

/// The DataFusion runtime every served query shares: one memory pool for
/// all of them (set by `serve`; other commands use DataFusion's default).
pub static QUERY_RUNTIME: std::sync::OnceLock<std::sync::Arc<RuntimeEnv>> =
    std::sync::OnceLock::new();

/// A runtime whose queries hold at most `bytes` of memory together:
/// sorts, joins and aggregates spill to the temporary directory beyond
/// their fair share, the others fail with "Resources exhausted".
pub fn query_runtime(bytes: u64) -> Result<std::sync::Arc<RuntimeEnv>> {
    let pool = datafusion::execution::memory_pool::FairSpillPool::new(bytes as usize);
    Ok(datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_pool(std::sync::Arc::new(pool))
        .build_arc()?)
}

/// The tables a query can name in a catalogue: its own and TAP_SCHEMA's,
/// the same for the server and for `astrolake query`.
pub fn query_tables(cat: &Catalog) -> astrolake_adql::Tables {
    query_tables_and_keys(cat).0
}

fn query_tables_and_keys(cat: &Catalog) -> (astrolake_adql::Tables, Vec<astrolake_vo::ForeignKey>) {
    let mut tables = astrolake_adql::Tables::from_catalog(cat);
    if let Some(rt) = QUERY_RUNTIME.get() {
        tables = tables.with_runtime(std::sync::Arc::clone(rt));
    }
    let schemas = cat
        .manifest()
        .schemas
        .iter()
        .map(|(n, e)| astrolake_tap::tap_schema::SchemaInfo {
            name: n.clone(),
            description: e.description.clone().or(e.title.clone()),
            ..Default::default()
        })
        .collect();
    let mut schemas: astrolake_tap::tap_schema::SchemaDescriptions = schemas;
    schemas.push(regtap_schema());
    // The rr tables are described before their rows exist: those come
    // from the registry records, which list the tables (see `build`).
    for entry in regtap_entries(&astrolake_regtap::Rows::default())
        .expect("empty rr tables follow their schema")
    {
        tables.add(entry);
    }
    let keys = astrolake_regtap::foreign_keys();
    astrolake_tap::tap_schema::add_to(&mut tables, &schemas, &keys);
    (tables, keys)
}

/// The `rr` schema: RegTAP asks for its utype (the data model id, lower
/// case) in TAP_SCHEMA and `/tables`, and `std` = 1 on its columns.
fn regtap_schema() -> astrolake_tap::tap_schema::SchemaInfo {
    astrolake_tap::tap_schema::SchemaInfo {
        name: astrolake_regtap::SCHEMA.to_string(),
        description: Some(format!(
            "The Registry Relational Schema ({}): the records this site's registry publishes, \
             searchable as pyvo.regsearch and TOPCAT search registries",
            astrolake_regtap::DATA_MODEL.1
        )),
        utype: Some(astrolake_regtap::DATA_MODEL.0.to_ascii_lowercase()),
        standard: true,
    }
}

/// The `rr` tables (RegTAP) holding `rows`.
fn regtap_entries(rows: &astrolake_regtap::Rows) -> Result<Vec<astrolake_adql::TableEntry>> {
    astrolake_regtap::batches(rows)?
        .into_iter()
        .map(|(t, batch)| {
            // The columns' metadata travels with them into results.
            let meta = t.meta();
            let schema = astrolake_catalog::provider::with_field_metadata(&batch.schema(), &meta);
            let batch = batch.with_schema(Arc::clone(&schema))?;
            let provider = MemTable::try_new(schema, vec![vec![batch]])?;
            Ok(astrolake_adql::TableEntry {
                schema: astrolake_regtap::SCHEMA.to_string(),
                name: t.name.to_string(),
                meta,
                provider: Arc::new(provider),
                scanner: None,
                position: None,
            })
        })
        .collect()
}

/// The `rr` tables filled from the published records (what OAI-PMH
/// harvesters get is what RegTAP searches).
fn fill_regtap(tables: &mut Tables, registry: &astrolake_registry::Registry) -> Result<()> {
    let records: Vec<String> = registry
        .records()
        .iter()
        .filter_map(|p| p.resource.as_ref().map(|r| r.to_vor(p.dates())))
        .collect();
    let rows = astrolake_regtap::rows(records.iter().map(String::as_str))?;
    for entry in regtap_entries(&rows)? {
        tables.add(entry);
    }
    Ok(())
}

/// The tables a catalogue serves (with TAP_SCHEMA) and their `/tables`
/// entries.
pub fn served_tables(cat: &Catalog) -> (astrolake_adql::Tables, Vec<astrolake_vosi::TableDoc>) {
    let (tables, keys) = query_tables_and_keys(cat);
    let keys = astrolake_tap::tap_schema::with_own_keys(&keys);
    let mut table_docs = astrolake_vosi::table_docs(&tables, Some(cat.manifest()), &keys);
    let rr = regtap_schema();
    for d in table_docs.iter_mut().filter(|d| d.schema == rr.name) {
        d.schema_description = rr.description.clone();
        d.schema_utype = rr.utype.clone();
    }
    (tables, table_docs)
}

/// Everything served that depends on the catalogue's tables, built from
/// the catalogue at `root` (at start-up, and again after an admin import).
pub async fn open(cfg: &Config, root: &CatalogRoot) -> Result<Served> {
    let cat = Catalog::open_with(root, &cfg.remote_settings()).await?;
    for p in cat.problems() {
        eprintln!("warning: not serving {p}");
    }
    let (served, state) = build(cfg, &cat).await?;
    crate::publish::save_state(cfg, &state)?;
    Ok(served)
}

/// Everything served from `cat` (tables, `/tables`, examples, registry
/// records), and the registry state to save once it is served
/// ([`crate::publish::save_state`]).
pub async fn build(cfg: &Config, cat: &Catalog) -> Result<(Served, State)> {
    let (mut tables, table_docs) = served_tables(cat);
    let names: Vec<String> = table_docs.iter().map(|t| t.qualified()).collect();
    let (registry, state) =
        crate::publish::registry_unsaved(cfg, cat, &table_docs, crate::site::capabilities(cfg))
            .context("publishing the registry records")?;
    fill_regtap(&mut tables, &registry).context("filling the RegTAP tables")?;
    let examples =
        astrolake_vosi::checked_examples(astrolake_vosi::default_examples(&names), &tables).await;
    Ok((
        Served {
            tables,
            table_docs,
            examples,
            registry: std::sync::Arc::new(registry),
        },
        state,
    ))
}
