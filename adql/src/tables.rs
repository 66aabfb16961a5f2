//! The tables a query can name: the catalogue's, and whatever the caller
//! adds (TAP_SCHEMA, TAP_UPLOAD). Each knows its column metadata, its
//! DataFusion provider and, for HEALPix-partitioned catalogue tables, the
//! scanner that takes spatial covers.

use std::sync::Arc;

use astrolake_catalog::provider::TableScanner;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::table::TableKind;
use astrolake_vo::TableMeta;
use datafusion::datasource::TableProvider;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::runtime_env::RuntimeEnv;
use object_store::ObjectStore;

/// One table a query can name.
#[derive(Clone)]
pub struct TableEntry {
    /// Schema name as declared (e.g. `gaia`, `TAP_SCHEMA`, `TAP_UPLOAD`).
    pub schema: String,
    /// Table name as declared.
    pub name: String,
    /// Column metadata, in provider schema order.
    pub meta: TableMeta,
    /// The data.
    pub provider: Arc<dyn TableProvider>,
    /// For HEALPix-partitioned catalogue tables: the scanner that prunes
    /// by spatial cover.
    pub scanner: Option<TableScanner>,
    /// The position columns (ra, dec) the table is partitioned by.
    pub position: Option<(String, String)>,
}

impl std::fmt::Debug for TableEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TableEntry({}.{})", self.schema, self.name)
    }
}

impl TableEntry {
    /// The entry of a stored catalogue table.
    pub fn from_scanner(schema: &str, name: &str, scanner: &TableScanner) -> Self {
        let info = scanner.info();
        let position = match (&info.ra_column, &info.dec_column, info.kind) {
            (Some(ra), Some(dec), TableKind::Hats) => Some((ra.clone(), dec.clone())),
            _ => None,
        };
        TableEntry {
            schema: schema.to_string(),
            name: name.to_string(),
            meta: scanner.meta().clone(),
            provider: Arc::new(scanner.clone()),
            scanner: position.as_ref().map(|_| scanner.clone()),
            position,
        }
    }

    /// `schema.table`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// The stored name of a column named by a regular (case-insensitive)
    /// or delimited (exact) identifier.
    pub fn column(&self, name: &str, delimited: bool) -> Option<&str> {
        let fields = &self.meta.fields;
        if delimited {
            fields.iter().find(|f| f.name == name)
        } else {
            fields
                .iter()
                .find(|f| f.name == name)
                .or_else(|| fields.iter().find(|f| f.name.eq_ignore_ascii_case(name)))
        }
        .map(|f| f.name.as_str())
    }
}

/// Every table a query can name, the object stores they read from, and the
/// runtime (memory pool, Parquet metadata cache) queries share.
#[derive(Clone, Debug)]
pub struct Tables {
    entries: Vec<TableEntry>,
    stores: Vec<(ObjectStoreUrl, Arc<dyn ObjectStore>)>,
    runtime: Arc<RuntimeEnv>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            entries: Vec::new(),
            stores: Vec::new(),
            runtime: Arc::new(RuntimeEnv::default()),
        }
    }
}

impl Tables {
    /// No tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every table of a catalogue.
    pub fn from_catalog(catalog: &Catalog) -> Self {
        let mut t = Tables::new();
        t.add_catalog(catalog);
        t
    }

    /// Add every table of a catalogue (and its object store).
    pub fn add_catalog(&mut self, catalog: &Catalog) {
        let root = catalog.root();
        self.add_store(root.object_store_url().clone(), root.store());
        for (s, t, scanner) in catalog.tables() {
            // Mounted remote tables read from their own stores.
            let r = scanner.root();
            if !self.stores.iter().any(|(u, _)| u == r.object_store_url()) {
                self.add_store(r.object_store_url().clone(), r.store());
            }
            self.entries.push(TableEntry::from_scanner(s, t, scanner));
        }
    }

    /// Add a table (replacing one of the same qualified name).
    pub fn add(&mut self, entry: TableEntry) {
        self.entries.retain(|e| {
            !(e.schema.eq_ignore_ascii_case(&entry.schema)
                && e.name.eq_ignore_ascii_case(&entry.name))
        });
        self.entries.push(entry);
    }

    /// Add an object store the tables read from.
    pub fn add_store(&mut self, url: ObjectStoreUrl, store: Arc<dyn ObjectStore>) {
        self.runtime
            .register_object_store(url.as_ref(), Arc::clone(&store));
        self.stores.push((url, store));
    }

    /// Use this runtime (memory limits, caches) for queries.
    pub fn with_runtime(mut self, runtime: Arc<RuntimeEnv>) -> Self {
        for (url, store) in &self.stores {
            runtime.register_object_store(url.as_ref(), Arc::clone(store));
        }
        self.runtime = runtime;
        self
    }

    /// The runtime queries run in.
    pub fn runtime(&self) -> &Arc<RuntimeEnv> {
        &self.runtime
    }

    /// Every table.
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// The object stores.
    pub fn stores(&self) -> &[(ObjectStoreUrl, Arc<dyn ObjectStore>)] {
        &self.stores
    }

    /// Find a table by (optional) schema and name; `delimited` says whether
    /// each part was a delimited (case-sensitive) identifier. An unqualified
    /// name must be unique across schemas.
    pub fn find(&self, schema: Option<(&str, bool)>, name: (&str, bool)) -> Option<usize> {
        let eq = |a: &str, (b, delimited): (&str, bool)| {
            if delimited {
                a == b
            } else {
                a.eq_ignore_ascii_case(b)
            }
        };
        let hits: Vec<usize> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| eq(&e.name, name) && schema.is_none_or(|s| eq(&e.schema, s)))
            .map(|(i, _)| i)
            .collect();
        match hits[..] {
            [one] => Some(one),
            _ => None,
        }
    }
}
