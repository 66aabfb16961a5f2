//! A whole catalogue: the manifest plus a [`TableScanner`] per table, and a
//! DataFusion session with every table registered.

use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::manifest::Manifest;
use crate::provider::TableScanner;
use crate::root::CatalogRoot;

/// An opened catalogue.
#[derive(Debug, Clone)]
pub struct Catalog {
    root: CatalogRoot,
    manifest: Manifest,
    tables: Vec<(String, String, TableScanner)>,
    problems: Vec<String>,
}

/// Settings for remote stores from configuration: a URL prefix and the
/// options (credentials included) for tables whose URL starts with it.
pub type RemoteSettings = [(String, crate::remote::RemoteOptions)];

impl Catalog {
    /// Open every table listed in the root's manifest.
    pub async fn open(root: &CatalogRoot) -> Result<Self> {
        Self::open_with(root, &[]).await
    }

    /// Open every table listed in the root's manifest; mounted remote
    /// tables take their options from the manifest, completed by the
    /// first of `remotes` whose URL prefix matches. A remote table that
    /// cannot be opened (unreachable, denied, missing or malformed
    /// metadata or coverage MOC, an invalid location) is left out and
    /// reported by [`Catalog::problems`]; the others are served. A local
    /// table that cannot be opened is an error (the catalogue itself is
    /// damaged).
    ///
    /// Each local table is pinned to the version published when it was
    /// opened, and follows a newer one only once that version is gone
    /// ([`TableScanner::following`]).
    pub async fn open_with(root: &CatalogRoot, remotes: &RemoteSettings) -> Result<Self> {
        let manifest = Manifest::load(root).await?;
        let mut tables = Vec::new();
        let mut problems = Vec::new();
        for (s, t, e) in manifest.tables() {
            match &e.remote {
                None => {
                    let scanner = TableScanner::open(root, &e.path)
                        .await
                        .map_err(|err| with_table(err, s, t))?;
                    tables.push((s.to_string(), t.to_string(), scanner.following(s, t)))
                }
                Some(r) => match open_remote(r, s, t, remotes).await {
                    Ok(scanner) => tables.push((s.to_string(), t.to_string(), scanner)),
                    Err(err) => problems.push(format!("{s}.{t} ({}): {err}", r.url)),
                },
            }
        }
        Ok(Catalog {
            root: root.clone(),
            manifest,
            tables,
            problems,
        })
    }

    /// This catalogue as it will be once `added` are registered with
    /// `manifest` (an import checks it can serve them before writing the
    /// manifest).
    pub fn with_tables(
        &self,
        manifest: Manifest,
        added: impl IntoIterator<Item = (String, String, TableScanner)>,
    ) -> Catalog {
        let mut c = self.clone();
        c.manifest = manifest;
        c.tables.extend(added);
        c
    }

    /// Remote tables that could not be opened, with the reason.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The root.
    pub fn root(&self) -> &CatalogRoot {
        &self.root
    }
    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }
    /// Every table as `(schema, table, scanner)`.
    pub fn tables(&self) -> &[(String, String, TableScanner)] {
        &self.tables
    }
    /// A table by name (case-insensitive).
    pub fn table(&self, schema: &str, table: &str) -> Option<&TableScanner> {
        self.tables
            .iter()
            .find(|(s, t, _)| s.eq_ignore_ascii_case(schema) && t.eq_ignore_ascii_case(table))
            .map(|(_, _, p)| p)
    }

    /// A DataFusion session with every table registered as `schema.table`,
    /// and also unqualified when no other schema has a table of that name.
    pub fn session(&self) -> Result<SessionContext> {
        let config = SessionConfig::new().with_information_schema(true);
        let ctx = SessionContext::new_with_config(config);
        self.register(&ctx)?;
        Ok(ctx)
    }

    /// Register the catalogue's stores and tables in a session.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        ctx.register_object_store(self.root.object_store_url().as_ref(), self.root.store());
        ctx.register_udf(crate::cover::cover_udf());
        for (_, _, scanner) in &self.tables {
            let r = scanner.root();
            ctx.register_object_store(r.object_store_url().as_ref(), r.store());
        }
        let catalog = ctx.catalog("datafusion").expect("default catalog");
        for (schema, table, scanner) in &self.tables {
            let sp = match catalog.schema(schema) {
                Some(sp) => sp,
                None => {
                    let sp: Arc<dyn SchemaProvider> = Arc::new(MemorySchemaProvider::new());
                    catalog.register_schema(schema, Arc::clone(&sp))?;
                    sp
                }
            };
            sp.register_table(table.clone(), Arc::new(scanner.clone()))?;
            let unique = self.tables.iter().filter(|(_, t, _)| t == table).count() == 1;
            if unique {
                ctx.register_table(table.as_str(), Arc::new(scanner.clone()))?;
            }
        }
        Ok(())
    }
}

/// Name the table in an error that does not.
fn with_table(
    e: crate::error::CatalogError,
    schema: &str,
    table: &str,
) -> crate::error::CatalogError {
    use crate::error::CatalogError;
    match e {
        CatalogError::Metadata(m) => CatalogError::Metadata(format!("{schema}.{table}: {m}")),
        CatalogError::NotFound(m) => CatalogError::NotFound(format!("{schema}.{table}: {m}")),
        CatalogError::Invalid(m) => CatalogError::Invalid(format!("{schema}.{table}: {m}")),
        other => other,
    }
}

/// Open a mounted remote table (its descriptor or HATS metadata, schema
/// and coverage MOC).
pub async fn open_remote(
    r: &crate::manifest::RemoteTable,
    schema: &str,
    table: &str,
    remotes: &RemoteSettings,
) -> Result<TableScanner> {
    let mut opts = r.options.clone();
    if let Some((_, o)) = remotes
        .iter()
        .find(|(prefix, _)| r.url.starts_with(prefix.as_str()))
    {
        opts = opts.or(o);
    }
    let root = crate::remote::open_root(&r.url, &opts)?;
    let opened = match r.layout.as_str() {
        "hats" => TableScanner::open_hats(&root, "", schema, table).await,
        _ => TableScanner::open(&root, "").await,
    };
    opened.map_err(|e| crate::remote::explain(e, &r.url))
}
