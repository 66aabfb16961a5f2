//! Table uploads (TAP 1.1 §2.5, DALI UPLOAD): `UPLOAD=name,uri;name2,uri2`.
//!
//! Each upload becomes the table `TAP_UPLOAD.name` for one query. The pipeline:
//!
//! 1. [`parse_spec`] splits the parameter and checks the names (ADQL
//!    regular identifiers, no duplicates) and URI schemes;
//! 2. [`fetch`] gets the bytes: `param:x` is the request's multipart part `x`
//!    (inline upload); `http(s)://` is fetched, but only from hosts in the
//!    operator's allowlist (default: loopback only), without following
//!    redirects, and never beyond the byte limit;
//! 3. [`load`] reads the bytes with the catalogue's input readers (VOTable
//!    TABLEDATA/BINARY/BINARY2, CSV, ECSV, Parquet; the format is told from
//!    the content), within the row limit, into an in-memory table whose
//!    columns carry the upload's FIELD metadata (units, UCDs);
//! 4. [`with_uploads`] returns the service's tables plus the uploads.
//!
//! Every failure is an [`UploadError`] that names the upload and says what
//! to change.
//!
//! Uploads come from clients, so every size is limited ([`UploadLimits`]),
//! and checked while the bytes stream in, before the memory it bounds is
//! allocated: the uploads per request; the bytes of an upload as sent and
//! once decompressed (gzip); its header (VOTable up to `<DATA>`, ECSV `#`
//! lines, Parquet footer), a value, a row, its columns, the elements an
//! array column declares; its rows; the memory all the uploads of a request
//! take; and the time, when the caller gives a deadline. ECSV headers may
//! not use YAML anchors or aliases. A limit passed is an [`UploadError`]
//! naming the upload, what it has and the limit, e.g. `UPLOAD t: column x
//! declares arraysize 2147483647, more than this service's limit of 1000000
//! elements per cell (uploads.max_array_elements)`.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use astrolake_adql::{TableEntry, Tables};
use astrolake_catalog::input::{
    detect_format, open_source_with_limits, Format, InputLimits, ReadOptions,
};
use astrolake_catalog::provider::with_field_metadata;
use astrolake_catalog::CatalogError;
use bytes::Bytes;
use datafusion::datasource::MemTable;
use futures::StreamExt;

/// The schema uploaded tables live in.
pub const SCHEMA: &str = "TAP_UPLOAD";

/// What uploads may be. The defaults are in brackets.
#[derive(Debug, Clone)]
pub struct UploadLimits {
    /// The most bytes one upload may have, as sent (100 MiB).
    pub max_bytes: u64,
    /// The most rows one upload may have (2,000,000).
    pub max_rows: u64,
    /// Hosts `http(s)` uploads may be fetched from: `host` (any port) or
    /// `host:port`, exact names or addresses, case-insensitive, `[::1]` or
    /// `::1` for IPv6, `*.domain`, `*` (none: an operator names what the
    /// server may reach, so a user cannot make it read its own loopback
    /// ports).
    pub allowed_hosts: Vec<String>,
    /// The most tables one request may upload (10).
    pub max_uploads: usize,
    /// The most bytes one upload may have once decompressed (512 MiB; never
    /// less than `max_bytes` in effect, so an uncompressed upload within
    /// `max_bytes` always passes). Real catalogue data compresses 3 to 5
    /// times, so a full-size gzipped upload still fits, while a gzip bomb
    /// (1000:1) stops after 512 MiB of parsing. Memory is bounded by
    /// `max_memory_bytes`, not by this.
    pub max_decompressed_bytes: u64,
    /// The most bytes of an upload's header: a VOTable up to the first
    /// TABLE's `<DATA>`, the `#` lines of an ECSV file, a Parquet footer
    /// (4 MiB).
    pub max_header_bytes: u64,
    /// The most bytes of one value as sent: a CSV field, a TABLEDATA `TD`,
    /// a BINARY/BINARY2 cell (8 MiB).
    pub max_cell_bytes: u64,
    /// The most bytes of one row as sent (16 MiB).
    pub max_row_bytes: u64,
    /// The most columns of an upload (1000).
    pub max_columns: u64,
    /// The most elements of one array cell: the product of a VOTable
    /// `arraysize`'s dimensions, a variable-length array's count
    /// (1,000,000).
    pub max_array_elements: u64,
    /// The most bytes all the uploaded tables of one request may take in
    /// memory, together (1 GiB).
    pub max_memory_bytes: u64,
    /// When set, fetching and reading the uploads stops with an error at
    /// this instant (the request's time limit; none by default).
    pub deadline: Option<Instant>,
}

