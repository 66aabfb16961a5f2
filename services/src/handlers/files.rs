//! `/catalogue/PATH`: the catalogue's files, read-only, with byte ranges,
//! so that another site (astrolake, LSDB, DuckDB) can read the Parquet
//! files and metadata the catalogue records point at over plain HTTP.
//!
//! Files are streamed from the store, never read whole into memory. One
//! range per request (`bytes=A-B`, `bytes=A-`, `bytes=-N`); a range that
//! does not fit the file is answered 416 with `Content-Range: bytes */SIZE`
//! (RFC 9110). Errors name the requested path only: the store's own
//! messages (which carry absolute local paths) go to the server log.
//!
//! A directory (`/catalogue/gaia/gaia_source/`) answers an HTML index of
//! its entries, subdirectories ending in `/`, as web servers list static
//! trees: fsspec's HTTP file system (under hats and LSDB) lists and globs
//! a catalogue through these pages. A directory asked without its final
//! `/` is redirected (301) to it, so relative links resolve in browsers.
//! Hidden entries are never listed.

use std::ops::Range;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use astrolake_catalog::CatalogRoot;
use futures::TryStreamExt;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStoreExt};

use crate::error::FileFailure;
use crate::state::AppState;

/// One byte range as a client asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteRange {
    /// `bytes=A-B`: A to B inclusive (A <= B).
    FromTo(u64, u64),
    /// `bytes=A-`: from A to the end.
    From(u64),
    /// `bytes=-N`: the last N bytes.
    Last(u64),
}

impl ByteRange {
    /// The half-open span of a file of `size` bytes this range selects,
    /// `None` when it selects nothing (RFC 9110 §14.1.2: unsatisfiable).
    fn resolve(self, size: u64) -> Option<Range<u64>> {
        match self {
            ByteRange::FromTo(a, b) if a < size => Some(a..b.min(size - 1) + 1),
            ByteRange::From(a) if a < size => Some(a..size),
            ByteRange::Last(n) if n > 0 && size > 0 => Some(size.saturating_sub(n)..size),
            _ => None,
        }
    }
}

/// Parse a `Range: bytes=...` header value (one range).
fn parse_range(v: &str) -> Option<ByteRange> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let number = |s: &str| -> Option<u64> {
        // Digits only: u64's parser takes a leading `+`.
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    match (a.is_empty(), b.is_empty()) {
        (true, false) => Some(ByteRange::Last(number(b)?)),
        (false, true) => Some(ByteRange::From(number(a)?)),
        (false, false) => {
            let (a, b) = (number(a)?, number(b)?);
            (a <= b).then_some(ByteRange::FromTo(a, b))
        }
        (true, true) => None,
    }
}

fn mime(tail: &str) -> &'static str {
    if tail.ends_with(".parquet") || tail.ends_with("_metadata") {
        "application/vnd.apache.parquet"
    } else if tail.ends_with(".vot") || tail.ends_with(".xml") {
        "application/x-votable+xml"
    } else if tail.ends_with(".json") {
        "application/json"
    } else if tail.ends_with(".csv") {
        "text/csv"
    } else if tail.ends_with(".fits") {
        "application/fits"
    } else {
        "application/octet-stream"
    }
}

