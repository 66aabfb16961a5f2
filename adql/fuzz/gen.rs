//! A structured generator of inputs built to exhaust a parser's stack or a
//! reader's memory: deep and wide ADQL (operator chains, nesting of every
//! kind, huge literals, big IN lists, many columns, joins and set
//! operations, and mixes of these) and upload documents of every format
//! (VOTable TABLEDATA, BINARY and BINARY2, CSV, ECSV, Parquet-shaped bytes)
//! with declared sizes, alias bombs, long values and corrupt framing.
//!
//! No dependencies, so that the fuzz targets (`fuzz_targets/structured.rs`,
//! driven by libFuzzer's bytes) and the stable tests (`adql/tests/
//! deep_inputs.rs`, `tap/tests/upload_fuzz.rs`, driven by a seeded
//! generator) share it through `#[path]`.
#![allow(dead_code)]

/// Where the choices come from: libFuzzer's bytes (then zeros), or a
/// seeded xorshift generator.
pub struct Rng {
    bytes: Vec<u8>,
    at: usize,
    state: u64,
}

impl Rng {
    /// Choices read from `data` (zeros once it is used up).
    pub fn from_bytes(data: &[u8]) -> Rng {
        Rng {
            bytes: data.to_vec(),
            at: 0,
            state: 0,
        }
    }

