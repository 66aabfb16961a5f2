//! `astrolake export` and `astrolake import` (and the admin endpoint's
//! import): moving catalogues through object stores, with the catalogue
//! record as the description.
//!
//! Import sources, told apart by what is there: a catalogue record
//! (VOResource XML, by `http(s)://` or in a store), an export root or its
//! `astrolake.json`, or a plain HATS catalogue (`hats.properties`). Every
//! URL the server fetches, and the store it reads, must be on a host of
//! `[uploads] allowed_hosts`; the tables a record names must be at
//! `s3://`, `http://` or `https://` URLs (never `file://` or a local path),
//! with valid bucket names, regions and endpoints.
//!
//! Imports run one at a time, and register nothing unless everything
//! served from the new tables can be built: the manifest is written last.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use astrolake_catalog::manifest::RemoteTable;
use astrolake_catalog::remote::{check_allowed, check_source, Allowed, RemoteOptions};
use astrolake_catalog::store::Catalog;
use astrolake_catalog::transfer::{self, Found};
use astrolake_catalog::CatalogRoot;

use crate::config::Config;

/// The largest record fetched over HTTP.
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What to import.
#[derive(Debug, Clone, Default)]
pub struct ImportRequest {
    /// Schema the tables appear under.
    pub schema: String,
    /// Record, manifest, export root or HATS catalogue URL.
    pub url: String,
    /// Copy the data instead of reading it in place.
    pub copy: bool,
    /// Options given with the request (override the record's and the
    /// configuration's).
    pub options: RemoteOptions,
}

/// The configured settings of the remote whose URL prefix matches `url`.
pub fn configured(cfg: &Config, url: &str) -> RemoteOptions {
    cfg.remotes
        .iter()
        .find(|r| url.starts_with(&r.url))
        .map(|r| r.options())
        .unwrap_or_default()
}

/// What imports may read: `[uploads] allowed_hosts` and, when set,
/// only the buckets of `[uploads] allowed_buckets`.
pub fn allowed(cfg: &Config) -> Allowed {
    Allowed {
        hosts: cfg.uploads.allowed_hosts.clone(),
        buckets: cfg.uploads.allowed_buckets.clone(),
    }
}

/// Fetch a record over HTTP(S): no redirects, bounded size.
async fn fetch_text(url: &str) -> Result<Option<String>> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()?;
    let resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    if resp.status() == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !resp.status().is_success() {
        bail!("fetching {url} gave HTTP {}", resp.status());
    }
    if resp.content_length().is_some_and(|n| n > MAX_RECORD_BYTES) {
        bail!("{url} is larger than a catalogue record can be");
    }
    let bytes = resp.bytes().await?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        bail!("{url} is larger than a catalogue record can be");
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// The tables to mount, with the options to reach them and the source
/// record's identifier and title.
struct Resolved {
    tables: Vec<Found>,
    options: RemoteOptions,
    source: Option<String>,
    title: Option<String>,
}

async fn resolve(cfg: &Config, req: &ImportRequest) -> Result<Resolved> {
    let reach = allowed(cfg);
    let allowed = &reach.hosts;
    let url = req.url.trim();
    let parsed = url::Url::parse(url).with_context(|| format!("{url} is not a URL"))?;
    let base_opts = req.options.clone().or(&configured(cfg, url));
    // A record: fetched by http(s), or an .xml object in a store.
    let record_text = if matches!(parsed.scheme(), "http" | "https")
        && !url.ends_with("/astrolake.json")
        && !url.ends_with("/hats.properties")
    {
        check_allowed(&parsed, &base_opts, allowed)?;
        match fetch_text(url).await? {
            Some(t) if t.trim_start().starts_with('<') => Some(t),
            _ => None,
        }
    } else if url.ends_with(".xml") {
        check_allowed(&parsed, &base_opts, allowed)?;
        let (dir, file) = url.rsplit_once('/').context("no file name")?;
        let root = astrolake_catalog::remote::open_root(dir, &base_opts)?;
        let b = root.get(file).await?;
        Some(String::from_utf8_lossy(&b).into_owned())
    } else {
        None
    };
    if let Some(text) = record_text {
        let access =
            astrolake_registry::access::parse(&text).map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
        let mut options = base_opts.clone();
        options.endpoint = options.endpoint.or(access.endpoint.clone());
        options.region = options.region.or(access.region.clone());
        options = options.or(&configured(cfg, &access.root));
        let mut tables = Vec::new();
        for (name, dir) in &access.tables {
            check_source(dir, &options, &reach)
                .with_context(|| format!("table {name} of {}", access.identifier))?;
            let found = transfer::discover(dir, &options)
                .await
                .with_context(|| format!("table {name} of {}", access.identifier))?;
            let table = name.rsplit('.').next().unwrap_or(name).to_string();
            tables.extend(found.into_iter().map(|f| Found {
                table: table.clone(),
                ..f
            }));
        }
        return Ok(Resolved {
            tables,
            options,
            source: Some(access.identifier),
            title: Some(access.title),
        });
    }
    check_allowed(&parsed, &base_opts, allowed)?;
    let tables = transfer::discover(url, &base_opts)
        .await
        .with_context(|| format!("reading {url}"))?;
    Ok(Resolved {
        tables,
        options: base_opts,
        source: None,
        title: None,
    })
}