/// GET or HEAD one file of the catalogue, or a directory's index.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FileFailure> {
    let asked_path = req.match_info().get("tail").unwrap_or("");
    let (tail, directory) = match asked_path.strip_suffix('/') {
        Some(dir) => (dir, true),
        None => (asked_path, asked_path.is_empty()),
    };
    // Only plain relative paths: no empty, `.`, `..` or hidden segments
    // (staging directories of ingests in progress, table versions, locks
    // are hidden).
    if !tail.is_empty() && tail.split('/').any(|s| s.is_empty() || s.starts_with('.')) {
        return Err(FileFailure::NotFound(asked_path.into()));
    }
    let root = &state.catalog_root;
    if directory {
        return match listing(root, tail).await? {
            Some(page) => Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page)),
            None => Err(FileFailure::NotFound(asked_path.into())),
        };
    }
    // None: the whole file; Some(None): a Range header we do not take
    // (answered like an unsatisfiable one, with the size).
    let asked: Option<Option<ByteRange>> = req
        .headers()
        .get(header::RANGE)
        .map(|v| v.to_str().ok().and_then(parse_range));
    let path = root.path(tail);
    let store = root.store();
    let meta = match store.head(&path).await {
        Ok(meta) => meta,
        Err(object_store::Error::NotFound { .. }) if is_directory(root, tail).await? => {
            return Ok(HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, format!("{}/", req.path())))
                .finish());
        }
        Err(e) => return Err(FileFailure::of(tail, e)),
    };
    let size = meta.size;
    let span = match asked {
        None => 0..size,
        Some(None) => {
            return Err(FileFailure::Unsatisfiable {
                size,
                why: "only one range bytes=A-B, bytes=A- or bytes=-N is supported",
            })
        }
        Some(Some(r)) => match r.resolve(size) {
            Some(s) => s,
            None => {
                return Err(FileFailure::Unsatisfiable {
                    size,
                    why: "the range is outside the file",
                })
            }
        },
    };
    let mut resp = if asked.is_some() {
        let mut b = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
        b.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", span.start, span.end - 1),
        ));
        b
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ACCEPT_RANGES, "bytes"));
    resp.insert_header((header::LAST_MODIFIED, meta.last_modified.to_rfc2822()));
    if let Some(e) = &meta.e_tag {
        resp.insert_header((header::ETAG, format!("\"{}\"", e.trim_matches('"'))));
    }
    resp.content_type(mime(tail));
    let len = span.end - span.start;
    if len == 0 {
        return Ok(resp.finish());
    }
    if req.method() == actix_web::http::Method::HEAD {
        // A sized body that is never sent: actix answers a HEAD with its
        // length (an empty body would say 0).
        let nothing = futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
        return Ok(resp.no_chunking(len).streaming(nothing));
    }
    // The version HEAD described, or a precondition error if the file was
    // replaced in between (the headers above would be wrong).
    let opts = GetOptions {
        range: Some(GetRange::Bounded(span)),
        if_match: meta.e_tag.clone(),
        ..Default::default()
    };
    let r = store
        .get_opts(&path, opts)
        .await
        .map_err(|e| FileFailure::of(tail, e))?;
    let what = tail.to_string();
    let body = r.into_stream().map_err(move |e| {
        eprintln!("error: /catalogue/{what}: {e}");
        std::io::Error::other("the file could not be read to the end")
    });
    Ok(resp.no_chunking(len).streaming(body))
}

/// The visible entries of directory `rel`: subdirectories (sorted) and
/// files (sorted, with size and modification time); `None` when there is
/// none (object stores have no empty directories, so none is there).
async fn entries(
    root: &CatalogRoot,
    rel: &str,
) -> Result<Option<(Vec<String>, Vec<ObjectMeta>)>, FileFailure> {
    let listed = root
        .store()
        .list_with_delimiter(Some(&root.path(rel)))
        .await
        .map_err(|e| FileFailure::of(rel, e))?;
    let visible = |name: Option<&str>| name.is_some_and(|n| !n.starts_with('.'));
    let mut dirs: Vec<String> = listed
        .common_prefixes
        .iter()
        .filter(|p| visible(p.filename()))
        .filter_map(|p| p.filename().map(str::to_string))
        .collect();
    let mut files: Vec<ObjectMeta> = listed
        .objects
        .into_iter()
        .filter(|o| visible(o.location.filename()))
        .collect();
    if dirs.is_empty() && files.is_empty() {
        return Ok(None);
    }
    dirs.sort();
    files.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(Some((dirs, files)))
}

