//! Thin actix-web handlers for the UWS 1.1 REST binding, mounted by
//! [`configure`] as `/async` under the caller's scope.
//!
//! | resource | GET | POST | DELETE |
//! |---|---|---|---|
//! | `/async` | job list (PHASE, AFTER, LAST) | create → 303 job | |
//! | `/async/{id}` | job document (WAIT, PHASE) | PHASE, DESTRUCTION, EXECUTIONDURATION, ACTION=DELETE, parameters → 303 | delete → 303 list |
//! | `/async/{id}/phase` | text | PHASE=RUN\|ABORT → 303 job | |
//! | `/async/{id}/executionduration` | text | EXECUTIONDURATION → 303 job | |
//! | `/async/{id}/destruction` | text | DESTRUCTION → 303 job | |
//! | `/async/{id}/quote`, `/owner` | text (empty when unset) | | |
//! | `/async/{id}/error` | the error document, or the message as text | | |
//! | `/async/{id}/parameters` | `uws:parameters` | parameters → 303 job | |
//! | `/async/{id}/results` | `uws:results` | | |
//! | `/async/{id}/results/{rid}` | the result file | | |
//! | `/async/{id}/uploads/{name}` | an uploaded file (byReference parameters link here) | | |
//!
//! Parameters come from the query string and from the body
//! (`application/x-www-form-urlencoded`, or `multipart/form-data`, whose
//! file parts — parts with a file name or a non-text content type — are
//! the job's uploads); names are case-insensitive. Links are absolute,
//! built from the request's scheme and host (actix's `ConnectionInfo`,
//! which honours `Forwarded` / `X-Forwarded-*`) and the base path given to
//! [`configure`]. Errors are [`UwsError`]s, answered with their
//! [`UwsError::status`] and the message as text/plain.
//!
//! Request bodies are read within [`RequestLimits`]: the whole body (for
//! multipart: boundaries and part headers included, counted as the bytes
//! arrive), the number of parameters and parts, and the header bytes of
//! each part. Past a limit the request is refused (413) before more is read.

use std::cell::Cell;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_multipart::Multipart;
use actix_web::error::PayloadError;
use actix_web::http::header::{self, ContentType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::io::AsyncReadExt;

use crate::error::{Result, UwsError};
use crate::job::{find_parameter, format_time, parse_time, Job};
use crate::manager::{Executor, Uws};
use crate::phase::Phase;
use crate::store::ListFilter;
use crate::xml::{self, XML_MIME};

impl ResponseError for UwsError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut r = HttpResponse::build(self.status_code());
        if matches!(self, UwsError::Busy(_)) {
            r.insert_header((header::RETRY_AFTER, "30"));
        }
        // The service's own faults (the job database, the job files) are
        // logged with their detail; the client gets a reference to the
        // log line, not paths or database text.
        let body = if self.status().is_server_error() {
            let reference = format!(
                "{:x}",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            );
            eprintln!("error [{reference}]: {self}");
            format!(
                "the job service failed to answer this request (an internal error, \
                 logged as {reference}); the operator has the details\n"
            )
        } else {
            format!("{self}\n")
        };
        r.content_type(ContentType::plaintext()).body(body)
    }
}

/// Where the links of the documents point: the path the caller mounted
/// the service under (`/tap`, no trailing slash) and [`Links`].
struct Base(String, Links);

/// How the service names itself in the links it writes (job URLs,
/// `Location` headers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// The service's public URL as clients reach it
    /// (`https://example.org/tap`): links are `{public_url}/async/...`.
    pub public_url: Option<String>,
    /// Without `public_url`: take the scheme and host from `Forwarded`,
    /// `X-Forwarded-*` and `Host` (behind a proxy the operator trusts);
    /// otherwise from the connection's own local address, so no client
    /// header ends up in a link another client is given.
    pub trust_proxy: bool,
}