/// One import at a time in this process: two at once could copy into the
/// same directory, or build what is served from a manifest the other is
/// about to change.
static IMPORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Import the tables at `req.url` into the catalogue at `root` under
/// `req.schema`: mounted in place, or copied with `req.copy`. Nothing is
/// registered unless every table opens and everything served from the
/// catalogue with them can be built. Returns the qualified names.
pub async fn import(cfg: &Config, root: &CatalogRoot, req: &ImportRequest) -> Result<Vec<String>> {
    import_then(cfg, root, req, |_| {}).await
}

/// [`import`], then `serve` is given what is now served (built from the
/// catalogue with the new tables before the manifest was written; the
/// registry state is saved), before the next import may start: a running
/// server swaps it in here, so that two imports never swap in each
/// other's stale state.
pub async fn import_then(
    cfg: &Config,
    root: &CatalogRoot,
    req: &ImportRequest,
    serve: impl FnOnce(crate::served::Served),
) -> Result<Vec<String>> {
    let _one = IMPORTS.lock().await;
    let (names, served, state) = import_unlocked(cfg, root, req).await?;
    crate::publish::save_state(cfg, &state)?;
    serve(served);
    Ok(names)
}

async fn import_unlocked(
    cfg: &Config,
    root: &CatalogRoot,
    req: &ImportRequest,
) -> Result<(
    Vec<String>,
    crate::served::Served,
    astrolake_registry::state::State,
)> {
    let schema = req.schema.trim();
    if astrolake_catalog::manifest::check_name(schema).is_err()
        || schema.eq_ignore_ascii_case("TAP_SCHEMA")
        || schema.eq_ignore_ascii_case("TAP_UPLOAD")
    {
        bail!("--schema {schema:?}: a plain identifier other than TAP_SCHEMA and TAP_UPLOAD");
    }
    let r = resolve(cfg, req).await?;
    let remotes: Vec<RemoteTable> = r
        .tables
        .iter()
        .map(|f| RemoteTable {
            url: f.url.clone(),
            options: r.options.clone(),
            layout: f.layout.clone(),
            source: r.source.clone(),
        })
        .collect();
    let names: Vec<(String, Option<String>)> = r
        .tables
        .iter()
        .map(|f| (f.table.clone(), f.description.clone()))
        .collect();
    transfer::check_names(schema, &names).with_context(|| format!("importing {}", req.url))?;
    let settings = cfg.remote_settings();
    let staged = if req.copy {
        transfer::prepare_copy(root, schema, &remotes, &names, &settings).await?
    } else {
        transfer::prepare_mount(root, schema, &remotes, &names, r.title, &settings).await?
    };
    let schema = staged.schema().to_string();
    // Everything served with the new tables, before they are registered.
    let built = async {
        let current = Catalog::open_with(root, &settings).await?;
        let manifest = staged.added_to(current.manifest())?;
        let added: Vec<(String, String, _)> = staged
            .tables()
            .map(|(t, s)| (schema.clone(), t.to_string(), s.clone()))
            .collect();
        let cat = current.with_tables(manifest, added);
        crate::served::build(cfg, &cat).await
    }
    .await;
    let (served, state) = match built {
        Ok(b) => b,
        Err(e) => {
            staged.discard().await;
            return Err(e.context(format!("importing {}: nothing was registered", req.url)));
        }
    };
    if let Err(e) = staged.commit().await {
        staged.discard().await;
        return Err(e.into());
    }
    let names = names.iter().map(|(n, _)| format!("{schema}.{n}")).collect();
    Ok((names, served, state))
}

/// Export the catalogue at `src` (or one table) to `to`, then write the
/// catalogue records (one per schema, pointing at `to`) as
/// `records/SCHEMA.xml` there.
pub async fn export(
    cfg: &Config,
    src: &CatalogRoot,
    to: &str,
    table: Option<(String, String)>,
    options: &RemoteOptions,
) -> Result<transfer::ExportReport> {
    let opts = options.clone().or(&configured(cfg, to));
    let dest = astrolake_catalog::remote::open_root(to, &opts)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("a valid template"),
    );
    let report = transfer::export(
        src,
        &dest,
        table.as_ref().map(|(s, t)| (s.as_str(), t.as_str())),
        |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .await?;
    bar.finish_and_clear();
    // The records, rewritten to point at the export.
    let exported = Catalog::open(&dest)
        .await
        .context("reading back the exported catalogue")?;
    let mut rcfg = cfg.clone();
    rcfg.registry.catalogue_url = Some(to.trim_end_matches('/').to_string());
    rcfg.registry.catalogue_endpoint = opts.endpoint.clone();
    rcfg.registry.catalogue_region = opts.region.clone();
    let (_, docs) = crate::served::served_tables(&exported);
    let reg = crate::publish::registry(
        &rcfg,
        &exported,
        &docs,
        crate::site::capabilities(&rcfg),
        false,
    )
    .await?;
    for p in reg.records() {
        if let (Some(r), Some(schema)) = (
            &p.resource,
            p.identifier
                .strip_prefix(&format!("ivo://{}/catalogue/", rcfg.registry.authority)),
        ) {
            dest.put(&format!("records/{schema}.xml"), r.to_document(p.dates()))
                .await?;
        }
    }
    Ok(report)
}