async fn is_directory(root: &CatalogRoot, rel: &str) -> Result<bool, FileFailure> {
    Ok(entries(root, rel).await?.is_some())
}

/// The HTML index of directory `rel` (`""`: the catalogue root), with
/// links relative to the directory's own URL (which ends in `/`).
async fn listing(root: &CatalogRoot, rel: &str) -> Result<Option<String>, FileFailure> {
    let Some((dirs, files)) = entries(root, rel).await? else {
        return Ok(None);
    };
    let title = html_escape(&format!(
        "/catalogue/{rel}{}",
        if rel.is_empty() { "" } else { "/" }
    ));
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<ul>\n"
    );
    if !rel.is_empty() {
        page += "<li><a href=\"../\">../</a></li>\n";
    }
    for d in &dirs {
        let (href, text) = (href_segment(d), html_escape(d));
        page += &format!("<li><a href=\"{href}/\">{text}/</a></li>\n");
    }
    for f in &files {
        let name = f.location.filename().unwrap_or_default();
        let (href, text) = (href_segment(name), html_escape(name));
        page += &format!(
            "<li><a href=\"{href}\">{text}</a> {} bytes, {}</li>\n",
            f.size,
            f.last_modified
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    page += "</ul></body></html>\n";
    Ok(Some(page))
}

/// One path segment as a link: percent-encoded outside RFC 3986's
/// unreserved characters and the sub-delimiters HATS names use (`=`, `,`).
fn href_segment(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~=,".contains(&b) {
            out.push(b as char);
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_encoded() {
        assert_eq!(href_segment("Npix=11.parquet"), "Npix=11.parquet");
        assert_eq!(href_segment("a b#?%é"), "a%20b%23%3F%25%C3%A9");
        assert_eq!(html_escape("<a&\"b>"), "&lt;a&amp;&quot;b&gt;");
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(parse_range("bytes=0-9"), Some(ByteRange::FromTo(0, 9)));
        assert_eq!(parse_range("bytes=5-"), Some(ByteRange::From(5)));
        assert_eq!(parse_range("bytes=-4"), Some(ByteRange::Last(4)));
        assert_eq!(
            parse_range("bytes=0-18446744073709551615"),
            Some(ByteRange::FromTo(0, u64::MAX))
        );
        assert_eq!(parse_range("bytes=9-0"), None);
        assert_eq!(parse_range("bytes=0-1,4-5"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range("bytes=-"), None);
        assert_eq!(parse_range("bytes=+1-2"), None);
        assert_eq!(parse_range("bytes=0-18446744073709551616"), None);
        assert_eq!(parse_range("bytes=--1"), None);
    }

    #[test]
    fn ranges_resolve_against_the_size() {
        // The end is clamped to the file; u64::MAX does not overflow.
        assert_eq!(ByteRange::FromTo(0, u64::MAX).resolve(100), Some(0..100));
        assert_eq!(ByteRange::FromTo(10, 19).resolve(100), Some(10..20));
        assert_eq!(ByteRange::FromTo(99, 200).resolve(100), Some(99..100));
        assert_eq!(ByteRange::FromTo(100, 200).resolve(100), None);
        assert_eq!(ByteRange::FromTo(u64::MAX, u64::MAX).resolve(100), None);
        assert_eq!(ByteRange::From(0).resolve(100), Some(0..100));
        assert_eq!(ByteRange::From(100).resolve(100), None);
        assert_eq!(ByteRange::Last(10).resolve(100), Some(90..100));
        assert_eq!(ByteRange::Last(u64::MAX).resolve(100), Some(0..100));
        assert_eq!(ByteRange::Last(0).resolve(100), None);
        // Nothing is satisfiable in an empty file.
        assert_eq!(ByteRange::From(0).resolve(0), None);
        assert_eq!(ByteRange::Last(5).resolve(0), None);
        assert_eq!(ByteRange::FromTo(0, 0).resolve(0), None);
    }
}