/// The origin (`scheme://host[:port]`) of the server as the request
/// reached it: the forwarded or `Host` headers when `trust_proxy`, else
/// the local address of the connection.
pub fn request_origin(req: &HttpRequest, trust_proxy: bool) -> String {
    if trust_proxy {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let cfg = req.app_config();
    let scheme = if cfg.secure() { "https" } else { "http" };
    format!("{scheme}://{}", cfg.local_addr())
}

/// Mount the UWS resources of `uws` as `/async` in `cfg` (an `App` or a
/// `Scope`). `base_path` is the path of that scope as clients see it
/// (e.g. `/tap`, or `""` at the root): links in the documents are
/// `scheme://host{base_path}/async/...`, the host being the connection's
/// local address ([`configure_with`] for a public URL or a trusted proxy).
pub fn configure<E: Executor>(cfg: &mut web::ServiceConfig, uws: Arc<Uws<E>>, base_path: &str) {
    configure_with(cfg, uws, base_path, Links::default())
}

/// [`configure`], with links written as `links` says.
pub fn configure_with<E: Executor>(
    cfg: &mut web::ServiceConfig,
    uws: Arc<Uws<E>>,
    base_path: &str,
    links: Links,
) {
    let base = Base(base_path.trim_end_matches('/').to_string(), links);
    let mut scope = web::scope("/async")
        .app_data(web::Data::from(uws))
        .app_data(web::Data::new(base))
        .service(web::resource(["", "/"]).get(list::<E>).post(create::<E>))
        .service(
            web::resource("/{id}")
                .get(get_job::<E>)
                .post(post_job::<E>)
                .delete(delete_job::<E>),
        );
    for field in &FIELDS {
        let render = field.get;
        let mut resource = web::resource(format!("/{{id}}/{}", field.segment)).get(
            move |req: HttpRequest,
                  path: web::Path<String>,
                  uws: web::Data<Uws<E>>,
                  base: web::Data<Base>| get_field(render, req, path, uws, base),
        );
        // Without a POST the resource answers it as actix does for any
        // method it has no route for (405).
        if let Some(apply) = field.post {
            resource = resource.post(
                move |req: HttpRequest,
                      path: web::Path<String>,
                      payload: web::Payload,
                      uws: web::Data<Uws<E>>,
                      base: web::Data<Base>| {
                    post_field(apply, req, path, payload, uws, base)
                },
            );
        }
        scope = scope.service(resource);
    }
    cfg.service(
        scope
            .service(web::resource("/{id}/results").get(get_results::<E>))
            .service(web::resource("/{id}/results/{rid}").get(get_result::<E>))
            .service(web::resource("/{id}/uploads/{name}").get(get_upload::<E>)),
    );
}

/// How a job field's resource (`/async/{id}/{segment}`) answers a GET.
#[derive(Clone, Copy)]
enum Render {
    /// The value the function gives, as text/plain.
    Text(fn(&Job) -> String),
    /// The job's `uws:parameters` document.
    Parameters,
    /// The job's detailed error document, or else its error message as
    /// text/plain; 404 when the job has no error.
    Error,
}

/// How a job field's resource applies a POST (then answers 303 to the
/// job). Uploads are refused, as for every POST to an existing job.
#[derive(Clone, Copy)]
enum Apply {
    /// Only the parameters with this name (ignoring ASCII case; 400 when
    /// there are none), given to [`Uws::post`].
    Control(&'static str),
    /// All the parameters, given to [`Uws::update_parameters`].
    Parameters,
}

/// One job field with its own resource.
struct Field {
    /// The path segment after `/async/{id}/`.
    segment: &'static str,
    /// What a GET answers.
    get: Render,
    /// What a POST does; `None`: POST is not allowed (405).
    post: Option<Apply>,
}

/// The job fields with their own resources, in the order they are mounted.
static FIELDS: [Field; 7] = [
    Field {
        segment: "phase",
        get: Render::Text(|job| job.phase.to_string()),
        post: Some(Apply::Control("PHASE")),
    },
    Field {
        segment: "executionduration",
        get: Render::Text(|job| job.execution_duration.to_string()),
        post: Some(Apply::Control("EXECUTIONDURATION")),
    },
    Field {
        segment: "destruction",
        get: Render::Text(|job| format_time(&job.destruction)),
        post: Some(Apply::Control("DESTRUCTION")),
    },
    Field {
        segment: "quote",
        get: Render::Text(|job| job.quote.as_ref().map(format_time).unwrap_or_default()),
        post: None,
    },
    Field {
        segment: "owner",
        get: Render::Text(|job| job.owner.clone().unwrap_or_default()),
        post: None,
    },
    Field {
        segment: "error",
        get: Render::Error,
        post: None,
    },
    Field {
        segment: "parameters",
        get: Render::Parameters,
        post: Some(Apply::Parameters),
    },
];

type Params = Vec<(String, String)>;
type Uploads = Vec<(String, Bytes)>;

fn list_url(req: &HttpRequest, base: &Base) -> String {
    match &base.1.public_url {
        Some(u) => format!("{}/async", u.trim_end_matches('/')),
        None => format!(
            "{}{}/async",
            request_origin(req, base.1.trust_proxy),
            base.0
        ),
    }
}

fn job_url(req: &HttpRequest, base: &Base, id: &str) -> String {
    format!("{}/{}", list_url(req, base), id)
}

fn see_other(url: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url))
        .content_type(ContentType::plaintext())
        .body(format!("{url}\n"))
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type(XML_MIME).body(body)
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::plaintext())
        .body(body)
}

