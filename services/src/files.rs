//! `/catalogue/PATH`: the catalogue's files, read-only, with byte ranges,
//! so that another site (astrolake, LSDB, DuckDB) can read the Parquet
//! files and metadata the catalogue records point at over plain HTTP.

use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use object_store::{GetOptions, GetRange};

use crate::http::AppState;

/// Parse a `Range: bytes=...` header value (one range).
fn parse_range(v: &str) -> Option<GetRange> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    match (a.is_empty(), b.is_empty()) {
        (true, false) => Some(GetRange::Suffix(b.parse().ok()?)),
        (false, true) => Some(GetRange::Offset(a.parse().ok()?)),
        (false, false) => {
            let (a, b): (u64, u64) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some(GetRange::Bounded(a..b + 1))
        }
        (true, true) => None,
    }
}

fn plain(status: StatusCode, text: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(ContentType::plaintext())
        .body(text)
}

/// GET or HEAD one file of the catalogue.
pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let tail = req.match_info().get("tail").unwrap_or("");
    // Only plain relative paths: no empty, `.`, `..` or hidden segments
    // (staging directories of ingests in progress are hidden).
    if tail.is_empty() || tail.split('/').any(|s| s.is_empty() || s.starts_with('.')) {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no catalogue file {tail:?}\n"),
        );
    }
    let range = match req.headers().get(header::RANGE) {
        Some(v) => match v.to_str().ok().and_then(parse_range) {
            Some(r) => Some(r),
            None => {
                return plain(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    "only one range bytes=A-B, bytes=A- or bytes=-N is supported\n".into(),
                )
            }
        },
        None => None,
    };
    let head = req.method() == actix_web::http::Method::HEAD;
    let root = &state.catalog_root;
    let path = root.path(tail);
    let store = root.store();
    let opts = GetOptions {
        range: range.clone(),
        head,
        ..Default::default()
    };
    let r = match store.get_opts(&path, opts).await {
        Ok(r) => r,
        Err(object_store::Error::NotFound { .. }) => {
            return plain(
                StatusCode::NOT_FOUND,
                format!("no catalogue file {tail:?}\n"),
            )
        }
        Err(e) => {
            let status = if e.to_string().contains("range") {
                StatusCode::RANGE_NOT_SATISFIABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            return plain(status, format!("reading {tail:?}: {e}\n"));
        }
    };
    let size = r.meta.size;
    let span = r.range.clone();
    let mut resp = if range.is_some() {
        let mut b = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
        b.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{size}", span.start, span.end.saturating_sub(1)),
        ));
        b
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::ACCEPT_RANGES, "bytes"));
    resp.insert_header((header::LAST_MODIFIED, r.meta.last_modified.to_rfc2822()));
    if let Some(e) = &r.meta.e_tag {
        resp.insert_header((header::ETAG, format!("\"{}\"", e.trim_matches('"'))));
    }
    let mime = if tail.ends_with(".parquet") || tail.ends_with("_metadata") {
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
    };
    resp.content_type(mime);
    if head {
        return resp.no_chunking(span.end - span.start).finish();
    }
    match r.bytes().await {
        Ok(b) => resp.body(b),
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("reading {tail:?}: {e}\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9"), Some(GetRange::Bounded(0..10)));
        assert_eq!(parse_range("bytes=5-"), Some(GetRange::Offset(5)));
        assert_eq!(parse_range("bytes=-4"), Some(GetRange::Suffix(4)));
        assert_eq!(parse_range("bytes=9-0"), None);
        assert_eq!(parse_range("bytes=0-1,4-5"), None);
        assert_eq!(parse_range("items=0-1"), None);
    }
}
