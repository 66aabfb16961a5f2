//! The TAP service against real clients, on the real-data catalogue (Gaia
//! DR3 bright stars, Hipparcos 2):
//!
//! - `stilts taplint` (Debian's STILTS), every default stage, read as JSON:
//!   no error and no warning;
//! - a pyvo (PyPI) session: sync, run_async, submit/run/wait/fetch, an
//!   async error, an upload cross-match, tables, examples, MAXREC and the
//!   hard limit, the job list, and astropy reading VOTable (BINARY2,
//!   BINARY, TABLEDATA), CSV, FITS and Parquet results;
//! - the served `/availability`, `/capabilities`, `/tables` and UWS job
//!   documents against the XML schemas inside STILTS' jar, with xmllint,
//!   `/tables` also as TAP+ clients get it (with `esatapplus:flags`,
//!   validated with the served `/xml/EsaTapPlus.xsd`);
//! - astroquery's TapPlus (`astroquery.gaia`'s client): tables, sync and
//!   async jobs in every output format it offers, uploads, the job list;
//! - LSDB and hats reading the HATS catalogue over HTTP: LSDB's cone
//!   search equals the TAP cone row for row, and hats validates it;
//! - pyvo's registry search (`regsearch`, `get_service`, `get_tables`,
//!   `get_contact`) on the site's RegTAP tables, each answer checked
//!   against the records harvested over OAI-PMH.
//!
//! The server is the `astrolake` binary of this build (`cargo build
//! --workspace --tests` builds it), run as `astrolake serve`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn start(catalog: &str, data: &Path) -> (common::Server, String) {
    let (server, root) = common::serve(
        catalog,
        data,
        &[
            ("ASTROLAKE_LIMITS_DEFAULT_MAXREC", "20000"),
            ("ASTROLAKE_LIMITS_HARD_MAXREC", "2000000"),
        ],
    );
    (server, format!("{root}/tap"))
}

