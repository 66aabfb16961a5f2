//! Catalogues elsewhere: roots on any S3-compatible store or behind plain
//! HTTP(S), opened with the standard AWS settings and per-remote
//! overrides, and the host allowlist every fetch from a user- or
//! record-supplied URL goes through.
//!
//! Credentials, in order: the remote's own keys ([`RemoteOptions`]), then
//! an AWS profile (`profile`, else `AWS_PROFILE`, read from
//! `~/.aws/credentials` and `~/.aws/config`), then the environment
//! (`AWS_ACCESS_KEY_ID`, ...); `anonymous` reads public buckets without
//! signing. The endpoint is the remote's, else `AWS_ENDPOINT_URL` or
//! `AWS_ENDPOINT`; a plain-`http://` endpoint needs `AWS_ALLOW_HTTP=true`
//! (or `allow_http`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjPath;
use object_store::{ClientOptions, ObjectStore};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{CatalogError, Result};
use crate::root::CatalogRoot;

/// How to reach one remote store. Saved in the manifest for mounted
/// tables (never the secret keys: those come from configuration, a
/// profile or the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteOptions {
    /// S3 endpoint URL (non-AWS stores), e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Read without credentials (public buckets).
    pub anonymous: bool,
    /// Allow a plain-`http://` S3 endpoint (also `AWS_ALLOW_HTTP=true`).
    pub allow_http: bool,
    /// AWS profile to take credentials (and region, endpoint) from.
    pub profile: Option<String>,
    /// Access key (configuration only; not saved in manifests).
    #[serde(skip_serializing)]
    pub access_key_id: Option<String>,
    /// Secret key (configuration only; not saved in manifests).
    #[serde(skip_serializing)]
    pub secret_access_key: Option<String>,
}

impl RemoteOptions {
    /// These options without the secret keys (what a manifest keeps).
    pub fn public(&self) -> RemoteOptions {
        RemoteOptions {
            access_key_id: None,
            secret_access_key: None,
            ..self.clone()
        }
    }

    /// Fill what these options leave open from `other` (e.g. the
    /// configured settings of a remote).
    pub fn or(mut self, other: &RemoteOptions) -> RemoteOptions {
        self.endpoint = self.endpoint.or(other.endpoint.clone());
        self.region = self.region.or(other.region.clone());
        self.anonymous |= other.anonymous;
        self.allow_http |= other.allow_http;
        self.profile = self.profile.or(other.profile.clone());
        self.access_key_id = self.access_key_id.or(other.access_key_id.clone());
        self.secret_access_key = self.secret_access_key.or(other.secret_access_key.clone());
        self
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_true(name: &str) -> bool {
    env(name).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The sections of an INI-style AWS file (`[name]` / `key = value`).
fn read_ini(path: &std::path::Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    let mut section = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            out.entry(section.clone())
                .or_default()
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    out
}

/// Credentials and settings of an AWS profile: `~/.aws/credentials`
/// (`AWS_SHARED_CREDENTIALS_FILE`) section `[NAME]` and `~/.aws/config`
/// (`AWS_CONFIG_FILE`) section `[profile NAME]` (`[default]` for the
/// default profile).
fn profile(name: &str) -> Result<BTreeMap<String, String>> {
    let home = env("HOME").map(PathBuf::from).unwrap_or_default();
    let creds = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/credentials"));
    let config = env("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join(".aws/config"));
    let mut out = BTreeMap::new();
    let config_section = if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    };
    if let Some(s) = read_ini(&config).remove(&config_section) {
        out.extend(s);
    }
    if let Some(s) = read_ini(&creds).remove(name) {
        out.extend(s);
    }
    if out.is_empty() {
        return Err(CatalogError::Invalid(format!(
            "AWS profile {name:?} is in neither {} nor {}",
            creds.display(),
            config.display()
        )));
    }
    Ok(out)
}

/// The host a URL's data is fetched from: the S3 endpoint's host for
/// `s3://` URLs with an endpoint, `s3.amazonaws.com` for AWS, the URL's
/// host otherwise.
pub fn connect_host(url: &Url, opts: &RemoteOptions) -> Option<String> {
    if url.scheme() == "s3" {
        let endpoint = opts
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| env("AWS_ENDPOINT"));
        return match endpoint {
            Some(e) => Url::parse(&e).ok()?.host_str().map(str::to_string),
            None => Some(match &opts.region {
                Some(r) => format!("s3.{r}.amazonaws.com"),
                None => "s3.amazonaws.com".to_string(),
            }),
        };
    }
    url.host_str().map(str::to_string)
}

/// Whether `host` is in `allowed`: exact names (case-insensitive), IPv6
/// with or without brackets, `*.suffix` for a domain's hosts, `*` for any.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    allowed.iter().any(|a| {
        let a = a.trim().trim_start_matches('[').trim_end_matches(']');
        if a == "*" {
            return true;
        }
        match a.strip_prefix("*.") {
            Some(suffix) => bare
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", suffix.to_ascii_lowercase())),
            None => a.eq_ignore_ascii_case(bare),
        }
    })
}

