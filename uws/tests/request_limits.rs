//! `read_request_with` counts a request by its whole body (multipart
//! boundaries and part headers included), its number of parameters and
//! parts, and the header bytes of each part; past a limit the request is
//! refused with 413 and a message naming the limit. Normal requests read as
//! before.

use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::{web, App, HttpRequest, HttpResponse};
use astrolake_uws::http::{read_request_with, RequestLimits};

const LIMITS: RequestLimits = RequestLimits {
    max_bytes: 100_000,
    max_parts: 20,
    max_part_header_bytes: 1000,
};

/// Answers `params=N uploads=M`, or the error's status and message.
async fn echo(req: HttpRequest, payload: web::Payload) -> HttpResponse {
    match read_request_with(&req, payload, LIMITS).await {
        Ok((params, uploads)) => {
            HttpResponse::Ok().body(format!("params={} uploads={}", params.len(), uploads.len()))
        }
        Err(e) => HttpResponse::build(e.status()).body(e.to_string()),
    }
}

async fn send(req: TestRequest) -> (StatusCode, String) {
    let app = test::init_service(App::new().route("/", web::post().to(echo))).await;
    let resp = test::call_service(&app, req.uri("/").to_request()).await;
    let status = resp.status();
    let body = test::read_body(resp).await;
    (status, String::from_utf8(body.to_vec()).unwrap())
}

const BOUNDARY: &str = "xYzZY";

fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> TestRequest {
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if let Some(f) = file {
            body.extend_from_slice(format!("; filename=\"{f}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    TestRequest::post()
        .insert_header((
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ))
        .set_payload(body)
}

#[actix_web::test]
async fn normal_requests() {
    let (status, body) = send(multipart(&[
        ("QUERY", None, b"SELECT 1"),
        ("UPLOAD", None, b"t,param:t"),
        ("t", Some("t.csv"), b"a\n1\n"),
    ]))
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "params=2 uploads=1")
    );
    let (status, body) = send(
        TestRequest::post()
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload("REQUEST=doQuery&LANG=ADQL&QUERY=SELECT+1"),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "params=3 uploads=0")
    );
}

#[actix_web::test]
async fn too_many_parts_even_when_empty() {
    let names: Vec<String> = (0..21).map(|i| format!("p{i}")).collect();
    let parts: Vec<(&str, Option<&str>, &[u8])> =
        names.iter().map(|n| (n.as_str(), None, &b""[..])).collect();
    let (status, body) = send(multipart(&parts)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        "the request has more than 20 parameters and multipart parts together, more than this \
         service accepts"
    );
    let (status, _) = send(multipart(&parts[..20])).await;
    assert_eq!(status, StatusCode::OK);
    // The same for urlencoded bodies: "a&a&a..." would be millions of pairs.
    let (status, body) = send(
        TestRequest::post()
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload("a&".repeat(10_000)),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.contains("more than 20 parameters"), "{body}");
}

#[actix_web::test]
async fn part_headers_and_names_are_counted() {
    let long = "n".repeat(2000);
    let (status, body) = send(multipart(&[(&long, None, b"x")])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body.starts_with("a multipart part has ")
            && body.ends_with(
                "bytes of headers, more than this service accepts (1000 bytes per part)"
            ),
        "{body}"
    );
    // Headers that never end count against the body limit.
    let mut raw = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ")
        .into_bytes();
    raw.extend(std::iter::repeat_n(b'p', 200_000));
    let (status, body) = send(
        TestRequest::post()
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(raw),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        "the request is larger than this service accepts (100000 bytes)"
    );
}

#[actix_web::test]
async fn the_body_limit_counts_boundaries_and_headers() {
    // A preamble (text before the first boundary, which the parser skips)
    // is body too.
    let mut raw = vec![b'.'; 200_000];
    raw.extend_from_slice(
        format!("\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n")
            .as_bytes(),
    );
    let (status, body) = send(
        TestRequest::post()
            .insert_header((
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            ))
            .set_payload(raw),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        body,
        "the request is larger than this service accepts (100000 bytes)"
    );
    let big = vec![b'z'; 150_000];
    let (status, body) = send(multipart(&[("t", Some("t.csv"), &big)])).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        body,
        "the request is larger than this service accepts (100000 bytes)"
    );
}
