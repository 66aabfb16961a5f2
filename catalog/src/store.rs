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
}

impl Catalog {
    /// Open every table listed in the root's manifest.
    pub async fn open(root: &CatalogRoot) -> Result<Self> {
        let manifest = Manifest::load(root).await?;
        let mut tables = Vec::new();
        for (s, t, e) in manifest.tables() {
            tables.push((
                s.to_string(),
                t.to_string(),
                TableScanner::open(root, &e.path).await?,
            ));
        }
        Ok(Catalog {
            root: root.clone(),
            manifest,
            tables,
        })
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

    /// Register the catalogue's store and tables in a session.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        ctx.register_object_store(self.root.object_store_url().as_ref(), self.root.store());
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
