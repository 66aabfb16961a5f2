//! Inputs built to exhaust memory (arraysize bombs, YAML billion-laughs,
//! gzip bombs, huge cells and rows, too many columns) are refused with a
//! `CatalogError::Limit` or a clear format error, before the memory is
//! allocated; normal inputs still read within the tight limits.
//!
//! Every attack here would allocate gigabytes if its limit did not fire;
//! the tests that rely on a default limit also run it with a small
//! configured one, so a regression fails fast instead of exhausting memory.

use std::io::Write;
use std::path::{Path, PathBuf};

use astrolake_catalog::input::{open_source_with_limits, Format, InputLimits, ReadOptions, Source};
use astrolake_catalog::CatalogError;
use base64::Engine;

struct Dir(PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(tag: &str) -> Dir {
    let d = std::env::temp_dir().join(format!(
        "astrolake-input-limits-{tag}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

fn write(d: &Dir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = d.0.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Open and read everything, dropping the batches; the error if any.
fn read(path: &Path, format: Format, limits: &InputLimits) -> Result<u64, CatalogError> {
    let mut src = open_source_with_limits(path, Some(format), &ReadOptions::default(), limits)?;
    drain(&mut *src)
}

fn drain(src: &mut dyn Source) -> Result<u64, CatalogError> {
    let mut rows = 0;
    while let Some(b) = src.next_batch()? {
        rows += b.batch.num_rows() as u64;
    }
    Ok(rows)
}

/// The error must be the limit `name`; returns its text.
fn limit(r: Result<u64, CatalogError>, name: &str) -> String {
    match r {
        Err(e @ CatalogError::Limit { .. }) => {
            let CatalogError::Limit { name: got, .. } = &e else {
                unreachable!()
            };
            assert_eq!(*got, name, "{e}");
            e.to_string()
        }
        Err(other) => panic!("expected the {name} limit, got: {other}"),
        Ok(rows) => panic!("expected the {name} limit, read {rows} rows"),
    }
}

fn votable(fields: &str, data: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
{fields}
<DATA>{data}</DATA></TABLE></RESOURCE></VOTABLE>"#
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn untrusted() -> InputLimits {
    InputLimits::untrusted()
}

#[test]
fn arraysize_bomb_in_tabledata_is_refused_when_the_fields_are_read() {
    let d = dir("td-bomb");
    // Guard: a small bomb first (10 MB per row if the limit regressed).
    let doc = votable(
        r#"<FIELD name="x" datatype="int" arraysize="2000000"/>"#,
        "<TABLEDATA><TR><TD></TD></TR></TABLEDATA>",
    );
    let p = write(&d, "small.vot", doc.as_bytes());
    limit(
        read(&p, Format::VOTable, &untrusted()),
        "max_array_elements",
    );
    for datatype in ["char", "int", "double", "unicodeChar", "boolean"] {
        let doc = votable(
            &format!(r#"<FIELD name="x" datatype="{datatype}" arraysize="2147483647"/>"#),
            "<TABLEDATA><TR><TD></TD></TR></TABLEDATA>",
        );
        assert!(doc.len() < 400, "{}", doc.len());
        let p = write(&d, "bomb.vot", doc.as_bytes());
        let msg = limit(
            read(&p, Format::VOTable, &untrusted()),
            "max_array_elements",
        );
        assert!(
            msg.ends_with(
                "column x declares arraysize 2147483647, more than the limit of 1000000 \
                 elements per cell"
            ),
            "{msg}"
        );
        // The ingest defaults refuse it too (2^31 > 2^28).
        limit(
            read(&p, Format::VOTable, &InputLimits::default()),
            "max_array_elements",
        );
    }
}

#[test]
fn multidimensional_arraysize_bomb() {
    let d = dir("multidim");
    for arraysize in [
        "100000x100000",
        "1000x1000x1000x1000x1000x1000x1000",
        "100000x*",
    ] {
        let doc = votable(
            &format!(r#"<FIELD name="img" datatype="short" arraysize="{arraysize}"/>"#),
            "<TABLEDATA><TR><TD/></TR></TABLEDATA>",
        );
        let p = write(&d, "m.vot", doc.as_bytes());
        let small = InputLimits {
            max_array_elements: 50_000,
            ..untrusted()
        };
        let msg = limit(read(&p, Format::VOTable, &small), "max_array_elements");
        assert!(
            msg.contains(&format!("declares arraysize {arraysize}")),
            "{msg}"
        );
        if arraysize == "100000x100000" {
            assert!(msg.contains("(10000000000 elements)"), "{msg}");
        }
    }
}

#[test]
fn arraysize_bomb_in_binary_and_binary2() {
    let d = dir("bin-bomb");
    // A huge fixed size: refused before the stream is read.
    for ser in ["BINARY", "BINARY2"] {
        let doc = votable(
            r#"<FIELD name="x" datatype="double" arraysize="100000000"/>"#,
            &format!(r#"<{ser}><STREAM encoding="base64">AAAA</STREAM></{ser}>"#),
        );
        let p = write(&d, "f.vot", doc.as_bytes());
        limit(
            read(&p, Format::VOTable, &untrusted()),
            "max_array_elements",
        );
    }
    // A huge variable-length prefix: refused before the cell is taken.
    for (datatype, ser) in [
        ("int", "BINARY"),
        ("int", "BINARY2"),
        ("char", "BINARY"),
        ("char", "BINARY2"),
        ("unicodeChar", "BINARY2"),
    ] {
        let mut row = Vec::new();
        if ser == "BINARY2" {
            row.push(0u8); // null bitmask: not null
        }
        row.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        let doc = votable(
            &format!(r#"<FIELD name="v" datatype="{datatype}" arraysize="*"/>"#),
            &format!(
                r#"<{ser}><STREAM encoding="base64">{}</STREAM></{ser}>"#,
                b64(&row)
            ),
        );
        let p = write(&d, "v.vot", doc.as_bytes());
        let msg = limit(
            read(&p, Format::VOTable, &untrusted()),
            "max_array_elements",
        );
        assert!(
            msg.contains("row 1: column v: a variable-length array of 2147483647 elements"),
            "{msg}"
        );
        // Even with arrays unlimited, the cell's bytes are.
        let no_arrays = InputLimits {
            max_array_elements: u64::MAX,
            ..untrusted()
        };
        limit(read(&p, Format::VOTable, &no_arrays), "max_cell_bytes");
    }
}

#[test]
fn declared_cell_and_row_sizes() {
    let d = dir("declared");
    let small = InputLimits {
        max_cell_bytes: 1000,
        max_row_bytes: 5000,
        ..untrusted()
    };
    let doc = votable(
        r#"<FIELD name="spec" datatype="double" arraysize="200"/>"#,
        "<TABLEDATA></TABLEDATA>",
    );
    let p = write(&d, "c.vot", doc.as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_cell_bytes");
    assert!(msg.contains("cells of 1600 bytes"), "{msg}");
    let fields: String = (0..10)
        .map(|i| format!(r#"<FIELD name="s{i}" datatype="double" arraysize="100"/>"#))
        .collect();
    let p = write(&d, "r.vot", votable(&fields, "<TABLEDATA/>").as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_row_bytes");
    assert!(
        msg.contains("the FIELDs declare rows of 8000 bytes"),
        "{msg}"
    );
}

#[test]
fn null_fixed_arrays_come_in_small_batches() {
    // Each empty TD of a 100,000-element array is 500 kB in memory: the
    // batches stay near batch_bytes instead of 65,536 rows (33 GB).
    let d = dir("batches");
    let rows: String = (0..300).map(|_| "<TR><TD/></TR>").collect();
    let doc = votable(
        r#"<FIELD name="a" datatype="int" arraysize="100000"/>"#,
        &format!("<TABLEDATA>{rows}</TABLEDATA>"),
    );
    let p = write(&d, "n.vot", doc.as_bytes());
    let limits = InputLimits {
        batch_bytes: 16 << 20,
        ..untrusted()
    };
    let mut src =
        open_source_with_limits(&p, Some(Format::VOTable), &ReadOptions::default(), &limits)
            .unwrap();
    let mut total = 0;
    while let Some(b) = src.next_batch().unwrap() {
        assert!(b.batch.num_rows() <= 40, "{}", b.batch.num_rows());
        assert!(b.batch.get_array_memory_size() < 40 << 20);
        total += b.batch.num_rows();
    }
    assert_eq!(total, 300);
}

#[test]
fn huge_td_and_long_tr() {
    let d = dir("td");
    let small = InputLimits {
        max_cell_bytes: 1000,
        max_row_bytes: 4000,
        ..untrusted()
    };
    let big = "x".repeat(2000);
    let doc = votable(
        r#"<FIELD name="s" datatype="char" arraysize="*"/>"#,
        &format!("<TABLEDATA><TR><TD>ok</TD></TR><TR><TD>{big}</TD></TR></TABLEDATA>"),
    );
    let p = write(&d, "td.vot", doc.as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_cell_bytes");
    assert!(msg.contains("row 2: column s: a TD of 2000 bytes"), "{msg}");
    // A TR longer than the row limit stops being read at the limit.
    let fields: String = (0..10)
        .map(|i| format!(r#"<FIELD name="s{i}" datatype="char" arraysize="*"/>"#))
        .collect();
    let tds: String = (0..10)
        .map(|_| format!("<TD>{}</TD>", "y".repeat(900)))
        .collect();
    let doc = votable(&fields, &format!("<TABLEDATA><TR>{tds}</TR></TABLEDATA>"));
    let p = write(&d, "tr.vot", doc.as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_row_bytes");
    assert!(msg.contains("row 1: the TR is too long"), "{msg}");
    // One text node of 64 MiB, never buffered whole with a 1 MiB row limit.
    let doc = votable(r#"<FIELD name="s" datatype="char" arraysize="*"/>"#, "");
    let head = doc.split("<DATA>").next().unwrap();
    let huge = format!(
        "{head}<DATA><TABLEDATA><TR><TD>{}</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>",
        "z".repeat(64 << 20)
    );
    let p = write(&d, "huge.vot", huge.as_bytes());
    drop(huge);
    let limits = InputLimits {
        max_row_bytes: 1 << 20,
        ..untrusted()
    };
    limit(read(&p, Format::VOTable, &limits), "max_row_bytes");
}

#[test]
fn binary_cells_and_rows() {
    let d = dir("bincell");
    let small = InputLimits {
        max_cell_bytes: 100,
        max_row_bytes: 150,
        ..untrusted()
    };
    let cell = |n: u32| {
        let mut v = n.to_be_bytes().to_vec();
        v.extend(std::iter::repeat_n(b'a', n as usize));
        v
    };
    let doc = votable(
        r#"<FIELD name="s" datatype="char" arraysize="*"/>"#,
        &format!(
            r#"<BINARY><STREAM encoding="base64">{}</STREAM></BINARY>"#,
            b64(&cell(200))
        ),
    );
    let p = write(&d, "c.vot", doc.as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_cell_bytes");
    assert!(
        msg.contains("row 1: column s: a cell of 200 bytes"),
        "{msg}"
    );
    let mut row = vec![0u8];
    row.extend(cell(90));
    row.extend(cell(90));
    let doc = votable(
        r#"<FIELD name="a" datatype="char" arraysize="*"/><FIELD name="b" datatype="char" arraysize="*"/>"#,
        &format!(
            r#"<BINARY2><STREAM encoding="base64">{}</STREAM></BINARY2>"#,
            b64(&row)
        ),
    );
    let p = write(&d, "r.vot", doc.as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_row_bytes");
    assert!(msg.contains("row 1: column b: the row reaches"), "{msg}");
}

#[test]
fn too_many_columns() {
    let d = dir("cols");
    let small = InputLimits {
        max_columns: 50,
        ..untrusted()
    };
    let fields: String = (0..51)
        .map(|i| format!(r#"<FIELD name="c{i}" datatype="int"/>"#))
        .collect();
    let p = write(&d, "w.vot", votable(&fields, "<TABLEDATA/>").as_bytes());
    let msg = limit(read(&p, Format::VOTable, &small), "max_columns");
    assert!(msg.contains("the first TABLE has 51 columns, more than the limit of 50 columns"));
    let header: Vec<String> = (0..51).map(|i| format!("c{i}")).collect();
    let p = write(&d, "w.csv", format!("{}\n", header.join(",")).as_bytes());
    let msg = limit(read(&p, Format::Csv, &small), "max_columns");
    assert!(
        msg.contains("line 1: the column-name line has 51 columns"),
        "{msg}"
    );
    let mut ecsv = String::from("# %ECSV 1.0\n# ---\n# datatype:\n");
    for i in 0..51 {
        ecsv.push_str(&format!("# - {{name: c{i}, datatype: int64}}\n"));
    }
    ecsv.push_str(&header.join(" "));
    ecsv.push('\n');
    let p = write(&d, "w.ecsv", ecsv.as_bytes());
    limit(read(&p, Format::Ecsv, &small), "max_columns");
}

#[test]
fn votable_header_too_large() {
    let d = dir("vhead");
    let doc = votable(
        &format!(
            r#"<DESCRIPTION>{}</DESCRIPTION><FIELD name="a" datatype="int"/>"#,
            "d".repeat(5 << 20)
        ),
        "<TABLEDATA/>",
    );
    let p = write(&d, "h.vot", doc.as_bytes());
    let msg = limit(read(&p, Format::VOTable, &untrusted()), "max_header_bytes");
    assert!(msg.contains("the VOTable header"), "{msg}");
    assert!(msg.contains("4194304 bytes of header"), "{msg}");
}

/// A billion laughs in an ECSV header: `levels` lists of 9 aliases of the
/// previous one; at 9 levels, about 500 bytes of YAML and 9^9 nodes
/// expanded.
fn laughs(levels: usize) -> String {
    let mut s =
        String::from("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n# meta:\n");
    s.push_str("#   l0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for i in 1..levels {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        s.push_str(&format!("#   l{i}: &a{i} [{refs}]\n"));
    }
    s.push_str("a\n1\n");
    s
}

#[test]
fn yaml_alias_bomb_is_refused_before_loading() {
    let d = dir("laughs");
    // Guards: smaller bombs first (at most 5 million nodes, 400 MB, if a
    // check regressed).
    let p = write(&d, "small.ecsv", laughs(4).as_bytes());
    let err = read(&p, Format::Ecsv, &untrusted()).unwrap_err();
    assert!(err.to_string().contains("anchors and aliases"), "{err}");
    let p = write(&d, "medium.ecsv", laughs(7).as_bytes());
    let err = read(&p, Format::Ecsv, &InputLimits::default()).unwrap_err();
    assert!(err.to_string().contains("expands to more than"), "{err}");
    let text = laughs(9);
    assert!(text.len() < 600, "{}", text.len());
    let p = write(&d, "bomb.ecsv", text.as_bytes());
    let err = read(&p, Format::Ecsv, &untrusted()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, CatalogError::Format { .. }), "{msg}");
    assert!(
        msg.contains("ECSV header: YAML anchors and aliases (&name, *name) are not accepted"),
        "{msg}"
    );
    // Where aliases are allowed (ingest), the expansion is still bounded.
    let err = read(&p, Format::Ecsv, &InputLimits::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("expands to more than 1000000 nodes"),
        "{err}"
    );
    // Gzipped, the same.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let p = write(&d, "bomb.ecsv.gz", &gz.finish().unwrap());
    let err = read(&p, Format::Ecsv, &untrusted()).unwrap_err();
    assert!(err.to_string().contains("anchors and aliases"), "{err}");
}

#[test]
fn yaml_anchor_alone_and_deep_nesting() {
    let d = dir("yaml");
    let anchored = "# %ECSV 1.0\n# ---\n# datatype:\n# - &c {name: a, datatype: int64}\na\n1\n";
    let p = write(&d, "a.ecsv", anchored.as_bytes());
    let err = read(&p, Format::Ecsv, &untrusted()).unwrap_err();
    assert!(err.to_string().contains("anchors and aliases"), "{err}");
    // A benign alias is fine where aliases are allowed.
    let aliased = "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64, unit: &u deg}\n\
                   # - {name: b, datatype: int64, unit: *u}\na b\n1 2\n";
    let p = write(&d, "b.ecsv", aliased.as_bytes());
    assert_eq!(read(&p, Format::Ecsv, &InputLimits::default()).unwrap(), 1);
    let deep = format!(
        "# %ECSV 1.0\n# ---\n# datatype:\n# - {{name: a, datatype: int64}}\n# meta: {}{}\na\n1\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let p = write(&d, "d.ecsv", deep.as_bytes());
    let err = read(&p, Format::Ecsv, &untrusted()).unwrap_err();
    assert!(
        err.to_string().contains("nests more than 64 levels"),
        "{err}"
    );
    // Deeper still, the YAML parser's own recursion limit answers first.
    let deeper = deep.replace(&"[".repeat(100), &"[".repeat(100_000));
    let deeper = deeper.replace(&"]".repeat(100), &"]".repeat(100_000));
    let p = write(&d, "e.ecsv", deeper.as_bytes());
    let err = read(&p, Format::Ecsv, &untrusted()).unwrap_err();
    assert!(
        err.to_string().contains("ECSV header: invalid YAML"),
        "{err}"
    );
}

#[test]
fn ecsv_header_too_large() {
    let d = dir("ehead");
    let mut s = String::from("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n");
    let comment = format!("## {}\n", "c".repeat(1000));
    for _ in 0..5000 {
        s.push_str(&comment);
    }
    s.push_str("a\n1\n");
    let p = write(&d, "h.ecsv", s.as_bytes());
    let msg = limit(read(&p, Format::Ecsv, &untrusted()), "max_header_bytes");
    assert!(msg.contains("the ECSV header is too large"), "{msg}");
}

/// `head`, about `n` bytes of `unit` repeated, `tail`, gzipped as they are
/// produced.
fn gzip_of(head: &str, unit: &[u8], n: usize, tail: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(head.as_bytes()).unwrap();
    // Whole units only, so that the text stays well-formed.
    let block: Vec<u8> = unit.repeat((1 << 20) / unit.len());
    let mut written = 0;
    while written < n {
        gz.write_all(&block).unwrap();
        written += block.len();
    }
    gz.write_all(tail.as_bytes()).unwrap();
    gz.finish().unwrap()
}

#[test]
fn gzip_bombs_stop_at_the_decompressed_limit() {
    let d = dir("gzip");
    let limits = InputLimits {
        max_decompressed_bytes: 16 << 20,
        ..untrusted()
    };
    // 200 MB of CSV rows.
    let csv = gzip_of("a,b\n", b"0,0\n", 200 << 20, "");
    assert!(csv.len() < 1 << 20, "{}", csv.len());
    let p = write(&d, "bomb.csv.gz", &csv);
    let msg = limit(read(&p, Format::Csv, &limits), "max_decompressed_bytes");
    assert!(
        msg.contains("the input is too large once decompressed, more than the limit of 16777216 bytes once decompressed"),
        "{msg}"
    );
    // 200 MB of one CSV field: the row limit or the decompressed one.
    let one = gzip_of("a\n", b"0", 200 << 20, "\n");
    let p = write(&d, "one.csv.gz", &one);
    let rows = InputLimits {
        max_decompressed_bytes: 64 << 20,
        ..limits.clone()
    };
    limit(read(&p, Format::Csv, &rows), "max_row_bytes");
    let p = write(&d, "one2.csv.gz", &one);
    let wide_rows = InputLimits {
        max_row_bytes: u64::MAX,
        max_cell_bytes: u64::MAX,
        ..limits.clone()
    };
    limit(read(&p, Format::Csv, &wide_rows), "max_decompressed_bytes");
    // ECSV.
    let ecsv = gzip_of(
        "# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\na\n",
        b"0\n",
        200 << 20,
        "",
    );
    let p = write(&d, "bomb.ecsv.gz", &ecsv);
    limit(read(&p, Format::Ecsv, &limits), "max_decompressed_bytes");
    // VOTable TABLEDATA and BINARY2.
    let head = votable(r#"<FIELD name="a" datatype="int"/>"#, "@");
    let (pre, post) = head.split_once('@').unwrap();
    let vot = gzip_of(
        &format!("{pre}<TABLEDATA>"),
        b"<TR><TD>0</TD></TR>",
        200 << 20,
        &format!("</TABLEDATA>{post}"),
    );
    let p = write(&d, "bomb.vot.gz", &vot);
    limit(read(&p, Format::VOTable, &limits), "max_decompressed_bytes");
    let bin = gzip_of(
        &format!(r#"{pre}<BINARY2><STREAM encoding="base64">"#),
        b"AAAAAAAA",
        200 << 20,
        &format!("</STREAM></BINARY2>{post}"),
    );
    let p = write(&d, "bomb2.vot.gz", &bin);
    limit(read(&p, Format::VOTable, &limits), "max_decompressed_bytes");
    // Whitespace inside a STREAM row is bounded too.
    let ws = gzip_of(
        &format!(r#"{pre}<BINARY><STREAM encoding="base64">AA"#),
        b" ",
        200 << 20,
        &format!("AAAA</STREAM></BINARY>{post}"),
    );
    let p = write(&d, "ws.vot.gz", &ws);
    let rows = InputLimits {
        max_row_bytes: 1 << 20,
        ..limits.clone()
    };
    limit(read(&p, Format::VOTable, &rows), "max_row_bytes");
}

#[test]
fn csv_wide_rows_and_huge_cells() {
    let d = dir("csv");
    let limits = InputLimits {
        max_cell_bytes: 1000,
        max_row_bytes: 100_000,
        ..untrusted()
    };
    let text = format!("a,b\n1,2\n3,{}\n", "x".repeat(2000));
    let p = write(&d, "cell.csv", text.as_bytes());
    let msg = limit(read(&p, Format::Csv, &limits), "max_cell_bytes");
    assert!(
        msg.contains("line 3: column b: a value of 2000 bytes"),
        "{msg}"
    );
    // A quoted field spanning lines counts as one row.
    let text = format!("a,b\n1,\"{}\"\n", "y\n".repeat(200_000));
    let p = write(&d, "row.csv", text.as_bytes());
    let msg = limit(read(&p, Format::Csv, &limits), "max_row_bytes");
    assert!(msg.contains("line 2: the row"), "{msg}");
    assert!(msg.contains("is too long, more than the limit of 100000 bytes per row"));
    // Rows of many empty fields.
    let text = format!("a\n1\n{}\n", ",".repeat(300_000));
    let p = write(&d, "commas.csv", text.as_bytes());
    limit(read(&p, Format::Csv, &limits), "max_row_bytes");
    // A limit is never a rejected row.
    let rejects = astrolake_catalog::input::Rejects::to_writer(Box::new(std::io::sink())).unwrap();
    let opts = ReadOptions {
        rejects: Some(rejects.clone()),
        ..Default::default()
    };
    let p = write(
        &d,
        "cell2.csv",
        format!("a\n{}\n", "z".repeat(5000)).as_bytes(),
    );
    let mut src = open_source_with_limits(&p, Some(Format::Csv), &opts, &limits).unwrap();
    limit(drain(&mut *src), "max_cell_bytes");
    assert_eq!(rejects.count(), 0);
}

#[test]
fn parquet_footer_and_declared_sizes() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array};
    use arrow::record_batch::RecordBatch;

    let d = dir("parquet");
    let cols: Vec<(String, ArrayRef)> = (0..5)
        .map(|i| {
            let a: ArrayRef = Arc::new(Int64Array::from_iter_values(0..10_000));
            (format!("c{i}"), a)
        })
        .collect();
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let p = d.0.join("t.parquet");
    let f = std::fs::File::create(&p).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    assert_eq!(read(&p, Format::Parquet, &untrusted()).unwrap(), 10_000);
    let few = InputLimits {
        max_columns: 3,
        ..untrusted()
    };
    let msg = limit(read(&p, Format::Parquet, &few), "max_columns");
    assert!(msg.contains("the file has 5 columns"), "{msg}");
    let small = InputLimits {
        max_decompressed_bytes: 1000,
        ..untrusted()
    };
    let msg = limit(read(&p, Format::Parquet, &small), "max_decompressed_bytes");
    assert!(msg.contains("bytes of uncompressed column data"), "{msg}");
    // A footer declared 2 GiB long is refused before it is decoded.
    let mut fake = b"PAR1".to_vec();
    fake.extend_from_slice(&[0u8; 100]);
    fake.extend_from_slice(&0x7fff_ffffu32.to_le_bytes());
    fake.extend_from_slice(b"PAR1");
    let p = write(&d, "fake.parquet", &fake);
    let msg = limit(read(&p, Format::Parquet, &untrusted()), "max_header_bytes");
    assert!(
        msg.contains("the Parquet footer is declared 2147483647 bytes long"),
        "{msg}"
    );
}

#[test]
fn normal_inputs_read_within_the_untrusted_limits() {
    let d = dir("normal");
    let l = untrusted();
    let p = write(&d, "t.csv", b"id,ra,dec\n1,10.5,-3\n2,11,4\n");
    assert_eq!(read(&p, Format::Csv, &l).unwrap(), 2);
    let p = write(
        &d,
        "t.ecsv",
        b"# %ECSV 1.0\n# ---\n# delimiter: ','\n# datatype:\n# - {name: id, datatype: int64}\n\
          # - {name: v, datatype: string, subtype: 'float64[3]'}\nid,v\n1,\"[1,2,3]\"\n",
    );
    assert_eq!(read(&p, Format::Ecsv, &l).unwrap(), 1);
    let doc = votable(
        r#"<FIELD name="ra" datatype="double"/><FIELD name="m" datatype="float" arraysize="3"/><FIELD name="s" datatype="char" arraysize="*"/>"#,
        "<TABLEDATA><TR><TD>1.5</TD><TD>1 2 3</TD><TD>a</TD></TR><TR><TD/><TD/><TD/></TR></TABLEDATA>",
    );
    let p = write(&d, "t.vot", doc.as_bytes());
    assert_eq!(read(&p, Format::VOTable, &l).unwrap(), 2);
    let mut row = vec![0u8];
    row.extend_from_slice(&1.5f64.to_be_bytes());
    row.extend_from_slice(&2u32.to_be_bytes());
    row.extend_from_slice(&7i32.to_be_bytes());
    row.extend_from_slice(&8i32.to_be_bytes());
    let doc = votable(
        r#"<FIELD name="ra" datatype="double"/><FIELD name="v" datatype="int" arraysize="*"/>"#,
        &format!(
            r#"<BINARY2><STREAM encoding="base64">{}</STREAM></BINARY2>"#,
            b64(&row)
        ),
    );
    let p = write(&d, "b.vot", doc.as_bytes());
    assert_eq!(read(&p, Format::VOTable, &l).unwrap(), 1);
    let mut text = String::from("id,ra\n");
    for i in 0..50_000 {
        text.push_str(&format!("{i},{}.5\n", i % 360));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let p = write(&d, "big.csv.gz", &gz.finish().unwrap());
    assert_eq!(read(&p, Format::Csv, &l).unwrap(), 50_000);
}
