//! The publishing registry against the OAI-PMH and IVOA schemas and a real
//! harvester, on the real-data catalogue:
//!
//! - every verb's response, every OAI-PMH error, and each record served at
//!   `/registry/...` validate with `xmllint --nonet` against
//!   `../shared/xsd/registry-all.xsd` (OAI-PMH 2.0, oai_dc, VOResource 1.1,
//!   VODataService 1.2, VORegistry, TAPRegExt, RegistryInterface);
//! - Sickle (PyPI) harvests every record with page size 2 (resumption
//!   tokens), in `ivo_vor` and `oai_dc`;
//! - a resumption token issued before a restart still works after it;
//! - after a catalogue's description changes (and the server restarts),
//!   an incremental harvest `from` that moment returns exactly the records
//!   whose content changed (the catalogue's and the TAP service's);
//! - the catalogue record is enough to find the tables' files: its access
//!   URLs, fetched from the server's `/catalogue/` endpoint with a byte
//!   range, are the catalogue's Parquet and metadata files.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

const AUTHORITY: &str = "test.astrolake";
const PUBLIC: &str = "https://astrolake.test/tap";

fn xmllint(dir: &Path, name: &str, doc: &str) {
    common::xmllint_registry(dir, name, doc)
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// The text of the first `<tag>...</tag>`.
fn first<'a>(doc: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}");
    let start = doc.find(&open)?;
    let body = start + doc[start..].find('>')? + 1;
    let end = body + doc[body..].find(&format!("</{tag}>"))?;
    Some(&doc[body..end])
}

