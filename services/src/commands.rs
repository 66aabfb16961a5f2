//! What each subcommand does: thin, parsing nothing itself (that is
//! [`crate::cli`]) and calling the library crates and this crate's
//! services.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use astrolake_catalog::ingest::{self, IngestOptions};
use astrolake_catalog::input::Format;
use astrolake_catalog::manifest::split_table_name;
use astrolake_catalog::store::Catalog;
use astrolake_catalog::synth::{SynthSource, SynthTable};
use astrolake_catalog::CatalogRoot;
use astrolake_vo::TableMeta;

use crate::cli::*;
use crate::config::Config;
use futures::StreamExt;

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
        let tables = crate::served::query_tables(&catalog);
        if explain {
            let t = astrolake_adql::plan(query, &tables).await?;
            println!("covers: {:?}", t.covers);
            println!("positional joins (order, radius): {:?}", t.positional_joins);
            let df = t.dataframe();
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
async fn ensure_demo(cfg: &Config) -> Result<String> {
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

/// Run one command line.
pub async fn run(cli: Cli) -> Result<()> {
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
            let r = crate::exchange::export(&cfg, &root, &to, table, &remote.options()).await?;
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
            let req = crate::exchange::ImportRequest {
                schema,
                url,
                copy,
                options: remote.options(),
            };
            let names = crate::exchange::import(&cfg, &root, &req).await?;
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

fn load_config(file: Option<PathBuf>) -> Result<Config> {
    let file = file.or_else(|| std::env::var_os("ASTROLAKE_CONFIG").map(PathBuf::from));
    Config::load(file.as_deref(), std::env::vars())
}

async fn run_registry(catalog: &str, cfg: &Config, action: RegistryAction) -> Result<()> {
    let root = CatalogRoot::open(catalog)?;
    let cat = Catalog::open_with(&root, &cfg.remote_settings()).await?;
    let (_, table_docs) = crate::served::served_tables(&cat);
    let reg = crate::publish::registry(
        cfg,
        &cat,
        &table_docs,
        crate::site::capabilities(cfg),
        false,
    )
    .await?;
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

async fn run_serve(catalog: &str, cfg: &Config) -> Result<()> {
    let root = CatalogRoot::open(catalog)?;
    let memory = cfg.limits.query_memory_bytes();
    let _ = crate::served::QUERY_RUNTIME.set(crate::served::query_runtime(memory)?);
    let state = crate::state::AppState::open(cfg, &root).await?;
    let bind = cfg.server.bind.clone();
    let base = state.base_path.clone();
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
        crate::site::oai_url(cfg),
        crate::site::site_url(cfg)
    );
    eprintln!(
        "TAP service at {url}\n  TOPCAT: File > Table Access > TAP, URL {url}\n  pyvo: pyvo.dal.TAPService(\"{url}\").search(\"SELECT TOP 10 * FROM TAP_SCHEMA.tables\")"
    );
    crate::server::serve(state, &bind)
        .await
        .with_context(|| format!("serving on {bind}"))
}

/// Stack of every runtime thread. A query's trees are at most
/// `[limits] max_query_depth` deep (checked before parsing), and every walk
/// over them (checking, translating, DataFusion's planner and optimiser,
/// expression evaluation) recurses once per level: this is room for the
/// deepest allowed query with a wide margin (the default thread stack, 2 MiB,
/// is not).
pub const THREAD_STACK_BYTES: usize = 64 << 20;
