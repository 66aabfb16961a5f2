//! Uploads built to exhaust the server's memory are refused with an
//! `UploadError` (HTTP 400) that names the upload, what it has and the
//! limit; normal uploads still load. Each attack is small as sent.
//!
//! `data/bomb-32MiB.csv.gz` is 32 kB of gzip that inflates to 32 MiB of
//! `0,0` rows (made with Python's gzip module, level 9).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use astrolake_adql::Tables;
use astrolake_tap::upload::{load, with_uploads, UploadError, UploadLimits};
use base64::Engine;
use bytes::Bytes;

async fn upload(bytes: Vec<u8>, limits: &UploadLimits) -> Result<Tables, UploadError> {
    let parts: HashMap<String, Bytes> = [("p".to_string(), Bytes::from(bytes))].into();
    with_uploads(&Tables::new(), Some("t,param:p"), &parts, limits).await
}

fn votable(fields: &str, data: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
{fields}
<DATA>{data}</DATA></TABLE></RESOURCE></VOTABLE>"#
    )
    .into_bytes()
}

#[tokio::test]
async fn arraysize_bomb() {
    let limits = UploadLimits::default();
    let doc = votable(
        r#"<FIELD name="x" datatype="char" arraysize="2147483647"/>"#,
        "<TABLEDATA><TR><TD></TD></TR></TABLEDATA>",
    );
    assert!(doc.len() < 300);
    let e = upload(doc, &limits).await.unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: column x declares arraysize 2147483647, more than this service's limit of \
         1000000 elements per cell (uploads.max_array_elements)"
    );
    let doc = votable(
        r#"<FIELD name="img" datatype="double" arraysize="100000x100000"/>"#,
        "<TABLEDATA><TR><TD/></TR></TABLEDATA>",
    );
    let e = upload(doc, &limits).await.unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: column img declares arraysize 100000x100000 (10000000000 elements), more \
         than this service's limit of 1000000 elements per cell (uploads.max_array_elements)"
    );
    // BINARY2, a variable-length array whose count says 2^31 - 1.
    let row = [0u8, 0x7f, 0xff, 0xff, 0xff];
    let b64 = base64::engine::general_purpose::STANDARD.encode(row);
    let doc = votable(
        r#"<FIELD name="v" datatype="int" arraysize="*"/>"#,
        &format!(r#"<BINARY2><STREAM encoding="base64">{b64}</STREAM></BINARY2>"#),
    );
    let e = upload(doc, &limits).await.unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: row 1: column v: a variable-length array of 2147483647 elements, more than \
         this service's limit of 1000000 elements per cell (uploads.max_array_elements)"
    );
    let tight = UploadLimits {
        max_array_elements: 10,
        ..UploadLimits::default()
    };
    let doc = votable(
        r#"<FIELD name="m" datatype="float" arraysize="11"/>"#,
        "<TABLEDATA/>",
    );
    let e = upload(doc, &tight).await.unwrap_err();
    assert!(
        e.message()
            .ends_with("limit of 10 elements per cell (uploads.max_array_elements)"),
        "{e}"
    );
}

#[tokio::test]
async fn yaml_alias_bomb() {
    let mut s =
        String::from("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n# meta:\n");
    s.push_str("#   l0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for i in 1..9 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        s.push_str(&format!("#   l{i}: &a{i} [{refs}]\n"));
    }
    s.push_str("a\n1\n");
    assert!(s.len() < 600);
    let e = upload(s.into_bytes(), &UploadLimits::default())
        .await
        .unwrap_err();
    assert!(
        e.message().starts_with(
            "UPLOAD t: ECSV header: YAML anchors and aliases (&name, *name) are not accepted"
        ),
        "{e}"
    );
}

#[tokio::test]
async fn gzip_bomb() {
    let bomb = include_bytes!("data/bomb-32MiB.csv.gz").to_vec();
    assert!(bomb.len() < 64 * 1024);
    let limits = UploadLimits {
        max_bytes: 64 * 1024,
        max_decompressed_bytes: 1 << 20,
        ..UploadLimits::default()
    };
    let e = upload(bomb.clone(), &limits).await.unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: the input is too large once decompressed, more than this service's limit of \
         1048576 bytes once decompressed (uploads.max_decompressed_bytes)"
    );
    // Within the limits, the same file loads (32 MiB, 8 million rows).
    let roomy = UploadLimits {
        max_rows: 10_000_000,
        ..UploadLimits::default()
    };
    let t = upload(bomb, &roomy).await.unwrap();
    assert_eq!(t.entries()[0].meta.fields.len(), 2);
    assert_eq!(UploadLimits::default().max_decompressed_bytes, 512 << 20);
    // An uncompressed upload within max_bytes always passes the decompressed
    // limit.
    let small = UploadLimits {
        max_decompressed_bytes: 10,
        ..UploadLimits::default()
    };
    upload(b"a,b\n1,2\n3,4\n".to_vec(), &small).await.unwrap();
}

