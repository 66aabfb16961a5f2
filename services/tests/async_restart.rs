//! A server killed with SIGKILL while an async job runs: after a restart on
//! the same data directory, a job completed before still serves its result
//! and the one that was running reports ERROR, saying why.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::Server;

fn start(catalog: &Path, data: &Path, bind: &str) -> Server {
    let data = data.to_string_lossy();
    common::serve_at(catalog, bind, &[("ASTROLAKE_DATA", data.as_ref())])
}

async fn submit(http: &reqwest::Client, base: &str, query: &str) -> String {
    let r = http
        .post(format!("{base}/async"))
        .form(&[
            ("LANG", "ADQL"),
            ("QUERY", query),
            ("FORMAT", "csv"),
            ("PHASE", "RUN"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn text(http: &reqwest::Client, url: &str) -> (u16, String) {
    let r = http.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_a_job_then_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("cat");
    common::synth(&cat, 3000);
    let data = dir.path().join("data");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let base = format!("http://{bind}/tap");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut server = start(&cat, &data, &bind);
    let done = submit(&http, &base, "SELECT COUNT(*) AS n FROM gaia.gaia_source").await;
    let (_, doc) = text(&http, &format!("{done}?WAIT=60&PHASE=EXECUTING")).await;
    let doc = if doc.contains("COMPLETED") {
        doc
    } else {
        text(&http, &format!("{done}?WAIT=60")).await.1
    };
    assert!(doc.contains("<uws:phase>COMPLETED</uws:phase>"), "{doc}");
    let (s, before) = text(&http, &format!("{done}/results/result")).await;
    assert_eq!(s, 200);
    assert_eq!(before.trim(), "n\r\n3000");

    // A job that runs for minutes, killed while EXECUTING.
    let running = submit(
        &http,
        &base,
        "SELECT COUNT(*) FROM gaia.gaia_source AS a, gaia.gaia_source AS b, gaia.gaia_source AS c",
    )
    .await;
    let t0 = Instant::now();
    loop {
        let (_, phase) = text(&http, &format!("{running}/phase")).await;
        if phase.trim() == "EXECUTING" {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "phase {phase}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    drop(server);

    let _server = start(&cat, &data, &bind);
    let (s, after) = text(&http, &format!("{done}/results/result")).await;
    assert_eq!(s, 200);
    assert_eq!(after, before);
    let (_, phase) = text(&http, &format!("{running}/phase")).await;
    assert_eq!(phase.trim(), "ERROR");
    let (_, error) = text(&http, &format!("{running}/error")).await;
    assert!(error.contains("server stopped"), "{error}");
    let (_, doc) = text(&http, &running).await;
    assert!(doc.contains("<uws:phase>ERROR</uws:phase>"), "{doc}");
}