impl Default for UploadLimits {
    fn default() -> Self {
        let input = InputLimits::untrusted();
        UploadLimits {
            max_bytes: 100 * 1024 * 1024,
            max_rows: 2_000_000,
            allowed_hosts: Vec::new(),
            max_uploads: 10,
            max_decompressed_bytes: input.max_decompressed_bytes,
            max_header_bytes: input.max_header_bytes,
            max_cell_bytes: input.max_cell_bytes,
            max_row_bytes: input.max_row_bytes,
            max_columns: input.max_columns,
            max_array_elements: input.max_array_elements,
            max_memory_bytes: 1 << 30,
            deadline: None,
        }
    }
}

impl UploadLimits {
    /// The readers' limits for one upload.
    pub fn input_limits(&self) -> InputLimits {
        let untrusted = InputLimits::untrusted();
        InputLimits {
            max_decompressed_bytes: self.max_decompressed_bytes.max(self.max_bytes),
            max_header_bytes: self.max_header_bytes,
            max_cell_bytes: self.max_cell_bytes,
            max_row_bytes: self.max_row_bytes,
            max_columns: self.max_columns,
            max_array_elements: self.max_array_elements,
            allow_yaml_aliases: false,
            batch_bytes: untrusted
                .batch_bytes
                .min(self.max_memory_bytes / 4)
                .max(1 << 20),
        }
    }

    /// The time left before the deadline; `Err` once it has passed.
    fn time_left(&self, name: &str, doing: &str) -> Result<Option<Duration>, UploadError> {
        let Some(deadline) = self.deadline else {
            return Ok(None);
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(UploadError::Client(format!(
                "UPLOAD {name}: the request's time limit passed while {doing}"
            )));
        }
        Ok(Some(deadline - now))
    }
}

/// Why an upload failed, and whose fault it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UploadError {
    /// The request's: the UPLOAD parameter, a table that cannot be read,
    /// a URL that is refused or cannot be fetched, a limit passed (HTTP
    /// 400 with the message).
    #[error("{0}")]
    Client(String),
    /// The service's: its temporary files, a reader that panicked, an
    /// HTTP client it cannot build (HTTP 500, the message logged).
    #[error("{0}")]
    Service(String),
}

impl UploadError {
    /// The message, whoever's fault it is.
    pub fn message(&self) -> &str {
        match self {
            UploadError::Client(m) | UploadError::Service(m) => m,
        }
    }
    /// Whether the service, not the request, failed.
    pub fn is_service_fault(&self) -> bool {
        matches!(self, UploadError::Service(_))
    }
}

/// One `name,uri` pair of the UPLOAD parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSpec {
    /// The table name under `TAP_UPLOAD`.
    pub name: String,
    /// Where the table is: `param:PART` or an http(s) URL.
    pub uri: String,
}

impl UploadSpec {
    /// For `param:x` uploads, the part name `x`.
    pub fn part(&self) -> Option<&str> {
        self.uri.strip_prefix("param:")
    }
}

/// Split and check an UPLOAD parameter. Several UPLOAD parameters are
/// joined with `;` by the caller.
pub fn parse_spec(upload: &str) -> Result<Vec<UploadSpec>, UploadError> {
    let mut out: Vec<UploadSpec> = Vec::new();
    for item in upload.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, uri) = item.split_once(',').ok_or_else(|| {
            UploadError::Client(format!(
                "UPLOAD={item} has no URI; write UPLOAD=name,param:part or UPLOAD=name,https://..."
            ))
        })?;
        let (name, uri) = (name.trim(), uri.trim());
        let valid_name = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            return Err(UploadError::Client(format!(
                "UPLOAD table name {name:?} is not an ADQL identifier (a letter, then letters, digits or _)"
            )));
        }
        if out.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
            return Err(UploadError::Client(format!(
                "UPLOAD names the table {name} twice"
            )));
        }
        let lower = uri.to_ascii_lowercase();
        let ok = (lower.starts_with("param:") && uri.len() > 6)
            || lower.starts_with("http://")
            || lower.starts_with("https://");
        if !ok {
            return Err(UploadError::Client(format!(
                "UPLOAD {name}: {uri:?} is not supported; use param:PART (a part of a multipart request) or an http(s) URL"
            )));
        }
        out.push(UploadSpec {
            name: name.to_string(),
            uri: uri.to_string(),
        });
    }
    Ok(out)
}

