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
//!
//! Reach: every HTTP client built here (S3 and plain HTTP stores) follows
//! redirects only within the origin it was sent to, so an allowed host
//! cannot bounce the server to another one; regions, bucket names and
//! endpoints are checked before they become host names; [`check_source`]
//! refuses what a record may not make the server read (`file://`, local
//! paths, hosts and buckets the operator did not allow).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::object_store::ObjectStoreUrl;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::client::{HttpClient, HttpConnector};
use object_store::http::HttpBuilder;
use object_store::path::Path as ObjPath;
use object_store::{ClientConfigKey, ClientOptions, ObjectStore};
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

/// Whether `r` can be an S3 region: `[a-z0-9-]+` (a region becomes part
/// of a host name, `s3.REGION.amazonaws.com`).
pub fn valid_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 64
        && r.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// Whether `b` can be a bucket name: letters, digits, `.`, `-`, `_` (a
/// bucket becomes part of a host name with virtual-hosted addressing).
pub fn valid_bucket(b: &str) -> bool {
    !b.is_empty()
        && b.len() <= 255
        && !b.starts_with('.')
        && b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

/// Check an S3 endpoint URL: `http(s)://host[:port][/path]`, without user
/// information, query or fragment.
fn check_endpoint(e: &str) -> std::result::Result<Url, String> {
    let u = Url::parse(e).map_err(|err| format!("the endpoint {e:?} is not a URL ({err})"))?;
    if !matches!(u.scheme(), "http" | "https")
        || u.host_str().is_none_or(str::is_empty)
        || !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return Err(format!(
            "the endpoint {e:?} must be a plain http(s)://HOST[:PORT] URL"
        ));
    }
    Ok(u)
}

/// The endpoint an `s3://` URL is read through: the options', else
/// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT`.
fn s3_endpoint(opts: &RemoteOptions) -> Option<String> {
    opts.endpoint
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .or_else(|| env("AWS_ENDPOINT"))
}

/// The host a URL's data is fetched from: the S3 endpoint's host for
/// `s3://` URLs with an endpoint, `s3.amazonaws.com` for AWS, the URL's
/// host otherwise; `None` when the endpoint or region cannot be used.
pub fn connect_host(url: &Url, opts: &RemoteOptions) -> Option<String> {
    connect_addr(url, opts).map(|(h, _)| h)
}

/// [`connect_host`] with the port the connection uses (the scheme's
/// default when the URL names none).
pub fn connect_addr(url: &Url, opts: &RemoteOptions) -> Option<(String, Option<u16>)> {
    if url.scheme() == "s3" {
        return match s3_endpoint(opts) {
            Some(e) => {
                let e = check_endpoint(&e).ok()?;
                Some((e.host_str()?.to_string(), e.port_or_known_default()))
            }
            None => Some((
                match &opts.region {
                    Some(r) if valid_region(r) => format!("s3.{r}.amazonaws.com"),
                    Some(_) => return None,
                    None => "s3.amazonaws.com".to_string(),
                },
                Some(443),
            )),
        };
    }
    Some((url.host_str()?.to_string(), url.port_or_known_default()))
}

/// Whether `host` (reached on `port`) is in `allowed`. Entries: `host`
/// (any port), `host:port`, `[v6]` or `[v6]:port` (bare IPv6 too), exact
/// names case-insensitive, `*.suffix` for a domain's hosts, `*` for any.
pub fn host_allowed(host: &str, port: Option<u16>, allowed: &[String]) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    allowed.iter().any(|a| {
        let (name, want) = split_entry(a.trim());
        if want.is_some() && want != port {
            return false;
        }
        if name == "*" {
            return true;
        }
        match name.strip_prefix("*.") {
            Some(suffix) => bare
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", suffix.to_ascii_lowercase())),
            None => name.eq_ignore_ascii_case(bare),
        }
    })
}

