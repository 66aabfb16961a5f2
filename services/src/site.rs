//! How the site names itself (its public URLs) and what its TAP service
//! offers (the capabilities behind `/capabilities` and the TAP record):
//! from the configuration alone.

use astrolake_tap::formats::Format;
use astrolake_tap::query::Limits;
use astrolake_tap::upload::UploadLimits;
use astrolake_vosi::{CapabilitiesConfig, DataLimit, LimitUnit, TimeLimit};

use crate::config::Config;

/// The server's public root URL (no trailing `/`): `[server] public_url`
/// without the TAP base path, else `http://BIND`.
pub fn site_url(cfg: &Config) -> String {
    let base = cfg.server.base_path.trim_end_matches('/');
    match &cfg.server.public_url {
        Some(u) => {
            let u = u.trim_end_matches('/');
            match u.strip_suffix(base) {
                Some(root) if !base.is_empty() => root.to_string(),
                _ => match url::Url::parse(u) {
                    Ok(p) => p.origin().ascii_serialization(),
                    Err(_) => u.to_string(),
                },
            }
        }
        None => format!("http://{}", cfg.server.bind),
    }
}

/// The TAP service's public URL.
pub fn tap_url(cfg: &Config) -> String {
    match &cfg.server.public_url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!(
            "{}{}",
            site_url(cfg),
            cfg.server.base_path.trim_end_matches('/')
        ),
    }
}

/// The OAI-PMH endpoint's public URL.
pub fn oai_url(cfg: &Config) -> String {
    format!("{}{}", site_url(cfg), cfg.registry.oai_path)
}

/// The TAP capabilities as configured (for `/capabilities` and the TAP
/// service's record).
pub fn capabilities(cfg: &Config) -> astrolake_vosi::CapabilitiesConfig {
    capabilities_config(
        tap_url(cfg),
        &cfg.limits.limits(),
        &cfg.uploads.limits(),
        retention(cfg),
        execution_duration(cfg),
    )
}

/// How long jobs are kept (default and most), for `/capabilities`.
pub fn retention(cfg: &Config) -> astrolake_vosi::TimeLimit {
    astrolake_vosi::TimeLimit {
        default: cfg.jobs.default_destruction,
        hard: cfg.jobs.max_destruction,
    }
}

/// How long a job may run (default and most), for `/capabilities`.
pub fn execution_duration(cfg: &Config) -> astrolake_vosi::TimeLimit {
    astrolake_vosi::TimeLimit {
        default: cfg.jobs.default_execution_duration.into(),
        hard: cfg.jobs.max_execution_duration.into(),
    }
}

/// The capabilities of the TAP service at `base_url` with these limits
/// (`/capabilities`, and the TAP service's registry record).
pub fn capabilities_config(
    base_url: String,
    limits: &Limits,
    uploads: &UploadLimits,
    retention: TimeLimit,
    execution_duration: TimeLimit,
) -> CapabilitiesConfig {
    let formats: Vec<(String, Vec<String>)> = Format::all()
        .into_iter()
        .map(|(_, mime, aliases)| {
            (
                mime.to_string(),
                aliases.into_iter().map(str::to_string).collect(),
            )
        })
        .collect();
    let mut c = CapabilitiesConfig::new(base_url, &formats);
    // The rr schema (RegTAP) holds the site's registry records.
    let (id, name) = astrolake_regtap::DATA_MODEL;
    c.data_models.push((id.to_string(), name.to_string()));
    c.retention_period = Some(retention);
    c.execution_duration = Some(execution_duration);
    c.output_limit = Some(DataLimit {
        default: limits.default_maxrec,
        hard: limits.hard_maxrec,
        unit: LimitUnit::Row,
    });
    c.upload_limit = Some(DataLimit {
        default: uploads.max_bytes,
        hard: uploads.max_bytes,
        unit: LimitUnit::Byte,
    });
    c
}