fn query_params(req: &HttpRequest) -> Params {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

/// The request's Content-Type as sent (empty when absent).
fn raw_content_type(req: &HttpRequest) -> String {
    req.headers()
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// The boundary of a `multipart/form-data` Content-Type, read the way
/// clients write it: quoted (`boundary="a b"`) or not, and unquoted
/// boundaries with characters a strict MIME parser refuses (astroquery's
/// TapPlus sends `boundary====1733590000000===`); parameter names in any
/// case, other parameters (`charset=`) ignored. Missing, empty, over 200
/// characters, or holding a quote, a backslash or a control character:
/// a 400 that says which.
pub fn multipart_boundary(content_type: &str) -> Result<String> {
    let bad = |why: String| {
        UwsError::BadRequest(format!(
            "the Content-Type {content_type:?} is not a usable multipart/form-data type: {why}"
        ))
    };
    let mut rest = content_type.split_once(';').map_or("", |(_, r)| r);
    let mut boundary = None;
    while !rest.trim().is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| bad(format!("the parameter {:?} has no value", rest.trim())))?;
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            // A quoted string: up to the closing quote, `\x` is x.
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next().map(|(_, c)| c)),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => v.push(c),
                }
            }
            let end = end.ok_or_else(|| bad("a quoted value has no closing quote".into()))?;
            let next = q[end..].trim_start();
            let next = match next.strip_prefix(';') {
                Some(n) => n,
                None if next.is_empty() => next,
                None => return Err(bad(format!("unexpected {next:?} after a quoted value"))),
            };
            (v, next)
        } else {
            match after.split_once(';') {
                Some((v, n)) => (v.trim().to_string(), n),
                None => (after.trim().to_string(), ""),
            }
        };
        if name.trim().eq_ignore_ascii_case("boundary") {
            boundary = Some(value);
        }
        rest = next;
    }
    let b = boundary.ok_or_else(|| bad("it has no boundary parameter".into()))?;
    if b.is_empty() {
        return Err(bad("its boundary is empty".into()));
    }
    if b.chars().count() > 200 {
        return Err(bad(format!(
            "its boundary has {} characters (at most 200)",
            b.chars().count()
        )));
    }
    if let Some(c) = b
        .chars()
        .find(|c| c.is_control() || *c == '"' || *c == '\\')
    {
        return Err(bad(format!("its boundary holds the character {c:?}")));
    }
    Ok(b)
}

fn bad_body(e: impl std::fmt::Display) -> UwsError {
    UwsError::BadRequest(format!("cannot read the request body: {e}"))
}

fn too_large(limit: usize) -> UwsError {
    UwsError::TooLarge(format!(
        "the request is larger than this service accepts ({limit} bytes)"
    ))
}

/// What one request's body may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// The most bytes of the body, all of it: for multipart, boundaries and
    /// part headers count too.
    pub max_bytes: usize,
    /// The most parameters and parts: those of the query string, the
    /// urlencoded body and the multipart parts together (1000).
    pub max_parts: usize,
    /// The most bytes of one multipart part's headers (names and values,
    /// the part's name included) (16 KiB).
    pub max_part_header_bytes: usize,
}

impl RequestLimits {
    /// At most `max_bytes` of body, and the default part limits.
    pub fn new(max_bytes: usize) -> Self {
        RequestLimits {
            max_bytes,
            max_parts: 1000,
            max_part_header_bytes: 16 * 1024,
        }
    }

    /// What a job manager configured with `cfg` reads.
    pub fn of(cfg: &crate::Config) -> Self {
        RequestLimits {
            max_bytes: cfg.max_request_bytes,
            max_parts: cfg.max_request_parts,
            max_part_header_bytes: cfg.max_part_header_bytes,
        }
    }
}

fn too_many_parts(limit: usize) -> UwsError {
    UwsError::TooLarge(format!(
        "the request has more than {limit} parameters and multipart parts together, more than \
         this service accepts"
    ))
}

