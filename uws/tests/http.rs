//! The HTTP binding through actix-web's test service (and one real server
//! on 127.0.0.1 with a raw HTTP/1.1 client): status codes, redirects,
//! text resources, multipart uploads, WAIT, result streaming, the job list
//! with 5,000 jobs, and every XML document validated with xmllint.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{web, App};
use astrolake_uws::{format_time, http, Job, Phase, Uws};
use bytes::Bytes;
use common::{config, params, validate, TestExecutor};

type TestUws = Arc<Uws<TestExecutor>>;

const FORM: &str = "application/x-www-form-urlencoded";

/// A response: status, Location, Content-Type, body.
struct Resp {
    status: StatusCode,
    location: Option<String>,
    content_type: String,
    body: Bytes,
}

impl Resp {
    fn text(&self) -> String {
        String::from_utf8(self.body.to_vec()).unwrap()
    }
}

async fn call<S, B>(app: &S, req: TestRequest) -> Resp
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let resp = test::call_service(app, req.to_request()).await;
    let header = |name| {
        resp.headers()
            .get(name)
            .map(|v: &actix_web::http::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let location = header(actix_web::http::header::LOCATION);
    let content_type = header(actix_web::http::header::CONTENT_TYPE).unwrap_or_default();
    let status = resp.status();
    let body = test::read_body(resp).await;
    Resp {
        status,
        location,
        content_type,
        body,
    }
}

/// The path and query of an absolute URL (what the test service routes).
fn path(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

fn form(p: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (n, v) in p {
        s.append_pair(n, v);
    }
    s.finish()
}

fn post(uri: &str, p: &[(&str, &str)]) -> TestRequest {
    TestRequest::post()
        .uri(uri)
        .insert_header(("content-type", FORM))
        .set_payload(form(p))
}

fn get(uri: &str) -> TestRequest {
    TestRequest::get().uri(uri)
}

/// Every `xlink:href` of a document.
fn hrefs(doc: &str) -> Vec<String> {
    doc.split("xlink:href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

macro_rules! service {
    ($uws:expr, $links:expr) => {{
        let uws: TestUws = $uws.clone();
        let links: http::Links = $links;
        test::init_service(App::new().service(
            web::scope("/tap").configure(move |cfg| http::configure_with(cfg, uws, "/tap", links)),
        ))
        .await
    }};
    ($uws:expr) => {{
        let uws: TestUws = $uws.clone();
        test::init_service(
            App::new().service(
                web::scope("/tap").configure(move |cfg| http::configure(cfg, uws, "/tap")),
            ),
        )
        .await
    }};
}

/// GET the job with WAIT until it is in a final phase (bounded).
async fn finished<S, B>(app: &S, job_path: &str) -> String
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = call(app, get(&format!("{job_path}?WAIT=5"))).await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = r.text();
        if ["COMPLETED", "ERROR", "ABORTED"]
            .iter()
            .any(|p| doc.contains(&format!("<uws:phase>{p}</uws:phase>")))
        {
            return doc;
        }
        assert!(Instant::now() < deadline, "job never finished:\n{doc}");
    }
}

#[actix_web::test]
async fn lifecycle_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);

    // Empty list.
    let r = call(&app, get("/tap/async")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/xml"));
    validate("http-empty-list.xml", &r.text());

    // Create: parameters from the query string and the body.
    let r = call(
        &app,
        post(
            "/tap/async?MAXREC=5",
            &[("text", "hi"), ("RUNID", "run 1"), ("lang", "ADQL")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let job_url = r.location.unwrap();
    assert!(
        job_url.starts_with("http://127.0.0.1:8080/tap/async/"),
        "{job_url}"
    );
    let id = job_url.rsplit('/').next().unwrap().to_string();
    assert!(astrolake_uws::is_job_id(&id));
    let jp = path(&job_url);

    let r = call(&app, get(&jp)).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.text();
    validate("http-pending.xml", &doc);
    assert!(doc.contains("<uws:phase>PENDING</uws:phase>"));
    assert!(doc.contains("<uws:runId>run 1</uws:runId>"));
    assert!(doc.contains("<uws:ownerId xsi:nil=\"true\"/>"));
    assert!(doc.contains("<uws:parameter id=\"MAXREC\">5</uws:parameter>"));
    assert!(doc.contains("<uws:parameter id=\"text\">hi</uws:parameter>"));

    let text = |sub: &'static str| {
        let p = format!("{jp}/{sub}");
        let app = &app;
        async move {
            let r = call(app, get(&p)).await;
            assert_eq!(r.status, StatusCode::OK, "{sub}");
            assert!(r.content_type.starts_with("text/plain"), "{sub}");
            r.text()
        }
    };
    assert_eq!(text("phase").await, "PENDING");
    assert_eq!(text("executionduration").await, "3600");
    assert_eq!(text("quote").await, "");
    assert_eq!(text("owner").await, "");
    let destruction = text("destruction").await;
    assert!(
        astrolake_uws::parse_time(&destruction).is_ok(),
        "{destruction}"
    );
    let r = call(&app, get(&format!("{jp}/parameters"))).await;
    validate("http-parameters.xml", &r.text());
    let r = call(&app, get(&format!("{jp}/results"))).await;
    validate("http-results-empty.xml", &r.text());
    let r = call(&app, get(&format!("{jp}/error"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Changes while PENDING.
    let r = call(
        &app,
        post(&format!("{jp}/parameters"), &[("TEXT", "changed")]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some(job_url.as_str()));
    let r = call(
        &app,
        post(
            &format!("{jp}/executionduration"),
            &[("EXECUTIONDURATION", "60")],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(text("executionduration").await, "60");
    let when = "2000-01-01T00:00:00Z";
    let r = call(
        &app,
        post(&format!("{jp}/destruction"), &[("destruction", when)]),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(text("destruction").await, "2000-01-01T00:00:00.000Z");
    let later = format_time(&(chrono::Utc::now() + chrono::TimeDelta::days(1)));
    call(&app, post(&jp, &[("DESTRUCTION", &later)])).await;
    assert_eq!(text("destruction").await, later);
    for (sub, p, v) in [
        ("executionduration", "EXECUTIONDURATION", "-3"),
        ("destruction", "DESTRUCTION", "soon"),
        ("phase", "PHASE", "SUSPEND"),
    ] {
        let r = call(&app, post(&format!("{jp}/{sub}"), &[(p, v)])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{sub}={v}");
        assert!(r.content_type.starts_with("text/plain"));
        assert!(!r.text().is_empty());
    }
    let r = call(&app, post(&format!("{jp}/phase"), &[])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Run.
    let r = call(&app, post(&format!("{jp}/phase"), &[("PHASE", "RUN")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location.as_deref(), Some(job_url.as_str()));
    let doc = finished(&app, &jp).await;
    validate("http-completed.xml", &doc);
    assert!(doc.contains("<uws:phase>COMPLETED</uws:phase>"));
    assert!(doc.contains("<uws:parameter id=\"TEXT\">changed</uws:parameter>"));
    let links = hrefs(&doc);
    assert_eq!(links, [format!("{job_url}/results/result")]);
    assert!(doc.contains("size=\"7\""));
    assert!(doc.contains("mime-type=\"text/plain\""));
    let r = call(&app, get(&format!("{jp}/results"))).await;
    validate("http-results.xml", &r.text());
    assert_eq!(hrefs(&r.text()), links);
    let r = call(&app, get(&path(&links[0]))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "text/plain");
    assert_eq!(r.text(), "changed");

    // What a finished job refuses.
    for (uri, p) in [
        (format!("{jp}/phase"), ("PHASE", "RUN")),
        (format!("{jp}/parameters"), ("TEXT", "again")),
        (jp.clone(), ("QUERY", "x")),
        (
            format!("{jp}/executionduration"),
            ("EXECUTIONDURATION", "5"),
        ),
        (jp.clone(), ("PHASE", "ABORT")),
    ] {
        let r = call(&app, post(&uri, &[p])).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri} {p:?}");
        assert!(r.text().contains("COMPLETED"), "{}", r.text());
    }
    assert_eq!(text("phase").await, "COMPLETED");

    // Not found.
    for uri in [
        "/tap/async/0123456789abcdef0123456789abcdef".to_string(),
        "/tap/async/nonsense/phase".to_string(),
        format!("{jp}/results/nope"),
        format!("{jp}/uploads/nope"),
    ] {
        let r = call(&app, get(&uri)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(r.content_type.starts_with("text/plain"));
    }
    // Bad filters and WAIT values.
    for uri in [
        "/tap/async?PHASE=DONE",
        "/tap/async?LAST=0",
        "/tap/async?LAST=x",
        "/tap/async?AFTER=yesterday",
    ] {
        assert_eq!(
            call(&app, get(uri)).await.status,
            StatusCode::BAD_REQUEST,
            "{uri}"
        );
    }
    for q in ["WAIT=x", "WAIT=-2", "WAIT=5&PHASE=nope"] {
        let r = call(&app, get(&format!("{jp}?{q}"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
    }

    // The list shows the job; filters are case-insensitive.
    let r = call(&app, get("/tap/async?phase=COMPLETED&last=5")).await;
    let list = r.text();
    validate("http-list.xml", &list);
    assert_eq!(hrefs(&list), std::slice::from_ref(&job_url));
    assert!(list.contains("<uws:runId>run 1</uws:runId>"));
    let r = call(&app, get("/tap/async?PHASE=PENDING")).await;
    assert!(hrefs(&r.text()).is_empty());
}

#[actix_web::test]
async fn errors_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);
    let r = call(
        &app,
        post(
            "/tap/async",
            &[
                ("MODE", "fail"),
                ("MESSAGE", "table 'x' <unknown>"),
                ("PHASE", "RUN"),
            ],
        ),
    )
    .await;
    let jp = path(&r.location.unwrap());
    let doc = finished(&app, &jp).await;
    validate("http-error.xml", &doc);
    assert!(doc.contains("<uws:errorSummary type=\"fatal\" hasDetail=\"false\">"));
    assert!(doc.contains("<uws:message>table 'x' &lt;unknown&gt;</uws:message>"));
    let r = call(&app, get(&format!("{jp}/error"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/plain"));
    assert_eq!(r.text(), "table 'x' <unknown>");

    let r = call(
        &app,
        post(
            "/tap/async",
            &[("MODE", "faildoc"), ("MESSAGE", "bad"), ("PHASE", "RUN")],
        ),
    )
    .await;
    let jp = path(&r.location.unwrap());
    let doc = finished(&app, &jp).await;
    validate("http-error-detail.xml", &doc);
    assert!(doc.contains("hasDetail=\"true\""));
    let r = call(&app, get(&format!("{jp}/error"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/x-votable+xml");
    assert!(r.text().contains("QUERY_STATUS"));

    // Execution duration exceeded, over HTTP.
    let r = call(
        &app,
        post(
            "/tap/async",
            &[
                ("MODE", "forever"),
                ("EXECUTIONDURATION", "1"),
                ("PHASE", "RUN"),
            ],
        ),
    )
    .await;
    let jp = path(&r.location.unwrap());
    let doc = finished(&app, &jp).await;
    validate("http-timeout.xml", &doc);
    let r = call(&app, get(&format!("{jp}/error"))).await;
    assert_eq!(
        r.text(),
        "the job ran longer than its execution duration of 1 s and was cancelled"
    );

    // Abort over HTTP.
    let r = call(
        &app,
        post("/tap/async", &[("MODE", "forever"), ("PHASE", "RUN")]),
    )
    .await;
    let jp = path(&r.location.unwrap());
    let r = call(&app, post(&jp, &[("PHASE", "ABORT")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = call(&app, get(&format!("{jp}/phase"))).await;
    assert_eq!(r.text(), "ABORTED");
    validate("http-aborted.xml", &call(&app, get(&jp)).await.text());
}

#[actix_web::test]
async fn delete_and_action_delete_redirect_to_the_list() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);
    for how in ["DELETE", "ACTION=DELETE", "action=delete on a running job"] {
        let p: &[(&str, &str)] = if how.contains("running") {
            &[("MODE", "forever"), ("PHASE", "RUN")]
        } else {
            &[("TEXT", "x")]
        };
        let r = call(&app, post("/tap/async", p)).await;
        let job_url = r.location.unwrap();
        let id = job_url.rsplit('/').next().unwrap().to_string();
        let jp = path(&job_url);
        let r = if how == "DELETE" {
            call(&app, TestRequest::delete().uri(&jp)).await
        } else {
            call(&app, post(&jp, &[("ACTION", "DELETE")])).await
        };
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{how}: {}", r.text());
        assert_eq!(
            r.location.as_deref(),
            Some("http://127.0.0.1:8080/tap/async"),
            "{how}"
        );
        assert_eq!(
            call(&app, get(&jp)).await.status,
            StatusCode::NOT_FOUND,
            "{how}"
        );
        assert!(!uws.job_dir(&id).exists(), "{how}");
        // Twice: no such job.
        let r = call(&app, TestRequest::delete().uri(&jp)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }
    let r = call(&app, post("/tap/async", &[])).await;
    let jp = path(&r.location.unwrap());
    let r = call(&app, post(&jp, &[("ACTION", "ARCHIVE")])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// One part of a multipart body: name, file name, content type, content.
type Part<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

/// A multipart/form-data body.
fn multipart(boundary: &str, parts: &[Part<'_>]) -> Vec<u8> {
    let mut b = Vec::new();
    for (name, file, ct, content) in parts {
        write!(
            b,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\""
        )
        .unwrap();
        if let Some(f) = file {
            write!(b, "; filename=\"{f}\"").unwrap();
        }
        b.extend_from_slice(b"\r\n");
        if let Some(ct) = ct {
            write!(b, "Content-Type: {ct}\r\n").unwrap();
        }
        b.extend_from_slice(b"\r\n");
        b.extend_from_slice(content);
        b.extend_from_slice(b"\r\n");
    }
    write!(b, "--{boundary}--\r\n").unwrap();
    b
}

#[actix_web::test]
async fn multipart_upload_reaches_the_executor() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);
    let votable = "<?xml version=\"1.0\"?>\n<VOTABLE version=\"1.4\"><RESOURCE><TABLE>\
                   <FIELD name=\"ra\" datatype=\"double\"/><DATA><TABLEDATA><TR><TD>1.5</TD></TR>\
                   </TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>\n";
    let boundary = "----astrolake-test-boundary-7MA4YWxkTrZu0gW";
    let body = multipart(
        boundary,
        &[
            ("REQUEST", None, None, b"doQuery"),
            ("LANG", None, Some("text/plain; charset=utf-8"), b"ADQL"),
            (
                "QUERY",
                None,
                None,
                "SELECT * FROM TAP_UPLOAD.t1 WHERE ra > 1 -- é".as_bytes(),
            ),
            ("UPLOAD", None, None, b"t1,param:t1"),
            ("TEXT", None, None, b"with upload"),
            (
                "t1",
                Some("stars.xml"),
                Some("application/x-votable+xml"),
                votable.as_bytes(),
            ),
            ("PHASE", None, None, b"RUN"),
        ],
    );
    let r = call(
        &app,
        TestRequest::post()
            .uri("/tap/async")
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let job_url = r.location.unwrap();
    let jp = path(&job_url);
    let doc = finished(&app, &jp).await;
    validate("http-upload.xml", &doc);
    assert!(doc.contains("<uws:phase>COMPLETED</uws:phase>"), "{doc}");
    assert!(doc.contains("SELECT * FROM TAP_UPLOAD.t1 WHERE ra &gt; 1 -- é"));
    assert!(doc.contains("<uws:parameter id=\"LANG\">ADQL</uws:parameter>"));
    let upload_href = format!("{job_url}/uploads/t1");
    assert!(
        doc.contains(&format!(
            "<uws:parameter id=\"t1\" byReference=\"true\">{upload_href}</uws:parameter>"
        )),
        "{doc}"
    );
    // The executor saw the file (it copied it into a result).
    let r = call(&app, get(&format!("{jp}/results/upload"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/x-votable+xml");
    assert_eq!(r.text(), votable);
    // The byReference link serves the upload.
    let r = call(&app, get(&path(&upload_href))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), votable);
    // Stored under the job's directory.
    let id = job_url.rsplit('/').next().unwrap();
    let job: Job = uws.get(id).await.unwrap();
    assert_eq!(job.uploads.len(), 1);
    assert_eq!(job.uploads[0].size, votable.len() as u64);
    let stored = uws.upload_path(&job, "T1").unwrap();
    assert!(stored.starts_with(uws.job_dir(id)));
    assert_eq!(std::fs::read_to_string(stored).unwrap(), votable);
    validate(
        "http-upload-parameters.xml",
        &call(&app, get(&format!("{jp}/parameters"))).await.text(),
    );

    // Files are accepted only at creation; oversized bodies are refused.
    let body = multipart(boundary, &[("t2", Some("x.xml"), None, b"<x/>")]);
    let r = call(
        &app,
        TestRequest::post()
            .uri(&format!("{jp}/parameters"))
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let tmp2 = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp2.path());
    cfg.max_request_bytes = 1000;
    let small = Uws::open(cfg, TestExecutor::default()).await.unwrap();
    let app2 = service!(small);
    let big = vec![b'x'; 5000];
    let body = multipart(boundary, &[("t1", Some("big.xml"), None, &big)]);
    let r = call(
        &app2,
        TestRequest::post()
            .uri("/tap/async")
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body),
    )
    .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    let r = call(&app2, post("/tap/async", &[("QUERY", &"y".repeat(2000))])).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(small.store().count().unwrap(), 0);
}

/// The multipart request astroquery's TapPlus sends (`upload_resource`):
/// an unquoted boundary full of `=`, and `Content-Type: None` on the file
/// part. Parameters and the file both arrive.
#[actix_web::test]
async fn a_tapplus_multipart_request_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);
    let votable = "<VOTABLE version=\"1.4\"><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/>\
                   <DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>";
    let boundary = "===1733590000000===";
    let body = multipart(
        boundary,
        &[
            ("REQUEST", None, None, b"doQuery"),
            ("LANG", None, None, b"ADQL"),
            ("QUERY", None, None, b"SELECT * FROM TAP_UPLOAD.t"),
            ("UPLOAD", None, None, b"t,param:t"),
            ("t", Some("t.xml"), Some("None"), votable.as_bytes()),
        ],
    );
    let r = call(
        &app,
        TestRequest::post()
            .uri("/tap/async")
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            ))
            .set_payload(body),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let id = r.location.unwrap().rsplit('/').next().unwrap().to_string();
    let job: Job = uws.get(&id).await.unwrap();
    assert_eq!(job.uploads.len(), 1);
    assert_eq!(job.uploads[0].size, votable.len() as u64);
    assert!(job
        .parameters
        .iter()
        .any(|(k, v)| k == "QUERY" && v == "SELECT * FROM TAP_UPLOAD.t"));

    // A boundary that is really missing says so.
    let r = call(
        &app,
        TestRequest::post()
            .uri("/tap/async")
            .insert_header(("content-type", "multipart/form-data; charset=utf-8"))
            .set_payload("x"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains("has no boundary parameter"),
        "{}",
        r.text()
    );
}

#[actix_web::test]
async fn wait_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);
    let r = call(
        &app,
        post("/tap/async", &[("SLEEP", "500"), ("PHASE", "RUN")]),
    )
    .await;
    let jp = path(&r.location.unwrap());
    let t = Instant::now();
    let r = call(&app, get(&format!("{jp}?WAIT=30&PHASE=EXECUTING"))).await;
    let took = t.elapsed();
    println!("HTTP WAIT=30 on a 500 ms job returned after {took:?}");
    assert!(r.text().contains("<uws:phase>COMPLETED</uws:phase>"));
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // Final phase, WAIT=-1: at once.
    let t = Instant::now();
    let r = call(&app, get(&format!("{jp}?WAIT=-1"))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(t.elapsed() < Duration::from_secs(3));
    // A PENDING job with WAIT=1: one second later, still PENDING.
    let r = call(&app, post("/tap/async", &[])).await;
    let jp = path(&r.location.unwrap());
    let t = Instant::now();
    let r = call(&app, get(&format!("{jp}?wait=1"))).await;
    assert!(r.text().contains("<uws:phase>PENDING</uws:phase>"));
    assert!(t.elapsed() >= Duration::from_millis(990));
}

#[actix_web::test]
async fn list_of_5000_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let app = service!(uws);
    let n = 5000;
    let t = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let run_id = format!("job {i}");
        let j = uws
            .create(
                params(&[("QUERY", "SELECT 1"), ("RUNID", &run_id)]),
                None,
                vec![],
            )
            .await
            .unwrap();
        // A mix of phases: every 10th COMPLETED, every 100th ERROR.
        if i % 10 == 0 || i % 100 == 1 {
            let mut done = j.clone();
            done.phase = if i % 10 == 0 {
                Phase::Completed
            } else {
                Phase::Error
            };
            uws.store().update(&done).unwrap();
        }
        ids.push(j);
    }
    let created = t.elapsed();
    println!(
        "created {n} jobs in {created:?} ({:?} per job)",
        created / n as u32
    );

    let time = |uri: String| {
        let app = &app;
        async move {
            let t = Instant::now();
            let r = call(app, get(&uri)).await;
            let took = t.elapsed();
            assert_eq!(r.status, StatusCode::OK, "{uri}");
            (r.text(), took)
        }
    };
    let (all, took_all) = time("/tap/async".into()).await;
    let refs = hrefs(&all);
    assert_eq!(refs.len(), n);
    assert!(refs[0].ends_with(&ids[n - 1].job_id), "newest first");
    println!(
        "GET /async with {n} jobs: {took_all:?} ({} bytes)",
        all.len()
    );
    let t = Instant::now();
    validate("http-list-5000.xml", &all);
    println!("xmllint on the {n}-job list: {:?}", t.elapsed());

    let (last, took_last) = time("/tap/async?LAST=10".into()).await;
    let last = hrefs(&last);
    assert_eq!(last.len(), 10);
    assert!(last[0].ends_with(&ids[n - 1].job_id) && last[9].ends_with(&ids[n - 10].job_id));
    println!("GET /async?LAST=10: {took_last:?}");

    let (done, took_phase) = time("/tap/async?PHASE=COMPLETED&PHASE=ERROR".into()).await;
    assert_eq!(hrefs(&done).len(), 500 + 50);
    println!("GET /async?PHASE=COMPLETED&PHASE=ERROR (550 jobs): {took_phase:?}");

    let after = format_time(&ids[n - 101].creation_time);
    let (recent, took_after) = time(format!("/tap/async?AFTER={after}")).await;
    let recent = hrefs(&recent);
    assert!(recent.len() <= 100 && !recent.is_empty());
    assert!(recent[0].ends_with(&ids[n - 1].job_id));
    println!("GET /async?AFTER=… ({} jobs): {took_after:?}", recent.len());

    let (_, took_one) = time(format!("/tap/async/{}", ids[n / 2].job_id)).await;
    println!("GET one job among {n}: {took_one:?}");

    // Generous bounds for a debug build on a busy 2-core machine.
    assert!(took_all < Duration::from_secs(2), "{took_all:?}");
    assert!(took_last < Duration::from_secs(1), "{took_last:?}");
    assert!(took_phase < Duration::from_secs(1), "{took_phase:?}");
}

/// A raw HTTP/1.1 exchange with a real server (one request per
/// connection): status, headers (lower-case names), body.
fn exchange(
    addr: std::net::SocketAddr,
    request: String,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[actix_web::test]
async fn real_server_on_loopback() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let shared = uws.clone();
    let server = actix_web::HttpServer::new(move || {
        let uws = shared.clone();
        App::new()
            .service(web::scope("/tap").configure(move |cfg| http::configure(cfg, uws, "/tap")))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);

    let big = "x".repeat(300_000);
    let body = form(&[("TEXT", &big), ("PHASE", "RUN")]);
    let (status, headers, _) = actix_web::rt::task::spawn_blocking(move || {
        exchange(
            addr,
            format!(
                "POST /tap/async HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
                 Content-Type: {FORM}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            ),
            body.as_bytes(),
        )
    })
    .await
    .unwrap();
    assert_eq!(status, 303);
    let job_url = header(&headers, "location").unwrap().to_string();
    assert!(
        job_url.starts_with(&format!("http://{addr}/tap/async/")),
        "{job_url}"
    );
    let jp = path(&job_url);

    let get_raw = move |p: String, extra: &'static str| {
        actix_web::rt::task::spawn_blocking(move || {
            exchange(
                addr,
                format!("GET {p} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"),
                b"",
            )
        })
    };
    let (status, _, doc) = get_raw(format!("{jp}?WAIT=30"), "").await.unwrap();
    assert_eq!(status, 200);
    let doc = String::from_utf8(doc).unwrap();
    validate("real-server-job.xml", &doc);
    assert!(doc.contains("<uws:phase>COMPLETED</uws:phase>"), "{doc}");
    let result = hrefs(&doc)[0].clone();
    let (status, headers, content) = get_raw(path(&result), "").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-length"), Some("300000"));
    assert_eq!(header(&headers, "content-type"), Some("text/plain"));
    assert!(content == big.as_bytes());

    // Forwarded headers from a client are not trusted by default: the
    // links stay on the address the connection reached.
    let (_, _, doc) = get_raw(
        jp.clone(),
        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n",
    )
    .await
    .unwrap();
    let doc = String::from_utf8(doc).unwrap();
    assert_eq!(hrefs(&doc)[0], format!("{job_url}/results/result"));
    handle.stop(true).await;
}

#[actix_web::test]
async fn links_use_the_public_url_or_a_trusted_proxy_never_client_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let uws = Uws::open(config(tmp.path()), TestExecutor::default())
        .await
        .unwrap();
    let forwarded = |r: TestRequest| {
        r.insert_header(("X-Forwarded-Proto", "https"))
            .insert_header(("X-Forwarded-Host", "proxy.example.org"))
            .insert_header(("Host", "client-said.example"))
    };
    let create = || forwarded(post("/tap/async", &[("text", "hi")]));
    // Default: neither Host nor X-Forwarded-* reach the links.
    let app = service!(uws);
    let r = call(&app, create()).await;
    let url = r.location.unwrap();
    assert!(url.starts_with("http://127.0.0.1:8080/tap/async/"), "{url}");
    // A trusted proxy: its headers name the service.
    let app = service!(
        uws,
        http::Links {
            public_url: None,
            trust_proxy: true
        }
    );
    let r = call(&app, create()).await;
    let url = r.location.unwrap();
    assert!(
        url.starts_with("https://proxy.example.org/tap/async/"),
        "{url}"
    );
    // The public URL wins over everything.
    let app = service!(
        uws,
        http::Links {
            public_url: Some("https://data.example.org/tap/".into()),
            trust_proxy: true
        }
    );
    let r = call(&app, create()).await;
    let url = r.location.unwrap();
    assert!(
        url.starts_with("https://data.example.org/tap/async/"),
        "{url}"
    );
    assert!(!url.contains("proxy.example.org"), "{url}");
}