/// An allowlist entry as (host, port): `h`, `h:p`, `[v6]`, `[v6]:p`, `v6`.
fn split_entry(a: &str) -> (&str, Option<u16>) {
    if let Some(rest) = a.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((h, tail)) => (h, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (rest, None),
        };
    }
    match a.split_once(':') {
        Some((h, p)) if !p.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            // Not a port: never matches a real host.
            Err(_) => (a, None),
        },
        _ => (a, None),
    }
}

/// Refuse a URL whose data would come from a host not in `allowed`.
pub fn check_allowed(url: &Url, opts: &RemoteOptions, allowed: &[String]) -> Result<()> {
    if let Some(r) = opts.region.as_deref().filter(|r| !valid_region(r)) {
        return Err(CatalogError::Invalid(format!(
            "{url}: {r:?} is not an S3 region (letters a-z, digits and -)"
        )));
    }
    if url.scheme() == "s3" {
        if let Some(e) = s3_endpoint(opts) {
            check_endpoint(&e).map_err(|m| CatalogError::Invalid(format!("{url}: {m}")))?;
        }
    }
    let (host, port) = connect_addr(url, opts).unwrap_or_default();
    if host_allowed(&host, port, allowed) {
        Ok(())
    } else {
        Err(CatalogError::Invalid(format!(
            "{url}: this server does not fetch from {host:?}; the operator can add it to \
             [uploads] allowed_hosts (the one allowlist for uploads and remote catalogues)"
        )))
    }
}

/// What the operator lets records and import requests make the server
/// read: hosts (`[uploads] allowed_hosts`) and, when not empty, S3
/// buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    /// Hosts, as [`host_allowed`] matches them.
    pub hosts: Vec<String>,
    /// S3 buckets (`bucket`, or `bucket/prefix` for part of one); empty:
    /// any bucket on an allowed host.
    pub buckets: Vec<String>,
}

/// Whether `s3://BUCKET/KEY` is under one of `allowed` (`bucket` or
/// `bucket/prefix`).
pub fn bucket_allowed(bucket: &str, key: &str, allowed: &[String]) -> bool {
    let key = key.trim_matches('/');
    allowed.iter().any(|a| {
        let a = a.trim().trim_start_matches("s3://").trim_matches('/');
        let (b, prefix) = a.split_once('/').unwrap_or((a, ""));
        b == bucket
            && (prefix.is_empty() || key == prefix || key.starts_with(&format!("{prefix}/")))
    })
}

