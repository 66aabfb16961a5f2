//! The router in-process (`server::routes` under `actix_web::test`): each
//! error family's status and body, as `services::error` states the policy,
//! on a real synthetic catalogue. Each case says what it expects.

mod common;

use std::path::Path;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{test, web, App};
use astrolake_services::config::Config;
use astrolake_services::state::AppState;

/// The state of a server of `catalog` with its data under `data` and the
/// extra configuration `env` (as `ASTROLAKE_*` variables).
async fn state(catalog: &Path, data: &Path, env: &[(&str, &str)]) -> web::Data<AppState> {
    let mut vars: Vec<(String, String)> =
        vec![("ASTROLAKE_DATA".into(), data.to_string_lossy().into_owned())];
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let cfg = Config::load(None, vars).unwrap();
    let root = astrolake_catalog::CatalogRoot::open(&catalog.to_string_lossy()).unwrap();
    web::Data::new(AppState::open(&cfg, &root).await.unwrap())
}

struct Answer {
    status: StatusCode,
    content_type: String,
    headers: header::HeaderMap,
    body: String,
}

async fn send<S>(app: &S, req: test::TestRequest) -> Answer
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
{
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status();
    let headers = resp.headers().clone();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
    Answer {
        status,
        content_type,
        headers,
        body,
    }
}

fn sync_get(query: &str) -> test::TestRequest {
    sync_get_as(query, "votable")
}

fn sync_get_as(query: &str, format: &str) -> test::TestRequest {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("REQUEST", "doQuery")
        .append_pair("LANG", "ADQL")
        .append_pair("QUERY", query)
        .append_pair("RESPONSEFORMAT", format)
        .finish();
    test::TestRequest::get().uri(&format!("/tap/sync?{q}"))
}

