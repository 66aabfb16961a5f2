//! `/catalogue/PATH`: the catalogue's files, read-only, with byte ranges,
//! so that another site (astrolake, LSDB, DuckDB) can read the Parquet
//! files and metadata the catalogue records point at over plain HTTP.
//!
//! Files are streamed from the store, never read whole into memory. One
//! range per request (`bytes=A-B`, `bytes=A-`, `bytes=-N`); a range that
//! does not fit the file is answered 416 with `Content-Range: bytes */SIZE`
//! (RFC 9110). Errors name the requested path only: the store's own
//! messages (which carry absolute local paths) go to the server log.

use std::ops::Range;

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures::TryStreamExt;
use object_store::{GetOptions, GetRange, ObjectStoreExt};

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

/// GET or HEAD one file of the catalogue.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, FileFailure> {
    let tail = req.match_info().get("tail").unwrap_or("");
    // Only plain relative paths: no empty, `.`, `..` or hidden segments
    // (staging directories of ingests in progress, table versions, locks
    // are hidden).
    if tail.is_empty() || tail.split('/').any(|s| s.is_empty() || s.starts_with('.')) {
        return Err(FileFailure::NotFound(tail.into()));
    }
    // None: the whole file; Some(None): a Range header we do not take
    // (answered like an unsatisfiable one, with the size).
    let asked: Option<Option<ByteRange>> = req
        .headers()
        .get(header::RANGE)
        .map(|v| v.to_str().ok().and_then(parse_range));
    let root = &state.catalog_root;
    let path = root.path(tail);
    let store = root.store();
    let meta = store
        .head(&path)
        .await
        .map_err(|e| FileFailure::of(tail, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