/// Refuse a URL whose data would come from a host not in `allowed`.
pub fn check_allowed(url: &Url, opts: &RemoteOptions, allowed: &[String]) -> Result<()> {
    let host = connect_host(url, opts).unwrap_or_default();
    if host_allowed(&host, allowed) {
        Ok(())
    } else {
        Err(CatalogError::Invalid(format!(
            "{url}: this server does not fetch from {host:?}; the operator can add it to \
             [uploads] allowed_hosts (the one allowlist for uploads and remote catalogues)"
        )))
    }
}

/// Say what a store error means for a remote catalogue at `url`: a
/// missing object, denied credentials or an unreachable endpoint (the
/// errors docs/EXCHANGE.md lists); other errors are returned unchanged.
pub fn explain(e: CatalogError, url: &str) -> CatalogError {
    let CatalogError::ObjectStore(os) = &e else {
        return e;
    };
    let text = os.to_string();
    let denied = matches!(
        os,
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }
    ) || [
        "403",
        "401",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "AccessDenied",
    ]
    .iter()
    .any(|k| text.contains(k));
    if denied {
        return CatalogError::Invalid(format!(
            "{url}: access denied by the store: check the credentials              (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile or [[remotes]]) ({text})"
        ));
    }
    if let object_store::Error::NotFound { path, .. } = os {
        return CatalogError::NotFound(format!("{url}: missing object {path}"));
    }
    if [
        "error sending request",
        "onnection refused",
        "dns error",
        "timed out",
    ]
    .iter()
    .any(|k| text.contains(k))
    {
        return CatalogError::Invalid(format!(
            "{url}: the store is unreachable ({text}); check the endpoint"
        ));
    }
    e
}

/// A key naming the store in DataFusion's object-store registry: one per
/// bucket and endpoint.
fn store_key(scheme: &str, host: &str, endpoint: Option<&str>) -> Result<ObjectStoreUrl> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    let host = match endpoint {
        Some(e) => format!("{}.{}", clean(host), clean(e)),
        None => clean(host),
    };
    Ok(ObjectStoreUrl::parse(format!("{scheme}://{host}"))?)
}