/// Refuse a location a catalogue record (or a remote manifest) names
/// unless the server may read it: `s3://`, `http://` or `https://` only
/// (never `file://` or a local path), a valid bucket and region, a host in
/// `allowed.hosts` and, when `allowed.buckets` is set, a bucket in it.
pub fn check_source(url: &str, opts: &RemoteOptions, allowed: &Allowed) -> Result<Url> {
    let parsed = Url::parse(url).map_err(|_| {
        CatalogError::Invalid(format!(
            "{url}: not a URL; a catalogue's tables must be at s3://, http:// or https:// URLs"
        ))
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        "s3" => {
            let rest = url.strip_prefix("s3://").unwrap_or("");
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if !valid_bucket(bucket) {
                return Err(CatalogError::Invalid(format!(
                    "{url}: {bucket:?} is not a bucket name (letters, digits, ., - and _)"
                )));
            }
            if !allowed.buckets.is_empty() && !bucket_allowed(bucket, key, &allowed.buckets) {
                return Err(CatalogError::Invalid(format!(
                    "{url}: this server does not read the bucket {bucket:?}; the operator can \
                     add it to the allowed buckets"
                )));
            }
        }
        other => {
            return Err(CatalogError::Invalid(format!(
                "{url}: this server reads remote catalogues only from s3://, http:// and \
                 https:// URLs, not {other}:"
            )))
        }
    }
    check_allowed(&parsed, opts, &allowed.hosts)?;
    Ok(parsed)
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

/// The HTTP client of every remote store: object_store's defaults (its
/// [`ClientOptions`] timeouts, proxy, HTTP/1), except that a redirect is
/// followed only to the same scheme, host and port. reqwest's default
/// follows up to ten redirects anywhere, which would let an allowed host
/// send the server to an internal address.
#[derive(Debug, Default, Clone, Copy)]
pub struct SameOriginConnector;

/// A duration as object_store prints its settings (`30s`, `1m 30s`,
/// `500ms`).
fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let mut total = std::time::Duration::ZERO;
    for part in text.split_whitespace() {
        let digits = part.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let n: u64 = digits.parse().ok()?;
        total += match &part[digits.len()..] {
            "h" => std::time::Duration::from_secs(n * 3600),
            "m" | "min" => std::time::Duration::from_secs(n * 60),
            "s" => std::time::Duration::from_secs(n),
            "ms" => std::time::Duration::from_millis(n),
            "us" => std::time::Duration::from_micros(n),
            "ns" => std::time::Duration::from_nanos(n),
            _ => return None,
        };
    }
    Some(total)
}

/// The redirect policy of remote stores: same origin only, at most 5.
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().last().is_some_and(|p| {
            p.scheme() == attempt.url().scheme()
                && p.host_str() == attempt.url().host_str()
                && p.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if same {
            attempt.follow()
        } else {
            let to = attempt.url().host_str().unwrap_or("").to_string();
            attempt.error(format!(
                "the store redirected to another host ({to:?}); remote stores are read only \
                 from the host they are configured with"
            ))
        }
    })
}