fn harvest(oai: &str, since: Option<&str>) -> serde_json::Value {
    let mut args = vec![oai];
    args.extend(since);
    let out = common::run_python("oai_harvest.py", &args);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("harvest output: {e}\n{out}"))
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn oai_pmh_records_validate_and_harvest() {
    let root = common::real_catalog().await;
    let catalog = root.local_dir().unwrap().to_string_lossy().to_string();
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let env = [
        ("ASTROLAKE_REGISTRY_AUTHORITY", AUTHORITY),
        ("ASTROLAKE_REGISTRY_PAGE_SIZE", "2"),
        ("ASTROLAKE_REGISTRY_CONTACT_EMAIL", "ops@example.org"),
        // Records name public URLs: fixed, so that the restarted server
        // (on another port) publishes the same records.
        ("ASTROLAKE_SERVER_PUBLIC_URL", PUBLIC),
    ];
    let (server, site) = common::serve(&catalog, data.path(), &env);
    let oai = format!("{site}/oai");
    let w = work.path();

    // Every verb, and every error, validates.
    let requests: [(&str, &str, Option<&str>); 22] = [
        ("identify", "verb=Identify", None),
        ("formats", "verb=ListMetadataFormats", None),
        (
            "formats-id",
            "verb=ListMetadataFormats&identifier=ivo://test.astrolake/tap",
            None,
        ),
        ("sets", "verb=ListSets", None),
        (
            "getrecord",
            "verb=GetRecord&identifier=ivo://test.astrolake/catalogue/gaia&metadataPrefix=ivo_vor",
            None,
        ),
        (
            "getrecord-tap",
            "verb=GetRecord&identifier=ivo://test.astrolake/tap&metadataPrefix=ivo_vor",
            None,
        ),
        (
            "getrecord-dc",
            "verb=GetRecord&identifier=ivo://test.astrolake/registry&metadataPrefix=oai_dc",
            None,
        ),
        ("records", "verb=ListRecords&metadataPrefix=ivo_vor", None),
        (
            "records-dc",
            "verb=ListRecords&metadataPrefix=oai_dc&set=ivo_managed",
            None,
        ),
        (
            "identifiers",
            "verb=ListIdentifiers&metadataPrefix=ivo_vor",
            None,
        ),
        (
            "identifiers-day",
            "verb=ListIdentifiers&metadataPrefix=ivo_vor&from=2000-01-01&until=2999-12-31",
            None,
        ),
        ("no-verb", "", Some("badVerb")),
        ("bad-verb", "verb=Harvest", Some("badVerb")),
        ("bad-arg", "verb=Identify&x=1", Some("badArgument")),
        ("missing-arg", "verb=ListRecords", Some("badArgument")),
        (
            "mixed-dates",
            "verb=ListRecords&metadataPrefix=ivo_vor&from=2020-01-01&until=2021-01-01T00:00:00Z",
            Some("badArgument"),
        ),
        (
            "format",
            "verb=ListRecords&metadataPrefix=marc21",
            Some("cannotDisseminateFormat"),
        ),
        (
            "no-id",
            "verb=GetRecord&identifier=ivo://test.astrolake/nothing&metadataPrefix=ivo_vor",
            Some("idDoesNotExist"),
        ),
        (
            "no-match",
            "verb=ListIdentifiers&metadataPrefix=ivo_vor&until=2000-01-01",
            Some("noRecordsMatch"),
        ),
        (
            "no-set",
            "verb=ListIdentifiers&metadataPrefix=ivo_vor&set=other",
            Some("noRecordsMatch"),
        ),
        (
            "bad-token",
            "verb=ListRecords&resumptionToken=garbage",
            Some("badResumptionToken"),
        ),
        (
            "sets-token",
            "verb=ListSets&resumptionToken=x",
            Some("badResumptionToken"),
        ),
    ];
    let mut token = None;
    for (name, query, error) in requests {
        let (status, doc) = get(&format!("{oai}?{query}")).await;
        assert_eq!(status, 200, "{name}: {doc}");
        xmllint(w, &format!("{name}.xml"), &doc);
        match error {
            Some(code) => assert!(
                doc.contains(&format!("<error code=\"{code}\"")),
                "{name}: expected {code}:\n{doc}"
            ),
            None => assert!(!doc.contains("<error"), "{name}: {doc}"),
        }
        if name == "identifiers" {
            token = first(&doc, "resumptionToken").map(str::to_string);
        }
    }
    // POST works like GET.
    let posted = reqwest::Client::new()
        .post(&oai)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("verb=Identify")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(posted.contains("<Identify>") && posted.contains("ops@example.org"));

    // Each record over HTTP, standalone.
    for path in ["authority", "registry", "tap", "catalogue/gaia"] {
        let (status, doc) = get(&format!("{site}/registry/{path}")).await;
        assert_eq!(status, 200, "{path}");
        xmllint(w, &format!("record-{}.xml", path.replace('/', "-")), &doc);
    }
    assert_eq!(get(&format!("{site}/registry/nothing")).await.0, 404);

    // The catalogue record leads to the files: the table's metadata and a
    // byte range of a Parquet file, served by /catalogue/.
    let (_, rec) = get(&format!("{site}/registry/catalogue/gaia")).await;
    assert!(rec.contains("xsi:type=\"vs:CatalogResource\""));
    assert!(
        rec.contains("<name>gaia.gaia_source</name>") && rec.contains("<name>gaia.hip2</name>")
    );
    assert!(rec.contains("<spatial>"), "coverage from the MOCs");
    let props = "catalogue/gaia/gaia_source/hats.properties";
    assert!(
        rec.contains(&format!("https://astrolake.test/{props}")),
        "record names {props}"
    );
    let props = format!("{site}/{props}");
    let (status, text) = get(&props).await;
    assert_eq!(status, 200);
    assert!(text.contains("hats_col_ra"), "{text}");
    let pi = get(&format!(
        "{site}/catalogue/gaia/gaia_source/partition_info.csv"
    ))
    .await
    .1;
    let first_pixel = pi.lines().nth(1).unwrap();
    let f: Vec<&str> = first_pixel.split(',').collect();
    let (order, npix) = (f[0], f[1]);
    let dir = npix.parse::<u64>().unwrap() / 10000 * 10000;
    let parquet = format!(
        "{site}/catalogue/gaia/gaia_source/dataset/Norder={order}/Dir={dir}/Npix={npix}.parquet"
    );
    let r = reqwest::Client::new()
        .get(&parquet)
        .header("range", "bytes=0-3")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], b"PAR1");
    assert_eq!(get(&format!("{site}/catalogue/../etc/passwd")).await.0, 404);

    // A real harvester: 4 records, page size 2 forces resumption tokens.
    let h = harvest(&oai, None);
    let records = h["records"].as_array().unwrap();
    let got: Vec<&str> = records
        .iter()
        .map(|r| r["identifier"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [
            "ivo://test.astrolake",
            "ivo://test.astrolake/catalogue/gaia",
            "ivo://test.astrolake/registry",
            "ivo://test.astrolake/tap"
        ]
    );
    let types: Vec<&str> = records
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "vg:Authority",
            "vs:CatalogResource",
            "vg:Registry",
            "vs:CatalogService"
        ]
    );
    assert!(h["pages"].as_u64().unwrap() >= 2, "{h}");
    assert_eq!(h["dc_titles"].as_array().unwrap().len(), 4);
    assert_eq!(h["identify"]["deletedRecord"], "persistent");
    let first_dates: Vec<String> = records
        .iter()
        .map(|r| r["datestamp"].as_str().unwrap().to_string())
        .collect();

    // Restart: the token still works; dates are the same.
    drop(server);
    let token = token.expect("ListIdentifiers with page size 2 gave a token");
    std::thread::sleep(Duration::from_millis(1100));
    let changed_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    std::thread::sleep(Duration::from_millis(1100));
    let described = Command::new(common::binary())
        .args([
            "describe",
            "--catalog",
            &catalog,
            "--schema",
            "gaia",
            "--description",
            "Gaia DR3 bright stars and Hipparcos 2, for the registry test",
        ])
        .output()
        .unwrap();
    assert!(described.status.success(), "{described:?}");
    let (_server, site) = common::serve(&catalog, data.path(), &env);
    let oai = format!("{site}/oai");
    let (_, doc) = get(&format!(
        "{oai}?verb=ListIdentifiers&resumptionToken={token}"
    ))
    .await;
    assert!(!doc.contains("<error"), "token after restart: {doc}");
    assert!(doc.contains("<identifier>"), "{doc}");

    let h = harvest(&oai, Some(&changed_at));
    assert_eq!(
        ids(&h["since"]),
        [
            "ivo://test.astrolake/catalogue/gaia",
            "ivo://test.astrolake/tap"
        ],
        "only the changed records: {h}"
    );
    let records = h["records"].as_array().unwrap();
    for (r, before) in records.iter().zip(&first_dates) {
        let id = r["identifier"].as_str().unwrap();
        let now = r["datestamp"].as_str().unwrap();
        if id.ends_with("/catalogue/gaia") || id.ends_with("/tap") {
            assert!(now.as_bytes() > before.as_bytes(), "{id} updated");
        } else {
            assert_eq!(now, before, "{id} unchanged");
        }
    }
    let cli = Command::new(common::binary())
        .args(["registry", "--catalog", &catalog, "list"])
        .env("ASTROLAKE_DATA", data.path())
        .env("ASTROLAKE_REGISTRY_AUTHORITY", AUTHORITY)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&cli.stdout);
    assert!(
        listed.contains("ivo://test.astrolake/catalogue/gaia\tactive"),
        "{listed}"
    );
}

/// Out of the box, with no registry configuration at all, every OAI-PMH
/// verb and every record validates: the defaults (authority, contact
/// address as `adminEmail`, titles) are valid values.
#[tokio::test(flavor = "multi_thread")]
async fn the_default_configuration_publishes_valid_documents() {
    let root = common::real_catalog().await;
    let catalog = root.local_dir().unwrap().to_string_lossy().to_string();
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (_server, site) = common::serve(&catalog, data.path(), &[]);
    let w = work.path();
    for (name, query) in [
        ("identify", "verb=Identify"),
        ("records", "verb=ListRecords&metadataPrefix=ivo_vor"),
        ("records-dc", "verb=ListRecords&metadataPrefix=oai_dc"),
    ] {
        let (status, doc) = get(&format!("{site}/oai?{query}")).await;
        assert_eq!(status, 200, "{name}: {doc}");
        assert!(!doc.contains("<error"), "{name}: {doc}");
        xmllint(w, &format!("default-{name}.xml"), &doc);
    }
    let (_, identify) = get(&format!("{site}/oai?verb=Identify")).await;
    assert_eq!(
        first(&identify, "adminEmail"),
        Some("astrolake@localhost.localdomain")
    );
}