/// Open a catalogue root (or a table directory) at `url`: `s3://bucket/prefix`,
/// `http(s)://host/path`, a `file://` URL or a directory.
pub fn open_root(url: &str, opts: &RemoteOptions) -> Result<CatalogRoot> {
    let invalid = |m: String| CatalogError::Invalid(format!("{url}: {m}"));
    if let Some(rest) = url.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("no bucket name".into()));
        }
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let mut settings = BTreeMap::new();
        if let Some(p) = opts.profile.clone().or_else(|| {
            // The environment's profile applies only when the environment
            // has no keys of its own.
            env("AWS_ACCESS_KEY_ID")
                .is_none()
                .then(|| env("AWS_PROFILE"))
                .flatten()
        }) {
            settings = profile(&p)?;
        }
        if let (Some(k), Some(s)) = (
            settings.get("aws_access_key_id"),
            settings.get("aws_secret_access_key"),
        ) {
            b = b.with_access_key_id(k).with_secret_access_key(s);
            if let Some(t) = settings.get("aws_session_token") {
                b = b.with_token(t);
            }
        }
        if let Some(r) = settings.get("region") {
            b = b.with_region(r);
        }
        if let Some(e) = settings.get("endpoint_url") {
            b = b.with_endpoint(e);
        }
        if let (Some(k), Some(s)) = (&opts.access_key_id, &opts.secret_access_key) {
            b = b.with_access_key_id(k).with_secret_access_key(s);
        }
        if let Some(r) = &opts.region {
            b = b.with_region(r);
        }
        let endpoint = opts
            .endpoint
            .clone()
            .or_else(|| settings.get("endpoint_url").cloned())
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| env("AWS_ENDPOINT"));
        if let Some(e) = &endpoint {
            b = b.with_endpoint(e);
            if e.starts_with("http://") {
                if !(opts.allow_http || env_true("AWS_ALLOW_HTTP")) {
                    return Err(invalid(format!(
                        "the endpoint {e} is plain http: set AWS_ALLOW_HTTP=true (or the \
                         remote's allow_http) to use it"
                    )));
                }
                b = b.with_allow_http(true);
            }
        }
        if opts.anonymous {
            b = b.with_config(AmazonS3ConfigKey::SkipSignature, "true");
        }
        let store = b.build()?;
        let root_url = Url::parse(&format!("s3://{bucket}/{}", prefix.trim_end_matches('/')))
            .map_err(|e| invalid(e.to_string()))?;
        return Ok(CatalogRoot::from_parts(
            root_url,
            Arc::new(store),
            store_key("s3", bucket, endpoint.as_deref())?,
            ObjPath::from(prefix.trim_matches('/')),
        ));
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let origin = parsed.origin().ascii_serialization();
        let store = HttpBuilder::new()
            .with_url(origin.clone())
            .with_client_options(ClientOptions::new().with_allow_http(true))
            .build()?;
        let path = parsed.path().trim_matches('/').to_string();
        let key = ObjectStoreUrl::parse(&origin)?;
        return Ok(CatalogRoot::from_parts(
            parsed,
            Arc::new(store) as Arc<dyn ObjectStore>,
            key,
            ObjPath::from(path.as_str()),
        ));
    }
    CatalogRoot::open(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowlist_matches_hosts_domains_and_ipv6() {
        let allowed: Vec<String> = ["127.0.0.1", "::1", "*.amazonaws.com"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(host_allowed("127.0.0.1", &allowed));
        assert!(host_allowed("[::1]", &allowed));
        assert!(host_allowed("s3.eu-west-1.amazonaws.com", &allowed));
        assert!(!host_allowed("amazonaws.com.evil.org", &allowed));
        assert!(!host_allowed("metadata.internal", &allowed));
        let s3 = Url::parse("s3://bucket/prefix").unwrap();
        let local = RemoteOptions {
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..Default::default()
        };
        assert_eq!(connect_host(&s3, &local).as_deref(), Some("127.0.0.1"));
        assert!(check_allowed(&s3, &local, &allowed).is_ok());
        let internal = RemoteOptions {
            endpoint: Some("http://intranet.example:9000".into()),
            ..Default::default()
        };
        assert!(check_allowed(&s3, &internal, &allowed).is_err());
    }

    #[test]
    fn profiles_are_read_from_the_aws_files() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("credentials");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = A\naws_secret_access_key = B\n\n[site]\naws_access_key_id=C\naws_secret_access_key=D\n",
        )
        .unwrap();
        let ini = read_ini(&creds);
        assert_eq!(ini["site"]["aws_access_key_id"], "C");
        assert_eq!(ini["default"]["aws_secret_access_key"], "B");
    }

    #[test]
    fn secrets_are_not_saved() {
        let o = RemoteOptions {
            endpoint: Some("http://127.0.0.1:9000".into()),
            access_key_id: Some("key".into()),
            secret_access_key: Some("secret".into()),
            ..Default::default()
        };
        let text = serde_json::to_string(&o).unwrap();
        assert!(
            !text.contains("secret") && !text.contains("key\""),
            "{text}"
        );
        assert_eq!(o.public().secret_access_key, None);
    }
}