/// Is `url`'s host one the operator allows uploads from?
pub fn host_allowed(url: &url::Url, allowed: &[String]) -> bool {
    url.host_str().is_some_and(|h| {
        astrolake_catalog::remote::host_allowed(h, url.port_or_known_default(), allowed)
    })
}

/// The bytes of one upload: a request part, or a fetched URL.
pub async fn fetch(
    spec: &UploadSpec,
    parts: &HashMap<String, Bytes>,
    limits: &UploadLimits,
) -> Result<Bytes, UploadError> {
    let name = &spec.name;
    let bytes = if let Some(part) = spec.part() {
        parts.get(part).cloned().ok_or_else(|| {
            UploadError::Client(format!(
                "UPLOAD {name} names param:{part}, but the request has no part called {part}; \
                 send the table as a multipart/form-data part with that name"
            ))
        })?
    } else {
        let url = url::Url::parse(&spec.uri).map_err(|e| {
            UploadError::Client(format!("UPLOAD {name}: bad URL {}: {e}", spec.uri))
        })?;
        if !host_allowed(&url, &limits.allowed_hosts) {
            return Err(UploadError::Client(format!(
                "UPLOAD {name}: this service does not fetch tables from {}; \
                 upload the table inline (param:) or ask the operator to allow the host",
                url.host_str().unwrap_or("")
            )));
        }
        let timeout = limits.time_left(name, "fetching the table")?;
        fetch_url(name, url, limits.max_bytes, timeout).await?
    };
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_big(name, limits.max_bytes));
    }
    Ok(bytes)
}

fn too_big(name: &str, max: u64) -> UploadError {
    UploadError::Client(format!(
        "UPLOAD {name} is larger than this service's upload limit of {max} bytes"
    ))
}

/// The longest a URL upload may take to fetch, without a deadline.
const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