impl HttpConnector for SameOriginConnector {
    fn connect(&self, options: &ClientOptions) -> object_store::Result<HttpClient> {
        let get = |k: ClientConfigKey| options.get_config_value(&k);
        let on = |k: ClientConfigKey| get(k).is_some_and(|v| v == "true");
        let generic = |e: reqwest::Error| object_store::Error::Generic {
            store: "HTTP",
            source: Box::new(e),
        };
        let mut b = reqwest::Client::builder()
            .redirect(same_origin_redirects())
            .user_agent(
                get(ClientConfigKey::UserAgent)
                    .unwrap_or_else(|| concat!("astrolake/", env!("CARGO_PKG_VERSION")).into()),
            )
            .https_only(!on(ClientConfigKey::AllowHttp))
            .no_gzip()
            .no_brotli()
            .no_zstd()
            .no_deflate();
        if let Some(t) = get(ClientConfigKey::Timeout).and_then(|t| parse_duration(&t)) {
            b = b.timeout(t);
        }
        if let Some(t) = get(ClientConfigKey::ConnectTimeout).and_then(|t| parse_duration(&t)) {
            b = b.connect_timeout(t);
        }
        if let Some(t) = get(ClientConfigKey::PoolIdleTimeout).and_then(|t| parse_duration(&t)) {
            b = b.pool_idle_timeout(t);
        }
        if let Some(p) = get(ClientConfigKey::ProxyUrl) {
            b = b.proxy(reqwest::Proxy::all(p).map_err(generic)?);
        }
        if on(ClientConfigKey::AllowInvalidCertificates) {
            b = b.danger_accept_invalid_certs(true);
        }
        if on(ClientConfigKey::Http1Only) {
            b = b.http1_only();
        }
        Ok(HttpClient::new(b.build().map_err(generic)?))
    }
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
        if !valid_bucket(bucket) {
            return Err(invalid(format!(
                "{bucket:?} is not a bucket name (letters, digits, ., - and _)"
            )));
        }
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_http_connector(SameOriginConnector);
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
        let region = opts
            .region
            .clone()
            .or_else(|| settings.get("region").cloned());
        if let Some(r) = region.as_deref().filter(|r| !valid_region(r)) {
            return Err(invalid(format!(
                "{r:?} is not an S3 region (letters a-z, digits and -)"
            )));
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
            check_endpoint(e).map_err(invalid)?;
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
            .with_http_connector(SameOriginConnector)
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
        assert!(host_allowed("127.0.0.1", Some(22), &allowed));
        assert!(host_allowed("[::1]", None, &allowed));
        assert!(host_allowed(
            "s3.eu-west-1.amazonaws.com",
            Some(443),
            &allowed
        ));
        assert!(!host_allowed("amazonaws.com.evil.org", Some(443), &allowed));
        assert!(!host_allowed("metadata.internal", Some(80), &allowed));
        // Entries with ports allow that port only.
        let ports: Vec<String> = ["127.0.0.1:9000", "[::1]:8080", "site.example:443"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(host_allowed("127.0.0.1", Some(9000), &ports));
        assert!(!host_allowed("127.0.0.1", Some(22), &ports));
        assert!(!host_allowed("127.0.0.1", None, &ports));
        assert!(host_allowed("[::1]", Some(8080), &ports));
        assert!(!host_allowed("::1", Some(8081), &ports));
        assert!(host_allowed("SITE.example", Some(443), &ports));
        assert!(!host_allowed("127.0.0.1", Some(9000), &[]));
        let s3 = Url::parse("s3://bucket/prefix").unwrap();
        let local = RemoteOptions {
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..Default::default()
        };
        assert_eq!(connect_host(&s3, &local).as_deref(), Some("127.0.0.1"));
        assert!(check_allowed(&s3, &local, &allowed).is_ok());
        assert!(check_allowed(&s3, &local, &["127.0.0.1:9000".into()]).is_ok());
        assert!(check_allowed(&s3, &local, &["127.0.0.1:9001".into()]).is_err());
        let internal = RemoteOptions {
            endpoint: Some("http://intranet.example:9000".into()),
            ..Default::default()
        };
        assert!(check_allowed(&s3, &internal, &allowed).is_err());
    }

    #[test]
    fn regions_buckets_and_endpoints_cannot_name_other_hosts() {
        assert!(valid_region("eu-west-1") && valid_region("us-east-1"));
        for bad in ["", "evil.example/", "EU", "a.b", "x:80", "a b", "a/b"] {
            assert!(!valid_region(bad), "{bad:?}");
        }
        assert!(valid_bucket("site-a") && valid_bucket("my.bucket_1"));
        for bad in ["", ".x", "a@b", "a:1", "a/b", "a#b", "a?b"] {
            assert!(!valid_bucket(bad), "{bad:?}");
        }
        let allowed: Vec<String> = vec!["*.amazonaws.com".into()];
        let s3 = Url::parse("s3://bucket/prefix").unwrap();
        // A region that would turn s3.REGION.amazonaws.com into another host.
        let evil = RemoteOptions {
            region: Some("evil.example/".into()),
            ..Default::default()
        };
        assert_eq!(connect_host(&s3, &evil), None);
        let e = check_allowed(&s3, &evil, &allowed).unwrap_err().to_string();
        assert!(e.contains("is not an S3 region"), "{e}");
        let e = open_root("s3://bucket/prefix", &evil)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not an S3 region"), "{e}");
        let good = RemoteOptions {
            region: Some("eu-west-1".into()),
            ..Default::default()
        };
        assert_eq!(
            connect_host(&s3, &good).as_deref(),
            Some("s3.eu-west-1.amazonaws.com")
        );
        // Endpoints with user information, queries or other schemes.
        for e in [
            "http://127.0.0.1:9000@evil.example",
            "ftp://127.0.0.1",
            "http://127.0.0.1/?x=1",
            "127.0.0.1:9000",
        ] {
            let o = RemoteOptions {
                endpoint: Some(e.into()),
                allow_http: true,
                ..Default::default()
            };
            assert!(check_allowed(&s3, &o, &["*".into()]).is_err(), "{e}");
            assert!(open_root("s3://bucket/x", &o).is_err(), "{e}");
        }
        assert!(open_root("s3://a@b/x", &RemoteOptions::default()).is_err());
    }

    #[test]
    fn records_name_only_remote_urls_on_allowed_hosts_and_buckets() {
        let o = RemoteOptions {
            endpoint: Some("http://127.0.0.1:9000".into()),
            ..Default::default()
        };
        let anywhere = Allowed {
            hosts: vec!["*".into()],
            buckets: vec![],
        };
        for bad in [
            "file:///etc",
            "/home/op/catalog",
            "c:/data",
            "ftp://127.0.0.1/x",
        ] {
            let e = check_source(bad, &o, &anywhere).unwrap_err().to_string();
            assert!(
                e.contains("s3://, http:// and https://") || e.contains("not a URL"),
                "{bad}: {e}"
            );
        }
        assert!(check_source("s3://site-a/cat/gaia/t", &o, &anywhere).is_ok());
        assert!(check_source("https://site.example/catalogue/t", &o, &anywhere).is_ok());
        let loopback = Allowed {
            hosts: vec!["127.0.0.1".into()],
            buckets: vec!["site-a/cat".into(), "public".into()],
        };
        assert!(check_source("s3://site-a/cat/gaia/t", &o, &loopback).is_ok());
        assert!(check_source("s3://public/x", &o, &loopback).is_ok());
        let e = check_source("s3://site-a/other/t", &o, &loopback)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not read the bucket"), "{e}");
        assert!(check_source("s3://private/x", &o, &loopback).is_err());
        assert!(check_source("s3://site-a/catalogue", &o, &loopback).is_err());
        let e = check_source("http://other.example/x", &o, &loopback)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not fetch from \"other.example\""), "{e}");
    }

    #[test]
    fn durations_as_object_store_prints_them() {
        use std::time::Duration;
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1m 30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("soon"), None);
    }

    /// A one-route-per-path HTTP server on 127.0.0.1 answering `routes`
    /// (path -> raw response head and body); returns its port and the
    /// paths it was asked for.
    async fn http_server(
        routes: Vec<(&'static str, String)>,
    ) -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&asked);
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let routes = routes.clone();
                let seen = Arc::clone(&seen);
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 1024];
                    loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_string();
                            buf.drain(..end + 4);
                            let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                            seen.lock().unwrap().push(path.clone());
                            let resp = routes
                                .iter()
                                .find(|(p, _)| *p == path)
                                .map(|(_, r)| r.clone())
                                .unwrap_or_else(|| {
                                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".into()
                                });
                            if sock.write_all(resp.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (port, asked)
    }

    #[tokio::test]
    async fn remote_stores_follow_no_redirect_to_another_host() {
        use object_store::ObjectStoreExt;
        let ok = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nlast-modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\nhello";
        let (other, other_asked) = http_server(vec![("/secret", ok.to_string())]).await;
        let (port, _) = http_server(vec![
            (
                "/cat/away",
                format!(
                    "HTTP/1.1 302 Found\r\nlocation: http://localhost:{other}/secret\r\ncontent-length: 0\r\n\r\n"
                ),
            ),
            (
                "/cat/here",
                "HTTP/1.1 301 Moved\r\nlocation: /cat/data\r\ncontent-length: 0\r\n\r\n".into(),
            ),
            ("/cat/data", ok.to_string()),
        ])
        .await;
        let root = open_root(
            &format!("http://127.0.0.1:{port}/cat"),
            &RemoteOptions::default(),
        )
        .unwrap();
        // Within the origin: followed.
        assert_eq!(root.get("here").await.unwrap().as_ref(), b"hello");
        // To another host (localhost is not 127.0.0.1): refused, and the
        // other host is never asked.
        let store = root.store();
        let e = store.get(&root.path("away")).await.unwrap_err().to_string();
        assert!(e.contains("redirect"), "{e}");
        assert!(
            other_asked.lock().unwrap().is_empty(),
            "the redirect was followed"
        );
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