/// The request body as it arrives, refused (an overflow error) once it
/// passes `limit` bytes; `seen` tells the reader why the stream failed.
struct CountedBody<S> {
    inner: S,
    seen: Rc<Cell<usize>>,
    limit: usize,
}

impl<S: Stream<Item = std::result::Result<Bytes, PayloadError>> + Unpin> Stream for CountedBody<S> {
    type Item = std::result::Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.seen.get() > self.limit {
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                let seen = self.seen.get().saturating_add(chunk.len());
                self.seen.set(seen);
                if seen > self.limit {
                    return Poll::Ready(Some(Err(PayloadError::Overflow)));
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            other => other,
        }
    }
}

/// The parameters of a request (query string, then an urlencoded or
/// multipart body) and its uploaded files (multipart parts with a file name
/// or a non-text type), within `limit` bytes and the default
/// [`RequestLimits`] otherwise. TAP's `/sync` reads its requests with this
/// too.
pub async fn read_request(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<(Params, Uploads)> {
    read_request_with(req, payload, RequestLimits::new(limit)).await
}

/// [`read_request`] within `limits`.
pub async fn read_request_with(
    req: &HttpRequest,
    mut payload: web::Payload,
    limits: RequestLimits,
) -> Result<(Params, Uploads)> {
    let limit = limits.max_bytes;
    let mut params = query_params(req);
    if params.len() > limits.max_parts {
        return Err(too_many_parts(limits.max_parts));
    }
    let mut uploads = Vec::new();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let seen = Rc::new(Cell::new(0usize));
        let body = CountedBody {
            inner: payload,
            seen: Rc::clone(&seen),
            limit,
        };
        let boundary = multipart_boundary(&raw_content_type(req))?;
        let mut headers = header::HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_str(&format!("multipart/form-data; boundary=\"{boundary}\""))
                .map_err(|_| UwsError::BadRequest("the multipart boundary is not valid".into()))?,
        );
        let mut parts = Multipart::new(&headers, body);
        let failed = |e: actix_multipart::MultipartError| {
            if seen.get() > limit {
                too_large(limit)
            } else {
                bad_body(e)
            }
        };
        while let Some(part) = parts.next().await {
            let mut part = part.map_err(failed)?;
            if params.len() + uploads.len() >= limits.max_parts {
                return Err(too_many_parts(limits.max_parts));
            }
            let header_bytes: usize = part
                .headers()
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len())
                .sum();
            if header_bytes > limits.max_part_header_bytes {
                return Err(UwsError::TooLarge(format!(
                    "a multipart part has {header_bytes} bytes of headers, more than this \
                     service accepts ({} bytes per part)",
                    limits.max_part_header_bytes
                )));
            }
            let name = part
                .name()
                .map(str::to_string)
                .ok_or_else(|| UwsError::BadRequest("a multipart part has no name".into()))?;
            let has_file_name = part
                .content_disposition()
                .and_then(|d| d.get_filename())
                .is_some();
            let is_text = part
                .content_type()
                .is_none_or(|m| m.type_() == actix_web::mime::TEXT);
            let mut data = BytesMut::new();
            while let Some(chunk) = part.next().await {
                let chunk = chunk.map_err(failed)?;
                data.extend_from_slice(&chunk);
            }
            if has_file_name || !is_text {
                uploads.push((name, data.freeze()));
            } else {
                let value = String::from_utf8(data.to_vec()).map_err(|_| {
                    UwsError::BadRequest(format!("parameter {name} is not UTF-8 text"))
                })?;
                params.push((name, value));
            }
        }
    } else if content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded")
    {
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(bad_body)?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        for (name, value) in url::form_urlencoded::parse(&body) {
            if params.len() >= limits.max_parts {
                return Err(too_many_parts(limits.max_parts));
            }
            params.push((name.into_owned(), value.into_owned()));
        }
    }
    Ok((params, uploads))
}

/// The parameters of a POST to an existing job (uploads are accepted only
/// at creation).
async fn read_post(
    req: &HttpRequest,
    payload: web::Payload,
    limits: RequestLimits,
) -> Result<Params> {
    let (params, uploads) = read_request_with(req, payload, limits).await?;
    if let Some((name, _)) = uploads.first() {
        return Err(UwsError::BadRequest(format!(
            "files can only be uploaded when a job is created (got file '{name}')"
        )));
    }
    Ok(params)
}