#[tokio::test]
async fn wide_rows_huge_cells_and_headers() {
    let limits = UploadLimits::default();
    let names: Vec<String> = (0..1001).map(|i| format!("c{i}")).collect();
    let e = upload(format!("{}\n", names.join(",")).into_bytes(), &limits)
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: line 1: the column-name line has 1001 columns, more than this service's \
         limit of 1000 columns (uploads.max_columns)"
    );
    let tight = UploadLimits {
        max_cell_bytes: 100,
        max_row_bytes: 1000,
        ..UploadLimits::default()
    };
    let e = upload(format!("a\n1\n{}\n", "x".repeat(500)).into_bytes(), &tight)
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: line 3: column a: a value of 500 bytes, more than this service's limit of \
         100 bytes per value (uploads.max_cell_bytes)"
    );
    let e = upload(
        format!("a,b\n1,\"{}\"\n", "y\n".repeat(100_000)).into_bytes(),
        &tight,
    )
    .await
    .unwrap_err();
    assert!(
        e.message().starts_with("UPLOAD t: line 2: the row")
            && e.message()
                .ends_with("limit of 1000 bytes per row (uploads.max_row_bytes)"),
        "{e}"
    );
    let doc = votable(
        &format!(
            r#"<DESCRIPTION>{}</DESCRIPTION><FIELD name="a" datatype="int"/>"#,
            "d".repeat(1000)
        ),
        "<TABLEDATA/>",
    );
    let small_header = UploadLimits {
        max_header_bytes: 500,
        ..UploadLimits::default()
    };
    let e = upload(doc, &small_header).await.unwrap_err();
    assert!(
        e.message().starts_with("UPLOAD t: the VOTable header")
            && e.message().ends_with(
                "more than this service's limit of 500 bytes of header (uploads.max_header_bytes)"
            ),
        "{e}"
    );
}

#[tokio::test]
async fn too_many_uploads_and_memory_of_all_uploads() {
    let parts: HashMap<String, Bytes> =
        [("p".to_string(), Bytes::from_static(b"a\n1\n2\n"))].into();
    let spec: Vec<String> = (0..11).map(|i| format!("t{i},param:p")).collect();
    let e = with_uploads(
        &Tables::new(),
        Some(&spec.join(";")),
        &parts,
        &UploadLimits::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD names 11 tables, more than this service's limit of 10 uploads per request"
    );
    let ok = with_uploads(
        &Tables::new(),
        Some(&spec[..10].join(";")),
        &parts,
        &UploadLimits::default(),
    )
    .await
    .unwrap();
    assert_eq!(ok.entries().len(), 10);

    // The memory limit is for all the uploads of a request together.
    let rows: String = (0..20_000).map(|i| format!("{i}\n")).collect();
    let parts: HashMap<String, Bytes> =
        [("p".to_string(), Bytes::from(format!("a\n{rows}")))].into();
    // The least memory one upload of it needs, found by bisection.
    let fits = |max_memory_bytes: u64| {
        let limits = UploadLimits {
            max_memory_bytes,
            ..UploadLimits::default()
        };
        let parts = parts.clone();
        async move {
            with_uploads(&Tables::new(), Some("t,param:p"), &parts, &limits)
                .await
                .map_err(|e| e.message().to_string())
        }
    };
    let e = fits(1000).await.unwrap_err();
    assert!(e.starts_with("UPLOAD t: the uploaded tables take more than this service's limit of 1000 bytes in memory"), "{e}");
    let (mut lo, mut hi) = (1000u64, 1u64 << 30);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid).await.is_ok() {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let used = hi;
    assert!(used >= 160_000, "{used}");
    let limits = UploadLimits {
        max_memory_bytes: used * 3 / 2,
        ..UploadLimits::default()
    };
    with_uploads(&Tables::new(), Some("t,param:p"), &parts, &limits)
        .await
        .unwrap();
    let e = with_uploads(&Tables::new(), Some("t,param:p;u,param:p"), &parts, &limits)
        .await
        .unwrap_err();
    assert!(
        e.message()
            .starts_with("UPLOAD u: the uploaded tables take more than this service's limit of"),
        "{e}"
    );
}

#[tokio::test]
async fn deadline() {
    let past = UploadLimits {
        deadline: Some(Instant::now() - Duration::from_secs(1)),
        ..UploadLimits::default()
    };
    let e = upload(b"a\n1\n".to_vec(), &past).await.unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: the request's time limit passed while fetching the table"
    );
    let e = load("t", b"a\n1\n", &past).unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: the request's time limit passed while reading the table"
    );
    let future = UploadLimits {
        deadline: Some(Instant::now() + Duration::from_secs(600)),
        ..UploadLimits::default()
    };
    upload(b"a\n1\n".to_vec(), &future).await.unwrap();
}

#[tokio::test]
async fn errors_name_no_temporary_file_and_gdr3_is_csv() {
    let ecsv = b"# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\na\n1\nx\n";
    let e = upload(ecsv.to_vec(), &UploadLimits::default())
        .await
        .unwrap_err();
    assert_eq!(
        e.message(),
        "UPLOAD t: line 7: column a: cannot parse \"x\" as long (ECSV datatype int64)"
    );
    assert!(
        !e.message().contains("/tmp") && !e.message().contains("upload-"),
        "{e}"
    );
    // A CSV whose first column is called GDR3... is not the Gaia binary.
    let t = upload(b"GDR3_id,ra\n1,2.5\n".to_vec(), &UploadLimits::default())
        .await
        .unwrap();
    assert_eq!(t.entries()[0].meta.fields[0].name, "GDR3_id");
}