async fn fetch_url(
    name: &str,
    url: url::Url,
    max: u64,
    timeout: Option<Duration>,
) -> Result<Bytes, UploadError> {
    // reqwest's timeout covers connecting, the response and its whole body.
    let timeout = timeout.map_or(FETCH_TIMEOUT, |t| t.min(FETCH_TIMEOUT));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| UploadError::Service(format!("UPLOAD {name}: {e}")))?;
    let failed = |e: reqwest::Error| {
        if e.is_timeout() {
            UploadError::Client(format!(
                "UPLOAD {name}: fetching {url} took longer than this service allows ({} s)",
                timeout.as_secs_f64().ceil()
            ))
        } else {
            UploadError::Client(format!("UPLOAD {name}: cannot fetch {url}: {e}"))
        }
    };
    let resp = client.get(url.clone()).send().await.map_err(failed)?;
    if !resp.status().is_success() {
        return Err(UploadError::Client(format!(
            "UPLOAD {name}: fetching {url} gave HTTP {}",
            resp.status()
        )));
    }
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_big(name, max));
    }
    let mut out = Vec::new();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            if e.is_timeout() {
                failed(e)
            } else {
                UploadError::Client(format!("UPLOAD {name}: reading {url}: {e}"))
            }
        })?;
        if (out.len() + chunk.len()) as u64 > max {
            return Err(too_big(name, max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(out))
}

/// An input error as a client reads it: without the temporary file's name,
/// with "line" (CSV, ECSV) or "row" (the other formats), limits as this
/// service's.
fn describe(e: &CatalogError, format: Format) -> String {
    match e {
        CatalogError::Input {
            line,
            column,
            message,
            ..
        } => {
            let at = if matches!(format, Format::Csv | Format::Ecsv) {
                "line"
            } else {
                "row"
            };
            format!("{at} {line}: column {column}: {message}")
        }
        CatalogError::Format { message, .. } => message.clone(),
        CatalogError::Limit {
            what,
            limit,
            unit,
            name,
            ..
        } => format!("{what}, more than this service's limit of {limit} {unit} (uploads.{name})"),
        CatalogError::Metadata(m) => m.clone(),
        other => other.to_string(),
    }
}

/// Read an upload's bytes into the table `TAP_UPLOAD.name`, within
/// `limits` (`max_memory_bytes` is this upload's share). Blocking (it
/// parses the whole table): call it from `spawn_blocking`.
pub fn load(name: &str, bytes: &[u8], limits: &UploadLimits) -> Result<TableEntry, UploadError> {
    load_counted(name, bytes, limits).map(|(entry, _)| entry)
}

/// [`load`], and the bytes the table takes in memory.
fn load_counted(
    name: &str,
    bytes: &[u8],
    limits: &UploadLimits,
) -> Result<(TableEntry, u64), UploadError> {
    let err = |m: String| UploadError::Client(format!("UPLOAD {name}: {m}"));
    let ours =
        |e: std::io::Error| UploadError::Service(format!("UPLOAD {name}: temporary file: {e}"));
    // The readers tell VOTable, ECSV and Parquet from the content; anything
    // else is read as CSV.
    let mut file = tempfile::Builder::new()
        .prefix("upload-")
        .suffix(".csv")
        .tempfile()
        .map_err(ours)?;
    file.write_all(bytes).map_err(ours)?;
    file.flush().map_err(ours)?;
    // Clients upload tables, never the built-in binary formats (a CSV whose
    // first column is called GDR3... is still CSV).
    let format = match detect_format(file.path()) {
        Ok(Format::Csv | Format::GaiaBin | Format::Hip2) | Err(_) => Format::Csv,
        Ok(f) => f,
    };
    let input = limits.input_limits();
    let mut source =
        open_source_with_limits(file.path(), Some(format), &ReadOptions::default(), &input)
            .map_err(|e| match e {
                CatalogError::Limit { .. } => err(describe(&e, format)),
                _ => err(format!(
                    "{} (uploads may be VOTable, CSV with a header line, ECSV or Parquet)",
                    describe(&e, format)
                )),
            })?;
    let mut batches: Vec<RecordBatch> = Vec::new();
    let mut rows = 0u64;
    let mut memory = 0u64;
    while let Some(b) = source.next_batch().map_err(|e| err(describe(&e, format)))? {
        rows += b.batch.num_rows() as u64;
        if rows > limits.max_rows {
            return Err(err(format!(
                "more than this service's upload limit of {} rows",
                limits.max_rows
            )));
        }
        memory += b.batch.get_array_memory_size() as u64;
        if memory > limits.max_memory_bytes {
            return Err(err(format!(
                "the uploaded tables take more than this service's limit of {} bytes in \
                 memory (all the uploads of a request together)",
                limits.max_memory_bytes
            )));
        }
        limits.time_left(name, "reading the table")?;
        batches.push(b.batch);
    }
    let mut meta = source.meta().clone();
    meta.name = name.to_string();
    let schema = with_field_metadata(&source.schema(), &meta);
    let batches = batches
        .into_iter()
        .map(|b| b.with_schema(Arc::clone(&schema)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err(e.to_string()))?;
    let provider =
        MemTable::try_new(Arc::clone(&schema), vec![batches]).map_err(|e| err(e.to_string()))?;
    let entry = TableEntry {
        schema: SCHEMA.to_string(),
        name: name.to_string(),
        meta,
        provider: Arc::new(provider),
        scanner: None,
        position: None,
    };
    Ok((entry, memory))
}

/// The service's tables plus the uploads of a request.
pub async fn with_uploads(
    tables: &Tables,
    upload: Option<&str>,
    parts: &HashMap<String, Bytes>,
    limits: &UploadLimits,
) -> Result<Tables, UploadError> {
    attach_uploads(tables.clone(), upload, parts, limits).await
}

/// [`with_uploads`] on tables the caller owns (a request's own copy):
/// without uploads they come back as they are, not copied again.
pub async fn attach_uploads(
    tables: Tables,
    upload: Option<&str>,
    parts: &HashMap<String, Bytes>,
    limits: &UploadLimits,
) -> Result<Tables, UploadError> {
    let Some(upload) = upload.filter(|u| !u.trim().is_empty()) else {
        return Ok(tables);
    };
    let specs = parse_spec(upload)?;
    if specs.len() > limits.max_uploads {
        return Err(UploadError::Client(format!(
            "UPLOAD names {} tables, more than this service's limit of {} uploads per request",
            specs.len(),
            limits.max_uploads
        )));
    }
    let mut out = tables;
    let mut memory_left = limits.max_memory_bytes;
    for spec in specs {
        limits.time_left(&spec.name, "fetching the table")?;
        let bytes = fetch(&spec, parts, limits).await?;
        let name = spec.name.clone();
        let mine = UploadLimits {
            max_memory_bytes: memory_left,
            ..limits.clone()
        };
        let (entry, used) = tokio::task::spawn_blocking(move || load_counted(&name, &bytes, &mine))
            .await
            .map_err(|e| {
                UploadError::Service(format!("UPLOAD {}: reading it failed: {e}", spec.name))
            })??;
        memory_left = memory_left.saturating_sub(used);
        out.add(entry);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s = parse_spec("t1,param:a; t2 , https://example.org/x.vot").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].part(), Some("a"));
        assert_eq!(s[1].name, "t2");
        assert!(parse_spec("t1").unwrap_err().message().contains("no URI"));
        assert!(parse_spec("1t,param:a")
            .unwrap_err()
            .message()
            .contains("identifier"));
        assert!(parse_spec("t,param:a;T,param:b")
            .unwrap_err()
            .message()
            .contains("twice"));
        assert!(parse_spec("t,file:///etc/passwd")
            .unwrap_err()
            .message()
            .contains("not supported"));
    }

    #[test]
    fn allowlist() {
        assert!(UploadLimits::default().allowed_hosts.is_empty());
        let allowed: Vec<String> = ["127.0.0.1:9000", "localhost", "[::1]:80"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ok = |u: &str| host_allowed(&url::Url::parse(u).unwrap(), &allowed);
        assert!(ok("http://127.0.0.1:9000/t.vot"));
        assert!(!ok("http://127.0.0.1:22/t.vot"));
        assert!(!ok("http://127.0.0.1/t.vot"));
        assert!(ok("http://LOCALHOST/t.vot"));
        assert!(ok("http://[::1]/t.vot"));
        assert!(!ok("http://[::1]:8080/t.vot"));
        assert!(!ok("http://169.254.169.254/latest/meta-data"));
        assert!(!ok("http://10.0.0.1/t.vot"));
        assert!(!ok("https://example.org/t.vot"));
    }

    #[tokio::test]
    async fn inline_csv_and_votable() {
        let limits = UploadLimits::default();
        let csv = Bytes::from_static(b"id,ra,dec\n1,10.5,-3.25\n2,11.0,4.0\n");
        let vot = Bytes::from_static(
            br#"<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="ra" datatype="double" unit="deg" ucd="pos.eq.ra;meta.main"/>
<FIELD name="name" datatype="char" arraysize="*"/>
<DATA><TABLEDATA><TR><TD>1.5</TD><TD>a</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"#,
        );
        let parts: HashMap<String, Bytes> = [("c".to_string(), csv), ("v".to_string(), vot)].into();
        let t = with_uploads(
            &Tables::new(),
            Some("mine,param:c;vt,param:v"),
            &parts,
            &limits,
        )
        .await
        .unwrap();
        let e = &t.entries()[0];
        assert_eq!(e.qualified(), "TAP_UPLOAD.mine");
        assert_eq!(e.meta.fields.len(), 3);
        let v = &t.entries()[1];
        assert_eq!(v.meta.fields[0].unit.as_deref(), Some("deg"));
        let f = v.provider.schema();
        assert_eq!(
            f.field(0).metadata().get("ucd").map(String::as_str),
            Some("pos.eq.ra;meta.main")
        );
        let small = UploadLimits {
            max_rows: 1,
            ..UploadLimits::default()
        };
        let e = with_uploads(&Tables::new(), Some("mine,param:c"), &parts, &small)
            .await
            .unwrap_err();
        assert!(e.message().contains("1 rows"), "{e}");
        let tiny = UploadLimits {
            max_bytes: 10,
            ..UploadLimits::default()
        };
        let e = with_uploads(&Tables::new(), Some("mine,param:c"), &parts, &tiny)
            .await
            .unwrap_err();
        assert!(e.message().contains("10 bytes"), "{e}");
        let e = with_uploads(&Tables::new(), Some("mine,param:zz"), &parts, &limits)
            .await
            .unwrap_err();
        assert!(e.message().contains("no part called zz"), "{e}");
        let e = with_uploads(
            &Tables::new(),
            Some("x,http://169.254.169.254/latest"),
            &parts,
            &limits,
        )
        .await
        .unwrap_err();
        assert!(e.message().contains("does not fetch"), "{e}");
    }
}