/// Only the parameters named `name` (ignoring ASCII case); an error when
/// there are none.
fn only(params: Params, name: &str) -> Result<Params> {
    let kept: Params = params
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .collect();
    if kept.is_empty() {
        return Err(UwsError::BadRequest(format!(
            "the parameter {name} is missing"
        )));
    }
    Ok(kept)
}

async fn list<E: Executor>(
    req: HttpRequest,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let mut filter = ListFilter::default();
    for (name, value) in query_params(&req) {
        match name.to_ascii_uppercase().as_str() {
            "PHASE" => filter.phases.push(value.parse::<Phase>()?),
            "AFTER" => filter.after = Some(parse_time(&value)?),
            "LAST" => {
                let n = value.trim().parse::<usize>().ok().filter(|n| *n > 0);
                filter.last = Some(n.ok_or_else(|| {
                    UwsError::BadRequest(format!("LAST must be a positive integer, not '{value}'"))
                })?);
            }
            _ => {}
        }
    }
    let jobs = uws.list(filter).await?;
    Ok(xml(xml::job_list(&jobs, &list_url(&req, &base))))
}

async fn create<E: Executor>(
    req: HttpRequest,
    payload: web::Payload,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let (params, uploads) =
        read_request_with(&req, payload, RequestLimits::of(uws.config())).await?;
    // TODO: the authenticated user, once the services have authentication.
    let job = uws.create(params, None, uploads).await?;
    Ok(see_other(&job_url(&req, &base, &job.job_id)))
}

async fn get_job<E: Executor>(
    req: HttpRequest,
    path: web::Path<String>,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let params = query_params(&req);
    let phase = find_parameter(&params, "PHASE")
        .map(str::parse::<Phase>)
        .transpose()?;
    let job = match find_parameter(&params, "WAIT") {
        Some(w) => {
            let secs: i64 = w.trim().parse().map_err(|_| {
                UwsError::BadRequest(format!("WAIT must be a whole number of seconds, not '{w}'"))
            })?;
            let timeout = match secs {
                -1 => uws.config().max_wait,
                s if s >= 0 => std::time::Duration::from_secs(s.unsigned_abs()),
                _ => {
                    return Err(UwsError::BadRequest(format!(
                        "WAIT must be -1 (the longest wait) or 0 or more seconds, not {secs}"
                    )))
                }
            };
            uws.wait(&id, phase, timeout).await?
        }
        None => uws.get(&id).await?,
    };
    Ok(xml(xml::job_document(&job, &job_url(&req, &base, &id))))
}

async fn post_job<E: Executor>(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let params = read_post(&req, payload, RequestLimits::of(uws.config())).await?;
    match uws.post(&id, params).await? {
        Some(_) => Ok(see_other(&job_url(&req, &base, &id))),
        None => Ok(see_other(&list_url(&req, &base))),
    }
}

async fn delete_job<E: Executor>(
    req: HttpRequest,
    path: web::Path<String>,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    uws.delete(&path.into_inner()).await?;
    Ok(see_other(&list_url(&req, &base)))
}

/// GET of a job field's resource, answered as `render` says.
async fn get_field<E: Executor>(
    render: Render,
    req: HttpRequest,
    path: web::Path<String>,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let job = uws.get(&path).await?;
    match render {
        Render::Text(value) => Ok(text(value(&job))),
        Render::Parameters => {
            let url = job_url(&req, &base, &job.job_id);
            Ok(xml(xml::parameters_document(&job, &url)))
        }
        Render::Error => {
            let Some(error) = &job.error else {
                return Err(UwsError::NotFound(format!(
                    "job {} has no error (it is {})",
                    job.job_id, job.phase
                )));
            };
            match uws.error_document(&job) {
                Some((file, mime)) => file_response(file, &mime).await,
                None => Ok(text(error.message.clone())),
            }
        }
    }
}

/// POST to a job field's resource, applied as `apply` says; 303 to the job.
async fn post_field<E: Executor>(
    apply: Apply,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let id = path.into_inner();
    let params = read_post(&req, payload, RequestLimits::of(uws.config())).await?;
    match apply {
        Apply::Control(name) => {
            uws.post(&id, only(params, name)?).await?;
        }
        Apply::Parameters => {
            uws.update_parameters(&id, params).await?;
        }
    }
    Ok(see_other(&job_url(&req, &base, &id)))
}