    /// Choices from a generator seeded with `seed`.
    pub fn seeded(seed: u64) -> Rng {
        Rng {
            bytes: Vec::new(),
            at: 0,
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    /// The next 32 bits of choice.
    pub fn next(&mut self) -> u32 {
        if self.state == 0 {
            let mut v = 0u32;
            for _ in 0..4 {
                let b = self.bytes.get(self.at).copied().unwrap_or(0);
                self.at += 1;
                v = v << 8 | b as u32;
            }
            return v;
        }
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        (x >> 16) as u32
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.next() as usize % n
        }
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// A size: mostly near the limits that matter (10, 1000, 10^4, 10^5,
    /// 10^6), never above `max`.
    pub fn size(&mut self, max: usize) -> usize {
        let base = *self.pick(&[1usize, 10, 50, 999, 1000, 1001, 10_000, 100_000, 1_000_000]);
        let n = match self.below(4) {
            0 => base,
            1 => base + self.below(base + 1),
            2 => base.saturating_sub(self.below(base + 1)),
            _ => self.below(base * 2 + 1),
        };
        n.clamp(1, max.max(1))
    }
}

const BINARY: &[&str] = &[
    "+", "-", "*", "/", "%", "||", "AND", "OR", "=", "<", ">", "<=", ">=", "<>", "!=",
];

const TERMS: &[&str] = &[
    "1",
    "ra",
    "x",
    "id",
    "'a'",
    "NULL",
    "1.5e3",
    "-2",
    "t.ra",
    "(1)",
    "SIN(ra)",
    "POINT(ra, dec)",
    "CIRCLE(1, 2, 3)",
    "1=1",
];

/// Wrappers for nesting: each is (opening, closing).
const NESTS: &[(&str, &str)] = &[
    ("(", ")"),
    ("SIN(", ")"),
    ("ABS(", ")"),
    ("COALESCE(", ", 1)"),
    ("- ", ""),
    ("NOT ", ""),
    ("CASE WHEN 1=1 THEN ", " END"),
    ("CASE ", " WHEN 1 THEN 2 END"),
    ("(SELECT ra FROM s.t WHERE ra < ", ")"),
    ("CAST(", " AS DOUBLE)"),
    ("POWER(", ", 2)"),
    ("DISTANCE(POINT(", ", 0), POINT(0, 0))"),
    ("1 + (", ")"),
    ("ra IN (", ")"),
    ("EXISTS (SELECT 1 FROM s.t WHERE ", ")"),
];

/// Where a generated expression goes.
const PLACES: &[(&str, &str)] = &[
    ("SELECT ", " AS v FROM s.t"),
    ("SELECT ra FROM s.t WHERE ", ""),
    ("SELECT ra FROM s.t WHERE ra > ", ""),
    ("SELECT TOP 1 ra FROM s.t ORDER BY ", ""),
    ("SELECT COUNT(*) FROM s.t GROUP BY ", ""),
    ("SELECT ra FROM s.t AS t JOIN s.t2 AS u ON ", ""),
    ("SELECT ra FROM s.t HAVING ", ""),
    ("WITH c AS (SELECT ", " AS v FROM s.t) SELECT v FROM c"),
];

fn chain(r: &mut Rng, n: usize, out: &mut String) {
    let op = *r.pick(BINARY);
    let mixed = r.below(3) == 0;
    for i in 0..n {
        if i > 0 {
            out.push(' ');
            let o = if mixed { *r.pick(BINARY) } else { op };
            out.push_str(o);
            out.push(' ');
        }
        let term = if r.below(4) == 0 { *r.pick(TERMS) } else { "1" };
        out.push_str(term);
    }
}

fn nest(r: &mut Rng, n: usize, inner: &str, out: &mut String) {
    let mixed = r.below(3) == 0;
    let one = *r.pick(NESTS);
    let mut closes = Vec::with_capacity(n);
    for _ in 0..n {
        let (open, close) = if mixed { *r.pick(NESTS) } else { one };
        out.push_str(open);
        closes.push(close);
    }
    out.push_str(inner);
    for close in closes.iter().rev() {
        out.push_str(close);
    }
}

fn literal(r: &mut Rng, n: usize, out: &mut String) {
    match r.below(6) {
        0 => {
            out.push('\'');
            for i in 0..n {
                out.push(if i % 97 == 0 { '\'' } else { 'x' });
                if i % 97 == 0 {
                    out.push('\'');
                }
            }
            out.push('\'');
        }
        1 => out.push_str(&"9".repeat(n)),
        2 => {
            out.push_str("1e");
            out.push_str(&"9".repeat(n.min(50)));
        }
        3 => {
            out.push_str("0.");
            out.push_str(&"1".repeat(n));
        }
        4 => {
            out.push_str("0x");
            out.push_str(&"f".repeat(n));
        }
        _ => {
            out.push('"');
            out.push_str(&"c".repeat(n));
            out.push('"');
        }
    }
}

/// One ADQL query, with at most about `max` terms, nesting levels or list
/// items in any one part.
pub fn query(r: &mut Rng, max: usize) -> String {
    let mut out = String::new();
    match r.below(8) {
        // An operator chain, in a random place.
        0 => {
            let (pre, post) = *r.pick(PLACES);
            out.push_str(pre);
            let n = r.size(max);
            chain(r, n, &mut out);
            out.push_str(post);
        }
        // Nesting around a small expression.
        1 => {
            let (pre, post) = *r.pick(PLACES);
            out.push_str(pre);
            let n = r.size(max);
            let inner = *r.pick(TERMS);
            nest(r, n, inner, &mut out);
            out.push_str(post);
        }
        // Nesting around a chain, and a chain of nestings.
        2 => {
            let (pre, post) = *r.pick(PLACES);
            out.push_str(pre);
            let mut inner = String::new();
            let n = r.size(max);
            chain(r, n, &mut inner);
            let n = r.size(max.min(2000));
            nest(r, n, &inner, &mut out);
            out.push_str(post);
        }
        3 => {
            let (pre, post) = *r.pick(PLACES);
            out.push_str(pre);
            let n = r.size(max.min(5000));
            let depth = r.size(100);
            let op = *r.pick(BINARY);
            for i in 0..n {
                if i > 0 {
                    out.push_str(&format!(" {op} "));
                }
                nest(r, depth, "1", &mut out);
            }
            out.push_str(post);
        }
        // A huge literal.
        4 => {
            let (pre, post) = *r.pick(PLACES);
            out.push_str(pre);
            let n = r.size(max.max(1 << 20));
            literal(r, n, &mut out);
            out.push_str(post);
        }
        // A big IN list.
        5 => {
            out.push_str("SELECT ra FROM s.t WHERE id IN (");
            let n = r.size(max);
            for i in 0..n {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&i.to_string());
            }
            out.push(')');
        }
        // Wide: many columns, ORDER BY items, GROUP BY items.
        6 => {
            let n = r.size(max.min(5000));
            let items: Vec<String> = (0..n).map(|i| format!("ra + {i} AS c{i}")).collect();
            match r.below(3) {
                0 => out.push_str(&format!("SELECT {} FROM s.t", items.join(", "))),
                1 => out.push_str(&format!(
                    "SELECT ra FROM s.t ORDER BY {}",
                    vec!["ra"; n].join(", ")
                )),
                _ => out.push_str(&format!(
                    "SELECT COUNT(*) FROM s.t GROUP BY {}",
                    vec!["ra"; n].join(", ")
                )),
            }
        }
        // Many joins or set operations.
        _ => {
            let n = r.size(max.min(20_000));
            if r.below(2) == 0 {
                out.push_str("SELECT t0.ra FROM s.t AS t0");
                for i in 1..n {
                    out.push_str(&format!(" JOIN s.t AS t{i} ON t{i}.id = t0.id"));
                }
            } else {
                let op = *r.pick(&["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]);
                out.push_str(&vec!["SELECT ra FROM s.t"; n].join(&format!(" {op} ")));
            }
        }
    }
    out
}

/// The formats of upload documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// VOTable TABLEDATA.
    TableData,
    /// VOTable BINARY.
    Binary,
    /// VOTable BINARY2.
    Binary2,
    /// CSV with a header line.
    Csv,
    /// ECSV.
    Ecsv,
    /// Parquet-shaped bytes (magic, a footer length, a footer).
    Parquet,
}

/// Every format.
pub const DOCS: [Doc; 6] = [
    Doc::TableData,
    Doc::Binary,
    Doc::Binary2,
    Doc::Csv,
    Doc::Ecsv,
    Doc::Parquet,
];

/// Base64 (standard alphabet, padded).
pub fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const DATATYPES: &[&str] = &[
    "char",
    "unicodeChar",
    "int",
    "long",
    "short",
    "double",
    "float",
    "boolean",
    "unsignedByte",
    "bit",
    "floatComplex",
    "doubleComplex",
];

fn arraysize(r: &mut Rng) -> String {
    match r.below(8) {
        0 => String::new(),
        1 => "*".into(),
        2 => "2147483647".into(),
        3 => "4294967296".into(),
        4 => format!("{}x{}", r.size(1 << 20), r.size(1 << 20)),
        5 => format!("{}x*", r.size(1 << 20)),
        6 => "18446744073709551616".into(),
        _ => r.size(100).to_string(),
    }
}

/// The most bytes a document of size `max` is let grow to (a few values
/// of the largest size).
fn budget(max: usize) -> usize {
    4 * max + (1 << 20)
}

/// One upload document of `doc`'s format, with sizes up to about `max`
/// (values, columns, rows, header bytes).
pub fn upload(r: &mut Rng, doc: Doc, max: usize) -> Vec<u8> {
    match doc {
        Doc::TableData | Doc::Binary | Doc::Binary2 => votable(r, doc, max),
        Doc::Csv => csv(r, max),
        Doc::Ecsv => ecsv(r, max),
        Doc::Parquet => parquet(r, max),
    }
}

/// A VOTable of one TABLE with `fields` (FIELD elements) and `data`
/// (the content of DATA).
pub fn votable_doc(fields: &str, data: &str) -> Vec<u8> {
    format!(
        r#"<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
{fields}
<DATA>{data}</DATA></TABLE></RESOURCE></VOTABLE>"#
    )
    .into_bytes()
}

fn votable(r: &mut Rng, doc: Doc, max: usize) -> Vec<u8> {
    let ncols = if r.below(4) == 0 {
        r.size(max.min(5000))
    } else {
        1 + r.below(3)
    };
    let mut fields = String::new();
    for i in 0..ncols {
        let dt = *r.pick(DATATYPES);
        let a = arraysize(r);
        let a = if a.is_empty() {
            String::new()
        } else {
            format!(" arraysize=\"{a}\"")
        };
        fields.push_str(&format!("<FIELD name=\"c{i}\" datatype=\"{dt}\"{a}/>\n"));
    }
    // Deep nesting of XML elements before the data.
    let depth = if r.below(5) == 0 { r.size(max) } else { 0 };
    let (open, close) = ("<GROUP>".repeat(depth), "</GROUP>".repeat(depth));
    let data = match doc {
        Doc::TableData => {
            let rows = r.size(max.min(10_000));
            let cell = if r.below(3) == 0 {
                "9".repeat(r.size(max))
            } else {
                String::new()
            };
            let tds = match r.below(3) {
                0 => "<TD/>".repeat(ncols),
                1 => format!("<TD>{cell}</TD>").repeat(ncols),
                _ => "<TD>".repeat(r.size(max)),
            };
            let row = format!("<TR>{tds}</TR>");
            let rows = rows.min((budget(max) / row.len()).max(1));
            format!("<TABLEDATA>{}</TABLEDATA>", row.repeat(rows))
        }
        _ => {
            let n = r.size(max.min(1 << 16));
            let mut bytes = Vec::with_capacity(n);
            for i in 0..n {
                bytes.push(match r.below(4) {
                    0 => 0xff,
                    1 => 0x7f,
                    2 => 0,
                    _ => (i % 251) as u8,
                });
            }
            let tag = if doc == Doc::Binary {
                "BINARY"
            } else {
                "BINARY2"
            };
            format!(
                "<{tag}><STREAM encoding=\"base64\">{}</STREAM></{tag}>",
                b64(&bytes)
            )
        }
    };
    format!(
        "<?xml version=\"1.0\"?>\n<VOTABLE version=\"1.4\" \
         xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\"><RESOURCE>{open}{close}<TABLE>\n\
         {fields}<DATA>{data}</DATA></TABLE></RESOURCE></VOTABLE>\n"
    )
    .into_bytes()
}

fn csv(r: &mut Rng, max: usize) -> Vec<u8> {
    let ncols = r.size(max.min(5000));
    let mut out: Vec<String> = vec![(0..ncols)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",")];
    let rows = r.size(max.min(10_000));
    let mut total = out[0].len();
    for _ in 0..rows {
        if total > budget(max) {
            break;
        }
        let line = match r.below(5) {
            0 => "9".repeat(r.size(max.max(1 << 20))),
            1 => format!("\"{}", "x".repeat(r.size(max))),
            2 => vec!["1"; r.size(max)].join(","),
            3 => "\"\"".repeat(r.size(max)),
            _ => vec!["1"; ncols].join(","),
        };
        total += line.len() + 1;
        out.push(line);
    }
    (out.join("\n") + "\n").into_bytes()
}

fn ecsv(r: &mut Rng, max: usize) -> Vec<u8> {
    let mut s = String::from("# %ECSV 1.0\n# ---\n# datatype:\n# - {name: a, datatype: int64}\n");
    match r.below(5) {
        // Nested aliases.
        0 => {
            s.push_str("# meta:\n#   l0: &a0 [x,x,x,x,x,x,x,x,x]\n");
            for i in 1..(2 + r.below(12)) {
                let refs = vec![format!("*a{}", i - 1); 9].join(",");
                s.push_str(&format!("#   l{i}: &a{i} [{refs}]\n"));
            }
        }
        // Deep flow nesting.
        1 => {
            let n = r.size(max);
            s.push_str(&format!("# meta: {}{}\n", "[".repeat(n), "]".repeat(n)));
        }
        // Deep block nesting.
        2 => {
            let n = r.size(max.min(5000));
            s.push_str("# meta:\n");
            for i in 0..n {
                s.push_str(&format!("# {}k{i}:\n", " ".repeat(i + 1)));
            }
        }
        // A long header.
        3 => {
            let n = r.size(max.max(1 << 16));
            for _ in 0..n {
                s.push_str("# meta: {note: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}\n");
            }
        }
        // Many columns, some with a declared shape.
        _ => {
            let n = r.size(max.min(5000));
            for i in 0..n {
                let a = arraysize(r);
                s.push_str(&format!(
                    "# - {{name: c{i}, datatype: string, subtype: 'int64[{a}]'}}\n"
                ));
            }
        }
    }
    s.push_str("a\n1\n");
    s.into_bytes()
}

fn parquet(r: &mut Rng, max: usize) -> Vec<u8> {
    let mut out = b"PAR1".to_vec();
    let body = r.size(max.min(1 << 16));
    out.extend((0..body).map(|i| (i * 31 % 256) as u8));
    let footer = r.size(max.min(1 << 16));
    out.extend((0..footer).map(|_| *r.pick(&[0x15u8, 0x19, 0x1c, 0x2c, 0xff, 0x00, 0x7f])));
    let len: u32 = match r.below(4) {
        0 => u32::MAX,
        1 => footer as u32,
        2 => (footer as u32).wrapping_add(1 << 30),
        _ => r.next(),
    };
    out.extend(len.to_le_bytes());
    out.extend(b"PAR1");
    out
}

/// Damage `bytes` a little: truncate, flip, duplicate or splice.
pub fn corrupt(r: &mut Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    match r.below(4) {
        0 => {
            let at = r.below(bytes.len());
            bytes.truncate(at);
        }
        1 => {
            for _ in 0..(1 + r.below(8)) {
                let at = r.below(bytes.len());
                bytes[at] ^= 1 << r.below(8);
            }
        }
        2 => {
            let at = r.below(bytes.len());
            let len = r.below(bytes.len() - at + 1);
            let piece = bytes[at..at + len].to_vec();
            bytes.splice(at..at, piece);
        }
        _ => {
            let at = r.below(bytes.len());
            let len = (bytes.len() - at).min(8);
            for b in &mut bytes[at..at + len] {
                *b = 0xff;
            }
        }
    }
}