/// taplint's JSON report: every ERROR and WARNING, as text.
fn taplint_problems(base: &str) -> (Vec<String>, serde_json::Value) {
    let out = Command::new("stilts")
        .args(["taplint", &format!("tapurl={base}"), "format=json"])
        .output()
        .expect("stilts (Debian package) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find('{').unwrap_or_else(|| {
        panic!(
            "taplint printed no JSON:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: serde_json::Value = serde_json::from_str(&text[start..])
        .unwrap_or_else(|e| panic!("taplint JSON: {e}\n{text}"));
    let mut problems = Vec::new();
    for section in report["sections"].as_array().into_iter().flatten() {
        for r in section["reports"].as_array().into_iter().flatten() {
            let level = r["level"].as_str().unwrap_or("");
            // FAILURE means a check did not apply (e.g. LOC-NOTP: no
            // ivoa.obsplan table, as this service has no ObsLocTAP); those
            // are printed, not counted.
            if level == "FAILURE" {
                eprintln!("taplint: {} {}", r["code"], r["text"]);
            }
            // CAP-CULF: taplint warns of every languageFeatures type
            // outside TAPRegExt. pyvo's spatial registry search refuses to
            // run unless MOC is declared under GAVO's type (as GAVO DaCHS
            // registries declare it), so that one is printed, not counted;
            // any other custom type still fails.
            let text = r["text"].as_str().unwrap_or("");
            if r["code"] == "CULF"
                && text.contains("\"ivo://org.gavo.dc/std/exts#extra-adql-keywords\"")
            {
                eprintln!("taplint: {} {}", r["code"], text);
                continue;
            }
            if level == "ERROR" || level == "WARNING" {
                problems.push(format!(
                    "{} {}-{}: {}",
                    level,
                    section["code"].as_str().unwrap_or("?"),
                    r["code"].as_str().unwrap_or("?"),
                    r["text"].as_str().unwrap_or("")
                ));
            }
        }
    }
    (problems, report)
}

/// Extract STILTS' schemas and a catalog mapping their imports to files;
/// returns (directory, schema including all of them).
fn stilts_schemas(dir: &Path) -> PathBuf {
    let jar = Path::new("/usr/share/java/starlink-ttools.jar");
    assert!(jar.exists(), "install the Debian package stilts");
    std::fs::create_dir_all(dir).unwrap();
    let unzipped = Command::new("unzip")
        .args(["-o", "-q", "-j"])
        .arg(jar)
        .arg("uk/ac/starlink/ttools/taplint/*.xsd")
        .arg("-d")
        .arg(dir)
        .status();
    assert!(
        unzipped.is_ok_and(|s| s.success()),
        "unzip the jar's schemas"
    );
    let d = dir.display();
    let map = [
        (
            "http://www.ivoa.net/xml/VOResource/VOResource-v1.0.xsd",
            "VOResource-v1.1.xsd",
        ),
        (
            "http://www.ivoa.net/xml/VOResource/v1.0",
            "VOResource-v1.1.xsd",
        ),
        (
            "http://www.ivoa.net/xml/VODataService/v1.1",
            "VODataService-v1.2.xsd",
        ),
        ("http://www.ivoa.net/xml/STC/stc-v1.30.xsd", "stc-v1.30.xsd"),
        (
            "http://hea-www.harvard.edu/~arots/nvometa/v1.30/stc-v1.30.xsd",
            "stc-v1.30.xsd",
        ),
        ("http://www.ivoa.net/xml/Xlink/xlink.xsd", "xlink.xsd"),
        ("http://www.w3.org/1999/xlink", "xlink.xsd"),
        ("http://www.w3.org/2001/xml.xsd", "xmlnamespace.xsd"),
    ];
    let mut catalog = String::from(
        "<?xml version=\"1.0\"?>\n<catalog xmlns=\"urn:oasis:names:tc:entity:xmlns:xml:catalog\">\n",
    );
    for (url, file) in map {
        catalog += &format!("  <system systemId=\"{url}\" uri=\"file://{d}/{file}\"/>\n");
        catalog += &format!("  <uri name=\"{url}\" uri=\"file://{d}/{file}\"/>\n");
    }
    catalog += "</catalog>\n";
    std::fs::write(dir.join("catalog.xml"), catalog).unwrap();
    let mut all = String::from(
        "<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" \
         targetNamespace=\"urn:astrolake-check:stilts\">\n",
    );
    for (ns, file) in [
        (
            "http://www.ivoa.net/xml/VOResource/v1.0",
            "VOResource-v1.1.xsd",
        ),
        (
            "http://www.ivoa.net/xml/VODataService/v1.1",
            "VODataService-v1.2.xsd",
        ),
        (
            "http://www.ivoa.net/xml/TAPRegExt/v1.0",
            "TAPRegExt-v1.0-Erratum1.xsd",
        ),
        (
            "http://www.ivoa.net/xml/VOSICapabilities/v1.0",
            "VOSICapabilities-v1.0.xsd",
        ),
        (
            "http://www.ivoa.net/xml/VOSITables/v1.0",
            "VOSITables-v1.1.xsd",
        ),
        (
            "http://www.ivoa.net/xml/VOSIAvailability/v1.0",
            "VOSIAvailability-v1.0.xsd",
        ),
        ("http://www.ivoa.net/xml/UWS/v1.0", "UWS-v1.1.xsd"),
        // Not STILTS': the TAP+ attributes, as the service serves them.
        ("http://esa.int/xml/EsaTapPlus", "EsaTapPlus.xsd"),
    ] {
        all += &format!("  <xs:import namespace=\"{ns}\" schemaLocation=\"{file}\"/>\n");
    }
    all += "</xs:schema>\n";
    std::fs::write(dir.join("all.xsd"), all).unwrap();
    dir.join("all.xsd")
}

fn xmllint(schemas: &Path, name: &str, doc: &str) {
    let dir = schemas.parent().unwrap();
    let path = dir.join(format!("doc-{name}"));
    std::fs::write(&path, doc).unwrap();
    let out = Command::new("xmllint")
        .env("XML_CATALOG_FILES", dir.join("catalog.xml"))
        .args(["--noout", "--nonet", "--schema"])
        .arg(schemas)
        .arg(&path)
        .output()
        .expect("xmllint (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "STILTS' schemas reject {name}:\n{}\n{doc}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn real_clients_against_the_tap_service() {
    let root = common::real_catalog().await;
    let catalog = root.url().to_string();
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = start(&catalog, data.path());

    // The served documents against STILTS' schemas, a UWS job included.
    let schemas = stilts_schemas(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("stilts-xsd"));
    // A client that names itself, as pyvo, TOPCAT, STILTS and curl do.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("astrolake-conformance/1")
        .build()
        .unwrap();
    let get = |u: String| {
        let http = http.clone();
        async move { http.get(u).send().await.unwrap().text().await.unwrap() }
    };
    let site = base.trim_end_matches("/tap");
    let tap_plus_xsd = get(format!("{site}/xml/EsaTapPlus.xsd")).await;
    std::fs::write(schemas.with_file_name("EsaTapPlus.xsd"), tap_plus_xsd).unwrap();
    for (name, path) in [
        ("availability.xml", "/availability"),
        ("capabilities.xml", "/capabilities"),
        ("tables.xml", "/tables"),
        ("tables-min.xml", "/tables?detail=min"),
        ("table.xml", "/tables/gaia.hip2"),
    ] {
        let doc = get(format!("{base}{path}")).await;
        assert!(
            !doc.contains("esatapplus"),
            "{name} for a plain client: {doc}"
        );
        xmllint(&schemas, name, &doc);
    }
    // What astroquery's TapPlus gets (its GET requests carry no User-Agent):
    // the same documents with the TAP+ column flags, still valid.
    let bare = reqwest::Client::new();
    for (name, path) in [
        ("tables-tapplus.xml", "/tables"),
        (
            "tables-some-tapplus.xml",
            "/tables?tables=gaia.hip2,gaia.gaia_source",
        ),
        ("table-tapplus.xml", "/tables/gaia.hip2"),
    ] {
        let doc = bare.get(format!("{base}{path}")).send().await.unwrap();
        let doc = doc.text().await.unwrap();
        assert!(doc.contains("esatapplus:flags=\"1\""), "{name}: {doc}");
        xmllint(&schemas, name, &doc);
    }
    let created = http
        .post(format!("{base}/async"))
        .form(&[
            ("LANG", "ADQL"),
            ("QUERY", "SELECT TOP 3 * FROM gaia.hip2"),
            ("PHASE", "RUN"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 303);
    let job = created.headers()["location"].to_str().unwrap().to_string();
    let doc = get(format!("{job}?WAIT=30&PHASE=EXECUTING")).await;
    let doc = if doc.contains("COMPLETED") {
        doc
    } else {
        get(format!("{job}?WAIT=30")).await
    };
    assert!(doc.contains("<uws:phase>COMPLETED</uws:phase>"), "{doc}");
    xmllint(&schemas, "job.xml", &doc);
    xmllint(&schemas, "jobs.xml", &get(format!("{base}/async")).await);

    // pyvo and astropy.
    let work = tempfile::tempdir().unwrap();
    let summary = common::run_python("pyvo_client.py", &[&base, &work.path().to_string_lossy()]);
    eprintln!("pyvo: {summary}");

    // taplint: no error, no warning.
    let (problems, report) = taplint_problems(&base);
    eprintln!("taplint totals: {}", report["totals"]);
    assert!(
        problems.is_empty(),
        "taplint reports {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn astroquery_tapplus_against_the_tap_service() {
    let root = common::real_catalog().await;
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = start(root.url().as_str(), data.path());
    let work = tempfile::tempdir().unwrap();
    let summary = common::run_python(
        "tapplus_client.py",
        &[&base, &work.path().to_string_lossy()],
    );
    eprintln!("TapPlus: {summary}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lsdb_and_hats_read_the_catalogue_over_http() {
    let root = common::real_catalog().await;
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = start(root.url().as_str(), data.path());
    let site = base.trim_end_matches("/tap");
    for (table, id) in [("gaia_source", "source_id"), ("hip2", "hip")] {
        let summary = common::run_python("lsdb_http.py", &[site, &base, "gaia", table, id]);
        eprintln!("LSDB gaia.{table}: {summary}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pyvo_registry_search_finds_the_site_in_its_regtap_tables() {
    let root = common::real_catalog().await;
    let data = tempfile::tempdir().unwrap();
    let (_server, site) = common::serve(
        root.url().as_str(),
        data.path(),
        &[("ASTROLAKE_REGISTRY_WAVEBAND", "[\"optical\"]")],
    );
    let summary = common::run_python("pyvo_registry.py", &[&site, &format!("{site}/tap")]);
    eprintln!("pyvo registry: {summary}");
}