#[actix_web::test]
async fn every_error_family_answers_as_the_policy_says() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat");
    common::synth(&catalog, 5_000);
    let data = dir.path().join("data");
    let state = state(
        &catalog,
        &data,
        &[
            ("ASTROLAKE_ADMIN_TOKEN", "s3cret-token"),
            ("ASTROLAKE_SERVER_MAX_REQUEST_BYTES", "4096"),
        ],
    )
    .await;
    let app = test::init_service(App::new().configure(|c| {
        astrolake_services::server::routes(c, &state);
    }))
    .await;

    // TAP, the client's mistakes: 400, a DALI error VOTable.
    let a = send(&app, sync_get("SELECT ra FROM gaia.gaia_source WHERE")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert_eq!(a.content_type, "application/x-votable+xml");
    assert!(a.body.contains(r#"name="QUERY_STATUS" value="ERROR""#));
    assert!(a.body.contains("line 1, column"), "{}", a.body);
    let a = send(&app, sync_get("SELECT x FROM gaia.no_such_table")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("no_such_table"), "{}", a.body);
    let a = send(
        &app,
        test::TestRequest::get().uri("/tap/sync?REQUEST=doQuery&LANG=ADQL"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("QUERY"), "{}", a.body);
    // A body over server.max_request_bytes: 413 on /sync as on /async.
    let big = format!("REQUEST=doQuery&LANG=ADQL&QUERY={}", "x".repeat(8_000));
    for path in ["/tap/sync", "/tap/async"] {
        let a = send(
            &app,
            test::TestRequest::post()
                .uri(path)
                .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
                .set_payload(big.clone()),
        )
        .await;
        assert_eq!(
            a.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            a.body
        );
    }
    // A good query still answers 200.
    let a = send(
        &app,
        sync_get_as("SELECT TOP 3 source_id FROM gaia.gaia_source", "csv"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.lines().count(), 1 + 3, "{}", a.body);

    // VOSI: an unknown table is 404, text naming it.
    let a = send(
        &app,
        test::TestRequest::get().uri("/tap/tables/gaia.nothing_here"),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.content_type.starts_with("text/plain"));
    assert!(a.body.contains("gaia.nothing_here"), "{}", a.body);
    let a = send(
        &app,
        test::TestRequest::get().uri("/tap/tables/gaia.gaia_source"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);

    // Registry: an unknown record is 404, text naming it.
    let a = send(
        &app,
        test::TestRequest::get().uri("/registry/no/such/record"),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains("no/such/record"), "{}", a.body);

    // Admin: 401 with WWW-Authenticate without the token, 400 naming what
    // is missing with it; both JSON.
    let a = send(&app, test::TestRequest::post().uri("/admin/import")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer",
        "{}",
        a.body
    );
    assert_eq!(a.content_type, "application/json");
    let a = send(
        &app,
        test::TestRequest::post()
            .uri("/admin/import")
            .insert_header((header::AUTHORIZATION, "Bearer wrong-token!")),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = send(
        &app,
        test::TestRequest::post()
            .uri("/admin/import")
            .insert_header((header::AUTHORIZATION, "Bearer s3cret-token")),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
    assert!(v["error"].as_str().unwrap().contains("schema and url"));

    // Files: 404 (also for hidden paths), 416 with the size, 206 for a
    // range that fits.
    for path in [
        "/catalogue/no/such/file.parquet",
        "/catalogue/gaia/.versions",
        "/catalogue/../etc/passwd",
    ] {
        let a = send(&app, test::TestRequest::get().uri(path)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}");
    }
    let manifest = std::fs::metadata(catalog.join("astrolake.json"))
        .unwrap()
        .len();
    let a = send(
        &app,
        test::TestRequest::get()
            .uri("/catalogue/astrolake.json")
            .insert_header((header::RANGE, format!("bytes={}-", manifest + 10))),
    )
    .await;
    assert_eq!(a.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        a.headers
            .get(header::CONTENT_RANGE)
            .unwrap()
            .to_str()
            .unwrap(),
        format!("bytes */{manifest}")
    );
    let a = send(
        &app,
        test::TestRequest::get()
            .uri("/catalogue/astrolake.json")
            .insert_header((header::RANGE, "bytes=0-9")),
    )
    .await;
    assert_eq!(a.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(a.body.len(), 10);

    // UWS, and a 500: a finished job whose files the service lost (its
    // directory replaced by a file) answers 500 with a log reference and
    // no local path.
    let a = send(
        &app,
        test::TestRequest::post()
            .uri("/tap/async")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(
                "REQUEST=doQuery&LANG=ADQL&PHASE=RUN&RESPONSEFORMAT=csv&QUERY=SELECT+TOP+5+source_id+FROM+gaia.gaia_source",
            ),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let location = a.headers.get(header::LOCATION).unwrap().to_str().unwrap();
    let id = location.rsplit('/').next().unwrap().to_string();
    let mut phase = String::new();
    for _ in 0..200 {
        let a = send(
            &app,
            test::TestRequest::get().uri(&format!("/tap/async/{id}/phase")),
        )
        .await;
        phase = a.body.trim().to_string();
        if phase == "COMPLETED" || phase == "ERROR" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(phase, "COMPLETED");
    let a = send(
        &app,
        test::TestRequest::get().uri(&format!("/tap/async/{id}/results/result")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body.lines().count(), 1 + 5, "{}", a.body);
    let job_dir = state.uws.job_dir(&id);
    std::fs::remove_dir_all(&job_dir).unwrap();
    std::fs::write(&job_dir, "not a directory").unwrap();
    let a = send(
        &app,
        test::TestRequest::get().uri(&format!("/tap/async/{id}/results/result")),
    )
    .await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", a.body);
    assert!(a.body.contains("logged as"), "{}", a.body);
    assert!(
        !a.body.contains(&*data.to_string_lossy()),
        "a local path in the answer: {}",
        a.body
    );
    // UWS, the client's mistakes: an unknown job is 404.
    let a = send(&app, test::TestRequest::get().uri("/tap/async/nojob")).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn admin_without_a_token_has_no_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("cat");
    common::synth(&catalog, 1_000);
    let state = state(&catalog, &dir.path().join("data"), &[]).await;
    let app = test::init_service(App::new().configure(|c| {
        astrolake_services::server::routes(c, &state);
    }))
    .await;
    let a = send(
        &app,
        test::TestRequest::post()
            .uri("/admin/import")
            .insert_header((header::AUTHORIZATION, "Bearer anything")),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body.contains("[admin] token"), "{}", a.body);
}