async fn get_results<E: Executor>(
    req: HttpRequest,
    path: web::Path<String>,
    uws: web::Data<Uws<E>>,
    base: web::Data<Base>,
) -> Result<HttpResponse> {
    let job = uws.get(&path).await?;
    let url = job_url(&req, &base, &job.job_id);
    Ok(xml(xml::results_document(&job, &url)))
}

async fn get_result<E: Executor>(
    path: web::Path<(String, String)>,
    uws: web::Data<Uws<E>>,
) -> Result<HttpResponse> {
    let (id, rid) = path.into_inner();
    let job = uws.get(&id).await?;
    let (file, result) = uws.result_path(&job, &rid)?;
    file_response(file, &result.mime).await
}

async fn get_upload<E: Executor>(
    path: web::Path<(String, String)>,
    uws: web::Data<Uws<E>>,
) -> Result<HttpResponse> {
    let (id, name) = path.into_inner();
    let job = uws.get(&id).await?;
    let file = uws
        .upload_path(&job, &name)
        .ok_or_else(|| UwsError::NotFound(format!("job {id} has no uploaded file '{name}'")))?;
    file_response(file, "application/octet-stream").await
}

/// A file streamed from disk in 64 KiB chunks, with its length.
async fn file_response(path: PathBuf, mime: &str) -> Result<HttpResponse> {
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            UwsError::NotFound("the file is gone (the job was destroyed)".into())
        } else {
            UwsError::Io(e)
        }
    })?;
    let len = file.metadata().await?.len();
    let chunks = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = BytesMut::with_capacity(64 * 1024);
        match file.read_buf(&mut buf).await {
            Ok(0) => None,
            Ok(_) => Some((Ok(buf.freeze()), Some(file))),
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .no_chunking(len)
        .streaming(chunks))
}

#[cfg(test)]
mod error_tests {
    use super::*;

    #[test]
    fn multipart_boundaries_as_clients_write_them() {
        for (ct, want) in [
            ("multipart/form-data; boundary=abc", "abc"),
            // astroquery's TapPlus: '=' unquoted.
            (
                "multipart/form-data; boundary====1733590000000===",
                "===1733590000000===",
            ),
            ("Multipart/Form-Data;BOUNDARY=\"a b=c;d\"", "a b=c;d"),
            (
                "multipart/form-data; charset=utf-8; boundary=\"x\\\"\"; y=z",
                "x\"",
            ),
            (
                "multipart/form-data; boundary=--------------------------123456",
                "--------------------------123456",
            ),
        ] {
            match multipart_boundary(ct) {
                Ok(b) if want.contains('"') => panic!("{ct}: {b:?} should be refused"),
                Ok(b) => assert_eq!(b, want, "{ct}"),
                Err(e) => assert!(want.contains('"'), "{ct}: {e}"),
            }
        }
        for (ct, why) in [
            ("multipart/form-data", "no boundary parameter"),
            ("multipart/form-data; boundary=", "boundary is empty"),
            ("multipart/form-data; boundary=\"open", "no closing quote"),
            ("multipart/form-data; charset", "has no value"),
            (
                "multipart/form-data; boundary=\"a\" junk",
                "after a quoted value",
            ),
        ] {
            let e = multipart_boundary(ct).unwrap_err().to_string();
            assert!(
                e.contains(why) && e.contains("multipart/form-data"),
                "{ct}: {e}"
            );
        }
        let long = format!("multipart/form-data; boundary={}", "b".repeat(201));
        assert!(multipart_boundary(&long)
            .unwrap_err()
            .to_string()
            .contains("201 characters"));
    }

    fn body(e: &UwsError) -> (u16, String) {
        let r = e.error_response();
        let status = r.status().as_u16();
        let bytes = futures::executor::block_on(actix_web::body::to_bytes(r.into_body()))
            .unwrap_or_default();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[test]
    fn service_faults_name_a_log_reference_not_their_detail() {
        let io = UwsError::Io(std::io::Error::other(
            "/var/lib/astrolake/jobs/x: disk full",
        ));
        let (status, text) = body(&io);
        assert_eq!(status, 500);
        assert!(text.contains("logged as "), "{text}");
        assert!(
            !text.contains("disk full") && !text.contains("/var/lib"),
            "{text}"
        );
        let (status, text) = body(&UwsError::BadRequest("PHASE=FLY is not a phase".into()));
        assert_eq!(status, 400);
        assert_eq!(text, "PHASE=FLY is not a phase\n");
    }
}
